package actadd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/loader"
)

// This file steers chat turns: prompts and prompt pairs given as chat messages, rendered
// through the model's chat template (package chat), the vector taken at the positions the
// addition names (chat.AtFront, chat.AtUserContent) and added at the same positions of the
// steered prompt. The edit itself is steer.go's, unchanged: only the tokens and positions
// come from here.
//
// The template writes BOS itself (bos_token) where the model wants it, so rendered chats are
// encoded without adding one, as Hugging Face's apply_chat_template does.

// chatState is a model's chat template and the activation differences of chat prompt pairs.
type chatState struct {
	source string         // the name Load loaded the model by, to find its folder
	tmpl   *chat.Template // nil until ChatTemplate or SetChatTemplate
	opts   chat.Options   // Vars and Now for every rendering
	key    string         // ChatTemplateKey of tmpl and opts
}

// ChatSides is a prompt pair given as chat messages, and where its vector is taken and added.
type ChatSides struct {
	Plus, Minus []chat.Message
	// Where: chat.AtFront (ActAdd's front positions of the rendered prompt, BOS and the
	// template's header included) or chat.AtUserContent (from the first token of the last user
	// message's content, in the pair and in the steered prompt alike).
	Where chat.Where
}

// ChatPair is the addition c·(h(plus) − h(minus)) of a prompt pair given as chat messages,
// rendered through the model's chat template (with the generation prompt, as the steered
// prompt), at layer 0's resid_pre and the front positions; choose the layer with AtLayer and
// the user's content with AtUserContent:
//
//	user := func(s string) []chat.Message { return []chat.Message{{Role: "user", Content: s}} }
//	actadd.ChatPair(user("I love weddings"), user("I hate weddings"), 4).AtLayer(6).AtUserContent()
//
// It steers prompts given as chat messages (Row.Chat, CompareChat). Plus and Minus are set to
// the last user messages' contents, which name the addition in tables and figures.
func ChatPair(plus, minus []chat.Message, coeff float64) Addition {
	a := Pair(lastUser(plus), lastUser(minus), coeff)
	a.Chat = &ChatSides{Plus: slices.Clone(plus), Minus: slices.Clone(minus), Where: chat.AtFront}
	return a
}

// AtUserContent returns a copy of a chat addition (ChatPair) that takes and adds its vector
// from the first token of the last user message's content instead of the front. It leaves an
// addition of plain prompts unchanged.
func (a Addition) AtUserContent() Addition {
	if a.Chat != nil {
		c := *a.Chat
		c.Where = chat.AtUserContent
		a.Chat = &c
	}
	return a
}

// lastUser is the content of the last user message ("" when there is none; rendering says so).
func lastUser(msgs []chat.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// ChatTemplate returns the template chat prompts are rendered with: the one given to
// SetChatTemplate, else the checkpoint's own (chat_template.jinja, chat_template.json or
// tokenizer_config.json in the folder Load found the model in).
func (m *Model) ChatTemplate() (*chat.Template, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chatTemplateLocked()
}

func (m *Model) chatTemplateLocked() (*chat.Template, error) {
	if m.chat.tmpl != nil {
		return m.chat.tmpl, nil
	}
	if m.chat.source == "" {
		return nil, fmt.Errorf("actadd: model %s has no chat template: it was not loaded by actadd.Load from a checkpoint folder; give one with SetChatTemplate (chat.LoadConfig(dir) reads a checkpoint's)", m.Name)
	}
	opts := hfhub.DefaultOptions()
	opts.Offline = true // Load fetched the folder already
	dir, err := loader.Locate(m.chat.source, opts)
	if err != nil {
		return nil, fmt.Errorf("actadd: finding the chat template of %s: %w", m.Name, err)
	}
	cfg, err := chat.LoadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("actadd: %w", err)
	}
	t, err := cfg.Compile()
	if err != nil {
		return nil, fmt.Errorf("actadd: model %s: %w", m.Name, err)
	}
	m.setChatLocked(t, chat.Options{})
	return t, nil
}

