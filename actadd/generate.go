package actadd

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/gpt2"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// GenerateOptions control Generate.
type GenerateOptions struct {
	MaxNewTokens int // tokens to add to every prompt (required)
	Sampling
	StopAtEOS bool      // stop a row once it produces <|endoftext|> (the token is kept)
	BatchSize int       // rows per program call; 0 means 32
	Progress  io.Writer // periodic progress lines; nil for none
	// Streams, when set, gives each row its random stream: row i samples from (Seed, Streams[i])
	// instead of (Seed, i). Rows with equal streams and logits draw equal tokens, so a sweep can
	// give completion c of every setting stream c, pairing settings and making a setting's
	// result independent of the others in the job.
	Streams []uint64
	// NoCache recomputes the whole sequence at every step instead of using the KV cache: slow,
	// but an independent check of the cached path. Steering then applies to the prompt positions
	// at every step, which is equivalent since attention is causal.
	NoCache bool
	// Context, when set, is checked before every decoding step: once it is done, generation
	// stops and GenerateRows returns its error (context.Canceled or DeadlineExceeded).
	Context context.Context
	// Stream, when set, is called after every decoding step, for each row of the batch just
	// advanced, with the row's index and its completion so far (Text holds the new tokens
	// decoded up to this step). It runs on the generating goroutine: keep it quick.
	Stream func(i int, partial Completion)
}

// Row is one prompt with its own additions (none for an unsteered row).
type Row struct {
	Prompt string
	Adds   []Addition
}

// Completion is one generated continuation.
type Completion struct {
	Row
	Tokens    []int  // BOS, the prompt's tokens, then the generated ones
	PromptLen int    // tokens of BOS + prompt
	Text      string // the generated part, decoded
}

// Generated returns the generated token ids.
func (c Completion) Generated() []int { return c.Tokens[c.PromptLen:] }

// Generate continues every prompt with the same additions (none: the unsteered model).
func (m *Model) Generate(prompts []string, opts GenerateOptions, adds ...Addition) ([]Completion, error) {
	rows := make([]Row, len(prompts))
	for i, p := range prompts {
		rows[i] = Row{Prompt: p, Adds: adds}
	}
	return m.GenerateRows(rows, opts)
}

// GenerateRows continues every row, each with its own additions, batching rows of equal prompt
// length together whatever their additions: a whole layer × coefficient sweep is one batched job
// on two compiled programs, the steered prefill (which also builds the sweep's steering vectors
// from its prompt pair, see fewPairs) and the decoding step. Row i samples from its own random
// stream (Seed, i), or (Seed, opts.Streams[i]).
func (m *Model) GenerateRows(rows []Row, opts GenerateOptions) ([]Completion, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("actadd: no prompts to continue")
	}
	if opts.MaxNewTokens <= 0 {
		return nil, fmt.Errorf("actadd: MaxNewTokens must be positive, got %d", opts.MaxNewTokens)
	}
	if opts.MaxNewTokens > m.Config.NPositions {
		return nil, fmt.Errorf("actadd: MaxNewTokens %d exceeds the model's context of %d positions: ask for fewer new tokens", opts.MaxNewTokens, m.Config.NPositions)
	}
	if err := opts.Sampling.check(); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	if opts.Streams != nil && len(opts.Streams) != len(rows) {
		return nil, fmt.Errorf("actadd: %d streams for %d rows: give one stream per row, or none", len(opts.Streams), len(rows))
	}
	return m.generate(rows, opts, fewPairs(rows, opts.BatchSize))
}

