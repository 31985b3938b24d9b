package llama

import (
	"fmt"

	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	. "github.com/gomlx/gomlx/core/graph"
)

// Hook points, named as in TransformerLens and with the same meaning as in package gpt2 (the
// names are package hookpoint's, the Hook type package lm's). For block l (0-indexed):
//
//	hook_embed                      the token embedding (no position embedding: RoPE acts inside attention)
//	blocks.{l}.hook_resid_pre       the stream entering block l (hook_embed for l = 0)
//	blocks.{l}.hook_attn_out        the attention sub-block's output (after o_proj)
//	blocks.{l}.hook_resid_mid       resid_pre + attn_out
//	blocks.{l}.hook_mlp_out         the MLP sub-block's output (after down_proj)
//	blocks.{l}.hook_resid_post      resid_mid + mlp_out (= resid_pre of block l+1)
//	ln_final.hook_normalized        the final RMSNorm's output, from which logits are computed
const (
	HookEmbed   = hookpoint.Embed
	HookLnFinal = hookpoint.LnFinal
)

// Hook is lm.Hook: called at every hook point while a graph is built, it returns the value the
// rest of the model uses.
type Hook = lm.Hook

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

// Chain runs hooks in order at every point (lm.Chain).
func Chain(hooks ...Hook) Hook { return lm.Chain(hooks...) }

// Capture records the value of each named point into captured (lm.Capture).
func Capture(captured map[string]*Node, points ...string) Hook {
	return lm.Capture(captured, points...)
}

// HookPoints lists every hook point of a model with nLayer blocks, in the order the forward pass
// reaches them.
func HookPoints(nLayer int) []string { return hookpoint.All(nLayer, false) }

// ParseHookPoint checks that name is a hook point of a model with nLayer blocks, and returns the
// block it belongs to (-1 for the embedding and the final norm).
func ParseHookPoint(name string, nLayer int) (layer int, err error) {
	if name == hookpoint.PosEmbed {
		return 0, fmt.Errorf("llama: hook point %q does not exist in this family: positions enter through RoPE inside attention, not as an embedding", name)
	}
	l, _, err := hookpoint.Parse(name, nLayer)
	if err != nil {
		return 0, fmt.Errorf("llama: unknown hook point %q (valid: hook_embed, blocks.{l}.hook_resid_pre|attn_out|resid_mid|mlp_out|resid_post for l in 0..%d, ln_final.hook_normalized)", name, nLayer-1)
	}
	return l, nil
}

// at applies the hook, if any.
func at(h Hook, point string, x *Node) *Node {
	if h == nil {
		return x
	}
	return h(point, x)
}
