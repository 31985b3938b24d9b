package hftok

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"
)

// fuzzTokenizers returns the tiny tokenizers and, when the npm folder of the exactness tests
// is already installed ($HFTOK_NPM_DIR), the released ones.
func fuzzTokenizers(f *testing.F) map[string]*Tokenizer {
	f.Helper()
	toks := map[string]*Tokenizer{}
	for _, kind := range TinyKinds() {
		tok, err := Tiny(kind)
		if err != nil {
			f.Fatal(err)
		}
		toks["tiny-"+string(kind)] = tok
	}
	if dir := os.Getenv("HFTOK_NPM_DIR"); dir != "" {
		for _, rf := range releasedFiles {
			tok, err := Load(filepath.Join(dir, "node_modules", filepath.FromSlash(rf.pkg), "models"))
			if err == nil {
				toks[rf.name] = tok
			}
		}
	}
	return toks
}

// FuzzEncodeDecode checks, for every tokenizer, that Encode gives ids of the vocabulary, that
// Decode(Encode(s)) == s wherever the tokenizer is lossless (see lossless), and that invalid
// UTF-8 encodes as its U+FFFD replacement. Seeded with the edge cases of testdata/edge.jsonl.
func FuzzEncodeDecode(f *testing.F) {
	toks := fuzzTokenizers(f)
	for _, s := range edgeCases(f) {
		f.Add(s)
	}
	f.Add("\xff\xfe broken \xc3")
	f.Fuzz(func(t *testing.T, s string) {
		for name, tok := range toks {
			ids := tok.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("%s: Encode(%q) gave id %d outside [0, %d)", name, s, id, tok.VocabSize())
				}
			}
			dec, err := tok.Decode(ids)
			if err != nil {
				t.Fatalf("%s: Decode(Encode(%q)): %v", name, s, err)
			}
			if !utf8.ValidString(s) {
				if fixed := tok.Encode(string([]rune(s))); !slices.Equal(ids, fixed) {
					t.Fatalf("%s: Encode(%q) = %v, but its U+FFFD form gives %v", name, s, ids, fixed)
				}
				continue
			}
			if lossless(tok, s) && dec != s {
				t.Fatalf("%s: Decode(Encode(%q)) = %q", name, s, dec)
			}
		}
	})
}

func edgeCases(f *testing.F) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "edge.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, line := range splitLines(b) {
		var d struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			f.Fatal(err)
		}
		out = append(out, d.Text)
	}
	return out
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		b = b[i+1:]
	}
	return out
}

// FuzzNew feeds New arbitrary tokenizer.json files: it must return an error or a tokenizer
// that encodes and decodes short texts within its vocabulary, never panic. Seeded with the
// tiny files and, where the npm folder is installed, with the tiny vocabularies under the
// released files' normalizers, pre-tokenizers, post-processors and decoders. The seeds are
// tens of kilobytes: run it with a short -fuzzminimizetime (e.g. 3s), or each new input is
// minimized for a minute.
func FuzzNew(f *testing.F) {
	var seeds [][]byte
	for _, kind := range TinyKinds() {
		tj, _, err := tinyFiles(kind)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, tj, tj[:len(tj)/2])
	}
	if dir := os.Getenv("HFTOK_NPM_DIR"); dir != "" {
		tiny, _, err := tinyFiles(TinySentencePiece)
		if err != nil {
			f.Fatal(err)
		}
		for _, rf := range releasedFiles {
			real, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(rf.pkg), "models", "tokenizer.json"))
			if err != nil {
				continue
			}
			var r, t map[string]json.RawMessage
			if json.Unmarshal(real, &r) != nil || json.Unmarshal(tiny, &t) != nil {
				continue
			}
			for _, k := range []string{"normalizer", "pre_tokenizer", "post_processor", "decoder"} {
				t[k] = r[k]
			}
			if b, err := json.Marshal(t); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	for i, s := range seeds {
		if i%2 == 0 && i < 6 {
			// Whole tiny files must load, or the fuzz would start from errors only.
			if _, err := New(Files{TokenizerJSON: s, Config: []byte(`{"eos_token_id": 0}`)}); err != nil {
				f.Fatalf("seed %d: %v", i, err)
			}
		}
		f.Add(s)
	}
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"added_tokens":[{"id":3,"content":"<s>","special":true}],"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"id":"<s>","ids":[3]}}},"pre_tokenizer":{"type":"Metaspace","replacement":"b"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := New(Files{TokenizerJSON: data, Config: []byte(`{"eos_token_id": 0}`)})
		if err != nil {
			return
		}
		for _, s := range []string{"", " ", "ab", "a b\n", "Hello, world 12", "<s>x</s>", "é😀"} {
			ids := tok.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside [0, %d)", s, id, tok.VocabSize())
				}
			}
			if _, err := tok.Decode(ids); err != nil {
				t.Fatalf("Decode(Encode(%q)) = %v: %v", s, ids, err)
			}
		}
		if p := tok.Pad(); p < 0 || p >= tok.VocabSize() {
			t.Fatalf("Pad() = %d outside [0, %d)", p, tok.VocabSize())
		}
		if e := tok.EOS(); e < 0 || e >= tok.VocabSize() {
			t.Fatalf("EOS() = %d outside [0, %d)", e, tok.VocabSize())
		}
	})
}
