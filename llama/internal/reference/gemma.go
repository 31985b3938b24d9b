package reference

import (
	"fmt"
	"math"
)

// Gemma is Gemma 2 (gemma2) or Gemma 3 text (gemma3_text) with float64 weights, written from
// Hugging Face's modeling_gemma2.py and modeling_gemma3.py: embeddings times √hidden_size
// (rounded to the checkpoint's dtype), RMSNorm x·(1 + w), norms before and after attention and
// the MLP, gelu (tanh form) gating, scores scaled by query_pre_attn_scalar^-0.5, soft-capped
// attention scores (Gemma 2) and logits, sliding-window layers, Gemma 3's q/k norms and its
// local RoPE base.
type Gemma struct {
	typ                        string
	d, ffn, layers, heads, kvH int
	hd                         int
	eps, scale                 float64
	attnCap, finalCap          float64
	window                     int
	sliding                    []bool
	embedScale                 float64
	globalFreq, localFreq      []float64
	weights
}

// LoadGemma reads a Gemma checkpoint folder.
func LoadGemma(dir string) (*Gemma, error) {
	c, w, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	num := c.num
	m := &Gemma{typ: c["model_type"].(string), weights: w}
	if m.typ != "gemma2" && m.typ != "gemma3_text" {
		return nil, fmt.Errorf("reference: %q is not Gemma", m.typ)
	}
	m.d = int(num("hidden_size", 0))
	m.ffn = int(num("intermediate_size", 0))
	m.layers = int(num("num_hidden_layers", 0))
	m.heads = int(num("num_attention_heads", 0))
	m.kvH = int(num("num_key_value_heads", 0))
	m.hd = int(num("head_dim", 0))
	m.eps = num("rms_norm_eps", 1e-6)
	m.scale = 1 / math.Sqrt(num("query_pre_attn_scalar", 0))
	m.finalCap = num("final_logit_softcapping", 0)
	if m.typ == "gemma2" {
		m.attnCap = num("attn_logit_softcapping", 0)
	}
	m.window = int(num("sliding_window", 0))
	if lt, ok := c["layer_types"].([]any); ok {
		for _, t := range lt {
			m.sliding = append(m.sliding, t == "sliding_attention")
		}
	} else {
		for i := range m.layers {
			if m.typ == "gemma2" {
				m.sliding = append(m.sliding, i%2 == 0)
			} else {
				m.sliding = append(m.sliding, (i+1)%int(num("sliding_window_pattern", 6)) != 0)
			}
		}
	}
	// √d rounded to the stored dtype: bfloat16 keeps 8 significant bits, float16 11.
	m.embedScale = math.Sqrt(float64(m.d))
	switch c["torch_dtype"] {
	case "bfloat16":
		m.embedScale = roundBits(m.embedScale, 8)
	case "float16":
		m.embedScale = roundBits(m.embedScale, 11)
	}
	freqs := func(theta float64) []float64 {
		f := make([]float64, m.hd/2)
		for j := range f {
			f[j] = math.Pow(theta, -float64(2*j)/float64(m.hd))
		}
		return f
	}
	m.globalFreq = freqs(num("rope_theta", 10000))
	m.localFreq = m.globalFreq
	if m.typ == "gemma3_text" {
		m.localFreq = freqs(num("rope_local_base_freq", 10000))
		if rs, ok := c["rope_scaling"].(map[string]any); ok {
			if rs["rope_type"] != "linear" {
				return nil, fmt.Errorf("reference: rope scaling %v", rs)
			}
			for j := range m.globalFreq {
				m.globalFreq[j] /= rs["factor"].(float64)
			}
		}
	}
	return m, nil
}

// roundBits rounds x > 0 to bits significant bits, ties to even.
func roundBits(x float64, bits int) float64 {
	e := math.Floor(math.Log2(x))
	step := math.Pow(2, e-float64(bits-1))
	return math.RoundToEven(x/step) * step
}

// norm is Gemma's RMSNorm: x / sqrt(mean(x²) + eps) · (1 + w).
func (m *Gemma) norm(x []float64, name string) []float64 {
	w := m.weight(name)
	ms := 0.0
	for _, v := range x {
		ms += v * v
	}
	r := 1 / math.Sqrt(ms/float64(len(x))+m.eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * r * (1 + w[i])
	}
	return y
}

func rotateHalf(x []float64, p int, freq []float64) {
	half := len(x) / 2
	for j := range half {
		c, s := math.Cos(float64(p)*freq[j]), math.Sin(float64(p)*freq[j])
		x1, x2 := x[j], x[j+half]
		x[j] = x1*c - x2*s
		x[j+half] = x2*c + x1*s
	}
}

