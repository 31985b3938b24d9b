package actadd

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// decoder generates one batch: rows of equal prompt length, the first rows of its width its own
// and the rest padding (repeating the last row, so that every batch of a job has one shape). It
// is the decoding engine (the batch, the KV cache, the samplers) and knows nothing of steering:
// the passes over the prompts, which steering changes, are its prompts (steered.go).
//
// Each program of a decoding step ends in a sampling head: with the host sampler it returns the
// last position's logits [width, vocab], which sample.go draws from; with the device sampler it
// returns the drawn tokens, with each row's status (devsample.go). The programs' inputs are the
// token rows and positions, then the sampling inputs (device sampler, not greedy: the counts of
// every token in each row so far, the rows' uniforms and the sampler's numbers), then the
// prompts' own inputs (prefill, recomputation) or the KV cache (step).
type decoder struct {
	m         *Model
	prompts   prompts
	opts      GenerateOptions
	width     int     // rows of the batch, padding included
	rows      int     // the batch's own rows (not padding)
	seqs      [][]int // every row's tokens so far
	promptLen int
	done      []bool
	rngs      []*rand.Rand // each own row's random stream
	head      samplingHead
	samplers  []*sampler        // host sampler
	counts    *tensors.Tensor   // device sampler: [width, vocab] int32 counts of the tokens so far
	cache     []*tensors.Tensor // KV cache (lm.Cache's tensors, opaque), once prefilled
	stepProg  lm.Program        // the decoding step, once acquired
	release   func()            // releases stepProg
}

// prompts are the passes of a batch over its prompts: what steering changes in generation.
type prompts interface {
	// same reports whether every row of the batch has the same prompt and the same steering,
	// so that one row's prefill serves them all.
	same() bool
	// prefill runs the rows' prompts seqs (one row when shared, for all width rows), and
	// returns the outputs of head, built on the last position's logits with the sampling
	// inputs, then the KV cache with room for capacity positions.
	prefill(seqs [][]int, capacity int, head samplingHead, sampling []any, shared bool, width int) ([]*tensors.Tensor, error)
	// last runs the rows' whole sequences and returns the outputs of head at the last position.
	last(seqs [][]int, head samplingHead, sampling []any) ([]*tensors.Tensor, error)
	// rowError says which of the caller's rows own row b is.
	rowError(b int, err error) error
}

// newDecoder prepares a batch of width rows starting from seqs (width rows), the first rows of
// them its own, each drawing from its random stream.
func (m *Model) newDecoder(p prompts, seqs [][]int, rows int, streams []uint64, opts GenerateOptions) *decoder {
	d := &decoder{m: m, prompts: p, opts: opts, width: len(seqs), rows: rows,
		head: samplingHead{device: opts.Sampler == SamplerDevice, mode: opts.Sampling.mode(m.VocabSize())}}
	if tv := m.Tok.VocabSize(); tv < m.VocabSize() {
		d.head.tokens = tv
	}
	d.seqs = make([][]int, len(seqs))
	for b, s := range seqs {
		d.seqs[b] = slices.Clone(s)
	}
	d.promptLen = len(d.seqs[0])
	d.done = make([]bool, d.rows)
	for b, stream := range streams {
		d.rngs = append(d.rngs, rowRand(opts.Sampling, stream))
		if !d.head.device {
			d.samplers = append(d.samplers, newSampler(opts.Sampling, d.seqs[b]))
		}
	}
	return d
}

func (d *decoder) free() {
	if d.release != nil {
		d.release()
		d.release = nil
	}
	freeAll(d.cache)
	freeAll([]*tensors.Tensor{d.counts})
	d.cache, d.counts = nil, nil
}

func (d *decoder) allDone() bool {
	for _, done := range d.done {
		if !done {
			return false
		}
	}
	return true
}

// samplingHead is the end of a decoding program: the host sampler's logits, or the device
// sampler of one mode.
type samplingHead struct {
	device bool
	mode   sampleMode
	// tokens, when above 0, is the tokenizer's vocabulary where the model's is larger (Qwen pads
	// its embedding to 151936 rows for 151665 tokens): the ids past it, which no text decodes
	// to, are never drawn.
	tokens int
}

