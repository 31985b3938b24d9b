// Package reference is an independent, deliberately plain float64 forward pass of the Llama
// family (Llama, Mistral, Qwen2, Qwen3) written from Hugging Face's modeling code. It exists
// only to check package llama in tests: it reads config.json and the weights itself, shares no
// code with package llama and uses no GoMLX. Everything is a loop over float64 slices.
package reference

import (
	"fmt"
	"math"
)

// Model is a Llama-family model with float64 weights.
type Model struct {
	typ                        string
	d, ffn, layers, heads, kvH int
	hd                         int
	eps, theta                 float64
	window                     int
	invFreq                    []float64
	weights
	tied bool
}

// Load reads the checkpoint folder dir (config.json and its safetensors, sharded or not).
func Load(dir string) (*Model, error) {
	c, w, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	num := c.num
	m := &Model{typ: c["model_type"].(string), weights: w}
	m.d = int(num("hidden_size", 0))
	m.ffn = int(num("intermediate_size", 0))
	m.layers = int(num("num_hidden_layers", 0))
	m.heads = int(num("num_attention_heads", 0))
	m.kvH = int(num("num_key_value_heads", float64(m.heads)))
	m.hd = int(num("head_dim", float64(m.d/m.heads)))
	m.eps = num("rms_norm_eps", 1e-6)
	m.theta = num("rope_theta", 10000)
	m.tied, _ = c["tie_word_embeddings"].(bool)
	if m.typ == "mistral" {
		m.window = int(num("sliding_window", 0))
	}
	// Inverse frequencies θ^(-2j/hd), rescaled by rope_scaling (modeling_rope_utils.py).
	m.invFreq = make([]float64, m.hd/2)
	for j := range m.invFreq {
		m.invFreq[j] = math.Pow(m.theta, -float64(2*j)/float64(m.hd))
	}
	if rs, ok := c["rope_scaling"].(map[string]any); ok {
		typ, _ := rs["rope_type"].(string)
		factor := rs["factor"].(float64)
		switch typ {
		case "linear":
			for j := range m.invFreq {
				m.invFreq[j] /= factor
			}
		case "llama3":
			lo, hi := rs["low_freq_factor"].(float64), rs["high_freq_factor"].(float64)
			old := rs["original_max_position_embeddings"].(float64)
			for j, f := range m.invFreq {
				wavelen := 2 * math.Pi / f
				if wavelen > old/lo {
					m.invFreq[j] = f / factor
				} else if wavelen >= old/hi {
					s := (old/wavelen - lo) / (hi - lo)
					m.invFreq[j] = (1-s)*f/factor + s*f
				}
			}
		default:
			return nil, fmt.Errorf("reference: rope type %q", typ)
		}
	}
	return m, nil
}

func rmsNorm(x, w []float64, eps float64) []float64 {
	ms := 0.0
	for _, v := range x {
		ms += v * v
	}
	r := 1 / math.Sqrt(ms/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * r * w[i]
	}
	return y
}

// rotate applies RoPE at position p to one head (rotate_half layout).
func (m *Model) rotate(x []float64, p int) {
	half := m.hd / 2
	for j := range half {
		a := float64(p) * m.invFreq[j]
		c, s := math.Cos(a), math.Sin(a)
		x1, x2 := x[j], x[j+half]
		x[j] = x1*c - x2*s
		x[j+half] = x2*c + x1*s
	}
}

