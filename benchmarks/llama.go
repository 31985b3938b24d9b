package benchmarks

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/actadd-go/actadd/internal/abba"
	"github.com/actadd-go/actadd/llama"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/stat"
)

// LlamaShapes are the Llama-family model shapes the benchmarks time with random weights, as
// their config.json files on the Hugging Face hub give them.
var LlamaShapes = map[string]llama.Config{
	// HuggingFaceTB/SmolLM2-135M: a Llama with tied embeddings, 3 key/value heads for 9.
	"smollm2-135m": {ModelType: "llama", VocabSize: 49152, HiddenSize: 576, IntermediateSize: 1536, NumHiddenLayers: 30,
		NumAttentionHeads: 9, NumKeyValueHeads: 3, HeadDim: 64, MaxPositionEmbeddings: 8192, RMSNormEps: 1e-5,
		RopeTheta: 100000, TieWordEmbeddings: true, HiddenAct: "silu"},
	// A small stand-in for tests: Qwen2's biases, grouped queries.
	"tiny-qwen2": {ModelType: "qwen2", VocabSize: 300, HiddenSize: 32, IntermediateSize: 48, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 2, HeadDim: 8, MaxPositionEmbeddings: 128, RMSNormEps: 1e-6,
		RopeTheta: 1e6, TieWordEmbeddings: true, HiddenAct: "silu"},
	// Qwen/Qwen2.5-0.5B: q, k, v biases, tied embeddings, 2 key/value heads for 14.
	"qwen2.5-0.5b": {ModelType: "qwen2", VocabSize: 151936, HiddenSize: 896, IntermediateSize: 4864, NumHiddenLayers: 24,
		NumAttentionHeads: 14, NumKeyValueHeads: 2, HeadDim: 64, MaxPositionEmbeddings: 32768, RMSNormEps: 1e-6,
		RopeTheta: 1e6, TieWordEmbeddings: true, HiddenAct: "silu"},
}

// LlamaResult times one Llama-family shape: the forward pass (logits included, summed on the
// device) and greedy decoding with a KV cache, each interleaved with PyTorch's (ABBA).
type LlamaResult struct {
	Model         string  `json:"model"`
	Layers        int     `json:"layers"`
	Width         int     `json:"width"`
	Heads         int     `json:"heads"`
	KVHeads       int     `json:"kv_heads"`
	Vocab         int     `json:"vocab"`
	Tied          bool    `json:"tied"`
	Batch         int     `json:"batch"`
	Seq           int     `json:"seq"`
	Reps          int     `json:"reps"`
	WarmupForward float64 `json:"warmup_forward_seconds"`
	// Forward and TorchForward are the interleaved passes' seconds, pair by pair.
	Forward          []float64 `json:"forward_seconds"`
	TorchForward     []float64 `json:"torch_forward_seconds,omitempty"`
	ForwardGoMean    float64   `json:"forward_mean_seconds"`
	ForwardTorchMean float64   `json:"torch_forward_mean_seconds,omitempty"`
	ForwardRatio     *Interval `json:"forward_ratio,omitempty"`
	GenBatch         int       `json:"gen_batch"`
	GenBatches       int       `json:"gen_batches"`
	PromptTokens     int       `json:"prompt_tokens"`
	NewTokens        int       `json:"new_tokens"`
	WarmupGreedy     float64   `json:"warmup_greedy_seconds"`
	// Greedy and TorchGreedy are the interleaved batches' seconds.
	Greedy                     []float64 `json:"greedy_seconds"`
	TorchGreedy                []float64 `json:"torch_greedy_seconds,omitempty"`
	GreedyTokensPerSecond      float64   `json:"greedy_tokens_per_second"`
	TorchGreedyTokensPerSecond float64   `json:"torch_greedy_tokens_per_second,omitempty"`
	GreedyRatio                *Interval `json:"greedy_ratio,omitempty"`
}

// llamaTorchArgs are torch_reference.py's arguments for a Llama-family shape.
func llamaTorchArgs(c llama.Config) []string {
	args := []string{"--arch", "llama", "--n-layer", strconv.Itoa(c.NumHiddenLayers), "--n-embd", strconv.Itoa(c.HiddenSize),
		"--n-head", strconv.Itoa(c.NumAttentionHeads), "--n-kv-head", strconv.Itoa(c.NumKeyValueHeads),
		"--head-dim", strconv.Itoa(c.HeadDim), "--ffn", strconv.Itoa(c.IntermediateSize), "--vocab", strconv.Itoa(c.VocabSize),
		"--n-positions", strconv.Itoa(c.MaxPositionEmbeddings), "--rope-theta", strconv.FormatFloat(c.RopeTheta, 'g', -1, 64)}
	if c.QKVBias() {
		args = append(args, "--qkv-bias")
	}
	if c.TieWordEmbeddings {
		args = append(args, "--tied")
	}
	return args
}