// tokenLimit adds to logits [vocab, width] (axis 0) or [width, vocab] (axis 1) the mask of the
// ids at or past limit, broadcast along the rows: 0 below limit, a large
// negative number at and past it (finite, so that the samplers' checks for infinities and NaN
// still mean what they say; exp of it underflows to exactly 0).
func tokenLimit(logits *Node, axis, limit int) *Node {
	dims := []int{1, 1}
	dims[axis] = logits.Shape().Dimensions[axis]
	g := logits.Graph()
	ids := Iota(g, shapes.Make(dtypes.Int32, dims...), axis)
	mask := Where(LessThan(ids, Const(g, int32(limit))), Zeros(g, shapes.Make(logits.DType(), dims...)), Const(g, float32(-1e30)))
	return Add(logits, mask)
}

// name names the head in program names.
func (h samplingHead) name() string {
	if !h.device {
		return "logits"
	}
	return "draw-" + h.mode.String()
}

// inputs is the number of sampling inputs the programs take: counts, u and params for the
// device sampler unless greedy.
func (h samplingHead) inputs() int {
	if h.device && h.mode != sampleGreedy {
		return 3
	}
	return 0
}

// outputs is the number of outputs build returns.
func (h samplingHead) outputs() int {
	if h.device {
		return 2
	}
	return 1
}

// build appends the head to a program: logits [width, vocab] → its leading outputs, given the
// sampling inputs.
func (h samplingHead) build(logits *Node, sampling []*Node) []*Node {
	return h.buildByToken(nil, logits, sampling)
}

// buildByToken is build given the logits as [vocab, width] (byToken), or else as logits.
func (h samplingHead) buildByToken(byToken, logits *Node, sampling []*Node) []*Node {
	if h.tokens > 0 {
		if byToken != nil {
			byToken = tokenLimit(byToken, 0, h.tokens)
		} else {
			logits = tokenLimit(logits, 1, h.tokens)
		}
	}
	if byToken != nil {
		if h.device && h.mode == sampleGreedy { // no need to transpose
			finite := IsFinite(ReduceSum(byToken, 0))
			status := Where(finite, Const(byToken.Graph(), int32(0)), Const(byToken.Graph(), int32(1)))
			return []*Node{ArgMax(byToken, 0), status}
		}
		logits = Transpose(byToken, 0, 1)
	}
	if !h.device {
		return []*Node{logits}
	}
	var counts, u, params *Node
	if h.mode != sampleGreedy {
		counts, u, params = sampling[0], sampling[1], sampling[2]
	}
	tokens, status, _ := deviceDraw(h.mode, logits, counts, u, params)
	return []*Node{tokens, status}
}

// uniforms draws the next uniform of every own row that is still running (0 elsewhere, and
// none at all when greedy, which draws nothing).
func (d *decoder) uniforms() []float64 {
	u := make([]float64, d.width)
	if d.opts.Temperature == 0 {
		return u
	}
	for b := range d.rows {
		if !d.done[b] {
			u[b] = d.rngs[b].Float64()
		}
	}
	return u
}

// samplingInputs are the device sampler's inputs for the next draw, with counts of the tokens
// so far (recount: counted from seqs on the host; else the counts kept on the backend).
func (d *decoder) samplingInputs(recount bool) []any {
	if d.head.inputs() == 0 {
		return nil
	}
	if recount {
		v := d.m.VocabSize()
		counts := make([]int32, d.width*v)
		for b, s := range d.seqs {
			for _, t := range s {
				counts[b*v+t]++
			}
		}
		freeAll([]*tensors.Tensor{d.counts})
		d.counts = tensors.FromFlatDataAndDimensions(counts, d.width, v)
	}
	return []any{d.counts, d.uniforms(), d.opts.Sampling.params()}
}

