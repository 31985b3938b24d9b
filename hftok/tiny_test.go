package hftok

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tinyGolden pins the files WriteTiny writes: tiny stand-in checkpoints and their fixtures
// depend on these ids. A change to the tiny tokenizers must update the hashes knowingly.
var tinyGolden = map[TinyKind]string{
	TinyByteLevel:      "5e9060275f832e84af53100ccc640a66bd3a4b33742d557bb9e4558f0b871140",
	TinyByteLevelNoBOS: "5c80575bf4cdf5f8859e12724234cc35f170df41e46e5c963ba242f20a3953a3",
	TinySentencePiece:  "8ce9250e4c956ff9223964d46d1364af6da2b4a3b08417111819d5ec1dfccee2",
	TinyMetaspace:      "d28bc6dc1dffa16a04f3226b7466ec9ed559b660afed1160389e220e8ca2ff27",
	TinyDigits:         "94ab53da5e69095c3a65b176557e7e667aa3d27ca5e0c9f62e5db74ad3e65ed5",
}

// TestWriteTiny writes each tiny tokenizer, loads it back from the folder and checks its
// special tokens, padding, round trips and that its files are the pinned ones.
func TestWriteTiny(t *testing.T) {
	for _, kind := range TinyKinds() {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			n, err := WriteTiny(dir, kind)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tok.VocabSize() != n {
				t.Errorf("VocabSize() = %d, WriteTiny said %d", tok.VocabSize(), n)
			}
			if n < 300 || n > 600 {
				t.Errorf("VocabSize() = %d, want a few hundred ids", n)
			}
			bos, hasBOS := tok.BOS()
			switch kind {
			case TinyByteLevel:
				if id, _ := tok.TokenID("<|begin_of_text|>"); !hasBOS || bos != id {
					t.Errorf("BOS() = %d, %v; want <|begin_of_text|> (%d)", bos, hasBOS, id)
				}
				if id, _ := tok.TokenID("<|end_of_text|>"); tok.EOS() != id {
					t.Errorf("EOS() = %d, want <|end_of_text|> (%d)", tok.EOS(), id)
				}
			case TinyByteLevelNoBOS:
				if hasBOS {
					t.Errorf("BOS() = %d, true; want none", bos)
				}
				if id, _ := tok.TokenID("<|im_end|>"); tok.EOS() != id {
					t.Errorf("EOS() = %d, want <|im_end|> (%d)", tok.EOS(), id)
				}
			case TinyDigits:
				if hasBOS || tok.EOS() != 0 {
					t.Errorf("BOS(), EOS() = %d %v, %d; want none, 0", bos, hasBOS, tok.EOS())
				}
				one, _ := tok.TokenID("1")
				two, _ := tok.TokenID("2")
				if got := tok.Encode("12"); !slices.Equal(got, []int{one, two}) {
					t.Errorf("Encode(\"12\") = %v, want one token per digit %v", got, []int{one, two})
				}
			case TinySentencePiece, TinyMetaspace:
				if !hasBOS || bos != 1 || tok.EOS() != 2 {
					t.Errorf("BOS(), EOS() = %d %v, %d; want 1 true, 2", bos, hasBOS, tok.EOS())
				}
				// Characters outside the tiny alphabet fall back to bytes, after the prepended "▁".
				meta, _ := tok.TokenID("▁")
				if got, want := tok.Encode("€"), []int{meta, 3 + 0xE2, 3 + 0x82, 3 + 0xAC}; !slices.Equal(got, want) {
					t.Errorf("Encode(\"€\") = %v, want the byte tokens %v", got, want)
				}
			}
			for _, s := range []string{"I talk about weddings constantly.", tinyText, "Zebra ünïcödé 😀 \r\n\t 12345", "  two  spaces  "} {
				ids := tok.Encode(s)
				got, err := tok.Decode(ids)
				if err != nil || (got != s && lossless(tok, s)) {
					t.Errorf("Decode(Encode(%.40q)) = %.40q, %v", s, got, err)
				}
			}
			if ids := tok.Encode(" weddings"); len(ids) > 3 {
				t.Errorf("Encode(\" weddings\") = %v: the tiny vocabulary should know the word", ids)
			}
			checkPad(t, tok)
			b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != tinyGolden[kind] {
				t.Errorf("tokenizer.json sha256 = %s, want %s: the tiny tokenizer changed", got, tinyGolden[kind])
			}
		})
	}
	if _, err := WriteTiny(t.TempDir(), "unigram"); err == nil {
		t.Error("WriteTiny of an unknown kind: no error")
	}
}
