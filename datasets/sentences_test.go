package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neurosnap/sentences"
)

func TestSentences(t *testing.T) {
	text := `Mr. Smith went to Washington on Monday. He met Dr. Jones, who said "hello." Then they left!  Was it good? Yes.` + "\n\nA new paragraph starts here."
	want := []string{
		"Mr. Smith went to Washington on Monday.",
		` He met Dr. Jones, who said "hello."`,
		" Then they left!",
		"  Was it good?",
		" Yes.",
		"\n\nA new paragraph starts here.",
	}
	got, err := Sentences(text)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Sentences:\n got %q\nwant %q", got, want)
	}
	if got, err := Sentences(""); len(got) != 0 || err != nil {
		t.Errorf(`Sentences("") = %q, %v; want nothing`, got, err)
	}
	if got, err := Sentences("no final period"); !slices.Equal(got, []string{"no final period"}) || err != nil {
		t.Errorf("Sentences(no final period) = %q, %v", got, err)
	}
}

// A Punkt model that fails to load is an error, not the whole text as one sentence.
func TestSentencesPunktFailure(t *testing.T) {
	defer func(saved func() (*sentences.DefaultSentenceTokenizer, error)) { punkt = saved }(punkt)
	broken := errors.New("broken model")
	punkt = func() (*sentences.DefaultSentenceTokenizer, error) { return nil, broken }
	got, err := Sentences("One sentence. Another one.")
	if !errors.Is(err, broken) || got != nil {
		t.Errorf("Sentences with a broken Punkt model = %q, %v; want no sentences and the load error", got, err)
	}
}

func TestSentencesCoverEssays(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "actadd-essays", "chatgpt_wedding_essay_20230423.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	ss, err := Sentences(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) < 10 {
		t.Errorf("only %d sentences in the essay", len(ss))
	}
	if strings.Join(ss, "") != text {
		t.Error("the sentences do not concatenate back to the essay")
	}
	// Concurrent use gives the same split.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got, err := Sentences(text); err != nil || !slices.Equal(got, ss) {
				t.Error("concurrent Sentences differs")
			}
		})
	}
	wg.Wait()
}
