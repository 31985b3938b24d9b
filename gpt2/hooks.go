package gpt2

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// Hook points on the residual stream, named as in TransformerLens so that results and notebooks
// translate one to one. For block l (0-indexed):
//
//	hook_embed, hook_pos_embed          token and position embeddings
//	blocks.{l}.hook_resid_pre           the stream entering block l (embed + pos_embed for l = 0)
//	blocks.{l}.hook_attn_out            the attention sub-block's output
//	blocks.{l}.hook_resid_mid           resid_pre + attn_out
//	blocks.{l}.hook_mlp_out             the MLP sub-block's output
//	blocks.{l}.hook_resid_post          resid_mid + mlp_out (= resid_pre of block l+1)
//	ln_final.hook_normalized            the final LayerNorm's output, from which logits are computed
const (
	HookEmbed    = "hook_embed"
	HookPosEmbed = "hook_pos_embed"
	HookLnFinal  = "ln_final.hook_normalized"
)

// ResidPre names the residual stream entering block l: where ActAdd injects its steering vector.
func ResidPre(l int) string { return fmt.Sprintf("blocks.%d.hook_resid_pre", l) }

// AttnOut names the output of block l's attention.
func AttnOut(l int) string { return fmt.Sprintf("blocks.%d.hook_attn_out", l) }

// ResidMid names the residual stream between block l's attention and its MLP.
func ResidMid(l int) string { return fmt.Sprintf("blocks.%d.hook_resid_mid", l) }

// MLPOut names the output of block l's MLP.
func MLPOut(l int) string { return fmt.Sprintf("blocks.%d.hook_mlp_out", l) }

// ResidPost names the residual stream leaving block l.
func ResidPost(l int) string { return fmt.Sprintf("blocks.%d.hook_resid_post", l) }

// HookPoints lists every hook point of a model with nLayer blocks, in the order the forward pass
// reaches them.
func HookPoints(nLayer int) []string {
	points := []string{HookEmbed, HookPosEmbed}
	for l := range nLayer {
		points = append(points, ResidPre(l), AttnOut(l), ResidMid(l), MLPOut(l), ResidPost(l))
	}
	return append(points, HookLnFinal)
}

// ParseHookPoint checks that name is a hook point of a model with nLayer blocks, and returns the
// block it belongs to (-1 for the embeddings and the final LayerNorm).
func ParseHookPoint(name string, nLayer int) (layer int, err error) {
	switch name {
	case HookEmbed, HookPosEmbed, HookLnFinal:
		return -1, nil
	}
	var l int
	var what string
	if n, _ := fmt.Sscanf(name, "blocks.%d.hook_%s", &l, &what); n == 2 && name == fmt.Sprintf("blocks.%d.hook_%s", l, what) {
		switch what {
		case "resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post":
			if l < 0 || l >= nLayer {
				return 0, fmt.Errorf("gpt2: hook point %q: layer %d is out of range: this model has layers 0..%d", name, l, nLayer-1)
			}
			return l, nil
		}
	}
	return 0, fmt.Errorf("gpt2: unknown hook point %q (valid: hook_embed, hook_pos_embed, blocks.{l}.hook_resid_pre|attn_out|resid_mid|mlp_out|resid_post, ln_final.hook_normalized)", name)
}

// Hook is called while a forward graph is being built, once at every hook point, with the
// point's name and its value (shape [batch, seq, d_model]). It returns the value the rest of the
// model uses: x itself to only observe the stream, or an edited node to change it. This is the
// whole mechanism behind capturing activations and behind ActAdd's injection (package actadd):
// nothing else in the model is changed by steering.
//
// A nil Hook leaves the model untouched.
type Hook func(point string, x *Node) *Node

// Chain runs hooks in order at every point, each one seeing the value the previous one returned.
func Chain(hooks ...Hook) Hook {
	return func(point string, x *Node) *Node {
		for _, h := range hooks {
			if h != nil {
				x = h(point, x)
			}
		}
		return x
	}
}

// Capture returns a hook that records the value of each named point into captured (keyed by
// name) without changing it; the caller returns the recorded nodes as extra graph outputs.
func Capture(captured map[string]*Node, points ...string) Hook {
	want := make(map[string]bool, len(points))
	for _, p := range points {
		want[p] = true
	}
	return func(point string, x *Node) *Node {
		if want[point] {
			captured[point] = x
		}
		return x
	}
}

// at applies the hook, if any.
func (h Hook) at(point string, x *Node) *Node {
	if h == nil {
		return x
	}
	return h(point, x)
}