// runLlama times the forward pass and greedy decoding of a random-weight model of shape mr.
func (r *run) runLlama(mr ModelReps) (*LlamaResult, error) {
	opts := r.opts
	cfg, err := llamaShape(mr.Model)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	m, err := llama.New(r.b, "random-weight "+mr.Model+"-shaped model", cfg, llama.RandomTensors(cfg, 1))
	if err != nil {
		return nil, err
	}
	defer m.Finalize()
	r.logf("built %s (%d layers × %d, %d/%d heads) in %s", m.Name, cfg.NumHiddenLayers, cfg.HiddenSize,
		cfg.NumAttentionHeads, cfg.NumKeyValueHeads, time.Since(t0).Round(time.Millisecond))
	res := &LlamaResult{Model: mr.Model, Layers: cfg.NumHiddenLayers, Width: cfg.HiddenSize, Heads: cfg.NumAttentionHeads,
		KVHeads: cfg.NumKeyValueHeads, Vocab: cfg.VocabSize, Tied: cfg.TieWordEmbeddings, Batch: opts.Batch, Seq: opts.Seq, Reps: mr.Reps,
		GenBatch: opts.GenBatch, GenBatches: opts.LlamaGenBatches, PromptTokens: 9, NewTokens: opts.GenNewTokens}

	var srv *torchServer
	if r.ref != nil {
		if srv, err = r.ref.serverArgs("llama:"+mr.Model, llamaTorchArgs(cfg), r.res.Reference.Forward); err != nil {
			return nil, err
		}
		defer r.ref.release("llama:" + mr.Model)
	}

	// Forward: Go's pass and PyTorch's, ABBA.
	if mr.Reps > 0 && opts.Batch > 0 && opts.Seq > 0 {
		prog, err := m.NewProgram("bench.forward", func(w *llama.Weights, in []*Node) []*Node {
			return []*Node{ReduceAllSum(w.Logits(w.Forward(in[0], in[1], nil)))}
		})
		if err != nil {
			return nil, err
		}
		defer prog.Finalize()
		rows := randomTokenRows(7, opts.Batch, opts.Seq, cfg.VocabSize)
		tok, err := m.TokensTensor(rows)
		if err != nil {
			return nil, err
		}
		pos := llama.PositionsTensor(opts.Batch, opts.Seq, 0)
		goPass := func() (float64, error) {
			t0 := time.Now()
			out, err := prog.Call(tok, pos)
			if err == nil {
				_ = tensors.ToScalar[float32](out[0])
			}
			return time.Since(t0).Seconds(), err
		}
		if res.WarmupForward, err = goPass(); err != nil {
			return nil, err
		}
		var torchPass func() (float64, error)
		if srv != nil {
			if err := srv.call(map[string]any{"op": "forward_setup", "batch": opts.Batch, "seq": opts.Seq, "steer_layer": 0, "steer_tokens": 1}, &struct{}{}); err != nil {
				return nil, err
			}
			prealloc := r.res.Reference.Forward.Prealloc
			torchPass = func() (float64, error) {
				return srv.seconds(map[string]any{"op": "forward", "steer": false, "prealloc": prealloc})
			}
			if _, err := torchPass(); err != nil { // warm-up
				return nil, err
			}
		}
		r.logf("llama forward %s %d×%d: warm-up %.2fs; %d timed pairs", mr.Model, opts.Batch, opts.Seq, res.WarmupForward, mr.Reps)
		res.Forward, res.TorchForward, err = timePairs(mr.Reps, goPass, torchPass, func(i int, g, t float64) {
			r.logf("llama forward %s pair %d/%d: Go %.3fs, PyTorch %.3fs", mr.Model, i+1, mr.Reps, g, t)
		})
		if err != nil {
			return nil, err
		}
		res.ForwardGoMean = stat.Mean(res.Forward, nil)
		if len(res.TorchForward) > 0 {
			res.ForwardTorchMean = stat.Mean(res.TorchForward, nil)
			iv := ratioInterval(res.Forward, res.TorchForward)
			res.ForwardRatio = &iv
		}
	}

	// Greedy decoding: batches of GenBatch rows, the same random prompt, Go and PyTorch ABBA.
	if opts.LlamaGenBatches > 0 && opts.GenBatch > 0 && opts.GenNewTokens > 0 {
		dec, err := newLlamaGreedy(m, opts.GenBatch, res.PromptTokens, opts.GenNewTokens)
		if err != nil {
			return nil, err
		}
		defer dec.finalize()
		prompt := randomTokenRows(0, 1, res.PromptTokens, cfg.VocabSize)[0]
		goArm := func() (float64, error) {
			t0 := time.Now()
			_, err := dec.run(prompt)
			return time.Since(t0).Seconds(), err
		}
		if res.WarmupGreedy, err = goArm(); err != nil {
			return nil, err
		}
		var torchArm func() (float64, error)
		if srv != nil {
			setup := r.res.Reference.Generation
			torchArm = func() (float64, error) {
				return srv.seconds(map[string]any{"op": "generate", "rows": opts.GenBatch, "prompt_tokens": res.PromptTokens,
					"new_tokens": opts.GenNewTokens, "temperature": 0.0, "top_p": 1.0, "freq_penalty": 0.0, "seed": 0, "prealloc": setup.Prealloc})
			}
			if _, err := torchArm(); err != nil { // warm-up
				return nil, err
			}
		}
		r.logf("llama greedy %s: warm-up batch %.2fs; %d batches of %d rows × %d new tokens", mr.Model, res.WarmupGreedy,
			opts.LlamaGenBatches, opts.GenBatch, opts.GenNewTokens)
		res.Greedy, res.TorchGreedy, err = timePairs(opts.LlamaGenBatches, goArm, torchArm, func(k int, g, t float64) {
			r.logf("llama greedy %s batch %d/%d: Go %.2fs, PyTorch %.2fs", mr.Model, k+1, opts.LlamaGenBatches, g, t)
		})
		if err != nil {
			return nil, err
		}
		tokens := float64(len(res.Greedy) * opts.GenBatch * opts.GenNewTokens)
		res.GreedyTokensPerSecond = tokens / sum(res.Greedy)
		if len(res.TorchGreedy) > 0 {
			res.TorchGreedyTokensPerSecond = tokens / sum(res.TorchGreedy)
			iv := ratioInterval(res.Greedy, res.TorchGreedy)
			res.GreedyRatio = &iv
		}
	}
	return res, nil
}

