package bpe_test

import (
	"fmt"

	"github.com/actadd-go/actadd/bpe"
)

func Example() {
	tok, err := bpe.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.EncodeWithBOS("How are you?")
	fmt.Println(ids)
	text, err := tok.Decode(ids)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", text)
	fmt.Println(tok.Encode(" weddings"))
	// Output:
	// [50256 2437 389 345 30]
	// "<|endoftext|>How are you?"
	// [37377]
}
