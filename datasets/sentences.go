package datasets

import (
	"fmt"
	"sync"

	"github.com/neurosnap/sentences"
	"github.com/neurosnap/sentences/english"
)

// punkt is the shared English Punkt tokenizer of github.com/neurosnap/sentences (the model is
// embedded in that module); it only reads its model, so it is safe for concurrent use.
var punkt = sync.OnceValues(func() (*sentences.DefaultSentenceTokenizer, error) {
	tok, err := english.NewSentenceTokenizer(nil)
	if err != nil {
		return nil, fmt.Errorf("datasets: loading the English Punkt model of github.com/neurosnap/sentences: %w", err)
	}
	return tok, nil
})

// Sentences splits text into sentences with the Punkt algorithm and its pre-trained English
// model (github.com/neurosnap/sentences, a Go port of NLTK's Punkt), as experiment E1 scores
// documents sentence by sentence. Sentences keep the whitespace that precedes them, as the
// library returns them, so concatenating the result gives back text. An empty text gives no
// sentences. It is safe for concurrent use.
//
// The error is not nil only when the embedded Punkt model cannot be loaded (a broken module):
// then no text is split, rather than being silently scored as one sentence.
func Sentences(text string) ([]string, error) {
	tok, err := punkt()
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, nil
	}
	ss := tok.Tokenize(text)
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out, nil
}
