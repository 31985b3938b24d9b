package hftok_test

import (
	"fmt"
	"log"
	"os"

	"github.com/actadd-go/actadd/hftok"
)

// A tiny checkpoint folder gets a tokenizer of the Llama 3 layout; Load reads it back as it
// reads a downloaded model's folder.
func ExampleWriteTiny() {
	dir, err := os.MkdirTemp("", "tiny-llama")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	n, err := hftok.WriteTiny(dir, hftok.TinyByteLevel)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := hftok.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	bos, ok := tok.BOS()
	fmt.Println("ids:", n, "BOS:", bos, ok, "EOS:", tok.EOS())
	ids := tok.EncodeWithBOS("I love weddings")
	fmt.Println(ids)
	text, _ := tok.Decode(ids)
	fmt.Printf("%q\n", text)
	// Output:
	// ids: 386 BOS: 383 true EOS: 384
	// [383 73 326 328 115]
	// "<|begin_of_text|>I love weddings"
}

// ActAdd pads the shorter prompt of a pair with Pad, the token of one space after text.
func ExampleTokenizer_Pad() {
	tok, err := hftok.Tiny(hftok.TinySentencePiece)
	if err != nil {
		log.Fatal(err)
	}
	plus, minus := tok.EncodeWithBOS("Love"), tok.EncodeWithBOS("Hate it")
	for len(plus) < len(minus) {
		plus = append(plus, tok.Pad())
	}
	text, _ := tok.Decode(plus[1:]) // without BOS
	fmt.Printf("%v %q\n", plus, text)
	fmt.Println(minus)
	// Output:
	// [1 415 304 304 304] "Love   "
	// [1 414 309 282 417]
}
