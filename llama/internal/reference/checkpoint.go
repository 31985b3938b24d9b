package reference

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/checkpoint"
)

// config is config.json as a plain JSON object.
type config map[string]any

// num is the number at key k, or def when absent.
func (c config) num(k string, def float64) float64 {
	if v, ok := c[k].(float64); ok {
		return v
	}
	return def
}

// weights are a checkpoint's tensors by name, in float64.
type weights map[string][]float64

func (w weights) weight(name string) []float64 {
	v, ok := w[name]
	if !ok {
		panic("reference: no weight " + name)
	}
	return v
}

// linear is x·Wᵀ + b for nn.Linear's W [out, in]; b may be absent.
func (w weights) linear(x []float64, prefix string, out int) []float64 {
	m := w.weight(prefix + ".weight")
	b := w[prefix+".bias"]
	in := len(x)
	y := make([]float64, out)
	for o := range out {
		s := 0.0
		for i := range in {
			s += m[o*in+i] * x[i]
		}
		if b != nil {
			s += b[o]
		}
		y[o] = s
	}
	return y
}

// readCheckpoint reads the checkpoint folder dir: config.json and every tensor of its
// safetensors (sharded or not), in float64.
func readCheckpoint(dir string) (config, weights, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, err
	}
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, err
	}
	info, err := checkpoint.ListTensors(dir)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for n := range info {
		names = append(names, n)
	}
	ts, err := checkpoint.ReadTensors(dir, names)
	if err != nil {
		return nil, nil, err
	}
	w := weights{}
	for n, t := range ts {
		v := make([]float64, len(t.Data))
		for i, x := range t.Data {
			v[i] = float64(x)
		}
		w[n] = v
	}
	return c, w, nil
}

// forward is a model's Forward: logits and hook points of tokens at positions start, ...
type forward func(tokens []int, start int, adds map[string][][]float64) ([][]float64, map[string][][]float64)

// greedy extends prompt by n tokens, each the argmax of f's logits at the last position,
// recomputing the whole sequence every time (no cache). adds apply to the front positions, as
// in Forward. It returns the new tokens and the logits each was chosen from.
func greedy(f forward, prompt []int, n int, adds map[string][][]float64) ([]int, [][]float64) {
	seq := append([]int(nil), prompt...)
	var out []int
	var all [][]float64
	for range n {
		logits, _ := f(seq, 0, adds)
		last := logits[len(logits)-1]
		best := 0
		for i, v := range last {
			if v > last[best] {
				best = i
			}
		}
		out = append(out, best)
		all = append(all, last)
		seq = append(seq, best)
	}
	return out, all
}
