package reference

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
)

func tinyConfig(nLayer, nHead, d, vocab, nPos int) checkpoint.Config {
	return checkpoint.Config{
		NLayer: nLayer, NHead: nHead, NEmbd: d, NPositions: nPos, VocabSize: vocab,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new",
	}
}

// zeroWeights returns all-zero tensors of the expected shapes, except LayerNorm scales = 1.
func zeroWeights(cfg checkpoint.Config) map[string]checkpoint.Tensor {
	w := map[string]checkpoint.Tensor{}
	for name, shape := range checkpoint.ExpectedShapes(cfg) {
		n := 1
		for _, s := range shape {
			n *= s
		}
		t := checkpoint.Tensor{Shape: shape, Data: make([]float32, n)}
		if strings.HasSuffix(name, "ln_1.weight") || strings.HasSuffix(name, "ln_2.weight") || name == "ln_f.weight" {
			for i := range t.Data {
				t.Data[i] = 1
			}
		}
		w[name] = t
	}
	return w
}

// randomWeights fills every tensor with deterministic pseudo-random values; LayerNorm scales
// are around 1, everything else around 0 with a spread large enough to exercise nonlinearities.
func randomWeights(cfg checkpoint.Config, seed uint64) map[string]checkpoint.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	w := zeroWeights(cfg)
	for _, name := range slices.Sorted(maps.Keys(w)) {
		t := w[name]
		for i := range t.Data {
			v := float32(rng.NormFloat64() * 0.4)
			if strings.HasSuffix(name, "ln_1.weight") || strings.HasSuffix(name, "ln_2.weight") || name == "ln_f.weight" {
				v = 1 + v/2
			}
			t.Data[i] = v
		}
	}
	return w
}

func mustNew(t *testing.T, cfg checkpoint.Config, w map[string]checkpoint.Tensor) *Model {
	t.Helper()
	m, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustForward(t *testing.T, m *Model, tokens []int, adds map[string][][]float64) ([][]float64, map[string][][]float64) {
	t.Helper()
	logits, hooks, err := m.Forward(tokens, adds)
	if err != nil {
		t.Fatal(err)
	}
	return logits, hooks
}

func assertClose(t *testing.T, what string, got, want [][]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: row %d has %d columns, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if diff := math.Abs(got[i][j] - want[i][j]); diff > tol*(1+math.Abs(want[i][j])) || math.IsNaN(got[i][j]) {
				t.Fatalf("%s[%d][%d] = %.17g, want %.17g (diff %.3g)", what, i, j, got[i][j], want[i][j], diff)
			}
		}
	}
}

func assertEqual(t *testing.T, what string, got, want [][]float64) {
	t.Helper()
	assertClose(t, what, got, want, 0)
}

// TestPrimitives checks the building blocks against constants computed independently.
func TestPrimitives(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0, 0}, {1, 0.8411919906082768}, {-1, -0.15880800939172324}, {2.5, 2.484915733910001},
	} {
		if got := geluNew(c.x); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("geluNew(%g) = %.17g, want %.17g", c.x, got, c.want)
		}
	}
	// gelu_new approximates the exact GELU x·Φ(x) to within ~1e-3.
	for x := -6.0; x <= 6; x += 0.25 {
		exact := x * 0.5 * (1 + math.Erf(x/math.Sqrt2))
		if d := math.Abs(geluNew(x) - exact); d > 1e-3 {
			t.Errorf("geluNew(%g) is %g away from exact GELU", x, d)
		}
	}
	ln := layerNorm([][]float64{{1, 2, 3, 4}}, []float64{1, 1, 1, 1}, []float64{0, 0, 0, 0}, 0)
	assertClose(t, "layerNorm", ln, [][]float64{{-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738}}, 1e-15)
	ln = layerNorm([][]float64{{1, 2, 3, 4}}, []float64{2, 2, 2, 2}, []float64{1, 0, 0, 0}, 0)
	assertClose(t, "layerNorm scaled", ln, [][]float64{{1 - 2*1.3416407864998738, -2 * 0.4472135954999579, 2 * 0.4472135954999579, 2 * 1.3416407864998738}}, 1e-15)
	sm := softmax([]float64{1, 2, 3})
	assertClose(t, "softmax", [][]float64{sm}, [][]float64{{0.09003057317038046, 0.24472847105479767, 0.6652409557748219}}, 1e-15)
	// Large scores must not overflow.
	sm = softmax([]float64{1000, 1000})
	assertClose(t, "softmax large", [][]float64{sm}, [][]float64{{0.5, 0.5}}, 0)
}

