package actadd_test

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	"github.com/actadd-go/actadd/loader"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

var (
	chatMu     sync.Mutex
	chatModels = map[string]*actadd.Model{}
	chatDirs   = map[string]string{}
)

// chatStandIn is a Llama-family stand-in (tiny-llama unless named), loaded by actadd.Load from
// its folder (written into a temporary cache), whose tokenizer_config.json carries a chat
// template of its family's format (hftok.WriteTiny's, written for the tiny tokenizers).
func chatStandIn(t *testing.T, name ...string) (*actadd.Model, string) {
	t.Helper()
	n := "tiny-llama"
	if len(name) > 0 {
		n = name[0]
	}
	chatMu.Lock()
	defer chatMu.Unlock()
	if m, ok := chatModels[n]; ok {
		return m, chatDirs[n]
	}
	cache := filepath.Join(t.TempDir(), "huggingface", "hub")
	dir, err := loader.Locate(n, hfhub.Options{CacheDir: cache, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	chatModels[n], chatDirs[n] = m, dir
	return m, dir
}

// chatFamilies are the stand-ins of three template formats: Llama 3's (BOS written by the
// template), Mistral's [INST] (SentencePiece: the space before the content joins its first
// word), Qwen's ChatML (no BOS).
var chatFamilies = []string{"tiny-llama", "tiny-mistral", "tiny-qwen2"}

func user(s string) []chat.Message { return []chat.Message{{Role: "user", Content: s}} }

var chatPrompt = []chat.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: "Tell me about your day at the park"}}

