package llama

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/lm/lmrun"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a Llama-family model whose weights live on a backend.
type Model struct {
	// Name says what the weights are: a Hugging Face repo id, a local checkpoint's path
	// relative to the repository (or its folder's name), or the description of random weights.
	// Figures and results print it.
	Name string
	// Revision pins the weights: the Hugging Face commit of a hub model, or
	// "sha256:<prefix>" of a local checkpoint's files; "" for weights given to New.
	Revision string
	Config   Config
	// PackBlocks makes NewPackedProgram build the blocks' matrices into its graphs too, not
	// only the LM head, so that the go backend packs them once rather than on every call: it
	// pays on decoding steps of few rows, at the cost of two more copies of those weights per
	// graph.
	PackBlocks bool

	lmrun.Store // the weights, in the order of kinds
	kinds       []paramKind

	runs lmrun.Runs // Run's programs, by captured points
}

// paramKind names a graph input: the packed form of one or more checkpoint tensors.
type paramKind struct {
	layer int // -1 outside the blocks
	what  string
}

// Graph inputs, in this order: embed, norm, [head], then per block the block kinds that the
// config has, then headT.
const (
	kEmbed      = "embed"      // embed_tokens [vocab, d]
	kNorm       = "norm"       // model.norm [d]
	kHead       = "head"       // lm_head [vocab, d], untied only
	kHeadT      = "headT"      // the LM head transposed, [d, vocab]
	kInputNorm  = "input_norm" // [d]
	kQKV        = "qkv"        // q, k, v projections transposed and side by side: [d, (heads + 2·kv_heads)·head_dim]
	kQKVBias    = "qkv_bias"
	kQNorm      = "q_norm" // [head_dim]
	kKNorm      = "k_norm"
	kO          = "o" // o_proj transposed, [heads·head_dim, d]
	kOBias      = "o_bias"
	kPostNorm   = "post_norm"
	kGateUp     = "gate_up" // gate and up projections transposed, side by side: [d, 2·ffn]
	kGateUpBias = "gate_up_bias"
	kDown       = "down" // down_proj transposed, [ffn, d]
	kDownBias   = "down_bias"
)

// blockKinds lists the graph inputs of one block for config c.
func blockKinds(c Config) []string {
	k := []string{kInputNorm, kQKV}
	if c.QKVBias() {
		k = append(k, kQKVBias)
	}
	if c.QKNorm() {
		k = append(k, kQNorm, kKNorm)
	}
	k = append(k, kO)
	if c.OBias() {
		k = append(k, kOBias)
	}
	if c.Gemma != nil {
		k = append(k, kAttnOutNorm, kMLPOutNorm)
	}
	k = append(k, kPostNorm, kGateUp)
	if c.MLPBias {
		k = append(k, kGateUpBias)
	}
	k = append(k, kDown)
	if c.MLPBias {
		k = append(k, kDownBias)
	}
	return k
}

// New puts weights (Hugging Face names, as WeightShapes lists them) on backend. Projections
// are stored transposed and fused (q|k|v, gate|up) in new float32 copies; the embedding, the
// LM head and the norm weights are shared with the slices given where the backend allows: do
// not modify them afterwards.
func New(backend compute.Backend, name string, cfg Config, weights map[string]checkpoint.Tensor) (*Model, error) {
	return build(backend, name, cfg, func(names []string) (map[string]checkpoint.Tensor, error) {
		out := map[string]checkpoint.Tensor{}
		for _, n := range names {
			if t, ok := weights[n]; ok {
				out[n] = t
			}
		}
		return out, nil
	})
}

