package datasets

import (
	"sync"

	"github.com/neurosnap/sentences"
	"github.com/neurosnap/sentences/english"
)

// punkt is the shared English Punkt tokenizer of github.com/neurosnap/sentences (the model is
// embedded in that module); it only reads its model, so it is safe for concurrent use.
var punkt = sync.OnceValues(func() (*sentences.DefaultSentenceTokenizer, error) {
	return english.NewSentenceTokenizer(nil)
})

// Sentences splits text into sentences with the Punkt algorithm and its pre-trained English
// model (github.com/neurosnap/sentences, a Go port of NLTK's Punkt), as experiment E1 scores
// documents sentence by sentence. Sentences keep the whitespace that precedes them, as the
// library returns them, so concatenating the result gives back text. An empty text gives no
// sentences. It is safe for concurrent use.
//
// If the embedded model could not be loaded (it is compiled in, so this would mean a broken
// module), the whole text is returned as one sentence.
func Sentences(text string) []string {
	if text == "" {
		return nil
	}
	tok, err := punkt()
	if err != nil {
		return []string{text}
	}
	ss := tok.Tokenize(text)
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out
}
