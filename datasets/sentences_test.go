package datasets

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/internal/shareddata"
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
	got := Sentences(text)
	if !slices.Equal(got, want) {
		t.Errorf("Sentences:\n got %q\nwant %q", got, want)
	}
	if len(Sentences("")) != 0 {
		t.Error(`Sentences("") is not empty`)
	}
	if got := Sentences("no final period"); !slices.Equal(got, []string{"no final period"}) {
		t.Errorf("Sentences(no final period) = %q", got)
	}
}

func TestSentencesCoverEssays(t *testing.T) {
	path, ok := shareddata.Path("actadd-essays", "chatgpt_wedding_essay_20230423.txt")
	if !ok {
		t.Skip("shared data actadd-essays/chatgpt_wedding_essay_20230423.txt not found (set ACTADD_SHARED_DATA to the shared data folder to run this test)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	ss := Sentences(text)
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
			if got := Sentences(text); !slices.Equal(got, ss) {
				t.Error("concurrent Sentences differs")
			}
		})
	}
	wg.Wait()
}
