package sweep

import (
	"fmt"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/chat"
)

// Sweeps of chat turns: Grid.Chats are prompts given as chat messages, which the model's chat
// template renders with the generation prompt (actadd.Row.Chat), steered by chat additions
// (actadd.ChatPair) or plain ones. A unit's key then holds the template (its hash,
// actadd.Model.ChatTemplateKey) and the messages in Data, and a chat addition's messages and
// positions in Steering.

// gridPrompt is one prompt of a grid: its text, or its messages with the text that labels them
// (chatLabel).
type gridPrompt struct {
	text string
	chat []chat.Message
}

// prompts lists the grid's prompts (one empty prompt when there are none).
func (g Grid) prompts() ([]gridPrompt, error) {
	if len(g.Prompts) > 0 && len(g.Chats) > 0 {
		return nil, fmt.Errorf("sweep: the grid has both Prompts and Chats: give one of them (a chat prompt is []chat.Message{{Role: \"user\", Content: prompt}})")
	}
	var out []gridPrompt
	for _, p := range g.Prompts {
		out = append(out, gridPrompt{text: p})
	}
	for i, c := range g.Chats {
		if len(c) == 0 {
			return nil, fmt.Errorf("sweep: Grid.Chats[%d] has no message: give at least a user message", i)
		}
		out = append(out, gridPrompt{text: chatLabel(c), chat: c})
	}
	if len(out) == 0 {
		out = []gridPrompt{{}}
	}
	return out, nil
}

// chatLabel labels a chat prompt in tables and figures: the content of a chat that is one user
// message, else every message as "role: content", joined by " | ", so that chats that differ
// anywhere (a system prompt, an earlier turn) get different labels, and so different lines.
func chatLabel(msgs []chat.Message) string {
	if len(msgs) == 1 && msgs[0].Role == "user" {
		return msgs[0].Content
	}
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Role + ": " + m.Content
	}
	return strings.Join(parts, " | ")
}

// row is the setting's prompt and addition as a row of actadd.
func (s Setting) row() actadd.Row {
	return actadd.Row{Prompt: s.Prompt, Adds: s.adds(), Chat: s.Chat}
}

// checkChats refuses chat prompts the model cannot render (no chat template), before any work.
func checkChats(m *actadd.Model, g Grid) error {
	if len(g.Chats) == 0 {
		return nil
	}
	if _, err := m.ChatTemplateKey(); err != nil {
		return fmt.Errorf("sweep: Grid.Chats: %w", err)
	}
	return nil
}

// promptData is a unit's runstore.Key.Data: the checksum of its prompt, and for a chat prompt
// of the template's key and the messages (checkChats made sure the template exists).
func promptData(m *actadd.Model, s Setting) string {
	if s.Chat == nil {
		return Checksum([]string{s.Prompt})
	}
	tkey, err := m.ChatTemplateKey()
	if err != nil {
		tkey = "error: " + err.Error() // unreachable after checkChats; never shared with a template's key
	}
	parts := []string{"chat", tkey}
	for _, msg := range s.Chat {
		parts = append(parts, msg.Role, msg.Content)
	}
	return Checksum(parts)
}

// chatSteeringKey is a chat addition's part of a steering key.
type chatSteeringKey struct {
	Plus, Minus []chat.Message
	Where       string // chat.Where: "front" or "user-content"
}

// chatSteering is a's chat part of its steering key; nil for a plain addition.
func chatSteering(a actadd.Addition) *chatSteeringKey {
	if a.Chat == nil {
		return nil
	}
	return &chatSteeringKey{Plus: a.Chat.Plus, Minus: a.Chat.Minus, Where: a.Chat.Where.String()}
}
