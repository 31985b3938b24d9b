package bpe

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/actadd-go/actadd/internal/fuzzcheck"
)

// fuzzTexts returns real texts to seed from: the ActAdd essays and the first OpenWebText
// documents (package datasets' fixtures), and LAMA's sentences.
func fuzzTexts(tb testing.TB) []string {
	tb.Helper()
	var out []string
	paths, _ := filepath.Glob("../datasets/testdata/actadd-essays/*.txt")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, string(b))
	}
	for _, name := range []string{"openwebtext/owt300.jsonl", "lama/conceptnet-handwritten.jsonl"} {
		f, err := os.Open(filepath.Join("../datasets/fixtures", name))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for i := 0; i < 3 && sc.Scan(); i++ {
			var rec struct {
				Text            string   `json:"text"`
				MaskedSentences []string `json:"masked_sentences"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				tb.Fatal(err)
			}
			out = append(out, append(rec.MaskedSentences, rec.Text)...)
		}
		f.Close()
	}
	return append(out, EndOfText, "  \n\n\t x", "caf\xe9 \xff\xfe", "😀\u200d👍🏽", "'s 've 're 1234567")
}

// withReplacements is text with each byte that is not valid UTF-8 replaced by U+FFFD, as Encode
// reads it.
func withReplacements(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(text[i : i+n])
		}
		i += n
	}
	return b.String()
}

// FuzzEncode encodes arbitrary strings. Encoding stays within fuzzcheck's bounds; every id is
// an ordinary token (never BOS, even for the text "<|endoftext|>"); the ids are those of
// pkoukk/tiktoken-go, an independent implementation of the same BPE; decoding them gives the
// text back byte for byte (each invalid byte read as U+FFFD); EncodeWithBOS is BOS and the
// same ids.
func FuzzEncode(f *testing.F) {
	for _, s := range fuzzTexts(f) {
		f.Add(s)
	}
	tok, err := New()
	if err != nil {
		f.Fatal(err)
	}
	ref, err := reference()
	if err != nil {
		f.Fatalf("loading pkoukk/tiktoken-go r50k_base offline: %v", err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var ids []int
		fuzzcheck.Bounded(t, len(text), 256, func() { ids = tok.Encode(text) })
		want := withReplacements(text)
		if len(ids) > len(want) {
			t.Fatalf("%d bytes encoded as %d tokens", len(want), len(ids))
		}
		for i, id := range ids {
			if id < 0 || id >= BOS {
				t.Fatalf("token %d is id %d", i, id)
			}
		}
		if len(want) > 0 && len(ids) == 0 {
			t.Fatalf("%q encoded as nothing", text)
		}
		if refIDs := ref.EncodeOrdinary(want); !slices.Equal(ids, refIDs) {
			t.Fatalf("Encode(%q) = %v, pkoukk/tiktoken-go gives %v", text, ids, refIDs)
		}
		back, err := tok.Decode(ids)
		if err != nil {
			t.Fatalf("Decode(Encode(%q)): %v", text, err)
		}
		if back != want {
			t.Fatalf("Decode(Encode(%q)) = %q", text, back)
		}
		if bos := tok.EncodeWithBOS(text); len(bos) == 0 || bos[0] != BOS || !slices.Equal(bos[1:], ids) {
			t.Fatalf("EncodeWithBOS(%q) = %v, Encode gives %v", text, bos, ids)
		}
	})
}

// fuzzIDs reads ids from data, 3 bytes each: mostly ids of the vocabulary or just beyond it,
// and some negative ones.
func fuzzIDs(data []byte) []int {
	ids := make([]int, 0, len(data)/3)
	for ; len(data) >= 3; data = data[3:] {
		v := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		if v&0x800000 != 0 {
			ids = append(ids, -(v & 0xff))
		} else {
			ids = append(ids, v%(vocabSize+100))
		}
	}
	return ids
}

// idBytes is the inverse of fuzzIDs for ids in [0, vocabSize).
func idBytes(ids []int) []byte {
	var b []byte
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint32(b, uint32(id))[:len(b)+3]
	}
	return b
}

// FuzzDecode decodes arbitrary id sequences. An id outside the vocabulary is an error naming
// its position; otherwise the text is the concatenation of the tokens' texts (BOS is
// "<|endoftext|>"), and a text that is valid UTF-8 encodes and decodes back to itself. Decoding
// stays within fuzzcheck's bounds.
func FuzzDecode(f *testing.F) {
	tok, err := New()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range fuzzTexts(f) {
		f.Add(idBytes(tok.Encode(s)))
	}
	f.Add(idBytes([]int{BOS, 31373, BOS, 0, 50255}))
	f.Add(idBytes([]int{447, 247})) // ’ cut into two tokens
	f.Add(idBytes([]int{447}))      // half a character
	f.Fuzz(func(t *testing.T, data []byte) {
		ids := fuzzIDs(data)
		var text string
		var err error
		fuzzcheck.Bounded(t, len(data), 256, func() { text, err = tok.Decode(ids) })
		bad := slices.IndexFunc(ids, func(id int) bool { return id < 0 || id >= vocabSize })
		if bad >= 0 {
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("token id %d at position %d", ids[bad], bad)) {
				t.Fatalf("ids %v: id %d at %d, error %v", ids, ids[bad], bad, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ids %v: %v", ids, err)
		}
		var b strings.Builder
		for _, id := range ids {
			s, err := tok.DecodeToken(id)
			if err != nil || s == "" {
				t.Fatalf("token %d decodes to %q (%v)", id, s, err)
			}
			b.WriteString(s)
		}
		if b.String() != text {
			t.Fatalf("ids %v decode to %q, their tokens to %q", ids, text, b.String())
		}
		if utf8.ValidString(text) {
			if back, err := tok.Decode(tok.Encode(text)); err != nil || back != text {
				t.Fatalf("%q encoded and decoded as %q (%v)", text, back, err)
			}
		}
	})
}
