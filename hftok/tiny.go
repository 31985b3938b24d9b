package hftok

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// TinyKind names a small tokenizer that WriteTiny writes: the same file layout and code path as
// a family's released tokenizer, with a vocabulary of about 500 tokens trained on tinyText.
type TinyKind string

const (
	// TinyByteLevel is laid out like Llama 3.1's file: Llama 3's Split pattern, ByteLevel,
	// ignore_merges, BOS <|begin_of_text|> added by the template, EOS <|end_of_text|>.
	TinyByteLevel TinyKind = "byte-level"
	// TinyByteLevelNoBOS is laid out like Qwen2/Qwen3's file: NFC, Qwen's Split pattern (one
	// digit per token), ByteLevel, no BOS, EOS <|im_end|>, chat tokens <|im_start|>, <|im_end|>.
	TinyByteLevelNoBOS TinyKind = "byte-level-nobos"
	// TinySentencePiece is laid out like Llama 2's and Mistral's files: the Prepend("▁") and
	// Replace(" " → "▁") normalizers, no pre-tokenizer, byte fallback to <0x00>..<0xFF>,
	// <unk> <s> </s> as ids 0 1 2, BOS <s> (add_bos_token), EOS </s>.
	TinySentencePiece TinyKind = "sentencepiece"
	// TinyMetaspace has TinySentencePiece's vocabulary laid out like the newer
	// SentencePiece-style files (Mistral 7B v0.3, Llama 2 files converted with legacy=false):
	// no normalizer, the Metaspace pre-tokenizer and decoder with prepend_scheme "first" and
	// split false, so "▁" goes before the text only, not after an added token.
	TinyMetaspace TinyKind = "metaspace"
	// TinyDigits is laid out like SmolLM2's file: one digit per token (Digits), ByteLevel with
	// GPT-2's split pattern, no BOS, special tokens <|endoftext|> <|im_start|> <|im_end|> as ids
	// 0 1 2 of the vocabulary, EOS <|endoftext|>.
	TinyDigits TinyKind = "byte-level-digits"
)

// TinyKinds lists the kinds WriteTiny writes.
func TinyKinds() []TinyKind {
	return []TinyKind{TinyByteLevel, TinyByteLevelNoBOS, TinySentencePiece, TinyMetaspace, TinyDigits}
}

// tinyMerges is the number of merges WriteTiny learns.
const tinyMerges = 240

// tinyText is the training text of WriteTiny's tokenizers, written for this package and
// dedicated to the public domain (CC0); it holds the words of ActAdd's usual prompts.
const tinyText = `I talk about weddings constantly. Love and hate, anger and calm: the steering prompts
of activation addition are short, and the model reads them like any other text. She said that
she would love to go to the wedding, but I hate long speeches. After the wedding the guests
talked about the food, the music and the weather. He was angry, then calm again. They went to
the park on Sunday; it rained, so they stayed under the trees and talked about everything.
The cat sat on the mat. The dog ran after the ball. We counted 1, 2, 3, 10, 42, 100 and 2023.
"What do you think?" she asked. "I think that it is going to be fine," he answered. It's not
what I'd have said, but you're right, and we'll see. The bride and the groom danced; the
people who came from far away were happy to be there. Love is patient, love is kind. Hate is
loud. I love you. I hate you. Intent to praise, intent to hurt. Anger, calm, joy, sadness,
fear and surprise are the words of feelings. The quick brown fox jumps over the lazy dog.
A model is a function from text to the next token; a steering vector is a difference of
activations, added to the residual stream at one layer.
`

// Llama 3's and Qwen's split patterns, as their tokenizer.json files write them.
const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwenPattern   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// WriteTiny writes tokenizer.json and tokenizer_config.json of a small tokenizer of the given
// kind into dir (created if needed), for tiny stand-in checkpoints; it returns the number of
// token ids, which the checkpoint's vocab_size must be at least. The files are the same for
// every call. The model's config.json is the caller's to write.
func WriteTiny(dir string, kind TinyKind) (vocabSize int, err error) {
	tj, tc, err := tinyFiles(kind)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("hftok: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		return 0, fmt.Errorf("hftok: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), tc, 0o644); err != nil {
		return 0, fmt.Errorf("hftok: %w", err)
	}
	tok, err := New(Files{TokenizerJSON: tj, TokenizerConfig: tc})
	if err != nil {
		return 0, fmt.Errorf("hftok: the tiny %s tokenizer does not load: %w", kind, err)
	}
	return tok.VocabSize(), nil
}