// timePairs times n interleaved pairs of goArm and torchArm (abba.Pair), or goArm alone when
// torchArm is nil, calling logPair after each, and returns their seconds (torchs nil without
// torchArm).
func timePairs(n int, goArm, torchArm func() (float64, error), logPair func(i int, g, t float64)) (gos, torchs []float64, err error) {
	for i := range n {
		var g, t float64
		if torchArm != nil {
			g, t, err = abba.Pair(i, goArm, torchArm)
			torchs = append(torchs, t)
		} else {
			g, err = goArm()
		}
		if err != nil {
			return nil, nil, err
		}
		gos = append(gos, g)
		logPair(i, g, t)
	}
	return gos, torchs, nil
}

// randomTokenRows are batch rows of seq token ids drawn from a seeded stream.
func randomTokenRows(seed uint64, batch, seq, vocab int) [][]int {
	state := seed*0x9E3779B97F4A7C15 + 1
	rows := make([][]int, batch)
	for b := range rows {
		rows[b] = make([]int, seq)
		for i := range rows[b] {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			rows[b][i] = int(state % uint64(vocab))
		}
	}
	return rows
}

// llamaGreedy decodes greedily with a KV cache: one prefill program, then one step program
// per new token whose weights are built in (llama.Model.NewPackedProgram), the argmax taken on
// the device, the cache donated to each step so that it is updated in place. It is the
// benchmark's own decoder for the family until the decoding engine serves it.
type llamaGreedy struct {
	m                     *llama.Model
	prefill, step         *llama.Program
	batch, prompt, newTok int
}

