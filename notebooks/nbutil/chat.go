package nbutil

import (
	"fmt"
	"os"

	"github.com/actadd-go/actadd/checkpoint"
)

// DefaultChatModel is the model notebook 06 steers through its chat template when neither its
// --model flag nor $ACTADD_MODEL names one: an instruction-tuned checkpoint, whose
// tokenizer_config.json carries a chat template.
const DefaultChatModel = "Qwen/Qwen2.5-0.5B-Instruct"

// ChatStandIn is the stand-in a chat notebook runs where "tiny" is asked for: "tiny" is
// GPT-2-shaped, as GPT-2 has no chat template; the Llama-3-shaped stand-in carries one.
const ChatStandIn = "tiny-llama"

// ChatModelName is ModelName for a notebook that steers a chat turn, with DefaultChatModel as
// the default. The GPT-2-shaped stand-in "tiny" (what `make notebooks-ci` asks every notebook
// for) has no chat template: ChatStandIn, a random-weight stand-in as well, runs instead, and a
// line on Info says so.
func ChatModelName(flagValue string) string {
	name := flagValue
	if name == "" {
		name = os.Getenv(ModelEnv)
	}
	if name == "" {
		name = DefaultChatModel
	}
	if name == checkpoint.TinyName {
		fmt.Fprintf(Info(), "%q is GPT-2-shaped and GPT-2 has no chat template: running the Llama-3-shaped stand-in %q instead (random weights as well).\n", name, ChatStandIn)
		return ChatStandIn
	}
	return name
}