// generate is GenerateRows with the choice of pair rows made (pairrows.go).
func (m *Model) generate(rows []Row, opts GenerateOptions, pairRows bool) ([]Completion, error) {
	prep, err := m.prepareRows(rows, pairRows)
	if err != nil {
		return nil, err
	}
	for i, r := range prep.rows {
		// The last new token is never fed back, so the context must hold prompt + new − 1.
		if need := len(r.tokens) + opts.MaxNewTokens - 1; need > m.Config.NPositions {
			return nil, fmt.Errorf("actadd: row %d: %d prompt tokens + %d new tokens need %d positions (the last new token is not fed back), more than the context of %d",
				i, len(r.tokens), opts.MaxNewTokens, need, m.Config.NPositions)
		}
	}
	out := make([]Completion, len(rows))
	prog := newProgress(opts.Progress, "generate "+m.Label(), "tokens", len(rows)*opts.MaxNewTokens)
	for _, bt := range prep.batches(opts.BatchSize) {
		if err := m.generateBatch(prep, bt, opts, out, prog); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// generateBatch generates the rows idx (all of the same prompt length) and stores them in out.
func (m *Model) generateBatch(prep *prepared, bt batch, opts GenerateOptions, out []Completion, prog *progress) error {
	rows := len(bt.idx) // the batch's rows that are not padding
	seqs := make([][]int, bt.width)
	samplers := make([]*sampler, rows)
	done := make([]bool, rows)
	for b := range bt.width {
		seqs[b] = append([]int(nil), prep.rows[bt.row(b)].tokens...)
		if b < rows {
			stream := uint64(bt.idx[b])
			if opts.Streams != nil {
				stream = opts.Streams[bt.idx[b]]
			}
			samplers[b] = newSampler(opts.Sampling, stream, seqs[b])
		}
	}
	promptLen := len(seqs[0])
	errs := make([]error, rows)
	pick := func(logits []float32) error {
		v := m.Config.VocabSize
		// Rows sample independently (each has its own random stream), so they run in parallel.
		parallelRows(rows, func(b int) {
			tok := bpe.BOS // a finished row keeps emitting EOS, which is dropped below
			if !done[b] {
				tok, errs[b] = samplers[b].next(logits[b*v : (b+1)*v])
				samplers[b].observe(tok)
			}
			seqs[b] = append(seqs[b], tok)
			done[b] = done[b] || (opts.StopAtEOS && tok == bpe.BOS)
		})
		for b, err := range errs {
			if err != nil {
				return prep.outputError(bt.idx[b], fmt.Errorf("new token %d: %w", len(seqs[b])-promptLen, err))
			}
		}
		for b := rows; b < bt.width; b++ { // padding rows repeat the last row
			seqs[b] = append(seqs[b], seqs[rows-1][len(seqs[rows-1])-1])
		}
		return nil
	}
	allDone := func() bool {
		for _, d := range done {
			if !d {
				return false
			}
		}
		return true
	}
	// advanced reports a finished step: progress, the caller's stream, and cancellation.
	advanced := func() error {
		prog.add(rows)
		if opts.Stream != nil {
			for b, i := range bt.idx {
				c, err := m.completion(prep.rows[i].row, seqs[b], promptLen, opts.StopAtEOS)
				if err != nil {
					return err
				}
				opts.Stream(i, c)
			}
		}
		return contextErr(opts.Context)
	}
	if err := contextErr(opts.Context); err != nil {
		return err
	}

	if opts.NoCache {
		for step := 0; step < opts.MaxNewTokens && !allDone(); step++ {
			logits, err := m.lastLogits(prep, bt, seqs)
			if err != nil {
				return err
			}
			if err := pick(logits); err != nil {
				return err
			}
			if err := advanced(); err != nil {
				return err
			}
		}
	} else {
		capacity := min(roundUp(promptLen+opts.MaxNewTokens, 32), m.Config.NPositions)
		logits, cache, err := m.prefill(prep, bt, seqs, capacity)
		if err != nil {
			return err
		}
		if err := pick(logits); err != nil {
			freeAll(cache)
			return err
		}
		if err := advanced(); err != nil {
			freeAll(cache)
			return err
		}
		for step := 1; step < opts.MaxNewTokens && !allDone(); step++ {
			last := make([][]int, len(seqs))
			for b, s := range seqs {
				last[b] = s[len(s)-1:]
			}
			if logits, cache, err = m.step(last, promptLen+step-1, cache); err != nil {
				return err
			}
			if err := pick(logits); err != nil {
				freeAll(cache)
				return err
			}
			if err := advanced(); err != nil {
				freeAll(cache)
				return err
			}
		}
		freeAll(cache)
	}
	for b, i := range bt.idx {
		c, err := m.completion(prep.rows[i].row, seqs[b], promptLen, opts.StopAtEOS)
		if err != nil {
			return err
		}
		out[i] = c
	}
	return nil
}

// completion is row's completion from its tokens so far; with stopAtEOS, what follows the first
// generated EOS is dropped.
func (m *Model) completion(row Row, toks []int, promptLen int, stopAtEOS bool) (Completion, error) {
	if stopAtEOS {
		for j := promptLen; j < len(toks); j++ {
			if toks[j] == bpe.BOS {
				toks = toks[:j+1]
				break
			}
		}
	}
	toks = slices.Clone(toks)
	text, err := m.Tok.Decode(toks[promptLen:])
	if err != nil {
		return Completion{}, err
	}
	return Completion{Row: row, Tokens: toks, PromptLen: promptLen, Text: text}, nil
}

// contextErr is ctx's error, nil for a nil or live context.
func contextErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// freeAll frees tensors on the backend.
func freeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}

// prefill runs the prompts (steered) and returns the last position's logits [batch·vocab] and a
// KV cache with room for capacity positions.
func (m *Model) prefill(prep *prepared, bt batch, seqs [][]int, capacity int) ([]float32, []*tensors.Tensor, error) {
	inputs, err := m.steeredInputs(prep, bt, seqs)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.steeredProgram(fmt.Sprintf("prefill/%d", capacity), prep, func(w *gpt2.Weights, in []*Node, st *steering) []*Node {
		h, cache := w.Prefill(in[0], in[1], st.Hook(), capacity)
		outs := []*Node{w.Logits(lastPosition(st.Own(h)))}
		for _, c := range append(cache.Keys, cache.Values...) {
			outs = append(outs, st.Own(c))
		}
		return outs
	})
	if err != nil {
		return nil, nil, err
	}
	outs, err := p.Call(inputs...)
	if err != nil {
		return nil, nil, err
	}
	logits := take[float32](outs[0])
	return logits, outs[1:], nil
}

// step runs one token per row at position pos through the cached model. The cache is consumed
// (donated to the program, or freed on error); the returned one replaces it.
func (m *Model) step(last [][]int, pos int, cache []*tensors.Tensor) (logits []float32, next []*tensors.Tensor, err error) {
	defer func() {
		if err != nil {
			for _, t := range cache {
				t.FinalizeAll()
			}
		}
	}()
	nl := m.Config.NLayer
	p, err := m.program("step", func() (*gpt2.Program, error) {
		return m.NewProgram("actadd.step", func(w *gpt2.Weights, in []*Node) []*Node {
			kv := &gpt2.KVCache{Keys: in[2 : 2+nl], Values: in[2+nl : 2+2*nl]}
			h, next := w.Step(in[0], in[1], kv, nil)
			outs := []*Node{w.Logits(lastPosition(h))}
			return append(append(outs, next.Keys...), next.Values...)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	tok, err := m.TokensTensor(last)
	if err != nil {
		return nil, nil, err
	}
	args := []any{tok, tensors.FromScalar(int32(pos))}
	for _, t := range cache {
		donated, err := DonateTensorBuffer(t, m.Backend(), 0)
		if err != nil {
			return nil, nil, fmt.Errorf("actadd: reusing the KV cache: %w", err)
		}
		args = append(args, donated)
	}
	outs, err := p.Call(args...)
	if err != nil {
		return nil, nil, err
	}
	return take[float32](outs[0]), outs[1:], nil
}

// lastLogits runs the whole sequences (steered at their prompt positions) and returns the last
// position's logits: the uncached path.
func (m *Model) lastLogits(prep *prepared, bt batch, seqs [][]int) ([]float32, error) {
	inputs, err := m.steeredInputs(prep, bt, seqs)
	if err != nil {
		return nil, err
	}
	p, err := m.steeredProgram("last", prep, func(w *gpt2.Weights, in []*Node, st *steering) []*Node {
		return []*Node{w.Logits(lastPosition(st.Own(w.Forward(in[0], in[1], st.Hook()))))}
	})
	if err != nil {
		return nil, err
	}
	outs, err := p.Call(inputs...)
	if err != nil {
		return nil, err
	}
	return take[float32](outs[0]), nil
}

// lastPosition slices hidden [batch, seq, d] to its last position, [batch, d].
func lastPosition(h *Node) *Node {
	seq := h.Shape().Dimensions[1]
	return Squeeze(SliceAxis(h, 1, AxisElem(seq-1)), 1)
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// parallelRows calls fn(0..n-1) on all cores.
func parallelRows(n int, fn func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
