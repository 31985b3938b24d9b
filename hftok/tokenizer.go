package hftok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"
)

// Tokenizer encodes text to a model's token ids and back, as Hugging Face tokenizers does with
// the model's tokenizer.json. It is safe for concurrent use.
type Tokenizer struct {
	model      *bpeModel
	normalize  normalizer
	preTok     preTokenizer
	decode     decoder
	rawAdded   *addedMatcher // added tokens matched in the raw text
	normAdded  *addedMatcher // added tokens matched in the normalized text
	rawPlain   *addedMatcher // rawAdded without the special tokens (EncodeLiteral)
	normPlain  *addedMatcher // normAdded without the special tokens
	tokens     []string      // id → token string ("" for an unused id)
	special    []bool        // id → whether the id is a special added token
	byName     map[string]int
	bos        int // -1: the tokenizer adds no BOS
	eos        int
	eosIDs     []int
	pad        int
	padSource  string
	preInfo    preTokInfo
	className  string
	vocabSize  int
	addedNames map[string]int
}

// Files holds the contents of a model's tokenizer files. Only TokenizerJSON is required.
type Files struct {
	TokenizerJSON    []byte // tokenizer.json
	TokenizerConfig  []byte // tokenizer_config.json; nil when absent
	Config           []byte // config.json; nil when absent
	GenerationConfig []byte // generation_config.json; nil when absent
}

// Load reads the tokenizer of the model checkpoint in dir: tokenizer.json (required),
// tokenizer_config.json, config.json and generation_config.json (each optional).
func Load(dir string) (*Tokenizer, error) {
	var f Files
	read := func(name string, dst *[]byte, required bool) error {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if !required && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if required && errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("hftok: %s has no %s: download the model's tokenizer files (tokenizer.json, tokenizer_config.json) into it", dir, name)
			}
			return fmt.Errorf("hftok: %w", err)
		}
		*dst = b
		return nil
	}
	if err := read("tokenizer.json", &f.TokenizerJSON, true); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		name string
		dst  *[]byte
	}{{"tokenizer_config.json", &f.TokenizerConfig}, {"config.json", &f.Config}, {"generation_config.json", &f.GenerationConfig}} {
		if err := read(x.name, x.dst, false); err != nil {
			return nil, err
		}
	}
	t, err := New(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return t, nil
}

// New builds a tokenizer from the contents of its files.
func New(f Files) (*Tokenizer, error) {
	var tf tokenizerFile
	if err := json.Unmarshal(f.TokenizerJSON, &tf); err != nil {
		return nil, fmt.Errorf("hftok: parsing tokenizer.json: %w", err)
	}
	var tc tokenizerConfig
	if len(f.TokenizerConfig) > 0 {
		if err := json.Unmarshal(f.TokenizerConfig, &tc); err != nil {
			return nil, fmt.Errorf("hftok: parsing tokenizer_config.json: %w", err)
		}
	}
	if tc.AddPrefixSpace != nil && slices.Contains(bosRebuilders, tc.TokenizerClass) {
		return nil, fmt.Errorf("hftok: tokenizer_config.json sets add_prefix_space (%v) for %s: transformers then rebuilds the tokenizer from tokenizer.model, which this package does not read; remove the setting if tokenizer.json already spaces text as wanted", *tc.AddPrefixSpace, tc.TokenizerClass)
	}
	t := &Tokenizer{bos: -1, eos: -1, pad: -1, className: tc.TokenizerClass}
	var err error
	if t.model, err = newBPEModel(&tf.Model); err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json model: %w", err)
	}
	if t.normalize, err = buildNormalizer(tf.Normalizer); err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json normalizer: %w", err)
	}
	var info preTokInfo
	if t.preTok, err = buildPreTokenizer(tf.PreTokenizer, &info); err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json pre_tokenizer: %w", err)
	}
	if t.decode, err = buildDecoder(tf.Decoder); err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json decoder: %w", err)
	}
	if len(tf.Truncation) > 0 && string(tf.Truncation) != "null" {
		return nil, fmt.Errorf("hftok: tokenizer.json sets truncation, which is not implemented: set it to null")
	}

	// Ids: the model's vocabulary plus the added tokens.
	maxID := -1
	for _, id := range tf.Model.Vocab {
		maxID = max(maxID, id)
	}
	for _, a := range tf.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("hftok: added token %q has negative id %d", a.Content, a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	if maxID >= maxVocab {
		return nil, fmt.Errorf("hftok: token id %d is beyond %d: not a tokenizer this package reads", maxID, maxVocab)
	}
	t.vocabSize = maxID + 1
	t.tokens = make([]string, t.vocabSize)
	t.special = make([]bool, t.vocabSize)
	t.byName = make(map[string]int, len(tf.Model.Vocab)+len(tf.AddedTokens))
	for tok, id := range tf.Model.Vocab {
		t.tokens[id] = tok
		t.byName[tok] = id
	}
	t.addedNames = make(map[string]int, len(tf.AddedTokens))
	var raw, normed, rawPlain, normPlain []addedPattern
	for _, a := range tf.AddedTokens {
		if a.Content == "" {
			return nil, fmt.Errorf("hftok: added token %d has empty content", a.ID)
		}
		t.tokens[a.ID] = a.Content
		t.special[a.ID] = a.Special
		t.byName[a.Content] = a.ID
		t.addedNames[a.Content] = a.ID
		if a.Normalized {
			p := addedPattern{text: a.Content, tok: a}
			if t.normalize != nil {
				p.text = t.normalize(a.Content)
			}
			normed = append(normed, p)
			if !a.Special {
				normPlain = append(normPlain, p)
			}
		} else {
			raw = append(raw, addedPattern{text: a.Content, tok: a})
			if !a.Special {
				rawPlain = append(rawPlain, addedPattern{text: a.Content, tok: a})
			}
		}
	}
	t.rawAdded = newAddedMatcher(raw)
	t.normAdded = newAddedMatcher(normed)
	t.rawPlain = newAddedMatcher(rawPlain)
	t.normPlain = newAddedMatcher(normPlain)

	if err := t.resolveBOS(tf.PostProcessor, &tc); err != nil {
		return nil, err
	}
	if err := t.resolveEOS(&tc, f.Config, f.GenerationConfig); err != nil {
		return nil, err
	}
	t.preInfo = info
	if err := t.resolvePad(tf.Normalizer, info); err != nil {
		return nil, err
	}
	return t, nil
}

