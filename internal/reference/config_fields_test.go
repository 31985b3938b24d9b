package reference

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
)

// The activations follow Hugging Face's ACT2FN definitions; values from the closed forms.
func TestActivations(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range []struct {
		name    string
		x, want float64
	}{
		{"gelu_new", 1, 0.8411919906082768}, {"gelu_pytorch_tanh", 1, 0.8411919906082768}, {"gelu_fast", 1, 0.8411919906082768},
		{"gelu", 1, 0.8413447460685429}, {"gelu", -2, -0.04550026389635842},
		{"relu", -1, 0}, {"relu", 1.5, 1.5},
		{"silu", 1, 0.7310585786300049}, {"swish", -2, -2 * sig(-2)},
		{"tanh", 0.5, 0.46211715726000974},
		{"quick_gelu", 1, sig(1.702)}, {"quick_gelu", -3, -3 * sig(-3*1.702)},
	} {
		if got := activate(c.name, c.x); math.Abs(got-c.want) > 1e-10 {
			t.Errorf("%s(%g) = %.17g, want %.17g", c.name, c.x, got, c.want)
		}
	}
	for _, name := range checkpoint.Activations {
		_ = activate(name, 0.3) // every name the config admits is implemented (no panic)
	}
}

// scaleQueries multiplies the query columns (the first n_embd of c_attn, weight and bias) of
// block layer by s.
func scaleQueries(cfg checkpoint.Config, w map[string]checkpoint.Tensor, layer int, s float32) {
	d := cfg.NEmbd
	wt, b := w[fmt.Sprintf("h.%d.attn.c_attn.weight", layer)], w[fmt.Sprintf("h.%d.attn.c_attn.bias", layer)]
	for i := range d {
		for j := range d {
			wt.Data[i*3*d+j] *= s
		}
		b.Data[i] *= s
	}
}

// The attention scalings of scale_attn_weights=false and scale_attn_by_inverse_layer_idx equal
// GPT-2's arithmetic with the queries scaled instead: by √head_dim, and by 1/(l+1) in block l.
func TestAttentionScalings(t *testing.T) {
	cfg := tinyConfig(3, 2, 8, 11, 8) // head_dim 4: √4 = 2, exact in float32
	tokens := []int{3, 0, 6, 6, 10, 2}
	no := false
	for _, c := range []struct {
		name   string
		change func(*checkpoint.Config)
		query  func(layer int) float32
	}{
		{"scale_attn_weights=false", func(c *checkpoint.Config) { c.ScaleAttnWeights = &no }, func(int) float32 { return 2 }},
		{"scale_attn_by_inverse_layer_idx", func(c *checkpoint.Config) { c.ScaleAttnByInverseLayerIdx = true }, func(l int) float32 { return 1 / float32(l+1) }},
		{"both", func(c *checkpoint.Config) { c.ScaleAttnWeights, c.ScaleAttnByInverseLayerIdx = &no, true }, func(l int) float32 { return 2 / float32(l+1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := randomWeights(cfg, 9)
			changed := cfg
			c.change(&changed)
			got, _ := mustForward(t, mustNew(t, changed, w), tokens, nil)
			plain := randomWeights(cfg, 9)
			for l := range cfg.NLayer {
				scaleQueries(cfg, plain, l, c.query(l))
			}
			want, _ := mustForward(t, mustNew(t, cfg, plain), tokens, nil)
			// float32 products by 1/3 round; the rest is exact.
			assertClose(t, "logits", got, want, 1e-6)
			unchanged, _ := mustForward(t, mustNew(t, cfg, w), tokens, nil)
			if maxAbsDiff(got, unchanged) < 1e-3 {
				t.Error("the field changed nothing")
			}
		})
	}
}

// n_inner sets the MLP's width: an MLP of twice GPT-2's width whose hidden units come in equal
// pairs, each with half the output weights, computes what GPT-2's does.
func TestNInner(t *testing.T) {
	cfg := tinyConfig(2, 2, 4, 9, 8)
	wide := cfg
	wide.NInner = 2 * cfg.Inner()
	tokens := []int{1, 8, 3, 3, 0}
	w := randomWeights(cfg, 4)
	ww := zeroWeights(wide)
	inner, d := cfg.Inner(), cfg.NEmbd
	for name, t := range w {
		wt := ww[name]
		switch {
		case strings.HasSuffix(name, "mlp.c_fc.weight"):
			for i := range d {
				for j := range inner {
					wt.Data[i*2*inner+j], wt.Data[i*2*inner+inner+j] = t.Data[i*inner+j], t.Data[i*inner+j]
				}
			}
		case strings.HasSuffix(name, "mlp.c_fc.bias"):
			copy(wt.Data, t.Data)
			copy(wt.Data[inner:], t.Data)
		case strings.HasSuffix(name, "mlp.c_proj.weight"):
			for i, v := range t.Data {
				wt.Data[i], wt.Data[inner*d+i] = v/2, v/2
			}
		default:
			copy(wt.Data, t.Data)
		}
	}
	got, _ := mustForward(t, mustNew(t, wide, ww), tokens, nil)
	want, _ := mustForward(t, mustNew(t, cfg, w), tokens, nil)
	assertClose(t, "logits", got, want, 1e-12)
}

func maxAbsDiff(a, b [][]float64) float64 {
	worst := 0.0
	for i := range a {
		for j := range a[i] {
			worst = max(worst, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return worst
}