// TestHandComputed runs a 1-layer, 2-head, d=4 model whose weights make every step computable
// in closed form: the embeddings sum to ±u with u = [1,-1,1,-1], so ln_1 gives ±κ·u with
// κ = 1/sqrt(1+eps); head 0 has a constant query [2,0], keys and values [h[0],0]; head 1 has a
// constant value [0,3]; c_proj is the identity; the MLP outputs gelu_new(1) in dimension 1.
func TestHandComputed(t *testing.T) {
	cfg := tinyConfig(1, 2, 4, 3, 3)
	eps := cfg.LayerNormEpsilon
	w := zeroWeights(cfg)
	set := func(name string, vals ...float32) { copy(w[name].Data, vals) }
	set("wte.weight",
		0.5, -0.5, 0.5, -0.5,
		-1.5, 1.5, -1.5, 1.5,
		1, 2, 3, 4)
	set("wpe.weight",
		0.5, -0.5, 0.5, -0.5,
		0.5, -0.5, 0.5, -0.5,
		9, 9, 9, 9)
	cAttnW, cAttnB := w["h.0.attn.c_attn.weight"].Data, w["h.0.attn.c_attn.bias"].Data // [4][12]: q0 q0 q1 q1 | k0 k0 k1 k1 | v0 v0 v1 v1
	cAttnB[0] = 2                                                                      // q head 0 = [2, 0]
	cAttnW[0*12+4] = 1                                                                 // k head 0 = [h[0], 0]
	cAttnW[0*12+8] = 1                                                                 // v head 0 = [h[0], 0]
	cAttnB[11] = 3                                                                     // v head 1 = [0, 3]
	cAttnW[1*12+6] = 5                                                                 // k head 1 varies; irrelevant since v head 1 is constant
	cAttnB[2] = 1
	proj := w["h.0.attn.c_proj.weight"].Data
	for i := range 4 {
		proj[i*4+i] = 1
	}
	w["h.0.mlp.c_fc.bias"].Data[0] = 1         // hidden[0] = gelu_new(1), others gelu_new(0) = 0
	w["h.0.mlp.c_proj.weight"].Data[0*4+1] = 1 // mlp_out = [0, gelu_new(1), 0, 0]

	m := mustNew(t, cfg, w)
	logits, hooks := mustForward(t, m, []int{0, 1}, nil)

	kappa := 1 / math.Sqrt(1+eps)

	x := [][]float64{{1, -1, 1, -1}, {-1, 1, -1, 1}}
	// Position 0 sees only itself: z head 0 = v_0 = [κ, 0]. Position 1: scores q·k/sqrt(head_dim)
	// = 2·(±κ)/√2, so z = κ·p0 − κ·p1 = κ·tanh(√2·κ).
	attn := [][]float64{{kappa, 0, 0, 3}, {kappa * math.Tanh(math.Sqrt2*kappa), 0, 0, 3}}
	g1 := 0.8411919906082768
	mlpOut := [][]float64{{0, g1, 0, 0}, {0, g1, 0, 0}}
	var mid, post, normed [][]float64
	for i := range 2 {
		mid = append(mid, make([]float64, 4))
		post = append(post, make([]float64, 4))
		for j := range 4 {
			mid[i][j] = x[i][j] + attn[i][j]
			post[i][j] = mid[i][j] + mlpOut[i][j]
		}
		// LayerNorm by hand: mean, biased variance.
		p := post[i]
		mean := (p[0] + p[1] + p[2] + p[3]) / 4
		vr := ((p[0]-mean)*(p[0]-mean) + (p[1]-mean)*(p[1]-mean) + (p[2]-mean)*(p[2]-mean) + (p[3]-mean)*(p[3]-mean)) / 4
		s := math.Sqrt(vr + eps)
		normed = append(normed, []float64{(p[0] - mean) / s, (p[1] - mean) / s, (p[2] - mean) / s, (p[3] - mean) / s})
	}
	wte := [][]float64{{0.5, -0.5, 0.5, -0.5}, {-1.5, 1.5, -1.5, 1.5}, {1, 2, 3, 4}}
	var wantLogits [][]float64
	for i := range 2 {
		row := make([]float64, 3)
		for v := range 3 {
			for j := range 4 {
				row[v] += normed[i][j] * wte[v][j]
			}
		}
		wantLogits = append(wantLogits, row)
	}

	const tol = 1e-12
	assertClose(t, "hook_embed", hooks["hook_embed"], [][]float64{wte[0], wte[1]}, tol)
	assertClose(t, "hook_pos_embed", hooks["hook_pos_embed"], [][]float64{{0.5, -0.5, 0.5, -0.5}, {0.5, -0.5, 0.5, -0.5}}, tol)
	assertClose(t, "resid_pre", hooks["blocks.0.hook_resid_pre"], x, tol)
	assertClose(t, "attn_out", hooks["blocks.0.hook_attn_out"], attn, tol)
	assertClose(t, "resid_mid", hooks["blocks.0.hook_resid_mid"], mid, tol)
	assertClose(t, "mlp_out", hooks["blocks.0.hook_mlp_out"], mlpOut, tol)
	assertClose(t, "resid_post", hooks["blocks.0.hook_resid_post"], post, tol)
	assertClose(t, "ln_final", hooks["ln_final.hook_normalized"], normed, tol)
	assertClose(t, "logits", logits, wantLogits, tol)
	if len(hooks) != 8 {
		t.Errorf("got %d hooks, want 8", len(hooks))
	}
}

