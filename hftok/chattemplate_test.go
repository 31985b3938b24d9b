package hftok_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/hftok"
)

// Every tiny tokenizer's config carries a chat template of its family's format that package
// chat renders and locates: the user's content is found in the tokens, and BOS, where the
// tokenizer has one, comes once, from the template.
func TestTinyChatTemplates(t *testing.T) {
	msgs := []chat.Message{{Role: "user", Content: "I love weddings"}, {Role: "assistant", Content: "So do I"}, {Role: "user", Content: "Tell me more"}}
	for _, kind := range hftok.TinyKinds() {
		dir := t.TempDir()
		if _, err := hftok.WriteTiny(dir, kind); err != nil {
			t.Fatal(err)
		}
		cfg, err := chat.LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Source != filepath.Join(dir, "tokenizer_config.json") {
			t.Errorf("%s: template from %q", kind, cfg.Source)
		}
		tmpl, err := cfg.Compile()
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		tok, err := hftok.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tmpl.Tokenize(tok, msgs, chat.Options{AddGenerationPrompt: true})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		last, err := r.LastUser(msgs)
		if err != nil || last.Len() == 0 {
			t.Errorf("%s: last user span %+v, %v in %q", kind, last, err, r.Text)
		}
		if got, _ := tok.Decode(r.IDs[last.TokenStart:last.TokenEnd]); got != "Tell me more" && got != " Tell me more" {
			t.Errorf("%s: the last user span decodes to %q", kind, got)
		}
		if bos, ok := tok.BOS(); ok && (r.IDs[0] != bos || slices.Index(r.IDs[1:], bos) >= 0) {
			t.Errorf("%s: ids %v: want BOS %d once, first", kind, r.IDs, bos)
		}
	}
}
