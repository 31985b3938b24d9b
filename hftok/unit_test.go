package hftok

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinyJSON returns the tiny file of kind as a JSON object to edit.
func tinyJSON(t *testing.T, kind TinyKind) (tj, tc map[string]any) {
	t.Helper()
	a, b, err := tinyFiles(kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a, &tj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tc); err != nil {
		t.Fatal(err)
	}
	return tj, tc
}

func build(t *testing.T, tj, tc map[string]any) (*Tokenizer, error) {
	t.Helper()
	a, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	if tc != nil {
		if b, err = json.Marshal(tc); err != nil {
			t.Fatal(err)
		}
	}
	return New(Files{TokenizerJSON: a, TokenizerConfig: b})
}

// TestRefusesWhatItDoesNotImplement checks that a component or setting outside what this
// package implements is refused by name, never ignored.
func TestRefusesWhatItDoesNotImplement(t *testing.T) {
	cases := []struct {
		name string
		edit func(tj map[string]any)
		want string
	}{
		{"normalizer", func(tj map[string]any) { tj["normalizer"] = map[string]any{"type": "Lowercase"} }, `normalizer type "Lowercase"`},
		{"pre-tokenizer", func(tj map[string]any) { tj["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }, `pre-tokenizer type "Whitespace"`},
		{"decoder", func(tj map[string]any) { tj["decoder"] = map[string]any{"type": "WordPiece"} }, `decoder type "WordPiece"`},
		{"post-processor", func(tj map[string]any) { tj["post_processor"] = map[string]any{"type": "BertProcessing"} }, `post-processor type "BertProcessing"`},
		{"model", func(tj map[string]any) { tj["model"].(map[string]any)["type"] = "Unigram" }, `model type "Unigram"`},
		{"dropout", func(tj map[string]any) { tj["model"].(map[string]any)["dropout"] = 0.1 }, "dropout"},
		{"subword prefix", func(tj map[string]any) { tj["model"].(map[string]any)["continuing_subword_prefix"] = "##" }, "continuing_subword_prefix"},
		{"truncation", func(tj map[string]any) { tj["truncation"] = map[string]any{"max_length": 8} }, "truncation"},
		{"split behavior", func(tj map[string]any) {
			tj["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"String": " "}, "behavior": "Sideways"}
		}, `behavior "Sideways"`},
		{"bad regex", func(tj map[string]any) {
			tj["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"Regex": "("}, "behavior": "Isolated"}
		}, "regular expression"},
		{"merge outside vocab", func(tj map[string]any) {
			m := tj["model"].(map[string]any)
			m["merges"] = append(m["merges"].([]any), []any{"zz", "qq"})
		}, `"zz" is not in the vocabulary`},
		{"huge id", func(tj map[string]any) {
			tj["added_tokens"] = append(tj["added_tokens"].([]any), map[string]any{"id": 1 << 30, "content": "<big>", "special": true})
		}, "beyond"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tj, tc := tinyJSON(t, TinyByteLevel)
			c.edit(tj)
			_, err := build(t, tj, tc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want one naming %s", err, c.want)
			}
		})
	}
}

// TestBOSFromConfig checks who decides BOS: the template, or add_bos_token for the classes
// whose transformers tokenizer rebuilds the template from it.
func TestBOSFromConfig(t *testing.T) {
	tj, tc := tinyJSON(t, TinySentencePiece)
	tc["add_bos_token"] = false
	tok, err := build(t, tj, tc)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tok.BOS(); ok {
		t.Errorf("LlamaTokenizer with add_bos_token false: BOS() = %d, true; want none", id)
	}
	// A class that does not rebuild its template: the template decides.
	tc["tokenizer_class"] = "PreTrainedTokenizerFast"
	if tok, err = build(t, tj, tc); err != nil {
		t.Fatal(err)
	}
	if id, ok := tok.BOS(); !ok || id != 1 {
		t.Errorf("PreTrainedTokenizerFast with the <s> template: BOS() = %d, %v; want 1, true", id, ok)
	}
	// A Llama file without a template but with add_bos_token true adds bos_token.
	tj["post_processor"] = nil
	tc["tokenizer_class"] = "LlamaTokenizerFast"
	tc["add_bos_token"] = true
	if tok, err = build(t, tj, tc); err != nil {
		t.Fatal(err)
	}
	if id, ok := tok.BOS(); !ok || id != 1 {
		t.Errorf("LlamaTokenizerFast, add_bos_token true, no template: BOS() = %d, %v; want 1, true", id, ok)
	}
	if got := tok.EncodeWithBOS("a"); got[0] != 1 {
		t.Errorf("EncodeWithBOS(\"a\") = %v, want 1 first", got)
	}
	tc["add_prefix_space"] = false
	if _, err := build(t, tj, tc); err == nil || !strings.Contains(err.Error(), "add_prefix_space") {
		t.Errorf("LlamaTokenizerFast with add_prefix_space: error = %v, want a refusal naming it", err)
	}
	delete(tc, "add_prefix_space")
	tc["bos_token"] = "<nope>"
	if _, err := build(t, tj, tc); err == nil || !strings.Contains(err.Error(), "<nope>") {
		t.Errorf("bos_token outside the vocabulary: error = %v", err)
	}
}

// TestEOSFromConfigs checks EOS and EOSIDs from tokenizer_config.json, config.json and
// generation_config.json, as a Llama 3.1 Instruct checkpoint writes them.
func TestEOSFromConfigs(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteTiny(dir, TinyByteLevel); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := tok.TokenID("<|end_of_text|>")
	eot, _ := tok.TokenID("<|eot_id|>")
	if tok.EOS() != end || !slices.Equal(tok.EOSIDs(), []int{end}) {
		t.Errorf("EOS, EOSIDs = %d, %v; want %d, [%d]", tok.EOS(), tok.EOSIDs(), end, end)
	}
	cfg := `{"model_type": "llama", "eos_token_id": [` + itoa(end) + `, ` + itoa(eot) + `]}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": `+itoa(eot)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if tok, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if tok.EOS() != end || !slices.Equal(tok.EOSIDs(), []int{end, eot}) {
		t.Errorf("EOS, EOSIDs = %d, %v; want %d, [%d %d]", tok.EOS(), tok.EOSIDs(), end, end, eot)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"eos_token_id": 99999}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "99999") {
		t.Errorf("eos_token_id outside the vocabulary: error = %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestLoadErrors checks the messages of a folder without tokenizer.json and of bad ids.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("Load of an empty folder: error = %v", err)
	}
	tok, err := Tiny(TinyByteLevel)
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]int{{-1}, {tok.VocabSize()}, {0, 1 << 40}} {
		if _, err := tok.Decode(ids); err == nil {
			t.Errorf("Decode(%v): no error", ids)
		}
	}
	if s, err := tok.Decode(nil); err != nil || s != "" {
		t.Errorf("Decode(nil) = %q, %v", s, err)
	}
}

// TestMetaspacePreTokenizer checks the Metaspace pre-tokenizer and decoder on the cases of
// tokenizers' own tests (metaspace.rs): spaces become "▁", "first" prepends only at the start
// of the text and not before a text that starts with "▁", split keeps "▁" with the next word.
func TestMetaspacePreTokenizer(t *testing.T) {
	pieces := func(c map[string]any, in ...piece) []string {
		t.Helper()
		p, err := buildPreTokenizer(toComponent(c), &preTokInfo{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range p(in) {
			out = append(out, x.text)
		}
		return out
	}
	always := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}
	first := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}
	if got, want := pieces(always, piece{"Hey   friend!", true}), []string{"▁Hey", "▁", "▁", "▁friend!"}; !slices.Equal(got, want) {
		t.Errorf("always, split: %q, want %q", got, want)
	}
	// " Hey <s>how" after the added token <s> is taken out: "▁Hey▁", (<s>), "how".
	if got, want := pieces(first, piece{" Hey ", true}, piece{"how", false}), []string{"▁Hey▁", "how"}; !slices.Equal(got, want) {
		t.Errorf("first, no split: %q, want %q", got, want)
	}
	if got, want := pieces(first, piece{"Hey my friend ", true}, piece{"how▁are you", false}), []string{"▁Hey▁my▁friend▁", "how▁are▁you"}; !slices.Equal(got, want) {
		t.Errorf("first, no split: %q, want %q", got, want)
	}
	legacy := map[string]any{"type": "Metaspace", "replacement": "▁", "add_prefix_space": true}
	if got, want := pieces(legacy, piece{"Hey friend!", true}), []string{"▁Hey", "▁friend!"}; !slices.Equal(got, want) {
		t.Errorf("add_prefix_space (older files): %q, want %q", got, want)
	}
	dec := func(c map[string]any, toks ...string) string {
		d, err := buildDecoder(toComponent(c))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(d(toks, true), "")
	}
	if got := dec(always, "▁Hey", "▁friend!"); got != "Hey friend!" {
		t.Errorf("decoder, always: %q", got)
	}
	never := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"}
	if got := dec(never, "▁Hey", "▁friend!"); got != " Hey friend!" {
		t.Errorf("decoder, never: %q", got)
	}
}

// modelTokenizer is the method set the model seam asks of a tokenizer.
type modelTokenizer interface {
	Encode(text string) []int
	Decode(ids []int) (string, error)
	VocabSize() int
	BOS() (id int, ok bool)
	EOS() int
	Pad() int
}

var _ modelTokenizer = (*Tokenizer)(nil)

// TestConcurrentEncode encodes from several goroutines at once (run with -race): a Tokenizer
// is shared read-only.
func TestConcurrentEncode(t *testing.T) {
	for _, kind := range TinyKinds() {
		tok, err := Tiny(kind)
		if err != nil {
			t.Fatal(err)
		}
		want := tok.Encode(tinyText)
		done := make(chan []int)
		for range 4 {
			go func() { done <- tok.Encode(tinyText) }()
		}
		for range 4 {
			if got := <-done; !slices.Equal(got, want) {
				t.Errorf("%s: concurrent Encode differs", kind)
			}
		}
	}
}

// TestEncodeLiteral checks that EncodeLiteral encodes special tokens' text as text and still
// recognises non-special added tokens.
func TestEncodeLiteral(t *testing.T) {
	tok, err := Tiny(TinyByteLevel)
	if err != nil {
		t.Fatal(err)
	}
	bot, _ := tok.TokenID("<|begin_of_text|>")
	if got := tok.Encode("x<|begin_of_text|>"); !slices.Contains(got, bot) {
		t.Errorf("Encode: %v lacks %d", got, bot)
	}
	got := tok.EncodeLiteral("x<|begin_of_text|>")
	if slices.Contains(got, bot) {
		t.Errorf("EncodeLiteral: %v holds %d", got, bot)
	}
	if s, err := tok.Decode(got); err != nil || s != "x<|begin_of_text|>" {
		t.Errorf("Decode(EncodeLiteral(...)) = %q, %v", s, err)
	}
	tj, tc := tinyJSON(t, TinyByteLevelNoBOS)
	tj["added_tokens"] = append(tj["added_tokens"].([]any), map[string]any{"id": 385, "content": "<think>", "special": false})
	tok, err = build(t, tj, tc)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.EncodeLiteral("a<think>"); !slices.Contains(got, 385) {
		t.Errorf("EncodeLiteral(\"a<think>\") = %v: the non-special <think> (385) should stay a token", got)
	}
}
