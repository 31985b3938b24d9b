package hftok

import (
	"slices"
	"strings"
	"testing"
)

// What each released file must give: BOS, EOS, the padding token, and ids measured with
// transformers.js (see the package doc for where they come from).
var releasedWant = map[string]struct {
	bos, eos, pad int // bos -1: none
	space         []int
	weddings      []int // Encode(" weddings")
}{
	"llama3":          {bos: -1, eos: 128001, pad: 220, space: []int{220}, weddings: []int{55344}},
	"llama3_1":        {bos: 128000, eos: 128009, pad: 220, space: []int{220}, weddings: []int{55344}},
	"qwen3":           {bos: -1, eos: 151645, pad: 220, space: []int{220}, weddings: []int{54244}},
	"mistral-7b-v0.1": {bos: 1, eos: 2, pad: 28705, space: []int{259}, weddings: []int{28705, 6887, 23127}},
	"gemma3":          {bos: 2, eos: 106, pad: 236743, space: []int{236743}, weddings: []int{56349}},
}

// TestReleasedSpecialTokensAndPad checks BOS, EOS and Pad of each released file, and that Pad
// means "one space after text": a prompt's trailing space encodes to it, and decoding a prompt
// followed by pads gives the prompt's text followed by as many spaces.
func TestReleasedSpecialTokensAndPad(t *testing.T) {
	npm := npmDir(t)
	for _, rf := range releasedFiles {
		t.Run(rf.name, func(t *testing.T) {
			tok, _ := loadReleased(t, npm, rf)
			w := releasedWant[rf.name]
			bos, ok := tok.BOS()
			if w.bos < 0 && ok {
				t.Errorf("BOS() = %d, true; want none", bos)
			}
			if w.bos >= 0 && (!ok || bos != w.bos) {
				t.Errorf("BOS() = %d, %v; want %d, true", bos, ok, w.bos)
			}
			if tok.EOS() != w.eos {
				t.Errorf("EOS() = %d, want %d", tok.EOS(), w.eos)
			}
			if tok.Pad() != w.pad {
				t.Errorf("Pad() = %d, want %d", tok.Pad(), w.pad)
			}
			if got := tok.Encode(" "); !slices.Equal(got, w.space) {
				t.Errorf("Encode(\" \") = %v, want %v", got, w.space)
			}
			if got := tok.Encode(" weddings"); !slices.Equal(got, w.weddings) {
				t.Errorf("Encode(\" weddings\") = %v, want %v", got, w.weddings)
			}
			checkPad(t, tok)
			ids := tok.EncodeWithBOS("Hello")
			if ok && (len(ids) == 0 || ids[0] != bos) {
				t.Errorf("EncodeWithBOS(\"Hello\") = %v, want BOS %d first", ids, bos)
			}
			if !ok && !slices.Equal(ids, tok.Encode("Hello")) {
				t.Errorf("EncodeWithBOS(\"Hello\") = %v, want Encode's %v (no BOS)", ids, tok.Encode("Hello"))
			}
		})
	}
}

// checkPad checks what Pad means on prompts of the paper and plain words: a trailing space
// encodes to it, and k pads after a prompt decode to k spaces after the prompt's text.
func checkPad(t *testing.T, tok *Tokenizer) {
	t.Helper()
	pad := tok.Pad()
	if s, err := tok.DecodeToken(pad); err != nil || s != " " {
		t.Errorf("DecodeToken(Pad()=%d) = %q, %v; want \" \"", pad, s, err)
	}
	if tok.IsSpecial(pad) {
		t.Errorf("Pad() = %d is a special token", pad)
	}
	for _, p := range []string{"Love", "Hate", " weddings", "I talk about weddings constantly", "Anger", "Calm"} {
		base := tok.Encode(p)
		withSpace := tok.Encode(p + " ")
		if !slices.Equal(withSpace, append(slices.Clone(base), pad)) {
			t.Errorf("Encode(%q) = %v, want Encode(%q) = %v followed by Pad %d", p+" ", withSpace, p, base, pad)
		}
		text, err := tok.Decode(base)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 3; k++ {
			ids := slices.Clone(base)
			for range k {
				ids = append(ids, pad)
			}
			got, err := tok.Decode(ids)
			if want := text + strings.Repeat(" ", k); err != nil || got != want {
				t.Errorf("Decode(Encode(%q) + %d pads) = %q, %v; want %q", p, k, got, err, want)
			}
		}
	}
}