// maxVocab bounds the token ids a file may use (the largest vocabularies have about 260,000).
const maxVocab = 1 << 22

// bosRebuilders are the transformers tokenizer classes whose fast tokenizer rebuilds its
// post-processor from tokenizer_config.json's add_bos_token (update_post_processor), so that
// the flag, not tokenizer.json's template, decides whether BOS is added; given
// add_prefix_space, they rebuild the whole tokenizer from tokenizer.model.
var bosRebuilders = []string{"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"}

func (t *Tokenizer) resolveBOS(pp *component, tc *tokenizerConfig) error {
	tmplBOS, err := templateBOS(pp)
	if err != nil {
		return fmt.Errorf("hftok: tokenizer.json post_processor: %w", err)
	}
	if tmplBOS >= t.vocabSize || (tmplBOS >= 0 && t.tokens[tmplBOS] == "") {
		return fmt.Errorf("hftok: tokenizer.json post_processor adds id %d, which is not a token of the file", tmplBOS)
	}
	t.bos = tmplBOS
	if tc.AddBOSToken != nil && slices.Contains(bosRebuilders, tc.TokenizerClass) {
		if !*tc.AddBOSToken {
			t.bos = -1
			return nil
		}
		name, err := tokenName(tc.BOSToken)
		if err != nil {
			return fmt.Errorf("hftok: tokenizer_config.json bos_token: %w", err)
		}
		if name == "" {
			return fmt.Errorf("hftok: tokenizer_config.json sets add_bos_token but names no bos_token")
		}
		id, ok := t.byName[name]
		if !ok {
			return fmt.Errorf("hftok: tokenizer_config.json bos_token %q is not a token of tokenizer.json", name)
		}
		t.bos = id
	}
	return nil
}

// templateBOS returns the id a TemplateProcessing post-processor puts before a single text, or
// -1 when it puts none (or there is no template: ByteLevel post-processing adds no tokens).
func templateBOS(pp *component) (int, error) {
	if pp == nil {
		return -1, nil
	}
	switch pp.Type {
	case "Sequence":
		bos := -1
		for i, sub := range pp.Processors {
			b, err := templateBOS(sub)
			if err != nil {
				return -1, fmt.Errorf("processors[%d]: %w", i, err)
			}
			if b >= 0 {
				if bos >= 0 {
					return -1, fmt.Errorf("two templates each add a token before the text")
				}
				bos = b
			}
		}
		return bos, nil
	case "ByteLevel":
		return -1, nil
	case "TemplateProcessing":
		var before []int
		for _, it := range pp.Single {
			if it.Sequence != nil {
				break
			}
			if it.SpecialToken == nil {
				return -1, fmt.Errorf("a template item is neither SpecialToken nor Sequence")
			}
			st, ok := pp.SpecialTokens[it.SpecialToken.ID]
			if !ok {
				return -1, fmt.Errorf("template token %q is not in special_tokens", it.SpecialToken.ID)
			}
			before = append(before, st.IDs...)
		}
		switch len(before) {
		case 0:
			return -1, nil
		case 1:
			return before[0], nil
		default:
			return -1, fmt.Errorf("the template puts %d tokens before the text; only one (BOS) is implemented", len(before))
		}
	default:
		return -1, fmt.Errorf("post-processor type %q is not implemented (implemented: Sequence, ByteLevel, TemplateProcessing)", pp.Type)
	}
}