// Tiny returns the tokenizer WriteTiny writes for kind, without writing it.
func Tiny(kind TinyKind) (*Tokenizer, error) {
	tj, tc, err := tinyFiles(kind)
	if err != nil {
		return nil, err
	}
	return New(Files{TokenizerJSON: tj, TokenizerConfig: tc})
}

// tinyFiles builds the two files: the pipeline of the kind, an alphabet, and merges learned
// on tinyText by counting adjacent pairs (most frequent first, ties by the pair's text).
func tinyFiles(kind TinyKind) (tokenizerJSON, tokenizerConfig []byte, err error) {
	type obj = map[string]any
	var (
		normalizer, preTokenizer, postProcessor, decoder any
		vocab                                            []string // in id order
		added                                            []string
		specialAdded                                     = map[string]bool{}
		config                                           obj
		words                                            map[string]int
		split                                            func(string) []string // a word into its initial symbols
		byteFallback, ignoreMerges                       bool
		unk                                              any
	)
	// byteLevelWords appends the byte-level alphabet to the vocabulary and counts tinyText's
	// words as the pre-tokenizer splits them, each word split into its runes.
	byteLevelWords := func() {
		for b := range 256 {
			vocab = append(vocab, string(byteLevelAlphabet[b]))
		}
		split = splitRunes
		pre, _ := buildPreTokenizer(toComponent(preTokenizer), &preTokInfo{})
		words = countWords(pre, tinyText)
	}
	switch kind {
	case TinyByteLevel, TinyByteLevelNoBOS:
		pat := llama3Pattern
		if kind == TinyByteLevelNoBOS {
			pat = qwenPattern
		}
		preTokenizer = obj{"type": "Sequence", "pretokenizers": []any{
			obj{"type": "Split", "pattern": obj{"Regex": pat}, "behavior": "Isolated", "invert": false},
			obj{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}}
		decoder = obj{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}
		byteLevelWords()
		if kind == TinyByteLevel {
			ignoreMerges = true
			added = []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"}
			postProcessor = obj{"type": "Sequence", "processors": []any{
				obj{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
				obj{"type": "TemplateProcessing",
					"single":         []any{obj{"SpecialToken": obj{"id": "<|begin_of_text|>", "type_id": 0}}, obj{"Sequence": obj{"id": "A", "type_id": 0}}},
					"pair":           []any{obj{"SpecialToken": obj{"id": "<|begin_of_text|>", "type_id": 0}}, obj{"Sequence": obj{"id": "A", "type_id": 0}}, obj{"SpecialToken": obj{"id": "<|begin_of_text|>", "type_id": 1}}, obj{"Sequence": obj{"id": "B", "type_id": 1}}},
					"special_tokens": obj{"<|begin_of_text|>": obj{"id": "<|begin_of_text|>", "ids": []int{-1}, "tokens": []string{"<|begin_of_text|>"}}}},
			}}
			config = obj{"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": true, "model_max_length": 131072}
		} else {
			normalizer = obj{"type": "NFC"}
			added = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
			postProcessor = obj{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
			config = obj{"add_bos_token": false, "add_prefix_space": false, "bos_token": nil, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": nil, "errors": "replace", "tokenizer_class": "Qwen2Tokenizer", "clean_up_tokenization_spaces": false, "model_max_length": 32768, "split_special_tokens": false}
		}
		for _, a := range added {
			specialAdded[a] = true
		}
	case TinyDigits:
		preTokenizer = obj{"type": "Sequence", "pretokenizers": []any{
			obj{"type": "Digits", "individual_digits": true},
			obj{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		}}
		decoder = obj{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}
		postProcessor = obj{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}
		added = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
		vocab = append(vocab, added...)
		byteLevelWords()
		for _, a := range added {
			specialAdded[a] = true
		}
		config = obj{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "add_prefix_space": false, "tokenizer_class": "GPT2Tokenizer", "clean_up_tokenization_spaces": false, "model_max_length": 8192, "additional_special_tokens": []string{"<|im_start|>", "<|im_end|>"}}
	case TinySentencePiece, TinyMetaspace:
		if kind == TinySentencePiece {
			normalizer = obj{"type": "Sequence", "normalizers": []any{
				obj{"type": "Prepend", "prepend": "▁"},
				obj{"type": "Replace", "pattern": obj{"String": " "}, "content": "▁"},
			}}
			decoder = obj{"type": "Sequence", "decoders": []any{
				obj{"type": "Replace", "pattern": obj{"String": "▁"}, "content": " "},
				obj{"type": "ByteFallback"},
				obj{"type": "Fuse"},
				obj{"type": "Strip", "content": " ", "start": 1, "stop": 0},
			}}
		} else {
			preTokenizer = obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}
			decoder = obj{"type": "Sequence", "decoders": []any{
				obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
				obj{"type": "ByteFallback"},
				obj{"type": "Fuse"},
			}}
		}
		postProcessor = obj{"type": "TemplateProcessing",
			"single":         []any{obj{"SpecialToken": obj{"id": "<s>", "type_id": 0}}, obj{"Sequence": obj{"id": "A", "type_id": 0}}},
			"pair":           []any{obj{"SpecialToken": obj{"id": "<s>", "type_id": 0}}, obj{"Sequence": obj{"id": "A", "type_id": 0}}, obj{"SpecialToken": obj{"id": "<s>", "type_id": 1}}, obj{"Sequence": obj{"id": "B", "type_id": 1}}},
			"special_tokens": obj{"<s>": obj{"id": "<s>", "ids": []int{1}, "tokens": []string{"<s>"}}}}
		byteFallback = true
		unk = "<unk>"
		vocab = []string{"<unk>", "<s>", "</s>"}
		for b := range 256 {
			vocab = append(vocab, fmt.Sprintf("<0x%02X>", b))
		}
		// The alphabet: "▁" and the characters of the training text, in code point order.
		chars := map[rune]bool{'▁': true}
		for _, r := range tinyText {
			if r != ' ' && r != '\n' {
				chars[r] = true
			}
		}
		var rs []rune
		for r := range chars {
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
		for _, r := range rs {
			vocab = append(vocab, string(r))
		}
		split = splitRunes
		// Training words: "▁" followed by each space-separated word (newlines left to byte
		// fallback, as Llama 2's vocabulary has "<0x0A>" for them).
		words = map[string]int{}
		for line := range strings.SplitSeq(tinyText, "\n") {
			for w := range strings.FieldsSeq(line) {
				words["▁"+w]++
			}
		}
		added = []string{"<unk>", "<s>", "</s>"}
		for _, a := range added {
			specialAdded[a] = true
		}
		config = obj{"add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": nil, "legacy": kind == TinySentencePiece, "tokenizer_class": "LlamaTokenizer", "clean_up_tokenization_spaces": false, "model_max_length": 32768}
	default:
		return nil, nil, fmt.Errorf("hftok: unknown tiny tokenizer kind %q (kinds: %v)", kind, TinyKinds())
	}

	merges, learned := learnMerges(words, split, vocab, tinyMerges)
	vocab = append(vocab, learned...)
	ids := map[string]int{}
	for i, v := range vocab {
		ids[v] = i
	}
	var addedTokens []any
	for _, a := range added {
		id, ok := ids[a]
		if !ok {
			id = len(vocab)
			vocab = append(vocab, a)
			ids[a] = id
		}
		addedTokens = append(addedTokens, obj{"id": id, "content": a, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": specialAdded[a]})
	}
	// Byte-level files keep added tokens out of model.vocab, SentencePiece-style ones in it.
	modelVocab := obj{}
	for i, v := range vocab {
		if (kind == TinyByteLevel || kind == TinyByteLevelNoBOS) && specialAdded[v] {
			continue
		}
		modelVocab[v] = i
	}
	if pp, ok := postProcessor.(obj); ok {
		fixTemplateIDs(pp, ids)
	}
	var mergeList []any
	for _, m := range merges {
		mergeList = append(mergeList, []string{m[0], m[1]})
	}
	file := obj{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   addedTokens,
		"normalizer":     normalizer,
		"pre_tokenizer":  preTokenizer,
		"post_processor": postProcessor,
		"decoder":        decoder,
		"model": obj{
			"type": "BPE", "dropout": nil, "unk_token": unk, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": byteFallback, "byte_fallback": byteFallback,
			"ignore_merges": ignoreMerges, "vocab": modelVocab, "merges": mergeList,
		},
	}
	addedDecoder := obj{}
	for _, a := range addedTokens {
		a := a.(obj)
		addedDecoder[fmt.Sprint(a["id"])] = obj{"content": a["content"], "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": a["special"]}
	}
	config["added_tokens_decoder"] = addedDecoder
	config["chat_template"] = tinyChatTemplate(kind)
	tj, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	tc, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(tj, '\n'), append(tc, '\n'), nil
}

// tinyChatTemplate is a small chat template in the format of the kind's family, written for
// the tiny tokenizers (not copied from any checkpoint): Llama 3's shape with the special tokens
// the tiny vocabulary holds (BOS written by the template, <|eot_id|> after each turn), Qwen's
// and SmolLM2's ChatML, Llama 2's and Mistral's [INST] … [/INST]. Instruction-tuned
// checkpoints carry theirs in tokenizer_config.json as these do; package chat renders them.
func tinyChatTemplate(kind TinyKind) string {
	switch kind {
	case TinyByteLevel:
		return "{{- bos_token }}{%- for message in messages %}{{- message['role'] + ':\\n' + message['content'] | trim }}{{- '<|eot_id|>' }}{%- endfor %}" +
			"{%- if add_generation_prompt %}{{- 'assistant:\\n' }}{%- endif %}"
	case TinySentencePiece, TinyMetaspace:
		return "{{- bos_token }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{- '[INST] ' + message['content'] | trim + ' [/INST]' }}" +
			"{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] | trim + eos_token }}{%- else %}{{- raise_exception('only user and assistant roles') }}{%- endif %}{%- endfor %}"
	}
	return "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}{%- endfor %}" +
		"{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
}

// toComponent converts a JSON-shaped value to a component (through JSON).
func toComponent(o any) *component {
	b, _ := json.Marshal(o)
	var c component
	_ = json.Unmarshal(b, &c)
	return &c
}

func fixTemplateIDs(pp map[string]any, ids map[string]int) {
	if procs, ok := pp["processors"].([]any); ok {
		for _, p := range procs {
			fixTemplateIDs(p.(map[string]any), ids)
		}
	}
	if st, ok := pp["special_tokens"].(map[string]any); ok {
		for name, v := range st {
			v.(map[string]any)["ids"] = []int{ids[name]}
		}
	}
}

// countWords pre-tokenizes text and counts the pieces.
func countWords(pre preTokenizer, text string) map[string]int {
	words := map[string]int{}
	for _, p := range pre([]piece{{text: text, atStart: true}}) {
		words[p.text]++
	}
	return words
}

// splitRunes splits a word into its runes, the initial symbols of a merge vocabulary.
func splitRunes(w string) []string {
	var out []string
	for _, r := range w {
		out = append(out, string(r))
	}
	return out
}

// learnMerges learns n merges over words, returning them and the new tokens in order.
func learnMerges(words map[string]int, split func(string) []string, vocab []string, n int) ([][2]string, []string) {
	known := map[string]bool{}
	for _, v := range vocab {
		known[v] = true
	}
	type entry struct {
		syms  []string
		count int
	}
	var es []entry
	keys := make([]string, 0, len(words))
	for w := range words {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	for _, w := range keys {
		syms := split(w)
		ok := true
		for _, s := range syms {
			if !known[s] {
				ok = false
			}
		}
		if ok && utf8.ValidString(w) {
			es = append(es, entry{syms, words[w]})
		}
	}
	var merges [][2]string
	var learned []string
	for len(merges) < n {
		counts := map[[2]string]int{}
		for _, e := range es {
			for i := 0; i+1 < len(e.syms); i++ {
				counts[[2]string{e.syms[i], e.syms[i+1]}] += e.count
			}
		}
		var best [2]string
		bestN := 0
		for p, c := range counts {
			if c > bestN || (c == bestN && p[0]+" "+p[1] < best[0]+" "+best[1]) {
				best, bestN = p, c
			}
		}
		if bestN < 2 {
			break
		}
		merges = append(merges, best)
		m := best[0] + best[1]
		if !known[m] {
			known[m] = true
			learned = append(learned, m)
		}
		for k := range es {
			s := es[k].syms
			out := s[:0:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best[0] && s[i+1] == best[1] {
					out = append(out, m)
					i++
				} else {
					out = append(out, s[i])
				}
			}
			es[k].syms = out
		}
	}
	return merges, learned
}
