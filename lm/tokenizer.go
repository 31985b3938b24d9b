package lm

// Tokenizer turns text into a model's token ids and back. GPT-2's is package bpe; the tokenizers
// of Hugging Face's tokenizer.json files are package hftok.
type Tokenizer interface {
	// Encode tokenizes text with no special tokens added.
	Encode(text string) []int
	// Decode turns ids back into text.
	Decode(ids []int) (string, error)
	// VocabSize is the number of ids the tokenizer can produce.
	VocabSize() int
	// BOS is the id a prompt starts with; ok is false when the model adds none.
	BOS() (id int, ok bool)
	// EOS is the id that ends a generation.
	EOS() int
	// Pad is the id ActAdd pads the shorter prompt of a pair with (for GPT-2, the space " ").
	Pad() int
}

// EncodeWithBOS tokenizes text as a prompt: BOS (when the tokenizer has one), then Encode(text).
func EncodeWithBOS(tok Tokenizer, text string) []int {
	ids := tok.Encode(text)
	bos, ok := tok.BOS()
	if !ok {
		return ids
	}
	return append([]int{bos}, ids...)
}
