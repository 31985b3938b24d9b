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
// and the rest padding (repeating the last row, so that every batch of a job has one shape).
//
// Each program of a decoding step ends in a sampling head: with the host sampler it returns the
// last position's logits [width, vocab], which sample.go draws from; with the device sampler it
// returns the drawn tokens, with each row's status (devsample.go). The programs' inputs are the
// token rows and positions, then the sampling inputs (device sampler, not greedy: the counts of
// every token in each row so far, the rows' uniforms and the sampler's numbers), then the
// steering inputs (prefill, recomputation) or the KV cache (step).
type decoder struct {
	m         *Model
	prep      *prepared
	bt        batch
	opts      GenerateOptions
	rows      int     // the batch's own rows (not padding)
	seqs      [][]int // every row's tokens so far
	promptLen int
	done      []bool
	rngs      []*rand.Rand // each own row's random stream
	head      samplingHead
	samplers  []*sampler        // host sampler
	counts    *tensors.Tensor   // device sampler: [width, vocab] int32 counts of the tokens so far
	cache     []*tensors.Tensor // KV cache, once prefilled
	stepProg  lm.Program        // the decoding step, once acquired
	release   func()            // releases stepProg
}

func (m *Model) newDecoder(prep *prepared, bt batch, opts GenerateOptions) *decoder {
	d := &decoder{m: m, prep: prep, bt: bt, opts: opts, rows: len(bt.idx),
		head: samplingHead{device: opts.Sampler == SamplerDevice, mode: opts.Sampling.mode(m.VocabSize())}}
	d.seqs = make([][]int, bt.width)
	for b := range bt.width {
		d.seqs[b] = append([]int(nil), prep.rows[bt.row(b)].tokens...)
	}
	d.promptLen = len(d.seqs[0])
	d.done = make([]bool, d.rows)
	for b, i := range bt.idx {
		stream := uint64(i)
		if opts.Streams != nil {
			stream = opts.Streams[i]
		}
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
	u := make([]float64, d.bt.width)
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
		counts := make([]int32, d.bt.width*v)
		for b, s := range d.seqs {
			for _, t := range s {
				counts[b*v+t]++
			}
		}
		freeAll([]*tensors.Tensor{d.counts})
		d.counts = tensors.FromFlatDataAndDimensions(counts, d.bt.width, v)
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
			return d.prep.outputError(d.bt.idx[b], fmt.Errorf("new token %d: %w", len(d.seqs[b])-d.promptLen, err))
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
	for b := d.rows; b < d.bt.width; b++ { // padding rows repeat the last row
		d.seqs[b] = append(d.seqs[b], d.seqs[d.rows-1][len(d.seqs[d.rows-1])-1])
	}
	return nil
}

// withSampling inserts the sampling inputs after a steered program's tokens and positions.
func withSampling(inputs, sampling []any) []any {
	return append(inputs[:2:2], append(sampling, inputs[2:]...)...)
}

// prefill runs the prompts (steered), draws the first new tokens, and keeps a KV cache with room
// for capacity positions.
func (d *decoder) prefill(capacity int) error {
	outs, err := d.prefillOutputs(capacity)
	if err != nil {
		return err
	}
	h := d.head.outputs()
	d.cache = outs[h:]
	return d.pick(outs[:h])
}

// prefillOutputs runs the prefill program: its head's outputs, then the KV cache (lm.Cache, opaque).
func (d *decoder) prefillOutputs(capacity int) ([]*tensors.Tensor, error) {
	m, head := d.m, d.head
	n := head.inputs()
	bt, seqs, name := d.bt, d.seqs, "prefill"
	shared := d.sharedPrompt()
	if shared {
		bt, seqs, name = batch{idx: d.bt.idx[:1], width: 1}, d.seqs[:1], fmt.Sprintf("prefill-shared/%d", d.bt.width)
	}
	inputs, err := m.steeredInputs(d.prep, bt, seqs)
	if err != nil {
		return nil, err
	}
	width := d.bt.width
	p, err := m.steeredProgram(fmt.Sprintf("%s/%d/%s", name, capacity, head.name()), d.prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		h, cache := w.Prefill(in[0], in[1], st.Hook(), capacity)
		// A shared prompt ran once: every row gets its logits and KV cache.
		spread := func(x *Node) *Node {
			if !shared {
				return x
			}
			dims := x.Shape().Dimensions
			return Reshape(BroadcastToDims(ExpandAxes(x, 0), append([]int{width}, dims...)...), append([]int{width * dims[0]}, dims[1:]...)...)
		}
		outs := head.build(spread(w.Logits(lastPosition(st.Own(h)))), in[2:2+n])
		for _, c := range cache {
			outs = append(outs, spread(st.Own(c)))
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	return p.Call(withSampling(inputs, d.samplingInputs(true))...)
}

// sharedPrompt reports whether the batch's rows all have the same prompt and additions, so that
// the prefill runs that prompt once for all of them (on the go backend, where the program for
// one row compiles in no time; elsewhere a new program shape costs more than it saves).
func (d *decoder) sharedPrompt() bool {
	if d.bt.width == 1 || d.m.Backend().String() != "go" || d.m.tuning.noSharedPrefill {
		return false
	}
	first := d.prep.rows[d.bt.idx[0]]
	for _, i := range d.bt.idx[1:] {
		r := d.prep.rows[i]
		if !slices.Equal(r.tokens, first.tokens) || !slices.Equal(r.adds, first.adds) {
			return false
		}
	}
	return true
}

// step feeds every row's last token through the cached model and draws the next one. The cache
// (and the device sampler's counts) are donated to the program, which updates them in place
// where the backend can, and replaced by its outputs.
func (d *decoder) step() error {
	m, head := d.m, d.head
	n := head.inputs()
	if d.stepProg == nil {
		shape := fmt.Sprintf("%d×%d", d.bt.width, d.cache[0].Shape().Dimensions[1])
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
	m, head := d.m, d.head
	n := head.inputs()
	inputs, err := m.steeredInputs(d.prep, d.bt, d.seqs)
	if err != nil {
		return err
	}
	p, err := m.steeredProgram("last/"+head.name(), d.prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		return head.build(w.Logits(lastPosition(st.Own(w.Forward(in[0], in[1], st.Hook())))), in[2:2+n])
	})
	if err != nil {
		return err
	}
	outs, err := p.Call(withSampling(inputs, d.samplingInputs(true))...)
	if err != nil {
		return err
	}
	return d.pick(outs)
}