func (t *Tokenizer) resolveEOS(tc *tokenizerConfig, config, genConfig []byte) error {
	name, err := tokenName(tc.EOSToken)
	if err != nil {
		return fmt.Errorf("hftok: tokenizer_config.json eos_token: %w", err)
	}
	if name != "" {
		id, ok := t.byName[name]
		if !ok {
			return fmt.Errorf("hftok: tokenizer_config.json eos_token %q is not a token of tokenizer.json", name)
		}
		t.eos = id
		t.eosIDs = append(t.eosIDs, id)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"config.json", config}, {"generation_config.json", genConfig}} {
		if len(c.data) == 0 {
			continue
		}
		var mc modelConfig
		if err := json.Unmarshal(c.data, &mc); err != nil {
			return fmt.Errorf("hftok: parsing %s: %w", c.name, err)
		}
		ids, err := idList(mc.EOSTokenID)
		if err != nil {
			return fmt.Errorf("hftok: %s eos_token_id: %w", c.name, err)
		}
		for _, id := range ids {
			if id < 0 || id >= t.vocabSize {
				return fmt.Errorf("hftok: %s eos_token_id %d is outside the tokenizer's ids [0, %d)", c.name, id, t.vocabSize)
			}
			if !slices.Contains(t.eosIDs, id) {
				t.eosIDs = append(t.eosIDs, id)
			}
		}
	}
	if len(t.eosIDs) == 0 {
		return fmt.Errorf("hftok: no end-of-sequence token: tokenizer_config.json names no eos_token and config.json has no eos_token_id")
	}
	t.eos = t.eosIDs[0]
	return nil
}

// resolvePad finds the token that stands for one space in the middle of a text (see doc.go).
func (t *Tokenizer) resolvePad(n *component, info preTokInfo) error {
	var cands []string
	if info.byteLevel {
		cands = append(cands, toByteLevel(" "))
	}
	if info.metaspace != "" {
		cands = append(cands, info.metaspace)
	}
	cands = append(cands, spaceReplacements(n)...)
	cands = append(cands, " ")
	for _, c := range cands {
		id, ok := t.model.vocab[c]
		if !ok || t.special[id] {
			continue
		}
		if s, err := t.DecodeToken(id); err == nil && s == " " {
			t.pad, t.padSource = id, c
			return nil
		}
	}
	if t.model.byteFallback && t.model.byteTokens[' '] >= 0 {
		t.pad, t.padSource = t.model.byteTokens[' '], "<0x20>"
		return nil
	}
	return fmt.Errorf("hftok: the vocabulary has no token for a single space (tried %q and the byte token <0x20>), so ActAdd cannot pad prompts", cands)
}

// spaceReplacements lists what Replace normalizers turn " " into.
func spaceReplacements(n *component) []string {
	if n == nil {
		return nil
	}
	var out []string
	if n.Type == "Replace" && n.Pattern != nil && n.Pattern.String != nil && *n.Pattern.String == " " {
		out = append(out, n.Content)
	}
	for _, sub := range n.Normalizers {
		out = append(out, spaceReplacements(sub)...)
	}
	return out
}

// Encode returns the token ids of text without adding any special token (no BOS). Added
// tokens written in the text (such as "<|begin_of_text|>" or "</s>") are recognised and
// encoded as their ids, as Hugging Face tokenizers do. Invalid UTF-8 bytes are each encoded
// as U+FFFD.
func (t *Tokenizer) Encode(text string) []int {
	return t.encode(text, t.rawAdded, t.normAdded)
}

// EncodeLiteral is Encode with the text of special tokens encoded as ordinary text, as
// Hugging Face does with split_special_tokens=True and package bpe does for GPT-2: a prompt
// that quotes "<|begin_of_text|>" or "</s>" gets no control token from it. Non-special added
// tokens (Qwen's "<think>") are still recognised.
func (t *Tokenizer) EncodeLiteral(text string) []int {
	return t.encode(text, t.rawPlain, t.normPlain)
}

