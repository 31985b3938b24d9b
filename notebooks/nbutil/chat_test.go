package nbutil_test

import (
	"testing"

	"github.com/actadd-go/actadd/notebooks/nbutil"
)

// A chat notebook runs the flag's model, else $ACTADD_MODEL's, else an instruction-tuned
// default; the GPT-2-shaped stand-in, which has no chat template, becomes the Llama-3-shaped one.
func TestChatModelName(t *testing.T) {
	for _, c := range []struct{ flag, env, want string }{
		{"", "", nbutil.DefaultChatModel},
		{"", "tiny", nbutil.ChatStandIn},
		{"tiny", "", nbutil.ChatStandIn},
		{"", "tiny-qwen2", "tiny-qwen2"},
		{"HuggingFaceTB/SmolLM2-135M-Instruct", "tiny-qwen2", "HuggingFaceTB/SmolLM2-135M-Instruct"},
	} {
		t.Setenv(nbutil.ModelEnv, c.env)
		if got := nbutil.ChatModelName(c.flag); got != c.want {
			t.Errorf("flag %q, $%s=%q: %q, want %q", c.flag, nbutil.ModelEnv, c.env, got, c.want)
		}
	}
}
