package chat_test

import (
	"fmt"
	"log"

	"github.com/actadd-go/actadd/chat"
)

func Example() {
	// A checkpoint folder holds tokenizer_config.json (and maybe chat_template.jinja).
	cfg, err := chat.LoadConfig("testdata")
	if err != nil {
		log.Fatal(err)
	}
	tmpl, err := cfg.Compile()
	if err != nil {
		log.Fatal(err)
	}
	msgs := []chat.Message{{Role: "user", Content: "I went up to my friend and said"}}
	text, spans, err := tmpl.Locate(msgs, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", text)
	s := spans[0]
	fmt.Printf("front %q, user content %q\n", text[:s.TextStart], text[s.TextStart:s.TextEnd])
	// Output:
	// "<|bos|><|turn|>user\nI went up to my friend and said<|end|>\n<|turn|>assistant\n"
	// front "<|bos|><|turn|>user\n", user content "I went up to my friend and said"
}
