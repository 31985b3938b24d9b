package loader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// standInTokenizer describes the tokenizer files written beside a Llama-family stand-in: a
// byte-level BPE in Hugging Face's tokenizer.json format (the layout of Llama 3's and Qwen's),
// made up here so that the stand-ins need no downloaded or licensed file. Its vocabulary is the
// 256 bytes (GPT-2's byte-to-unicode map), the merges of standInMerges, then the special tokens.
type standInTokenizer struct {
	bos string // the token prepended to every prompt; "" when the model adds none (Qwen)
	eos string
}

// standInMerges are a few merges, so that the stand-ins' tokenizers merge as a real BPE does.
var standInMerges = [][2]string{
	{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"Ġ", "a"}, {"e", "r"}, {"o", "n"}, {"Ġ", "w"},
	{"r", "e"}, {"Ġ", "s"}, {"e", "d"}, {"i", "ng"}, {"n", "g"}, {"Ġ", "b"},
}

// byteToUnicode is GPT-2's map of bytes to printable characters that byte-level BPE spells
// tokens with.
func byteToUnicode() [256]rune {
	var out [256]rune
	n := 0
	for b := range 256 {
		switch {
		case b >= '!' && b <= '~', b >= 0xA1 && b <= 0xAC, b >= 0xAE && b <= 0xFF:
			out[b] = rune(b)
		default:
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// vocabSize is the number of ids of the tokenizer: bytes, merges and the special tokens.
func (s standInTokenizer) vocabSize() int {
	n := 256 + len(standInMerges) + 1
	if s.bos != "" {
		n++
	}
	return n
}

// ids returns the ids of the special tokens (bos is -1 when there is none).
func (s standInTokenizer) ids() (bos, eos int) {
	next := 256 + len(standInMerges)
	bos = -1
	if s.bos != "" {
		bos, next = next, next+1
	}
	return bos, next
}

// write writes tokenizer.json and tokenizer_config.json into dir.
func (s standInTokenizer) write(dir string) error {
	files, err := s.files()
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("loader: writing the stand-in's %s: %w", name, err)
		}
	}
	return nil
}

// files returns the contents of tokenizer.json and tokenizer_config.json, by name.
func (s standInTokenizer) files() (map[string][]byte, error) {
	vocab := map[string]int{}
	for b, r := range byteToUnicode() {
		vocab[string(r)] = b
	}
	merges := make([]string, len(standInMerges))
	for i, m := range standInMerges {
		if _, ok := vocab[m[0]+m[1]]; ok {
			return nil, fmt.Errorf("loader: stand-in merge %q+%q repeats a token", m[0], m[1])
		}
		vocab[m[0]+m[1]] = 256 + i
		merges[i] = m[0] + " " + m[1]
	}
	bos, eos := s.ids()
	special := func(id int, content string) map[string]any {
		return map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
	}
	added := []any{}
	if bos >= 0 {
		added = append(added, special(bos, s.bos))
	}
	added = append(added, special(eos, s.eos))
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
	var post any = map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	if bos >= 0 {
		seq := map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}
		bosItem := map[string]any{"SpecialToken": map[string]any{"id": s.bos, "type_id": 0}}
		post = map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{bosItem, seq},
			"pair":   []any{bosItem, seq, bosItem, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}},
			"special_tokens": map[string]any{
				s.bos: map[string]any{"id": s.bos, "ids": []int{bos}, "tokens": []string{s.bos}},
			},
		}
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": added, "normalizer": nil,
		"pre_tokenizer": byteLevel, "post_processor": post,
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil,
			"fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": vocab, "merges": merges,
		},
	}
	cfg := map[string]any{"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": s.eos, "bos_token": nil, "model_max_length": 2048,
		"clean_up_tokenization_spaces": false}
	if bos >= 0 {
		cfg["bos_token"] = s.bos
	}
	out := map[string][]byte{}
	for name, v := range map[string]any{"tokenizer.json": tok, "tokenizer_config.json": cfg} {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return nil, fmt.Errorf("loader: %s: %w", name, err)
		}
		out[name] = append(b, '\n')
	}
	return out, nil
}