// naiveLogits is a second, structurally different forward pass written in the test: it reads
// the float32 tensors by name with explicit index arithmetic and builds the full T×T score
// matrix with a -Inf causal mask.
func naiveLogits(cfg checkpoint.Config, w map[string]checkpoint.Tensor, tokens []int) [][]float64 {
	d, T, nh := cfg.NEmbd, len(tokens), cfg.NHead
	hd := d / nh
	at := func(name string, i int) float64 { return float64(w[name].Data[i]) }
	ln := func(x []float64, prefix string) []float64 {
		var mean, sq float64
		for _, v := range x {
			mean += v / float64(d)
		}
		for _, v := range x {
			sq += (v - mean) * (v - mean) / float64(d)
		}
		y := make([]float64, d)
		for j := range d {
			y[j] = (x[j]-mean)/math.Sqrt(sq+cfg.LayerNormEpsilon)*at(prefix+".weight", j) + at(prefix+".bias", j)
		}
		return y
	}
	lin := func(x []float64, prefix string, in, out int) []float64 {
		y := make([]float64, out)
		for o := range out {
			y[o] = at(prefix+".bias", o)
			for i := range in {
				y[o] += x[i] * at(prefix+".weight", i*out+o)
			}
		}
		return y
	}
	x := make([][]float64, T)
	for p, tok := range tokens {
		x[p] = make([]float64, d)
		for j := range d {
			x[p][j] = at("wte.weight", tok*d+j) + at("wpe.weight", p*d+j)
		}
	}
	for l := range cfg.NLayer {
		pre := fmt.Sprintf("h.%d.", l)
		qkv := make([][]float64, T)
		for p := range T {
			qkv[p] = lin(ln(x[p], pre+"ln_1"), pre+"attn.c_attn", d, 3*d)
		}
		z := make([][]float64, T)
		for p := range T {
			z[p] = make([]float64, d)
		}
		for h := range nh {
			for i := range T {
				sc := make([]float64, T)
				mx := math.Inf(-1)
				for j := range T {
					sc[j] = math.Inf(-1)
					if j <= i {
						sc[j] = 0
						for c := range hd {
							sc[j] += qkv[i][h*hd+c] * qkv[j][d+h*hd+c]
						}
						sc[j] /= math.Sqrt(float64(hd))
					}
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range T {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range T {
					for c := range hd {
						z[i][h*hd+c] += sc[j] / sum * qkv[j][2*d+h*hd+c]
					}
				}
			}
		}
		for p := range T {
			a := lin(z[p], pre+"attn.c_proj", d, d)
			for j := range d {
				x[p][j] += a[j]
			}
			hid := lin(ln(x[p], pre+"ln_2"), pre+"mlp.c_fc", d, 4*d)
			for k, v := range hid {
				hid[k] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
			}
			m := lin(hid, pre+"mlp.c_proj", 4*d, d)
			for j := range d {
				x[p][j] += m[j]
			}
		}
	}
	logits := make([][]float64, T)
	for p := range T {
		f := ln(x[p], "ln_f")
		logits[p] = make([]float64, cfg.VocabSize)
		for v := range cfg.VocabSize {
			for j := range d {
				logits[p][v] += f[j] * at("wte.weight", v*d+j)
			}
		}
	}
	return logits
}

func TestMatchesNaive(t *testing.T) {
	for _, c := range []struct{ layers, heads, d int }{{1, 1, 4}, {2, 2, 4}, {3, 3, 6}} {
		t.Run(fmt.Sprintf("L%dH%dD%d", c.layers, c.heads, c.d), func(t *testing.T) {
			cfg := tinyConfig(c.layers, c.heads, c.d, 7, 8)
			w := randomWeights(cfg, uint64(c.layers*100+c.heads))
			tokens := []int{3, 0, 6, 6, 1, 2}
			logits, _ := mustForward(t, mustNew(t, cfg, w), tokens, nil)
			assertClose(t, "logits", logits, naiveLogits(cfg, w, tokens), 1e-12)
		})
	}
}

// TestHeadLayout checks that head h's q/k columns pair with head h's rows of c_proj:
// with head 1's output projection zeroed, changing head 1's queries and keys has no effect,
// while changing head 0's does.
func TestHeadLayout(t *testing.T) {
	cfg := tinyConfig(1, 2, 4, 5, 6)
	hd := 2
	w := randomWeights(cfg, 7)
	proj := w["h.0.attn.c_proj.weight"].Data
	for r := hd; r < 2*hd; r++ {
		for c := range 4 {
			proj[r*4+c] = 0
		}
	}
	tokens := []int{1, 4, 2, 0}
	base, _ := mustForward(t, mustNew(t, cfg, w), tokens, nil)
	perturb := func(head int) [][]float64 {
		w2 := randomWeights(cfg, 7)
		copy(w2["h.0.attn.c_proj.weight"].Data, proj)
		cw := w2["h.0.attn.c_attn.weight"].Data
		for i := range 4 {
			for c := range hd {
				cw[i*12+head*hd+c] *= -3     // query of head
				cw[i*12+4+head*hd+c] += 0.75 // key of head
			}
		}
		l, _ := mustForward(t, mustNew(t, cfg, w2), tokens, nil)
		return l
	}
	assertClose(t, "head 1 perturbed", perturb(1), base, 1e-13)
	changed := perturb(0)
	if math.Abs(changed[3][0]-base[3][0]) < 1e-6 {
		t.Errorf("perturbing head 0 did not change the logits")
	}
}

func TestHookIdentities(t *testing.T) {
	cfg := tinyConfig(3, 2, 4, 6, 8)
	w := randomWeights(cfg, 3)
	m := mustNew(t, cfg, w)
	tokens := []int{5, 1, 1, 0, 3}
	logits, hooks := mustForward(t, m, tokens, nil)
	if want := 3 + 5*cfg.NLayer; len(hooks) != want {
		t.Fatalf("got %d hooks, want %d", len(hooks), want)
	}
	sum := func(a, b [][]float64) [][]float64 { return addMatrices(a, b) }
	assertClose(t, "resid_pre 0", hooks["blocks.0.hook_resid_pre"], sum(hooks["hook_embed"], hooks["hook_pos_embed"]), 1e-15)
	for l := range cfg.NLayer {
		h := func(s string) [][]float64 { return hooks[fmt.Sprintf("blocks.%d.hook_%s", l, s)] }
		assertClose(t, "resid_mid", h("resid_mid"), sum(h("resid_pre"), h("attn_out")), 1e-15)
		assertClose(t, "resid_post", h("resid_post"), sum(h("resid_mid"), h("mlp_out")), 1e-15)
		if l+1 < cfg.NLayer {
			assertEqual(t, "resid_pre next", hooks[fmt.Sprintf("blocks.%d.hook_resid_pre", l+1)], h("resid_post"))
		}
		for _, row := range h("resid_post") {
			if len(row) != cfg.NEmbd {
				t.Fatalf("hook width %d, want %d", len(row), cfg.NEmbd)
			}
		}
	}
	last := hooks[fmt.Sprintf("blocks.%d.hook_resid_post", cfg.NLayer-1)]
	lnf := layerNorm(last, m.lnfW, m.lnfB, cfg.LayerNormEpsilon)
	assertClose(t, "ln_final", hooks["ln_final.hook_normalized"], lnf, 1e-15)
	for p, row := range hooks["ln_final.hook_normalized"] {
		for v := range cfg.VocabSize {
			if got, want := logits[p][v], dot(row, m.wte[v*cfg.NEmbd:(v+1)*cfg.NEmbd]); math.Abs(got-want) > 1e-12 {
				t.Fatalf("logits[%d][%d] = %g, want ln_final·wte = %g", p, v, got, want)
			}
		}
	}
}

func TestCausal(t *testing.T) {
	cfg := tinyConfig(2, 2, 4, 6, 8)
	m := mustNew(t, cfg, randomWeights(cfg, 11))
	a := []int{1, 2, 3, 4, 5, 0}
	b := []int{1, 2, 3, 0, 0, 5} // differs from position 3 on
	la, ha := mustForward(t, m, a, nil)
	lb, hb := mustForward(t, m, b, nil)
	assertEqual(t, "logits[:3]", lb[:3], la[:3])
	for name := range ha {
		assertEqual(t, name+"[:3]", hb[name][:3], ha[name][:3])
	}
	if la[3][0] == lb[3][0] {
		t.Errorf("logits at position 3 did not change with the token there")
	}
	// A prefix run gives the same values as the full run at the shared positions.
	lp, _ := mustForward(t, m, a[:4], nil)
	assertEqual(t, "prefix logits", lp, la[:4])
}

func TestAdds(t *testing.T) {
	cfg := tinyConfig(3, 2, 4, 6, 8)
	m := mustNew(t, cfg, randomWeights(cfg, 5))
	tokens := []int{0, 4, 2, 3, 1}
	base, baseHooks := mustForward(t, m, tokens, nil)

	zero := [][]float64{{0, 0, 0, 0}, {0, 0, 0, 0}}
	l0, h0 := mustForward(t, m, tokens, map[string][][]float64{"blocks.1.hook_resid_pre": zero})
	assertEqual(t, "zero add logits", l0, base)
	for name := range baseHooks {
		assertEqual(t, "zero add "+name, h0[name], baseHooks[name])
	}

	S := [][]float64{{0.5, -1, 2, 0.25}, {-0.75, 0.5, 0, 1.5}}
	orig := clone(S)
	ls, hs := mustForward(t, m, tokens, map[string][][]float64{"blocks.1.hook_resid_pre": S})
	assertEqual(t, "adds not modified", S, orig)
	for _, name := range []string{"hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.hook_attn_out", "blocks.0.hook_resid_post"} {
		assertEqual(t, "upstream "+name, hs[name], baseHooks[name])
	}
	want := clone(baseHooks["blocks.0.hook_resid_post"])
	for i, row := range S {
		for j, v := range row {
			want[i][j] += v
		}
	}
	assertEqual(t, "resid_pre after add", hs["blocks.1.hook_resid_pre"], want)
	assertEqual(t, "resid_post 0 before add", hs["blocks.0.hook_resid_post"], baseHooks["blocks.0.hook_resid_post"])
	if ls[4][0] == base[4][0] {
		t.Errorf("steering did not change the logits")
	}

	// An add at hook_embed and one at blocks.0.hook_resid_pre both shift resid_pre 0.
	le, _ := mustForward(t, m, tokens, map[string][][]float64{"hook_embed": S})
	lr, _ := mustForward(t, m, tokens, map[string][][]float64{"blocks.0.hook_resid_pre": S})
	assertClose(t, "embed vs resid_pre 0 add", le, lr, 1e-12)

	// An add at ln_final.hook_normalized shifts logits by S·wteᵀ.
	lf, _ := mustForward(t, m, tokens, map[string][][]float64{"ln_final.hook_normalized": S})
	for p := range tokens {
		for v := range cfg.VocabSize {
			wantL := base[p][v]
			if p < len(S) {
				wantL += dot(S[p], m.wte[v*4:(v+1)*4])
			}
			if math.Abs(lf[p][v]-wantL) > 1e-12 {
				t.Fatalf("ln_final add: logits[%d][%d] = %g, want %g", p, v, lf[p][v], wantL)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cfg := tinyConfig(2, 2, 4, 6, 8)
	w := randomWeights(cfg, 1)

	prefixed := map[string]checkpoint.Tensor{"h.0.attn.bias": {Shape: []int{1}, Data: []float32{1}}}
	for k, v := range w {
		prefixed["transformer."+k] = v
	}
	if _, err := New(cfg, prefixed); err != nil {
		t.Errorf("transformer. prefix and extra tensors: %v", err)
	}

	missing := randomWeights(cfg, 1)
	delete(missing, "h.1.mlp.c_fc.bias")
	badShape := randomWeights(cfg, 1)
	badShape["h.0.attn.c_attn.weight"] = checkpoint.Tensor{Shape: []int{12, 4}, Data: make([]float32, 48)}
	badLen := randomWeights(cfg, 1)
	badLen["ln_f.bias"] = checkpoint.Tensor{Shape: []int{4}, Data: make([]float32, 3)}
	badCfg := cfg
	badCfg.NHead = 3
	for name, c := range map[string]struct {
		cfg checkpoint.Config
		w   map[string]checkpoint.Tensor
	}{"missing": {cfg, missing}, "shape": {cfg, badShape}, "length": {cfg, badLen}, "config": {badCfg, w}} {
		if _, err := New(c.cfg, c.w); err == nil {
			t.Errorf("New with bad %s: no error", name)
		}
	}

	m := mustNew(t, cfg, w)
	row := []float64{1, 2, 3, 4}
	for name, c := range map[string]struct {
		tokens []int
		adds   map[string][][]float64
	}{
		"empty":         {nil, nil},
		"too long":      {make([]int, 9), nil},
		"bad token":     {[]int{0, 6}, nil},
		"negative":      {[]int{-1}, nil},
		"unknown hook":  {[]int{0}, map[string][][]float64{"blocks.0.hook_resid": {row}}},
		"no such layer": {[]int{0}, map[string][][]float64{"blocks.2.hook_resid_pre": {row}}},
		"leading zero":  {[]int{0}, map[string][][]float64{"blocks.01.hook_resid_pre": {row}}},
		"too wide":      {[]int{0}, map[string][][]float64{"blocks.0.hook_resid_pre": {{1, 2, 3, 4, 5}}}},
		"too many rows": {[]int{0}, map[string][][]float64{"blocks.0.hook_resid_pre": {row, row}}},
	} {
		if _, _, err := m.Forward(c.tokens, c.adds); err == nil {
			t.Errorf("Forward with %s: no error", name)
		}
	}
	if _, _, err := m.Forward(make([]int, 8), map[string][][]float64{"blocks.1.hook_mlp_out": {row}}); err != nil {
		t.Errorf("full-context forward with an add: %v", err)
	}
}
