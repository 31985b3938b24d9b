// Package hookpoint names the hook points on a transformer's residual stream, as TransformerLens
// names them, for every model family: the one place these names are spelled and parsed. It is
// plain strings (no GoMLX), so that the float64 test references use the same names.
//
// For block l (0-indexed):
//
//	hook_embed                          the token embedding
//	hook_pos_embed                      the learned position embedding (families that have one)
//	blocks.{l}.hook_resid_pre           the stream entering block l
//	blocks.{l}.hook_attn_out            the attention sub-block's output
//	blocks.{l}.hook_resid_mid           resid_pre + attn_out
//	blocks.{l}.hook_mlp_out             the MLP sub-block's output
//	blocks.{l}.hook_resid_post          resid_mid + mlp_out (= resid_pre of block l+1)
//	ln_final.hook_normalized            the final norm's output, from which logits are computed
package hookpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// Points outside the blocks.
const (
	Embed    = "hook_embed"
	PosEmbed = "hook_pos_embed"
	LnFinal  = "ln_final.hook_normalized"
)

// Kinds of point inside a block, in the order the forward pass reaches them.
const (
	KindResidPre  = "hook_resid_pre"
	KindAttnOut   = "hook_attn_out"
	KindResidMid  = "hook_resid_mid"
	KindMLPOut    = "hook_mlp_out"
	KindResidPost = "hook_resid_post"
)

// BlockKinds lists the kinds of point inside every block, in the order the forward pass reaches
// them.
func BlockKinds() []string {
	return []string{KindResidPre, KindAttnOut, KindResidMid, KindMLPOut, KindResidPost}
}

// IsBlockKind reports whether kind is one of BlockKinds.
func IsBlockKind(kind string) bool {
	switch kind {
	case KindResidPre, KindAttnOut, KindResidMid, KindMLPOut, KindResidPost:
		return true
	}
	return false
}

// Block names the point of kind (e.g. "hook_resid_pre") in block l: "blocks.{l}.{kind}".
func Block(l int, kind string) string { return "blocks." + strconv.Itoa(l) + "." + kind }

// ResidPre names the residual stream entering block l: where ActAdd adds its steering vector.
func ResidPre(l int) string { return Block(l, KindResidPre) }

// AttnOut names the output of block l's attention.
func AttnOut(l int) string { return Block(l, KindAttnOut) }

// ResidMid names the residual stream between block l's attention and its MLP.
func ResidMid(l int) string { return Block(l, KindResidMid) }

// MLPOut names the output of block l's MLP.
func MLPOut(l int) string { return Block(l, KindMLPOut) }

// ResidPost names the residual stream leaving block l.
func ResidPost(l int) string { return Block(l, KindResidPost) }

// All lists every hook point of a model with nLayer blocks, in the order the forward pass
// reaches them; posEmbed says whether the model has a learned position embedding.
func All(nLayer int, posEmbed bool) []string {
	points := []string{Embed}
	if posEmbed {
		points = append(points, PosEmbed)
	}
	for l := range nLayer {
		for _, k := range BlockKinds() {
			points = append(points, Block(l, k))
		}
	}
	return append(points, LnFinal)
}

// Parse checks that name is a hook point of a model with nLayer blocks and returns its block and
// kind: layer -1 and kind = name for the points outside the blocks.
func Parse(name string, nLayer int) (layer int, kind string, err error) {
	switch name {
	case Embed, PosEmbed, LnFinal:
		return -1, name, nil
	}
	if rest, ok := strings.CutPrefix(name, "blocks."); ok {
		num, kind, ok := strings.Cut(rest, ".")
		l, err := strconv.Atoi(num)
		if ok && err == nil && strconv.Itoa(l) == num && IsBlockKind(kind) {
			if l < 0 || l >= nLayer {
				return 0, "", fmt.Errorf("hook point %q: layer %d is out of range: this model has layers 0..%d", name, l, nLayer-1)
			}
			return l, kind, nil
		}
	}
	return 0, "", fmt.Errorf("unknown hook point %q (valid: %s, %s, blocks.{l}.%s, %s)", name, Embed, PosEmbed,
		strings.Join(BlockKinds(), "|"), LnFinal)
}
