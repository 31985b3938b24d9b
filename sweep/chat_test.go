package sweep_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/runstore"
	"github.com/actadd-go/actadd/sweep"
)

// A sweep over chat prompts steers them through the model's chat template, as CompareChat does,
// and its run-store keys hold the template and the positions: the same sweep is read back, a
// chat addition at other positions or another template is computed anew.
func TestGenerateChats(t *testing.T) {
	m := actaddtest.WithChatTemplate(t, "tiny-llama")
	st, err := runstore.Open(t.TempDir(), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens := sweep.Mean("tokens", func(c actadd.Completion) float64 { return float64(len(c.Generated())) })
	user := func(s string) []chat.Message { return []chat.Message{{Role: "user", Content: s}} }
	prompt := user("Tell me about your day")
	front := actadd.ChatPair(user("Love"), user("Hate"), 6).AtLayer(1)
	g := sweep.Grid{Additions: []actadd.Addition{front}, Chats: [][]chat.Message{prompt}, Unsteered: true}
	cfg := sweep.GenerateConfig{Completions: 2, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 4, Sampling: actadd.Sampling{Temperature: 1, Seed: 3}}}
	first, err := sweep.Generate(m, g, cfg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := m.CompareChat(prompt, 2, cfg.Options, front)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		un, steered := first.Settings[0].Completions[i].Text, first.Settings[1].Completions[i].Text
		if un != cmp.Unsteered[i].Text || steered != cmp.Steered[i].Text {
			t.Errorf("completion %d: sweep %q, %q; CompareChat %q, %q", i, un, steered, cmp.Unsteered[i].Text, cmp.Steered[i].Text)
		}
	}
	again, err := sweep.Generate(m, g, cfg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	if again.Computed != 0 || again.Reused != first.Computed {
		t.Errorf("the same chat sweep again: %d reused, %d computed (first run computed %d)", again.Reused, again.Computed, first.Computed)
	}
	g.Additions = []actadd.Addition{front.AtUserContent()}
	moved, err := sweep.Generate(m, g, cfg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Computed != 1 || moved.Reused != 1 {
		t.Errorf("the addition at the user's content: %d reused, %d computed; want the unsteered unit reused, the steered one computed", moved.Reused, moved.Computed)
	}
	other, err := chat.New("{{ bos_token }}{% for m in messages %}{{ m.role }}> {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant> {% endif %}",
		map[string]string{"bos_token": "<|begin_of_text|>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetChatTemplate(other, chat.Options{}); err != nil {
		t.Fatal(err)
	}
	retemplated, err := sweep.Generate(m, g, cfg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	if retemplated.Reused != 0 {
		t.Errorf("another template: %d units read back from the first template's", retemplated.Reused)
	}
	if _, err := sweep.Generate(m, sweep.Grid{Additions: []actadd.Addition{front}, Chats: [][]chat.Message{prompt}, Prompts: []string{"x"}}, cfg, tokens); err == nil || !strings.Contains(err.Error(), "both Prompts and Chats") {
		t.Errorf("a grid with prompts and chats: %v", err)
	}
}

// Chats that differ only before their last user message (a system prompt) get different labels:
// their own rows in the table, their own lines in figures.
func TestChatLabels(t *testing.T) {
	m := actaddtest.WithChatTemplate(t, "tiny-llama")
	tokens := sweep.Mean("tokens", func(c actadd.Completion) float64 { return float64(len(c.Generated())) })
	chats := [][]chat.Message{
		{{Role: "user", Content: "Hi"}},
		{{Role: "system", Content: "Be terse."}, {Role: "user", Content: "Hi"}},
	}
	front := actadd.ChatPair([]chat.Message{{Role: "user", Content: "Love"}}, []chat.Message{{Role: "user", Content: "Hate"}}, 6)
	g := sweep.Grid{Additions: []actadd.Addition{front}, Layers: []int{1, 2}, Chats: chats}
	cfg := sweep.GenerateConfig{Completions: 1, Options: actadd.GenerateOptions{MaxNewTokens: 2, Sampling: actadd.Greedy}}
	r, err := sweep.Generate(m, g, cfg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]int{}
	for _, row := range r.Table() {
		labels[row.Prompt]++
	}
	want := map[string]int{"Hi": 2, "system: Be terse. | user: Hi": 2}
	if len(labels) != len(want) || labels["Hi"] != 2 || labels["system: Be terse. | user: Hi"] != 2 {
		t.Errorf("table rows by prompt label %v, want %v", labels, want)
	}
	_, series, err := r.Plot("tokens", sweep.ByLayer)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Errorf("%d lines in the figure by layer, want one per chat (2)", len(series))
	}
}
