package gpt2

import (
	"fmt"

	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	. "github.com/gomlx/gomlx/core/graph"
)

// Hook points on the residual stream, named as in TransformerLens (package hookpoint holds the
// names of every family). GPT-2 has all of them, hook_pos_embed included.
const (
	HookEmbed    = hookpoint.Embed
	HookPosEmbed = hookpoint.PosEmbed
	HookLnFinal  = hookpoint.LnFinal
)

// ResidPre names the residual stream entering block l: where ActAdd injects its steering vector.
func ResidPre(l int) string { return hookpoint.ResidPre(l) }

// AttnOut names the output of block l's attention.
func AttnOut(l int) string { return hookpoint.AttnOut(l) }

// ResidMid names the residual stream between block l's attention and its MLP.
func ResidMid(l int) string { return hookpoint.ResidMid(l) }

// MLPOut names the output of block l's MLP.
func MLPOut(l int) string { return hookpoint.MLPOut(l) }

// ResidPost names the residual stream leaving block l.
func ResidPost(l int) string { return hookpoint.ResidPost(l) }

// HookPoints lists every hook point of a GPT-2 with nLayer blocks, in the order the forward pass
// reaches them.
func HookPoints(nLayer int) []string { return hookpoint.All(nLayer, true) }

// ParseHookPoint checks that name is a hook point of a model with nLayer blocks, and returns the
// block it belongs to (-1 for the embeddings and the final LayerNorm).
func ParseHookPoint(name string, nLayer int) (layer int, err error) {
	layer, _, err = hookpoint.Parse(name, nLayer)
	if err != nil {
		return 0, fmt.Errorf("gpt2: %w", err)
	}
	return layer, nil
}

// Hook is lm.Hook: called at every hook point while a forward graph is built, it returns the
// value the rest of the model uses. Nothing else in the model is changed by steering.
type Hook = lm.Hook

// Chain runs hooks in order at every point, each one seeing the value the previous one returned.
func Chain(hooks ...Hook) Hook { return lm.Chain(hooks...) }

// Capture returns a hook that records the value of each named point into captured (keyed by
// name) without changing it; the caller returns the recorded nodes as extra graph outputs.
func Capture(captured map[string]*Node, points ...string) Hook {
	return lm.Capture(captured, points...)
}