func gelu(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// Forward is Model.Forward for Gemma: tokens at positions start, start+1, ...; adds maps hook
// point names to rows added there (row i at token i).
func (m *Gemma) Forward(tokens []int, start int, adds map[string][][]float64) (logits [][]float64, hooks map[string][][]float64) {
	hooks = map[string][][]float64{}
	seq := len(tokens)
	embed := m.weight("model.embed_tokens.weight")
	x := make([][]float64, seq)
	for i, t := range tokens {
		x[i] = make([]float64, m.d)
		for j := range m.d {
			x[i][j] = embed[t*m.d+j] * m.embedScale
		}
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
		freq := m.globalFreq
		if m.sliding[l] {
			freq = m.localFreq
		}
		x = at(fmt.Sprintf("blocks.%d.hook_resid_pre", l), x)
		qs, ks, vs := make([][]float64, seq), make([][]float64, seq), make([][]float64, seq)
		for i := range seq {
			h := m.norm(x[i], p+"input_layernorm.weight")
			qs[i] = m.linear(h, p+"self_attn.q_proj", m.heads*m.hd)
			ks[i] = m.linear(h, p+"self_attn.k_proj", m.kvH*m.hd)
			vs[i] = m.linear(h, p+"self_attn.v_proj", m.kvH*m.hd)
			for hh := range m.heads {
				q := qs[i][hh*m.hd : (hh+1)*m.hd]
				if m.typ == "gemma3_text" {
					copy(q, m.norm(q, p+"self_attn.q_norm.weight"))
				}
				rotateHalf(q, start+i, freq)
			}
			for hh := range m.kvH {
				k := ks[i][hh*m.hd : (hh+1)*m.hd]
				if m.typ == "gemma3_text" {
					copy(k, m.norm(k, p+"self_attn.k_norm.weight"))
				}
				rotateHalf(k, start+i, freq)
			}
		}
		attnOut := make([][]float64, seq)
		for i := range seq {
			heads := make([]float64, m.heads*m.hd)
			for hh := range m.heads {
				kv := hh / groups
				q := qs[i][hh*m.hd : (hh+1)*m.hd]
				var idx []int
				var scores []float64
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					if m.sliding[l] && m.window > 0 && i-j >= m.window {
						continue
					}
					s := 0.0
					for e := range m.hd {
						s += q[e] * ks[j][kv*m.hd+e]
					}
					s *= m.scale
					if m.attnCap > 0 {
						s = m.attnCap * math.Tanh(s/m.attnCap)
					}
					idx, scores = append(idx, j), append(scores, s)
					mx = math.Max(mx, s)
				}
				sum := 0.0
				for n := range scores {
					scores[n] = math.Exp(scores[n] - mx)
					sum += scores[n]
				}
				for n, j := range idx {
					for e := range m.hd {
						heads[hh*m.hd+e] += scores[n] / sum * vs[j][kv*m.hd+e]
					}
				}
			}
			attnOut[i] = m.norm(m.linear(heads, p+"self_attn.o_proj", m.d), p+"post_attention_layernorm.weight")
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
			h := m.norm(x[i], p+"pre_feedforward_layernorm.weight")
			g := m.linear(h, p+"mlp.gate_proj", m.ffn)
			u := m.linear(h, p+"mlp.up_proj", m.ffn)
			for j := range g {
				g[j] = gelu(g[j]) * u[j]
			}
			mlpOut[i] = m.norm(m.linear(g, p+"mlp.down_proj", m.d), p+"post_feedforward_layernorm.weight")
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
		final[i] = m.norm(x[i], "model.norm.weight")
	}
	final = at("ln_final.hook_normalized", final)
	head := "lm_head"
	if _, ok := m.weights["lm_head.weight"]; !ok {
		head = "model.embed_tokens"
	}
	vocab := len(m.weight(head+".weight")) / m.d
	logits = make([][]float64, seq)
	for i := range seq {
		logits[i] = m.linear(final[i], head, vocab)
		if m.finalCap > 0 {
			for j, z := range logits[i] {
				logits[i][j] = m.finalCap * math.Tanh(z/m.finalCap)
			}
		}
	}
	return logits, hooks
}

// Greedy is Model.Greedy for Gemma: n argmax tokens, recomputing the whole sequence each time.
func (m *Gemma) Greedy(prompt []int, n int, adds map[string][][]float64) ([]int, [][]float64) {
	return greedy(m.Forward, prompt, n, adds)
}