// A chat prompt runs on the ids chat.Tokenize gives for the checkpoint's own template with the
// generation prompt: BOS once, written by the template, never added a second time.
func TestChatPromptIsTheTemplates(t *testing.T) {
	for _, family := range chatFamilies {
		m, dir := chatStandIn(t, family)
		msgs := chatPrompt
		if family == "tiny-mistral" { // its template, like Mistral's, takes no system message
			msgs = chatPrompt[1:]
		}
		cfg, err := chat.LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfg.Compile()
		if err != nil {
			t.Fatal(err)
		}
		want, err := tmpl.Tokenize(m.Tok, msgs, chat.Options{AddGenerationPrompt: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.ChatPrompt(msgs)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want.Text || !slices.Equal(got.IDs, want.IDs) {
			t.Fatalf("%s: rendered %q %v, chat.Tokenize %q %v", family, got.Text, got.IDs, want.Text, want.IDs)
		}
		bosText, _ := tmpl.SpecialToken("bos_token")
		if bos, ok := m.Tok.BOS(); ok {
			n := strings.Count(got.Text, bosText)
			if got.IDs[0] != bos || countOf(got.IDs, bos) != n || n != 1 {
				t.Errorf("%s: ids %v: want BOS %d once, at position 0, as the template writes it %d times", family, got.IDs, bos, n)
			}
		}
		// The steered program sees the same ids: a chat prompt's logits have one row per id.
		logits, err := m.LogitsChat(msgs)
		if err != nil {
			t.Fatal(err)
		}
		if len(logits) != len(want.IDs) {
			t.Errorf("%s: %d rows of logits for %d rendered ids", family, len(logits), len(want.IDs))
		}
		key, err := m.ChatTemplateKey()
		if err != nil || !strings.HasPrefix(key, "sha256:") {
			t.Errorf("%s: ChatTemplateKey = %q, %v", family, key, err)
		}
	}
	m, _ := chatStandIn(t)
	if got, _ := m.ChatPrompt(chatPrompt); !strings.HasSuffix(got.Text, "assistant:\n") {
		t.Errorf("rendered %q without the generation prompt", got.Text)
	}
}

func countOf(ids []int, id int) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// A chat addition adds c·(h(p+) − h(p−)), taken at the pair's rendered positions, at the
// positions it names in the rendered prompt, and nowhere else: its logits equal those of a
// program that adds the same difference by hand, with activations, positions and ids computed
// here from package chat and the model's hooks.
func TestChatAdditionEqualsManualAddition(t *testing.T) {
	for _, family := range chatFamilies {
		t.Run(family, func(t *testing.T) { chatAdditionEqualsManual(t, family) })
	}
}

func chatAdditionEqualsManual(t *testing.T, family string) {
	m, _ := chatStandIn(t, family)
	tmpl, err := m.ChatTemplate()
	if err != nil {
		t.Fatal(err)
	}
	const layer, coeff = 2, 3.0
	plus, minus := user("I love weddings"), user("I hate them")
	chatPrompt := chatPrompt
	if family == "tiny-mistral" {
		chatPrompt = chatPrompt[1:]
	}
	opts := chat.Options{AddGenerationPrompt: true}
	for _, where := range []chat.Where{chat.AtUserContent, chat.AtFront} {
		a := actadd.ChatPair(plus, minus, coeff).AtLayer(layer)
		if where == chat.AtUserContent {
			a = a.AtUserContent()
		}
		got, err := m.LogitsChat(chatPrompt, a)
		if err != nil {
			t.Fatal(err)
		}

		// By hand: the pair rendered and padded by package chat, its residual streams at
		// blocks.2.hook_resid_pre, the difference over the pair's positions.
		pair, err := tmpl.SteerPair(m.Tok, chat.Prompt{Messages: plus, Options: opts}, chat.Prompt{Messages: minus, Options: opts}, []int{m.Tok.Pad()}, where)
		if err != nil {
			t.Fatal(err)
		}
		point := hookpoint.ResidPre(layer)
		hp := residual(t, m, pair.Plus.IDs, point)
		hm := residual(t, m, pair.Minus.IDs, point)
		prompt, err := tmpl.Tokenize(m.Tok, chatPrompt, opts)
		if err != nil {
			t.Fatal(err)
		}
		start, err := prompt.Start(where, chatPrompt)
		if err != nil {
			t.Fatal(err)
		}
		if where == chat.AtUserContent && start == 0 {
			t.Fatal("the user content starts at position 0: the test would not tell the positions apart")
		}
		d := m.Width()
		delta := make([]float32, len(prompt.IDs)*d)
		for j := range pair.Len {
			for k := range d {
				delta[(start+j)*d+k] = float32(coeff) * (hp[(pair.Plus.Start+j)*d+k] - hm[(pair.Minus.Start+j)*d+k])
			}
		}
		want := logitsWithDelta(t, m, prompt.IDs, point, delta)
		worst := 0.0
		for i := range want {
			for j := range want[i] {
				worst = max(worst, math.Abs(float64(got[i][j]-want[i][j])))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s: chat addition and manual addition differ by %g", where, worst)
		}
		plain, err := m.LogitsChat(chatPrompt)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0.0
		for j := range plain[len(plain)-1] {
			moved = max(moved, math.Abs(float64(plain[len(plain)-1][j]-got[len(got)-1][j])))
		}
		if moved < 1e-3 {
			t.Errorf("%s: the addition left the last logits unchanged (%g)", where, moved)
		}
	}
}

// residual runs ids through the model and returns the stream at point, [len(ids)·d].
func residual(t *testing.T, m *actadd.Model, ids []int, point string) []float32 {
	t.Helper()
	p, err := m.LM.Compile("test.capture", false, func(g lm.Graph, in []*Node) []*Node {
		captured := map[string]*Node{}
		g.Forward(in[0], in[1], lm.Capture(captured, point))
		return []*Node{captured[point]}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Finalize()
	toks, pos := rowInputs(ids)
	outs, err := p.Call(toks, pos)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0])
}

// logitsWithDelta returns the logits of ids with delta [len(ids)·d] added to the stream at point.
func logitsWithDelta(t *testing.T, m *actadd.Model, ids []int, point string, delta []float32) [][]float32 {
	t.Helper()
	p, err := m.LM.Compile("test.delta", false, func(g lm.Graph, in []*Node) []*Node {
		hook := func(name string, x *Node) *Node {
			if name == point {
				return Add(x, in[2])
			}
			return x
		}
		return []*Node{g.Logits(g.Forward(in[0], in[1], hook))}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Finalize()
	toks, pos := rowInputs(ids)
	outs, err := p.Call(toks, pos, tensors.FromFlatDataAndDimensions(delta, 1, len(ids), m.Width()))
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](outs[0])
	v := m.VocabSize()
	out := make([][]float32, len(ids))
	for i := range out {
		out[i] = flat[i*v : (i+1)*v]
	}
	return out
}

func rowInputs(ids []int) (toks, pos [][]int32) {
	toks, pos = [][]int32{make([]int32, len(ids))}, [][]int32{make([]int32, len(ids))}
	for i, id := range ids {
		toks[0][i], pos[0][i] = int32(id), int32(i)
	}
	return toks, pos
}

// CompareChat steers a chat turn and is reproducible from a seed.
func TestCompareChatReproducible(t *testing.T) {
	m, _ := chatStandIn(t)
	a := actadd.ChatPair(user("Love"), user("Hate"), 8).AtLayer(1).AtUserContent()
	opts := actadd.GenerateOptions{MaxNewTokens: 6, Sampling: actadd.Sampling{Temperature: 1, TopP: 0.3, FreqPenalty: 1, Seed: 7}}
	first, err := m.CompareChat(chatPrompt, 3, opts, a)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.CompareChat(chatPrompt, 3, opts, a)
	if err != nil {
		t.Fatal(err)
	}
	differ := false
	for i := range first.Steered {
		if first.Steered[i].Text != again.Steered[i].Text || first.Unsteered[i].Text != again.Unsteered[i].Text {
			t.Errorf("row %d differs between two runs with seed 7", i)
		}
		differ = differ || first.Steered[i].Text != first.Unsteered[i].Text
	}
	if !differ {
		t.Error("the steered column equals the unsteered one")
	}
	if !strings.HasSuffix(first.Prompt, "assistant:\n") || !strings.Contains(first.String(), "chat, user-content") {
		t.Errorf("comparison of prompt %q:\n%s", first.Prompt, first)
	}
}

// Chat additions and chat prompts refuse what they cannot steer.
func TestChatRefuses(t *testing.T) {
	m, _ := chatStandIn(t)
	a := actadd.ChatPair(user("Love"), user("Hate"), 1)
	if _, err := m.Logits("plain text", a); err == nil || !strings.Contains(err.Error(), "chat addition") {
		t.Errorf("a chat addition on a plain prompt: %v", err)
	}
	noUser := actadd.ChatPair([]chat.Message{{Role: "assistant", Content: "x"}}, user("Hate"), 1).AtUserContent()
	if _, err := m.LogitsChat(chatPrompt, noUser); err == nil {
		t.Error("a pair side without a user message was accepted")
	}
	long := actadd.ChatPair(user(strings.Repeat("love ", 40)), user("Hate"), 1).AtUserContent()
	if _, err := m.LogitsChat(user("Hi"), long); err == nil || !strings.Contains(err.Error(), "reach past the vector") {
		t.Errorf("a vector longer than the prompt: %v", err)
	}
	plain, _ := models(t)
	if _, err := plain.ChatPrompt(chatPrompt); err == nil || !strings.Contains(err.Error(), "SetChatTemplate") {
		t.Errorf("a model without a template: %v", err)
	}
}
