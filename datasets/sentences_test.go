package datasets

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neurosnap/sentences"
)

// The expected splits are NLTK 3.8's PunktSentenceTokenizer(params).tokenize(text), params being
// the English model of github.com/neurosnap/sentences loaded into PunktParameters
// (scripts/punkt-nltk.py): curly quotes that end no sentence, numbers that do, closing brackets
// that start one, reference marks, spaced ellipses, initials, leading whitespace kept.
func TestSentences(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Mr. Smith went to Washington on Monday. He met Dr. Jones, who said \"hello.\" Then they left!  Was it good? Yes.\n\nA new paragraph starts here.",
			[]string{"Mr. Smith went to Washington on Monday.", "He met Dr. Jones, who said \"hello.\"", "Then they left!", "Was it good?", "Yes.", "A new paragraph starts here."}},
		{"\n  He said “It is over.”\n\nThe next one.",
			[]string{"\n  He said “It is over.”\n\nThe next one."}},
		{"The law takes effect on Jan. 1, 2012.\n\nHill said so. Gears 3. With luck.",
			[]string{"The law takes effect on Jan. 1, 2012.", "Hill said so.", "Gears 3.", "With luck."}},
		{"For MySpace (remember that?), it took months. (Just ask the lander.) \"If you got out,\" he says.",
			[]string{"For MySpace (remember that?", "), it took months.", "(Just ask the lander.)", "\"If you got out,\" he says."}},
		{"It ended.[3] Next one... And then . . . more. Very bad acting!!! I promise.",
			[]string{"It ended.", "[3] Next one... And then .", ".", ".", "more.", "Very bad acting!!!", "I promise."}},
		{"Muammar al-Gaddafi (c. 1942 – 2011) ruled. J. S. Bach wrote it. The U.S. Army left.",
			[]string{"Muammar al-Gaddafi (c. 1942 – 2011) ruled.", "J. S. Bach wrote it.", "The U.S. Army left."}},
		{"no final period", []string{"no final period"}},
		{"  \n ", nil},
		{"", nil},
	} {
		got, err := Sentences(c.text)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Sentences(%q):\n got %q\nwant %q", c.text, got, c.want)
		}
	}
}

// A Punkt model that fails to load is an error, not the whole text as one sentence.
func TestSentencesPunktFailure(t *testing.T) {
	defer func(saved func() (*sentences.Storage, error)) { punktModel = saved }(punktModel)
	broken := errors.New("broken model")
	punktModel = func() (*sentences.Storage, error) { return nil, broken }
	got, err := Sentences("One sentence. Another one.")
	if !errors.Is(err, broken) || got != nil {
		t.Errorf("Sentences with a broken Punkt model = %q, %v; want no sentences and the load error", got, err)
	}
}

// Sentences are pieces of the text, in order, with only whitespace between them, and concurrent
// calls split alike.
func TestSentencesCoverText(t *testing.T) {
	text := strings.Repeat("  He said “It is over.” Then (he left!) and sat down.[2] Dr. Who? 3. Done...\n\n", 50)
	ss := coveringSentences(t, text)
	if len(ss) < 250 {
		t.Errorf("only %d sentences", len(ss))
	}
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

// The same on real text: the ActAdd authors' two essays.
func TestSentencesCoverEssays(t *testing.T) {
	for _, name := range []string{"chatgpt_wedding_essay_20230423.txt", "chatgpt_shipping_essay_20230423.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "actadd-essays", name))
		if err != nil {
			t.Fatal(err)
		}
		if ss := coveringSentences(t, string(data)); len(ss) < 10 {
			t.Errorf("%s: only %d sentences", name, len(ss))
		}
	}
}

// coveringSentences splits text and checks that the sentences are pieces of it, in order, with
// only whitespace between them.
func coveringSentences(t *testing.T, text string) []string {
	t.Helper()
	ss, err := Sentences(text)
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for i, s := range ss {
		j := strings.Index(text[at:], s)
		if s == "" || j < 0 || (i == 0 && j != 0) || strings.TrimSpace(text[at:at+j]) != "" {
			t.Fatalf("sentence %d %q is not the text after %q", i, s, text[max(0, at-20):at])
		}
		at += j + len(s)
	}
	if strings.TrimSpace(text[at:]) != "" {
		t.Errorf("text left after the last sentence: %q", text[at:])
	}
	return ss
}

// envPunktReference names a JSONL file of NLTK's splits, one {"text": ..., "sentences": [...]}
// per line, as scripts/punkt-nltk.py writes them; TestSentencesMatchNLTK checks every one.
const envPunktReference = "ACTADD_PUNKT_NLTK"

func TestSentencesMatchNLTK(t *testing.T) {
	path := os.Getenv(envPunktReference)
	if path == "" {
		t.Skipf("set %s to a JSONL file of NLTK's splits (scripts/punkt-nltk.py) to compare with NLTK", envPunktReference)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	docs, same, sentences, matched := 0, 0, 0, 0
	for {
		var ref struct {
			Text      string   `json:"text"`
			Sentences []string `json:"sentences"`
		}
		if err := dec.Decode(&ref); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, err := Sentences(ref.Text)
		if err != nil {
			t.Fatal(err)
		}
		docs++
		sentences += len(ref.Sentences)
		if slices.Equal(got, ref.Sentences) {
			same++
			matched += len(got)
			continue
		}
		left := slices.Clone(ref.Sentences)
		for _, s := range got {
			if i := slices.Index(left, s); i >= 0 {
				left = slices.Delete(left, i, i+1)
				matched++
			}
		}
		if docs-same <= 5 {
			t.Errorf("document %d is split differently:\n got %q\nNLTK %q", docs, got, ref.Sentences)
		}
	}
	t.Logf("%d of %d documents split as NLTK splits them; %d of %d sentences matched", same, docs, matched, sentences)
	if docs == 0 {
		t.Errorf("%s holds no document", path)
	}
}