// Forward runs tokens at positions start, start+1, ... . adds maps a hook point name
// ("blocks.{l}.hook_resid_pre" and the others of package llama) to rows added to the stream at
// that point, row i at token i (fewer rows than tokens leave the rest unchanged). It returns
// the logits [seq][vocab] and every hook point's value [seq][d].
func (m *Model) Forward(tokens []int, start int, adds map[string][][]float64) (logits [][]float64, hooks map[string][][]float64) {
	hooks = map[string][][]float64{}
	seq := len(tokens)
	embed := m.weight("model.embed_tokens.weight")
	x := make([][]float64, seq)
	for i, t := range tokens {
		x[i] = append([]float64(nil), embed[t*m.d:(t+1)*m.d]...)
	}
	at := func(name string, v [][]float64) [][]float64 {
		for i, row := range adds[name] {
			for j := range row {
				v[i][j] += row[j]
			}
		}
		hooks[name] = clone(v)
		return v
	}
	x = at("hook_embed", x)
	groups := m.heads / m.kvH
	for l := range m.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		x = at(fmt.Sprintf("blocks.%d.hook_resid_pre", l), x)
		qs, ks, vs := make([][]float64, seq), make([][]float64, seq), make([][]float64, seq)
		for i := range seq {
			h := rmsNorm(x[i], m.weight(p+"input_layernorm.weight"), m.eps)
			qs[i] = m.linear(h, p+"self_attn.q_proj", m.heads*m.hd)
			ks[i] = m.linear(h, p+"self_attn.k_proj", m.kvH*m.hd)
			vs[i] = m.linear(h, p+"self_attn.v_proj", m.kvH*m.hd)
			for hh := range m.heads {
				q := qs[i][hh*m.hd : (hh+1)*m.hd]
				if m.typ == "qwen3" {
					copy(q, rmsNorm(q, m.weight(p+"self_attn.q_norm.weight"), m.eps))
				}
				m.rotate(q, start+i)
			}
			for hh := range m.kvH {
				k := ks[i][hh*m.hd : (hh+1)*m.hd]
				if m.typ == "qwen3" {
					copy(k, rmsNorm(k, m.weight(p+"self_attn.k_norm.weight"), m.eps))
				}
				m.rotate(k, start+i)
			}
		}
		attnOut := make([][]float64, seq)
		for i := range seq {
			heads := make([]float64, m.heads*m.hd)
			for hh := range m.heads {
				kv := hh / groups
				q := qs[i][hh*m.hd : (hh+1)*m.hd]
				scores := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					if m.window > 0 && i-j >= m.window {
						scores[j] = math.Inf(-1)
						continue
					}
					s := 0.0
					for e := range m.hd {
						s += q[e] * ks[j][kv*m.hd+e]
					}
					scores[j] = s / math.Sqrt(float64(m.hd))
					mx = math.Max(mx, scores[j])
				}
				sum := 0.0
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					sum += scores[j]
				}
				for j := range scores {
					for e := range m.hd {
						heads[hh*m.hd+e] += scores[j] / sum * vs[j][kv*m.hd+e]
					}
				}
			}
			attnOut[i] = m.linear(heads, p+"self_attn.o_proj", m.d)
		}
		attnOut = at(fmt.Sprintf("blocks.%d.hook_attn_out", l), attnOut)
		for i := range seq {
			for j := range m.d {
				x[i][j] += attnOut[i][j]
			}
		}
		x = at(fmt.Sprintf("blocks.%d.hook_resid_mid", l), x)
		mlpOut := make([][]float64, seq)
		for i := range seq {
			h := rmsNorm(x[i], m.weight(p+"post_attention_layernorm.weight"), m.eps)
			g := m.linear(h, p+"mlp.gate_proj", m.ffn)
			u := m.linear(h, p+"mlp.up_proj", m.ffn)
			for j := range g {
				g[j] = g[j] / (1 + math.Exp(-g[j])) * u[j]
			}
			mlpOut[i] = m.linear(g, p+"mlp.down_proj", m.d)
		}
		mlpOut = at(fmt.Sprintf("blocks.%d.hook_mlp_out", l), mlpOut)
		for i := range seq {
			for j := range m.d {
				x[i][j] += mlpOut[i][j]
			}
		}
		x = at(fmt.Sprintf("blocks.%d.hook_resid_post", l), x)
	}
	final := make([][]float64, seq)
	for i := range seq {
		final[i] = rmsNorm(x[i], m.weight("model.norm.weight"), m.eps)
	}
	final = at("ln_final.hook_normalized", final)
	head := "lm_head"
	if m.tied {
		head = "model.embed_tokens"
	}
	vocab := len(m.weight(head+".weight")) / m.d
	logits = make([][]float64, seq)
	for i := range seq {
		logits[i] = m.linear(final[i], head, vocab)
	}
	return logits, hooks
}

// Greedy extends prompt by n tokens, each the argmax of the logits at the last position,
// recomputing the whole sequence every time (no cache). adds apply to the front positions, as
// in Forward. It returns the new tokens and the logits each was chosen from.
func (m *Model) Greedy(prompt []int, n int, adds map[string][][]float64) ([]int, [][]float64) {
	return greedy(m.Forward, prompt, n, adds)
}

func clone(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, r := range x {
		out[i] = append([]float64(nil), r...)
	}
	return out
}
