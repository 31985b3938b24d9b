package explorer_test

import (
	"context"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/explorer"
)

// With Chat, the explorer's columns are CompareChat's: the prompt and the steering prompts as
// one user message each through the model's chat template, the vector at the user's content.
func TestChatColumns(t *testing.T) {
	m := actaddtest.WithChatTemplate(t, "tiny-llama")
	s := settings()
	s.Chat, s.Coeff = true, 8
	cols, err := explorer.Generate(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := func(text string) []chat.Message { return []chat.Message{{Role: "user", Content: text}} }
	sampling := explorer.Sampling
	sampling.Seed = s.Seed
	want, err := m.CompareChat(user(s.Prompt), s.N, actadd.GenerateOptions{MaxNewTokens: s.Tokens, Sampling: sampling},
		actadd.ChatPair(user(s.Plus), user(s.Minus), s.Coeff).AtLayer(s.Layer).AtUserContent())
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.N {
		if cols.Unsteered[i] != want.Unsteered[i].Text || cols.Steered[i] != want.Steered[i].Text {
			t.Errorf("row %d: explorer %q / %q, CompareChat %q / %q", i, cols.Unsteered[i], cols.Steered[i], want.Unsteered[i].Text, want.Steered[i].Text)
		}
	}
	if slices.Equal(cols.Unsteered, cols.Steered) {
		t.Error("steering changed no completion")
	}
	plain := s
	plain.Chat = false
	other, err := explorer.Generate(context.Background(), m, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.Unsteered, cols.Unsteered) {
		t.Error("the chat prompt continues as the plain one: the template was not applied")
	}
}

// Chat is a flag of the cell, not a control: a rerun takes it from the cell, whatever the
// state kept.
func TestResumeTakesChatFromTheFlags(t *testing.T) {
	flags := settings()
	last := flags
	last.Chat = true
	st := explorer.State{Flags: last, Last: last}
	if got := st.Resume(flags); got.Chat {
		t.Errorf("the cell's flags say no chat, the kept state chat: resumed with Chat = %v", got.Chat)
	}
	flags.Chat = true
	if got := (explorer.State{Flags: settings(), Last: settings()}).Resume(flags); !got.Chat {
		t.Error("the cell's --chat was dropped on resuming")
	}
}
