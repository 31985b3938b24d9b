// Package bpe is GPT-2's byte-pair tokenizer, exactly as OpenAI's gpt2 / Hugging Face's GPT2Tokenizer
// and TransformerLens tokenize text.
//
// It wraps github.com/tiktoken-go/tokenizer, whose embedded r50k_base encoding is GPT-2's BPE
// (same 50,256 merges, same split regexp). That library does not know the special token
// <|endoftext|> (id 50256): this package adds it. Encode never produces 50256 — the literal text
// "<|endoftext|>" is tokenized as ordinary text, as Hugging Face does by default for user text —
// and Decode turns 50256 back into "<|endoftext|>".
//
// A Tokenizer is safe for concurrent use. New returns a shared instance: the vocabulary is
// built once per process.
package bpe

import (
	"fmt"
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

const (
	// BOS is the id of <|endoftext|>, GPT-2's only special token. GPT-2 uses it as
	// beginning-of-sequence (TransformerLens prepends it to every prompt), end-of-sequence and
	// padding token.
	BOS = 50256
	// EOS is the same token as BOS.
	EOS = BOS
	// Space is the id of the single-space token " ", used to right-pad steering prompts.
	Space = 220
	// EndOfText is the text of token BOS.
	EndOfText = "<|endoftext|>"
	// vocabSize is the number of tokens: 50,256 byte-pair tokens plus <|endoftext|>.
	vocabSize = 50257
)

// Tokenizer encodes text to GPT-2 token ids and back. The zero value is not usable: call New.
type Tokenizer struct {
	codec tokenizer.Codec
}

var (
	sharedOnce sync.Once
	shared     *Tokenizer
	sharedErr  error
)

// New returns GPT-2's tokenizer. All calls share one instance, which is safe for concurrent use.
func New() (*Tokenizer, error) {
	sharedOnce.Do(func() {
		codec, err := tokenizer.Get(tokenizer.R50kBase)
		if err != nil {
			sharedErr = fmt.Errorf("bpe: loading the r50k_base (GPT-2) encoding of github.com/tiktoken-go/tokenizer: %w; check that the module version in go.mod is v0.10.0 or later", err)
			return
		}
		// ErrorModeNone (the library's default, set explicitly here) makes Decode return the
		// tokens' raw bytes: byte-exact, even when ids cut a multi-byte character.
		codec.SetErrorMode(tokenizer.ErrorModeNone)
		shared = &Tokenizer{codec: codec}
	})
	return shared, sharedErr
}

// Encode returns the GPT-2 token ids of text, without BOS. Text should be valid UTF-8 (as Python
// strings always are); each invalid byte is encoded as U+FFFD.
//
// The special token's text "<|endoftext|>" is not recognised: it is encoded as ordinary text
// (7 tokens). Use EncodeWithBOS, or add BOS yourself.
func (t *Tokenizer) Encode(text string) []int {
	// github.com/tiktoken-go/tokenizer v0.10.0 drops U+007F (DEL) from the text: its split
	// regexp puts DEL in no piece. DEL and U+0001 fall in the same classes of GPT-2's split
	// pattern, and neither byte takes part in any merge: each is always one token of its own
	// (221 and 189). So DEL is encoded as U+0001, and those tokens renamed back, in order.
	var wasDEL []bool // for each U+0001 or U+007F of text, in order: whether it is DEL
	if strings.Contains(text, delChar) {
		for i := 0; i < len(text); i++ {
			if c := text[i]; c == delChar[0] || c == standInChar[0] {
				wasDEL = append(wasDEL, c == delChar[0])
			}
		}
		text = strings.ReplaceAll(text, delChar, standInChar)
	}
	ids, _, err := t.codec.Encode(text)
	if err != nil {
		// The library reports errors only for regexp match timeouts, which r50k_base does not
		// set, so this cannot happen; return no tokens rather than a partial encoding.
		return nil
	}
	out := make([]int, len(ids))
	k := 0
	for i, id := range ids {
		out[i] = int(id)
		if id == standInToken && wasDEL != nil {
			if k < len(wasDEL) && wasDEL[k] {
				out[i] = delToken
			}
			k++
		}
	}
	return out
}

// DEL, the character the library loses, and U+0001, which stands in for it (see Encode), with
// their tokens.
const (
	delChar      = "\x7f"
	standInChar  = "\x01"
	delToken     = 221
	standInToken = 189
)

// EncodeWithBOS returns BOS followed by the token ids of text, as TransformerLens's to_tokens
// does by default. An empty text gives [BOS].
func (t *Tokenizer) EncodeWithBOS(text string) []int {
	ids := t.Encode(text)
	return append([]int{BOS}, ids...)
}

// Decode returns the text of ids, byte-exact: Decode(Encode(s)) == s for every valid UTF-8 s.
// BOS decodes to "<|endoftext|>". When ids cut a multi-byte character the result is not valid
// UTF-8; use strings.ToValidUTF8 before displaying it. An id outside [0, VocabSize()) is an error.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	var buf []byte
	run := make([]uint, 0, len(ids))
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		s, err := t.codec.Decode(run)
		if err != nil {
			return fmt.Errorf("bpe: decoding tokens: %w", err)
		}
		buf = append(buf, s...)
		run = run[:0]
		return nil
	}
	for i, id := range ids {
		if id < 0 || id >= vocabSize {
			return "", fmt.Errorf("bpe: token id %d at position %d is outside GPT-2's vocabulary [0, %d): pass ids produced by this tokenizer or by a GPT-2 model", id, i, vocabSize)
		}
		if id == BOS {
			if err := flush(); err != nil {
				return "", err
			}
			buf = append(buf, EndOfText...)
			continue
		}
		run = append(run, uint(id))
	}
	if err := flush(); err != nil {
		return "", err
	}
	return string(buf), nil
}

// DecodeToken returns the text of one token: its raw bytes, which need not be valid UTF-8
// (GPT-2 splits some characters across tokens). BOS gives "<|endoftext|>".
func (t *Tokenizer) DecodeToken(id int) (string, error) {
	return t.Decode([]int{id})
}

// VocabSize returns the number of token ids, 50257 (ids 0..50256).
func (t *Tokenizer) VocabSize() int { return vocabSize }

// BOS returns GPT-2's beginning-of-sequence id, <|endoftext|>: ActAdd prepends it to every
// prompt, as TransformerLens does (lm.Tokenizer).
func (t *Tokenizer) BOS() (id int, ok bool) { return BOS, true }

// EOS returns <|endoftext|>, which ends a generation (lm.Tokenizer).
func (t *Tokenizer) EOS() int { return EOS }

// Pad returns the single-space token " " (220), with which ActAdd right-pads the shorter
// prompt of a pair (lm.Tokenizer).
func (t *Tokenizer) Pad() int { return Space }