func newLlamaGreedy(m *llama.Model, batch, prompt, newTokens int) (*llamaGreedy, error) {
	nl, capacity := m.Config.NumHiddenLayers, prompt+newTokens
	prefill, err := m.NewProgram("bench.prefill", func(w *llama.Weights, in []*Node) []*Node {
		h, c := w.Prefill(in[0], in[1], nil, capacity)
		last := Squeeze(SliceAxis(h, 1, AxisElem(prompt-1)), 1)
		next := Reshape(ConvertDType(ArgMax(w.LogitsByToken(last), 0), dtypes.Int32), batch, 1)
		return append([]*Node{next}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		return nil, err
	}
	// The step's matrices are built in too (llama.Model.PackBlocks): the go backend then packs
	// each weight once instead of on every call, which otherwise takes about as long as a
	// step's matmuls themselves on few rows.
	packBlocks := m.PackBlocks
	m.PackBlocks = true
	defer func() { m.PackBlocks = packBlocks }()
	step, err := m.NewPackedProgram("bench.step", func(w *llama.Weights, in []*Node) []*Node {
		cache := &llama.KVCache{Keys: in[2 : 2+nl], Values: in[2+nl:]}
		h, c := w.Step(in[0], in[1], cache, nil)
		next := Reshape(ConvertDType(ArgMax(w.LogitsByToken(Squeeze(h, 1)), 0), dtypes.Int32), batch, 1)
		return append([]*Node{next}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		prefill.Finalize()
		return nil, err
	}
	return &llamaGreedy{m: m, prefill: prefill, step: step, batch: batch, prompt: prompt, newTok: newTokens}, nil
}

// run decodes newTok tokens for batch copies of prompt and returns them, [batch][newTok].
func (d *llamaGreedy) run(prompt []int) ([][]int32, error) {
	rows := make([][]int, d.batch)
	for i := range rows {
		rows[i] = prompt
	}
	tok, err := d.m.TokensTensor(rows)
	if err != nil {
		return nil, err
	}
	outs, err := d.prefill.Call(tok, llama.PositionsTensor(d.batch, d.prompt, 0))
	if err != nil {
		return nil, err
	}
	var produced []*tensors.Tensor
	for i := range d.newTok {
		produced = append(produced, outs[0])
		if i == d.newTok-1 {
			for _, t := range outs[1:] {
				t.FinalizeAll()
			}
			break
		}
		args := []any{outs[0], tensors.FromScalar(int32(d.prompt + i))}
		for _, t := range outs[1:] {
			donated, err := DonateTensorBuffer(t, d.m.Backend(), compute.DeviceNum(0))
			if err != nil {
				return nil, fmt.Errorf("reusing the KV cache: %w", err)
			}
			args = append(args, donated)
		}
		if outs, err = d.step.Call(args...); err != nil {
			return nil, err
		}
	}
	out := make([][]int32, d.batch)
	for _, t := range produced {
		flat := tensors.MustCopyFlatData[int32](t)
		for b := range out {
			out[b] = append(out[b], flat[b])
		}
		t.FinalizeAll()
	}
	return out, nil
}

func (d *llamaGreedy) finalize() {
	d.prefill.Finalize()
	d.step.Finalize()
}

// printLlama prints the Llama-family section of a run.
func printLlama(w io.Writer, res *Result) {
	if len(res.Llama) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "llama family (random weights)\tshape\tforward Go\tPyTorch\tratio [95%]\tgreedy Go tok/s\tPyTorch\tratio [95%]\t")
	for _, l := range res.Llama {
		fmt.Fprintf(tw, "%s\t%d×%d, %d/%d heads, vocab %d; %d×%d, %d×%d\t%.3fs\t%s\t%s\t%.1f\t%.1f\t%s\t\n", l.Model, l.Layers, l.Width, l.Heads, l.KVHeads, l.Vocab,
			l.Batch, l.Seq, l.GenBatch, l.NewTokens, l.ForwardGoMean, meanOrDash(l.TorchForward), interval(l.ForwardRatio),
			l.GreedyTokensPerSecond, l.TorchGreedyTokensPerSecond, interval(l.GreedyRatio))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// llamaSummary are the summary line's keys of the first Llama-family shape.
func llamaSummary(res *Result) string {
	f, g := "na", "na"
	if len(res.Llama) > 0 {
		if iv := res.Llama[0].ForwardRatio; iv != nil {
			f = fmt.Sprintf("%.2f", iv.Value)
		}
		if iv := res.Llama[0].GreedyRatio; iv != nil {
			g = fmt.Sprintf("%.2f", iv.Value)
		}
	}
	return "llama_forward_ratio_vs_torch=" + f + " llama_greedy_ratio_vs_torch=" + g
}

// ParseLlamaShapes parses a list such as "smollm2-135m:5,qwen2.5-0.5b:3" (shapes of LlamaShapes,
// forward pairs each; 3 when omitted).
func ParseLlamaShapes(s string) ([]ModelReps, error) {
	return parseModelReps(s, "shape", 0, func(name string) error {
		_, err := llamaShape(name)
		return err
	})
}

// llamaShape is LlamaShapes[name], or an error naming the shapes there are.
func llamaShape(name string) (llama.Config, error) {
	cfg, ok := LlamaShapes[name]
	if !ok {
		return cfg, fmt.Errorf("unknown Llama-family shape %q: use one of %s", name, strings.Join(slices.Sorted(maps.Keys(LlamaShapes)), ", "))
	}
	return cfg, nil
}