// pick appends each row's next token, drawn from the leading outputs of a program (its head),
// which it frees.
func (d *decoder) pick(outs []*tensors.Tensor) error {
	var u []float64
	if !d.head.device {
		u = d.uniforms()
	}
	next := make([]int, d.rows)
	errs := make([]error, d.rows)
	if d.head.device {
		tokens, status := take[int32](outs[0]), take[int32](outs[1])
		for b := range d.rows {
			if !d.done[b] {
				next[b], errs[b] = int(tokens[b]), deviceCheck(d.opts.Sampling, status[b])
			}
		}
	} else {
		logits := take[float32](outs[0])
		v := d.m.VocabSize()
		// Rows sample independently (each has its own random stream), so they run in parallel.
		parallelRows(d.rows, func(b int) {
			if !d.done[b] {
				next[b], errs[b] = d.samplers[b].next(logits[b*v:(b+1)*v], u[b])
			}
		})
	}
	for b, err := range errs {
		if err != nil {
			return d.prompts.rowError(b, fmt.Errorf("new token %d: %w", len(d.seqs[b])-d.promptLen, err))
		}
	}
	for b := range d.rows {
		tok := d.m.Tok.EOS() // a finished row keeps emitting EOS, which the completion drops
		if !d.done[b] {
			tok = next[b]
			if d.samplers != nil {
				d.samplers[b].observe(tok)
			}
		}
		d.seqs[b] = append(d.seqs[b], tok)
		d.done[b] = d.done[b] || (d.opts.StopAtEOS && tok == d.m.Tok.EOS())
	}
	for b := d.rows; b < d.width; b++ { // padding rows repeat the last row
		d.seqs[b] = append(d.seqs[b], d.seqs[d.rows-1][len(d.seqs[d.rows-1])-1])
	}
	return nil
}

// prefill runs the prompts (steered), draws the first new tokens, and keeps a KV cache with room
// for capacity positions.
func (d *decoder) prefill(capacity int) error {
	shared := d.sharedPrompt()
	seqs := d.seqs
	if shared {
		seqs = d.seqs[:1]
	}
	outs, err := d.prompts.prefill(seqs, capacity, d.head, d.samplingInputs(true), shared, d.width)
	if err != nil {
		return err
	}
	h := d.head.outputs()
	d.cache = outs[h:]
	return d.pick(outs[:h])
}

// sharedPrompt reports whether the batch's rows all have the same prompt and steering, so that
// the prefill runs that prompt once for all of them (on the go backend, where the program for
// one row compiles in no time; elsewhere a new program shape costs more than it saves).
func (d *decoder) sharedPrompt() bool {
	if d.width == 1 || d.m.Backend().String() != "go" || d.m.tuning.noSharedPrefill {
		return false
	}
	return d.prompts.same()
}

// step feeds every row's last token through the cached model and draws the next one. The cache
// (and the device sampler's counts) are donated to the program, which updates them in place
// where the backend can, and replaced by its outputs.
func (d *decoder) step() error {
	m, head := d.m, d.head
	n := head.inputs()
	if d.stepProg == nil {
		shape := fmt.Sprintf("%d×%d", d.width, d.cache[0].Shape().Dimensions[1])
		p, release, err := m.stepProgram("step/"+head.name(), shape, func(packed bool) func(w lm.Graph, in []*Node) []*Node {
			return func(w lm.Graph, in []*Node) []*Node {
				tokens, pos, sampling := in[0], in[1], in[2:2+n]
				kv := lm.Cache(in[2+n:])
				var counts *Node
				if n > 0 {
					// The token fed now joins its row's counts before the draw.
					rows := Iota(tokens.Graph(), shapes.Make(dtypes.Int32, tokens.Shape().Dimensions[0], 1), 0)
					counts = ScatterSum(sampling[0], Concatenate([]*Node{rows, tokens}, -1), OnesLike(Squeeze(tokens, -1)), true, true)
					sampling = []*Node{counts, sampling[1], sampling[2]}
				}
				h, next := w.Step(tokens, pos, kv, nil)
				var outs []*Node
				if packed {
					outs = head.buildByToken(w.LogitsByToken(lastPosition(h)), nil, sampling)
				} else {
					outs = head.build(w.Logits(lastPosition(h)), sampling)
				}
				if counts != nil {
					outs = append(outs, counts)
				}
				return append(outs, next...)
			}
		})
		if err != nil {
			return err
		}
		d.stepProg, d.release = p, release
	}
	last := make([][]int, len(d.seqs))
	for b, s := range d.seqs {
		last[b] = s[len(s)-1:]
	}
	tok, err := m.tokensTensor(last)
	if err != nil {
		return err
	}
	args := []any{tok, tensors.FromScalar(int32(len(d.seqs[0]) - 1))}
	if n > 0 {
		counts, err := DonateTensorBuffer(d.counts, m.Backend(), 0)
		if err != nil {
			return fmt.Errorf("actadd: reusing the token counts: %w", err)
		}
		d.counts = nil
		args = append(args, counts, d.uniforms(), d.opts.Sampling.params())
	}
	for _, t := range d.cache {
		donated, err := DonateTensorBuffer(t, m.Backend(), 0)
		if err != nil {
			return fmt.Errorf("actadd: reusing the KV cache: %w", err)
		}
		args = append(args, donated)
	}
	d.cache = nil
	outs, err := d.stepProg.Call(args...)
	if err != nil {
		return err
	}
	h := head.outputs()
	if n > 0 {
		d.counts = outs[h]
		h++
	}
	d.cache = outs[h:]
	return d.pick(outs[:head.outputs()])
}

