package bpe

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/internal/extdata"
	"github.com/actadd-go/actadd/lm"
	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

func newTokenizer(t *testing.T) *Tokenizer {
	t.Helper()
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// reference returns github.com/pkoukk/tiktoken-go's r50k_base encoding: an independent Go
// implementation of the same BPE, used as the oracle.
var reference = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	return tiktoken.GetEncoding("r50k_base")
})

func TestKnownVectors(t *testing.T) {
	tok := newTokenizer(t)
	for _, c := range []struct {
		text string
		want []int
	}{
		{"How are you?", []int{2437, 389, 345, 30}},
		{"hello world I went up to my friend and said", []int{31373, 995, 314, 1816, 510, 284, 616, 1545, 290, 531}},
		{" ", []int{Space}},
		{"", []int{}},
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.Encode(" weddings"); len(got) != 1 {
		t.Errorf(`Encode(" weddings") = %v, want a single token`, got)
	}
	if got := tok.VocabSize(); got != 50257 {
		t.Errorf("VocabSize() = %d, want 50257", got)
	}
}

func TestBOS(t *testing.T) {
	tok := newTokenizer(t)
	if got := tok.EncodeWithBOS(""); !slices.Equal(got, []int{BOS}) {
		t.Errorf(`EncodeWithBOS("") = %v, want [%d]`, got, BOS)
	}
	got := tok.EncodeWithBOS("How are you?")
	if want := []int{BOS, 2437, 389, 345, 30}; !slices.Equal(got, want) {
		t.Errorf("EncodeWithBOS = %v, want %v", got, want)
	}
	text, err := tok.Decode(append(got, BOS, 2437))
	if err != nil {
		t.Fatal(err)
	}
	if want := "<|endoftext|>How are you?<|endoftext|>How"; text != want {
		t.Errorf("Decode = %q, want %q", text, want)
	}
	if s, err := tok.DecodeToken(BOS); err != nil || s != EndOfText {
		t.Errorf("DecodeToken(BOS) = %q, %v; want %q", s, err, EndOfText)
	}
	if s, err := tok.DecodeToken(Space); err != nil || s != " " {
		t.Errorf("DecodeToken(Space) = %q, %v; want \" \"", s, err)
	}
	// The special token's text is ordinary text to Encode.
	if ids := tok.Encode(EndOfText); len(ids) != 7 || slices.Contains(ids, BOS) {
		t.Errorf("Encode(%q) = %v, want 7 ordinary tokens", EndOfText, ids)
	}
	for _, bad := range [][]int{{-1}, {50257}, {31373, 1 << 40}} {
		if _, err := tok.Decode(bad); err == nil {
			t.Errorf("Decode(%v): want an error for an out-of-range id", bad)
		}
	}
}

// handWritten covers the split regexp's branches: contractions, letters, digits, punctuation,
// whitespace runs before words and at the end, newlines, non-ASCII and multi-byte characters.
var handWritten = []string{
	"How are you?",
	"hello world I went up to my friend and said",
	" weddings",
	"I'm sure they'll've done it, didn't they? It's John's.",
	"line1\n\nline2\n\n\n   indented\tTabbed  double  spaces   ",
	"Numbers 12345 and 3.14159, 1,000,000 and 2023-07-24.",
	"Ünïcödé — “quotes” … naïve café 日本語のテキスト 한국어 Ελληνικά",
	"emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷",
	"<|endoftext|> is just text here",
	"    leading spaces",
	"trailing newline\n",
	"a" + strings.Repeat("b", 300) + " long pieces use the heap merge",
}

func TestAgainstReferenceImplementation(t *testing.T) {
	tok := newTokenizer(t)
	ref, err := reference()
	if err != nil {
		t.Fatalf("loading pkoukk/tiktoken-go r50k_base offline: %v", err)
	}
	for _, s := range handWritten {
		checkText(t, tok, ref, s)
	}
}

func checkText(t *testing.T, tok *Tokenizer, ref *tiktoken.Tiktoken, s string) bool {
	t.Helper()
	got := tok.Encode(s)
	want := ref.EncodeOrdinary(s)
	if !slices.Equal(got, want) {
		t.Errorf("Encode(%.60q...) differs from pkoukk/tiktoken-go: %d vs %d tokens", s, len(got), len(want))
		return false
	}
	back, err := tok.Decode(got)
	if err != nil {
		t.Errorf("Decode: %v", err)
		return false
	}
	if back != s {
		t.Errorf("Decode(Encode(%.60q...)) is not byte-exact", s)
		return false
	}
	return true
}

// The tokenizer agrees with the reference on real web text: the OpenWebText sample embedded in
// package datasets, and the 1,000 documents it was taken from when $ACTADD_TEST_DATA has them.
func TestOpenWebTextAgainstReferenceImplementation(t *testing.T) {
	t.Run("embedded sample", func(t *testing.T) {
		checkJSONLFile(t, filepath.Join("..", "datasets", "fixtures", "openwebtext", "owt300.jsonl"), 300)
	})
	t.Run("owt1000", func(t *testing.T) {
		checkJSONLFile(t, extdata.Path(t, "openwebtext-sample", "owt1000.jsonl"), 1000)
	})
}

// checkJSONLFile runs checkText on the "text" of every line of a JSONL file of want documents.
func checkJSONLFile(t *testing.T, path string, want int) {
	tok := newTokenizer(t)
	ref, err := reference()
	if err != nil {
		t.Fatalf("loading pkoukk/tiktoken-go r50k_base offline: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	n, failed := 0, 0
	for sc.Scan() {
		var doc struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		if !checkText(t, tok, ref, doc.Text) {
			if failed++; failed > 5 {
				t.Fatal("too many mismatches")
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("read %d documents from %s, want %d", n, path, want)
	}
}

// bytesToUnicode is GPT-2's reversible map from bytes to printable characters, used by
// encoder.json's keys: printable Latin-1 bytes map to themselves, the others to U+0100 onwards.
func bytesToUnicode() [256]rune {
	var m [256]rune
	next := rune(256)
	for b := range 256 {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}

func TestVocabularyMatchesEncoderJSON(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2-tokenizer", "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	var encoder map[string]int
	if err := json.Unmarshal(data, &encoder); err != nil {
		t.Fatal(err)
	}
	tok := newTokenizer(t)
	if len(encoder) != tok.VocabSize() {
		t.Fatalf("encoder.json has %d entries, VocabSize() = %d", len(encoder), tok.VocabSize())
	}
	b2u := bytesToUnicode()
	for key, id := range encoder {
		s, err := tok.DecodeToken(id)
		if err != nil {
			t.Fatalf("DecodeToken(%d): %v", id, err)
		}
		var mapped strings.Builder
		if id == BOS {
			mapped.WriteString(s)
		} else {
			for i := range len(s) {
				mapped.WriteRune(b2u[s[i]])
			}
		}
		if mapped.String() != key {
			t.Errorf("token %d: encoder.json says %q, tokenizer decodes to %q", id, key, mapped.String())
		}
	}
}

// GPT-2's tokens 256 … 50255 are the results of its merges, in vocab.bpe's order: token 256+i
// is the concatenation of merge i's two parts. The tokenizer's ids must follow that order, or
// its merge ranks (which decide how text is split) would differ from GPT-2's.
func TestMergesMatchVocabBPE(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2-tokenizer", "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "#version") {
		t.Fatalf("vocab.bpe starts with %q, want a #version line", lines[0])
	}
	merges := lines[1:]
	if len(merges) != BOS-256 {
		t.Fatalf("vocab.bpe has %d merges, want %d", len(merges), BOS-256)
	}
	b2u := bytesToUnicode()
	tok := newTokenizer(t)
	for i, m := range merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok {
			t.Fatalf("merge %d: %q is not two parts", i, m)
		}
		s, err := tok.DecodeToken(256 + i)
		if err != nil {
			t.Fatal(err)
		}
		var mapped strings.Builder
		for j := range len(s) {
			mapped.WriteRune(b2u[s[j]])
		}
		if mapped.String() != a+b {
			t.Errorf("token %d decodes to %q, merge %d makes %q", 256+i, mapped.String(), i, a+b)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	tok := newTokenizer(t)
	want := make([][]int, len(handWritten))
	for i, s := range handWritten {
		want[i] = tok.Encode(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(handWritten))
	for range 8 {
		wg.Go(func() {
			for i, s := range handWritten {
				if got := tok.Encode(s); !slices.Equal(got, want[i]) {
					errs <- s
				}
				if back, err := tok.Decode(want[i]); err != nil || back != s {
					errs <- s
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent round trip of %q differs", s)
	}
}

func TestNewIsShared(t *testing.T) {
	a, b := newTokenizer(t), newTokenizer(t)
	if a != b {
		t.Error("New returned two instances; want one shared instance")
	}
}

func TestTokenizerSeam(t *testing.T) {
	var tok lm.Tokenizer
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if bos, ok := tok.BOS(); !ok || bos != 50256 || tok.EOS() != 50256 || tok.Pad() != 220 {
		t.Errorf("BOS %d %t, EOS %d, Pad %d: want 50256 true, 50256, 220", bos, ok, tok.EOS(), tok.Pad())
	}
	if s, _ := tok.Decode([]int{tok.Pad()}); s != " " {
		t.Errorf("Pad decodes to %q, want a single space", s)
	}
	if got := lm.EncodeWithBOS(tok, "Hi"); len(got) != 2 || got[0] != 50256 {
		t.Errorf("EncodeWithBOS(Hi) = %v", got)
	}
}
