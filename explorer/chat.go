package explorer

import (
	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/chat"
)

// userMessage is text as the one user message of a chat.
func userMessage(text string) []chat.Message {
	return []chat.Message{{Role: "user", Content: text}}
}

// row is the settings' prompt with adds: its text, or with Chat its one user message rendered
// through the model's chat template.
func (s Settings) row(adds []actadd.Addition) actadd.Row {
	r := actadd.Row{Prompt: s.Prompt, Adds: adds}
	if s.Chat {
		r.Chat = userMessage(s.Prompt)
	}
	return r
}