// maxPackedSteps is the number of packed decoding-step programs (lm.Model.Compile, packed: the
// matrix of the LM head by token built in) a model keeps: one per shape (batch
// width, cache length), each with its own packed copy of the embedding. Past it, the least
// recently used one not running is dropped for a new shape, or, when all are running, the new
// shape's steps use the shared program that takes every weight as an input.
const maxPackedSteps = 2

// packedStep is a packed decoding-step program and its use.
type packedStep struct {
	p       lm.Program
	running int   // decoders using it
	used    int64 // when it was last acquired, in acquisitions
}

// stepProgram returns the decoding step program named name for one shape, and a function that
// releases it when the decoder is done with it. build(packed) builds its graph, packed or not.
func (m *Model) stepProgram(name, shape string, build func(packed bool) func(w lm.Graph, in []*Node) []*Node) (lm.Program, func(), error) {
	if m.LM.Packs() && !m.tuning.unpackedStep {
		if ps, err := m.acquirePacked(name+"/"+shape, build(true)); ps != nil || err != nil {
			release := func() {
				m.mu.Lock()
				defer m.mu.Unlock()
				ps.running--
			}
			return ps.p, release, err
		}
	}
	p, err := m.program(name, func() (lm.Program, error) { return m.compile("actadd."+name, build(false)) })
	return p, func() {}, err
}

// acquirePacked returns the packed step program of key, building it (and dropping the least
// recently used one not running, to stay within maxPackedSteps) when needed, and marks it
// running; nil when all maxPackedSteps are running.
func (m *Model) acquirePacked(key string, build func(w lm.Graph, in []*Node) []*Node) (*packedStep, error) {
	limit := maxPackedSteps
	if m.tuning.packedSteps > 0 {
		limit = m.tuning.packedSteps
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ps, ok := m.packed[key]
	if !ok {
		if len(m.packed) >= limit {
			var lru string
			for k, o := range m.packed {
				if o.running == 0 && (lru == "" || o.used < m.packed[lru].used) {
					lru = k
				}
			}
			if lru == "" {
				return nil, nil
			}
			m.packed[lru].p.Finalize()
			delete(m.packed, lru)
		}
		p, err := m.LM.Compile("actadd."+key, true, build)
		if err != nil {
			return nil, err
		}
		ps = &packedStep{p: p}
		m.packed[key] = ps
	}
	m.acquired++
	ps.running++
	ps.used = m.acquired
	return ps, nil
}

// recompute runs the whole sequences (steered at their prompt positions) and draws the next
// tokens from the last position: the uncached path.
func (d *decoder) recompute() error {
	outs, err := d.prompts.last(d.seqs, d.head, d.samplingInputs(true))
	if err != nil {
		return err
	}
	return d.pick(outs)
}
