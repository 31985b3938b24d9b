package llama

import (
	"fmt"

	"github.com/actadd-go/actadd/gpt2"
	. "github.com/gomlx/gomlx/core/graph"
)

// Hook points, named as in TransformerLens and with the same meaning as in package gpt2 (whose
// names and Hook type this package shares). For block l (0-indexed):
//
//	hook_embed                      the token embedding (no position embedding: RoPE acts inside attention;
//	                                Gemma: times √hidden_size)
//	blocks.{l}.hook_resid_pre       the stream entering block l (hook_embed for l = 0)
//	blocks.{l}.hook_attn_out        the attention sub-block's output (after o_proj; Gemma: after
//	                                post_attention_layernorm)
//	blocks.{l}.hook_resid_mid       resid_pre + attn_out
//	blocks.{l}.hook_mlp_out         the MLP sub-block's output (after down_proj; Gemma: after
//	                                post_feedforward_layernorm)
//	blocks.{l}.hook_resid_post      resid_mid + mlp_out (= resid_pre of block l+1)
//	ln_final.hook_normalized        the final RMSNorm's output, from which logits are computed
const (
	HookEmbed   = gpt2.HookEmbed
	HookLnFinal = gpt2.HookLnFinal
)

// Hook is gpt2.Hook: called at every hook point while a graph is built, it returns the value
// the rest of the model uses.
type Hook = gpt2.Hook

// ResidPre names the residual stream entering block l: where ActAdd injects its steering vector.
func ResidPre(l int) string { return gpt2.ResidPre(l) }

// AttnOut names the output of block l's attention.
func AttnOut(l int) string { return gpt2.AttnOut(l) }

// ResidMid names the residual stream between block l's attention and its MLP.
func ResidMid(l int) string { return gpt2.ResidMid(l) }

// MLPOut names the output of block l's MLP.
func MLPOut(l int) string { return gpt2.MLPOut(l) }

// ResidPost names the residual stream leaving block l.
func ResidPost(l int) string { return gpt2.ResidPost(l) }

// Chain runs hooks in order at every point (gpt2.Chain).
func Chain(hooks ...Hook) Hook { return gpt2.Chain(hooks...) }

// Capture records the value of each named point into captured (gpt2.Capture).
func Capture(captured map[string]*Node, points ...string) Hook {
	return gpt2.Capture(captured, points...)
}

// HookPoints lists every hook point of a model with nLayer blocks, in the order the forward pass
// reaches them.
func HookPoints(nLayer int) []string {
	points := []string{HookEmbed}
	for l := range nLayer {
		points = append(points, ResidPre(l), AttnOut(l), ResidMid(l), MLPOut(l), ResidPost(l))
	}
	return append(points, HookLnFinal)
}

// ParseHookPoint checks that name is a hook point of a model with nLayer blocks, and returns the
// block it belongs to (-1 for the embedding and the final norm).
func ParseHookPoint(name string, nLayer int) (layer int, err error) {
	if name == gpt2.HookPosEmbed {
		return 0, fmt.Errorf("llama: hook point %q does not exist in this family: positions enter through RoPE inside attention, not as an embedding", name)
	}
	l, err := gpt2.ParseHookPoint(name, nLayer)
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