func (t *Tokenizer) encode(text string, rawAdded, normAdded *addedMatcher) []int {
	if !utf8.ValidString(text) {
		text = string([]rune(text))
	}
	var out []int
	for _, seg := range rawAdded.split(text) {
		if seg.id >= 0 {
			out = append(out, seg.id)
			continue
		}
		s := text[seg.start:seg.end]
		if t.normalize != nil {
			s = t.normalize(s)
		}
		for _, sub := range normAdded.split(s) {
			if sub.id >= 0 {
				out = append(out, sub.id)
				continue
			}
			pieces := []piece{{text: s[sub.start:sub.end], atStart: seg.start == 0 && sub.start == 0}}
			if t.preTok != nil {
				pieces = t.preTok(pieces)
			}
			for _, p := range pieces {
				out = t.model.tokenize(p.text, out)
			}
		}
	}
	return out
}

// EncodeWithBOS returns BOS (when the tokenizer adds one) followed by Encode(text).
func (t *Tokenizer) EncodeWithBOS(text string) []int {
	ids := t.Encode(text)
	if t.bos < 0 {
		return ids
	}
	return append([]int{t.bos}, ids...)
}

// Decode returns the text of ids as the file's decoder writes it, special tokens included
// (Hugging Face's decode with skip_special_tokens=False). Like bpe.Decode it returns the raw
// bytes: ids that cut a multi-byte character give invalid UTF-8, where Hugging Face writes
// U+FFFD; Decode(Encode(s)) == s wherever the tokenizer is lossless (doc.go). An id outside
// [0, VocabSize()) or one no token uses is an error.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	return t.decodeIDs(ids, true)
}

// DecodeToken returns the text one token adds in the middle of a text: the decoder without
// the steps that act only at the start (SentencePiece-style files strip the space of a first
// "▁"), so "▁Hello" gives " Hello". Raw bytes, like Decode.
func (t *Tokenizer) DecodeToken(id int) (string, error) {
	return t.decodeIDs([]int{id}, false)
}

func (t *Tokenizer) decodeIDs(ids []int, first bool) (string, error) {
	toks := make([]string, len(ids))
	for i, id := range ids {
		if id < 0 || id >= t.vocabSize || t.tokens[id] == "" {
			return "", fmt.Errorf("hftok: token id %d at position %d is not a token of this tokenizer (ids 0..%d): pass ids produced by this tokenizer or its model", id, i, t.vocabSize-1)
		}
		toks[i] = t.tokens[id]
	}
	if len(toks) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	for _, s := range t.decode(toks, first) {
		b.WriteString(s)
	}
	return b.String(), nil
}

// VocabSize returns the number of token ids, 1 + the largest id of the vocabulary and the
// added tokens. A model's embedding may have more rows than this (Qwen pads it).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// BOS returns the id the model's prompts start with, and ok=false when the tokenizer adds
// none (Qwen; the Llama 3 file of some releases). tokenizer.json's post-processor template
// decides, or tokenizer_config.json's add_bos_token for the tokenizer classes whose
// transformers implementation rebuilds the template from it (Llama, CodeLlama, Gemma).
func (t *Tokenizer) BOS() (id int, ok bool) { return t.bos, t.bos >= 0 }

// EOS returns the end-of-sequence id: tokenizer_config.json's eos_token, or else the first of
// config.json's eos_token_id. EOSIDs lists every id generation should stop at.
func (t *Tokenizer) EOS() int { return t.eos }

// EOSIDs returns all end-of-sequence ids named by tokenizer_config.json, config.json and
// generation_config.json, EOS first.
func (t *Tokenizer) EOSIDs() []int { return slices.Clone(t.eosIDs) }

// Pad returns the id ActAdd pads the shorter prompt of a pair with: the token for one space in
// the middle of a text (doc.go).
func (t *Tokenizer) Pad() int { return t.pad }

// TokenID returns the id of a token by its string in tokenizer.json (a vocabulary entry such
// as "Ġthe" or "▁the", or an added token such as "<|eot_id|>").
func (t *Tokenizer) TokenID(token string) (int, bool) {
	id, ok := t.byName[token]
	return id, ok
}

// Token returns the string tokenizer.json gives id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= t.vocabSize || t.tokens[id] == "" {
		return "", false
	}
	return t.tokens[id], true
}

// SpecialTokens returns the special added tokens by their text.
func (t *Tokenizer) SpecialTokens() map[string]int {
	out := make(map[string]int)
	for s, id := range t.addedNames {
		if t.special[id] {
			out[s] = id
		}
	}
	return out
}

// IsSpecial reports whether id is a special added token (BOS, EOS, chat markers).
func (t *Tokenizer) IsSpecial(id int) bool {
	return id >= 0 && id < t.vocabSize && t.special[id]
}

// Class returns tokenizer_config.json's tokenizer_class ("" when absent).
func (t *Tokenizer) Class() string { return t.className }