// SetChatTemplate sets the template chat prompts are rendered with, and the options of every
// rendering (Vars such as enable_thinking or date_string, Now; AddGenerationPrompt is set for
// each use). Vectors of chat prompt pairs computed with another template are not reused.
func (m *Model) SetChatTemplate(t *chat.Template, opts chat.Options) error {
	if t == nil {
		return errors.New("actadd: SetChatTemplate: nil template: compile one with chat.New or chat.LoadConfig(dir).Compile()")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setChatLocked(t, opts)
	return nil
}

func (m *Model) setChatLocked(t *chat.Template, opts chat.Options) {
	h := sha256.New()
	h.Write([]byte(t.Source()))
	for _, name := range []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"} {
		s, ok := t.SpecialToken(name)
		fmt.Fprintf(h, "\x00%s=%t:%q", name, ok, s)
	}
	vars, _ := json.Marshal(opts.Vars) // map keys sorted
	h.Write([]byte{0})
	h.Write(vars)
	m.chat = chatState{source: m.chat.source, tmpl: t, opts: opts, key: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// ChatTemplateKey identifies the template and options chat prompts are rendered with (the
// SHA-256 of its source, special tokens and Vars): run-store keys of chat prompts hold it.
func (m *Model) ChatTemplateKey() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.chatTemplateLocked(); err != nil {
		return "", err
	}
	return m.chat.key, nil
}

// chatRender renders messages as a prompt (with the generation prompt) and tokenizes it.
func (m *Model) chatRender(messages []chat.Message) (*chat.Rendered, error) {
	m.mu.Lock()
	t, err := m.chatTemplateLocked()
	opts := m.chat.opts
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	opts.AddGenerationPrompt = true
	r, err := t.Tokenize(m.Tok, messages, opts)
	if err != nil {
		return nil, fmt.Errorf("actadd: %w", err)
	}
	return r, nil
}

// ChatPrompt renders messages through the chat template with the generation prompt and
// returns the text and token ids a chat prompt (Row.Chat) is run on, with each message's span.
// The ids are those of the rendered text, BOS included where the template writes it, and no
// other BOS.
func (m *Model) ChatPrompt(messages []chat.Message) (*chat.Rendered, error) {
	r, err := m.chatRender(messages)
	if err != nil {
		return nil, err
	}
	switch {
	case len(r.IDs) == 0:
		return nil, fmt.Errorf("actadd: the chat renders to no tokens: give a user message")
	case len(r.IDs) > m.Context():
		return nil, fmt.Errorf("actadd: the rendered chat has %d tokens, more than the model's context of %d: shorten it", len(r.IDs), m.Context())
	}
	return r, nil
}

// rowTokens are the tokens a row's prompt is run on: its chat rendered through the template,
// or its text with BOS.
func (m *Model) rowTokens(r Row) ([]int, error) {
	if r.Chat == nil {
		return m.tokenize(r.Prompt)
	}
	rd, err := m.ChatPrompt(r.Chat)
	if err != nil {
		return nil, err
	}
	return rd.IDs, nil
}

// chatPair renders a chat addition's pair: both sides padded to the same user-content length.
func (m *Model) chatPair(a Addition) (chat.Pair, error) {
	m.mu.Lock()
	t, err := m.chatTemplateLocked()
	opts := m.chat.opts
	m.mu.Unlock()
	if err != nil {
		return chat.Pair{}, err
	}
	opts.AddGenerationPrompt = true
	p, err := t.SteerPair(m.Tok, chat.Prompt{Messages: a.Chat.Plus, Options: opts}, chat.Prompt{Messages: a.Chat.Minus, Options: opts}, []int{m.Tok.Pad()}, a.Chat.Where)
	if err != nil {
		return chat.Pair{}, fmt.Errorf("actadd: %s: %w", a.Name(), err)
	}
	if p.Len < 1 {
		return chat.Pair{}, fmt.Errorf("actadd: %s: the vector covers no position (empty user contents at %s): give some user content", a.Name(), a.Chat.Where)
	}
	return p, nil
}

// chatVector is the vector of a chat addition: h(p+) − h(p−) over the pair's positions
// [Start, Start+Len) of each side, computed for every layer in one pass and cached.
func (m *Model) chatVector(a Addition) (*Vector, error) {
	p, err := m.chatPair(a)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	tkey := m.chat.key
	m.mu.Unlock()
	msgs, _ := json.Marshal([2][]chat.Message{a.Chat.Plus, a.Chat.Minus})
	key := actsKey{pairs: fmt.Sprintf("chat %s %s %s", tkey, a.Chat.Where, msgs), point: a.point()}
	m.mu.Lock()
	diffs, ok := m.acts[key]
	m.mu.Unlock()
	if !ok {
		n := max(len(p.Plus.IDs), len(p.Minus.IDs))
		if n > m.Context() {
			return nil, fmt.Errorf("actadd: the rendered chat pair has %d tokens, more than the model's context of %d: shorten it", n, m.Context())
		}
		// Right padding never reaches the vector's positions: attention is causal.
		rows := [][]int{padRight(slices.Clone(p.Plus.IDs), n, m.Tok.Pad()), padRight(slices.Clone(p.Minus.IDs), n, m.Tok.Pad())}
		acts, err := m.captureLayers(rows, key.point)
		if err != nil {
			return nil, err
		}
		d := m.Width()
		diffs = make([][]float32, m.Layers())
		for l, h := range acts { // h: [2, n, d]
			diff := make([]float32, p.Len*d)
			for j := range p.Len {
				hp := h[(p.Plus.Start+j)*d : (p.Plus.Start+j+1)*d]
				hm := h[(n+p.Minus.Start+j)*d : (n+p.Minus.Start+j+1)*d]
				for k := range d {
					diff[j*d+k] = hp[k] - hm[k]
				}
			}
			diffs[l] = diff
		}
		m.mu.Lock()
		m.acts[key] = diffs
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vk := vectorKey{key, a.Layer}
	if v, ok := m.vectors[vk]; ok {
		return v, nil
	}
	v := &Vector{Model: m.Name, Layer: a.Layer, Point: key.point, Pairs: [][2]string{{p.Plus.Text, p.Minus.Text}},
		N: p.Len, D: m.Width(), Data: diffs[a.Layer]}
	m.vectors[vk] = v
	return v, nil
}

// placeChat places a chat addition in row r (tokens its rendered chat): its vector, and the
// position where the vector's first row is added, which a.Chat.Where names in r's rendering.
func (m *Model) placeChat(p *placedAddition, a Addition, r Row, tokens []int) error {
	if r.Chat == nil {
		return fmt.Errorf("actadd: %s is a chat addition: it steers a prompt given as chat messages (Row.Chat, CompareChat), not the text %q", a, r.Prompt)
	}
	v, err := m.chatVector(a)
	if err != nil {
		return err
	}
	rd, err := m.ChatPrompt(r.Chat)
	if err != nil {
		return err
	}
	start, err := rd.Start(a.Chat.Where, r.Chat)
	if err != nil {
		return fmt.Errorf("actadd: %w", err)
	}
	if start+v.N > len(tokens) {
		return fmt.Errorf("actadd: the rendered chat prompt has %d tokens, but %s covers %d from position %d: the prompt must reach past the vector", len(tokens), a, v.N, start)
	}
	p.vector, p.n, p.start = v, v.N, start
	return nil
}

// CompareChat is Compare for a prompt given as chat messages, rendered through the chat
// template with the generation prompt; the comparison's Prompt is the rendered text.
func (m *Model) CompareChat(messages []chat.Message, n int, opts GenerateOptions, adds ...Addition) (*Comparison, error) {
	rd, err := m.ChatPrompt(messages)
	if err != nil {
		return nil, err
	}
	rows := func(prompt string, adds []Addition) Row { return Row{Prompt: prompt, Adds: adds, Chat: messages} }
	return m.compare(rd.Text, n, opts, adds, rows)
}

// LogitsChat returns the logits [seq][vocab] of a prompt given as chat messages (rendered
// with the generation prompt; ChatPrompt gives its tokens) under the additions.
func (m *Model) LogitsChat(messages []chat.Message, adds ...Addition) ([][]float32, error) {
	return m.logitsRow(Row{Adds: adds, Chat: messages})
}