// build packs the weights, fetching the checkpoint tensors a few at a time (one block's, or
// the embeddings) so that a loader needs to hold only those beside the packed copies.
func build(backend compute.Backend, name string, cfg Config, fetch func(names []string) (map[string]checkpoint.Tensor, error)) (*Model, error) {
	if backend == nil {
		return nil, fmt.Errorf("llama: nil backend (use backend.New())")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	shapes := WeightShapes(cfg)
	m := &Model{Name: name, Config: cfg}
	var params []*tensors.Tensor
	get := func(names ...string) (map[string]checkpoint.Tensor, error) {
		got, err := fetch(names)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			t, ok := got[n]
			if !ok {
				return nil, fmt.Errorf("llama: weight %q is missing (a %s checkpoint with this config.json has %d tensors)", n, cfg.ModelType, len(shapes))
			}
			if !slices.Equal(t.Shape, shapes[n]) || len(t.Data) != product(shapes[n]) {
				return nil, fmt.Errorf("llama: weight %q has shape %v (%d values), want %v for this config.json", n, t.Shape, len(t.Data), shapes[n])
			}
		}
		return got, nil
	}
	add := func(layer int, what string, data []float32, dims ...int) {
		params = append(params, tensors.FromFlatDataAndDimensions(data, dims...))
		m.kinds = append(m.kinds, paramKind{layer, what})
	}
	d, v, f := cfg.HiddenSize, cfg.VocabSize, cfg.IntermediateSize
	q, kv := cfg.NumAttentionHeads*cfg.HeadDim, cfg.NumKeyValueHeads*cfg.HeadDim

	top := []string{"model.embed_tokens.weight", "model.norm.weight"}
	if !cfg.TieWordEmbeddings {
		top = append(top, "lm_head.weight")
	}
	w, err := get(top...)
	if err != nil {
		return nil, err
	}
	embed := w["model.embed_tokens.weight"].Data
	head := embed
	add(-1, kEmbed, embed, v, d)
	add(-1, kNorm, normWeight(cfg, w["model.norm.weight"].Data), d)
	if !cfg.TieWordEmbeddings {
		head = w["lm_head.weight"].Data
		add(-1, kHead, head, v, d)
	}
	for l := range cfg.NumHiddenLayers {
		p := layerPrefix(l)
		names := []string{}
		for n := range shapes {
			if len(n) > len(p) && n[:len(p)] == p {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		w, err := get(names...)
		if err != nil {
			return nil, err
		}
		t := func(s string) []float32 { return w[p+s].Data }
		for _, k := range blockKinds(cfg) {
			switch k {
			case kInputNorm:
				add(l, k, normWeight(cfg, t("input_layernorm.weight")), d)
			case kQKV:
				add(l, k, transposeConcat(d, t("self_attn.q_proj.weight"), t("self_attn.k_proj.weight"), t("self_attn.v_proj.weight")), d, q+2*kv)
			case kQKVBias:
				add(l, k, slices.Concat(t("self_attn.q_proj.bias"), t("self_attn.k_proj.bias"), t("self_attn.v_proj.bias")), q+2*kv)
			case kQNorm:
				add(l, k, normWeight(cfg, t("self_attn.q_norm.weight")), cfg.HeadDim)
			case kKNorm:
				add(l, k, normWeight(cfg, t("self_attn.k_norm.weight")), cfg.HeadDim)
			case kO:
				add(l, k, transposeConcat(q, t("self_attn.o_proj.weight")), q, d)
			case kOBias:
				add(l, k, t("self_attn.o_proj.bias"), d)
			case kPostNorm:
				add(l, k, normWeight(cfg, t(preMLPNorm(cfg))), d)
			case kAttnOutNorm:
				add(l, k, normWeight(cfg, t("post_attention_layernorm.weight")), d)
			case kMLPOutNorm:
				add(l, k, normWeight(cfg, t("post_feedforward_layernorm.weight")), d)
			case kGateUp:
				add(l, k, transposeConcat(d, t("mlp.gate_proj.weight"), t("mlp.up_proj.weight")), d, 2*f)
			case kGateUpBias:
				add(l, k, slices.Concat(t("mlp.gate_proj.bias"), t("mlp.up_proj.bias")), 2*f)
			case kDown:
				add(l, k, transposeConcat(f, t("mlp.down_proj.weight")), f, d)
			case kDownBias:
				add(l, k, t("mlp.down_proj.bias"), d)
			}
		}
	}
	// A transposed copy of the LM head [d, vocab] makes the logits projection of Forward a plain
	// [in, out] matmul; decoding steps use the head itself (LogitsByToken).
	add(-1, kHeadT, transposeConcat(d, head), d, v)
	lmrun.InitStore(&m.Store, backend, params)
	// Move the weights to the backend now (shared with Go memory where the backend allows), not
	// lazily on a first call that may come from several goroutines at once.
	for i, t := range m.Params() {
		if err := t.MaterializeOnDevice(backend, true, 0); err != nil {
			return nil, fmt.Errorf("llama: putting weight %d (%v) on the backend: %w", i, m.kinds[i], err)
		}
	}
	return m, nil
}

// transposeConcat transposes row-major matrices [rows_i, in] and lays them side by side as one
// [in, Σ rows_i] matrix: nn.Linear weights [out, in] become one [in, out] weight.
func transposeConcat(in int, mats ...[]float32) []float32 {
	total := 0
	for _, a := range mats {
		total += len(a) / in
	}
	out := make([]float32, in*total)
	col := 0
	const tile = 64
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, a := range mats {
		rows := len(a) / in
		for r0 := 0; r0 < rows; r0 += tile {
			wg.Add(1)
			sem <- struct{}{}
			go func(a []float32, r0, col int) { // tiles of rows write disjoint columns
				defer func() { <-sem; wg.Done() }()
				for c0 := 0; c0 < in; c0 += tile {
					for r := r0; r < min(r0+tile, rows); r++ {
						for c := c0; c < min(c0+tile, in); c++ {
							out[c*total+col+r] = a[r*in+c]
						}
					}
				}
			}(a, r0, col)
		}
		col += rows
	}
	wg.Wait()
	return out
}

func (m *Model) usable() error { return lmrun.Usable(&m.Store, "llama", m.Name) }

// Weights are a model's weights as nodes of one graph.
type Weights struct {
	Config Config
	Embed  *Node // embed_tokens [vocab, d]
	Head   *Node // the LM head [vocab, d]: Embed when tied
	HeadT  *Node // the LM head transposed, [d, vocab]
	Norm   *Node // the final RMSNorm's factor [d] (Gemma: 1 + the stored weight)
	Blocks []BlockWeights
}

// BlockWeights are one block's weights, transposed to [in, out]; nil where the config has none.
type BlockWeights struct {
	InputNorm, PostNorm *Node // RMSNorm factors [d] before attention and before the MLP
	// Gemma's RMSNorm factors [d] on the attention and MLP outputs (post_attention_layernorm,
	// post_feedforward_layernorm). Every norm factor of a Gemma model is 1 + the stored weight.
	AttnOutNorm, MLPOutNorm *Node
	QKV, QKVBias            *Node // [d, (heads + 2·kv_heads)·head_dim], queries then keys then values
	QNorm, KNorm            *Node // Qwen3's per-head RMSNorm weights [head_dim]
	O, OBias                *Node // [heads·head_dim, d]
	GateUp, GateUpBias      *Node // [d, 2·ffn], gate then up
	Down, DownBias          *Node // [ffn, d]
}

// Weights wraps the first NumParams() inputs of a graph (fed with Params()) as the model's
// weights. Call it once per graph being built: each call counts as one build in Builds().
func (m *Model) Weights(params []*Node) *Weights {
	lmrun.CountBuild(&m.Store)
	if len(params) != len(m.kinds) {
		panic(fmt.Sprintf("llama: Weights needs %d parameter nodes, got %d", len(m.kinds), len(params)))
	}
	w := &Weights{Config: m.Config, Blocks: make([]BlockWeights, m.Config.NumHiddenLayers)}
	for i, k := range m.kinds {
		n := params[i]
		if k.layer < 0 {
			switch k.what {
			case kEmbed:
				w.Embed = n
			case kNorm:
				w.Norm = n
			case kHead:
				w.Head = n
			case kHeadT:
				w.HeadT = n
			}
			continue
		}
		b := &w.Blocks[k.layer]
		*map[string]**Node{
			kInputNorm: &b.InputNorm, kPostNorm: &b.PostNorm, kQKV: &b.QKV, kQKVBias: &b.QKVBias,
			kQNorm: &b.QNorm, kKNorm: &b.KNorm, kO: &b.O, kOBias: &b.OBias, kGateUp: &b.GateUp,
			kGateUpBias: &b.GateUpBias, kDown: &b.Down, kDownBias: &b.DownBias,
			kAttnOutNorm: &b.AttnOutNorm, kMLPOutNorm: &b.MLPOutNorm,
		}[k.what] = n
	}
	if w.Head == nil {
		w.Head = w.Embed
	}
	return w
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
