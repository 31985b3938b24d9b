package gpt2_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/reference"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/gomlx/gomlx/core/tensors"
)

// strongWeights are RandomTensors with the attention and MLP matrices scaled up, so that
// attention scores and MLP pre-activations are of order 1 and a change of their arithmetic
// shows in the activations.
func strongWeights(cfg checkpoint.Config, seed int64) map[string]checkpoint.Tensor {
	w := checkpoint.RandomTensors(cfg, seed)
	for name, t := range w {
		if strings.HasSuffix(name, "attn.c_attn.weight") || strings.HasSuffix(name, "mlp.c_fc.weight") || strings.HasSuffix(name, "mlp.c_proj.weight") {
			for i := range t.Data {
				t.Data[i] *= 25
			}
		}
	}
	return w
}

// Every GPT2Config field that changes the arithmetic (n_inner, each activation_function,
// scale_attn_weights, scale_attn_by_inverse_layer_idx, layer_norm_epsilon) gives the float64
// reference's logits and activations, and, where it changes the function, activations that
// differ from GPT-2's defaults on the same weights.
func TestConfigFieldsMatchReference(t *testing.T) {
	base := checkpoint.Config{NLayer: 3, NHead: 2, NEmbd: 8, NPositions: 16, VocabSize: 30, LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
	no := false
	variants := map[string]checkpoint.Config{}
	set := func(name string, change func(*checkpoint.Config)) {
		c := base
		change(&c)
		variants[name] = c
	}
	set("scale_attn_weights=false", func(c *checkpoint.Config) { c.ScaleAttnWeights = &no })
	set("scale_attn_by_inverse_layer_idx", func(c *checkpoint.Config) { c.ScaleAttnByInverseLayerIdx = true })
	set("both scalings", func(c *checkpoint.Config) { c.ScaleAttnWeights, c.ScaleAttnByInverseLayerIdx = &no, true })
	set("n_inner=12", func(c *checkpoint.Config) { c.NInner = 12 })
	set("layer_norm_epsilon=0.5", func(c *checkpoint.Config) { c.LayerNormEpsilon = 0.5 })
	for _, act := range checkpoint.Activations {
		set("activation_function="+act, func(c *checkpoint.Config) { c.ActivationFunction = act })
	}
	sameFunction := map[string]bool{"activation_function=gelu_new": true, "activation_function=gelu_pytorch_tanh": true, "activation_function=gelu_fast": true}

	rows := randomRows(rand.New(rand.NewPCG(1, 2)), 2, 7, base.VocabSize)
	points := gpt2.HookPoints(base.NLayer)
	run := func(t *testing.T, cfg checkpoint.Config, w map[string]checkpoint.Tensor) *gpt2.Output {
		t.Helper()
		m, err := gpt2.New(testbackend.Get(t), "random test model", cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Run(rows, points...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for name, cfg := range variants {
		t.Run(name, func(t *testing.T) {
			w := strongWeights(cfg, 4)
			out := run(t, cfg, w)
			ref, err := reference.New(cfg, w)
			if err != nil {
				t.Fatal(err)
			}
			checkReference(t, out, ref, rows, points)
			if cfg.NInner != 0 || sameFunction[name] {
				return // other shapes, or the same function as GPT-2's
			}
			// The field is not ignored: GPT-2's defaults on the same weights compute otherwise.
			def := run(t, base, w)
			worst := 0.0
			for _, p := range points {
				got, other := tensors.MustCopyFlatData[float32](out.Activations[p]), tensors.MustCopyFlatData[float32](def.Activations[p])
				for i := range got {
					worst = max(worst, float64(got[i]-other[i]), float64(other[i]-got[i]))
				}
			}
			if worst < 1e-3 { // ten times what the reference comparison tolerates
				t.Errorf("the activations differ from those of GPT-2's defaults by only %g: the field is ignored", worst)
			}
		})
	}
}
