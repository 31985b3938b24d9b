package actadd

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/actadd-go/actadd/chat"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// GenerateOptions control Generate.
type GenerateOptions struct {
	MaxNewTokens int // tokens to add to every prompt (required)
	Sampling
	// Sampler says where tokens are drawn: SamplerDevice inside the decoding program (a step
	// returns token ids, and the counts of the frequency penalty stay on the backend), or
	// SamplerHost from the logits copied to Go. "" means the model's DefaultSampler. Both draw
	// from the same random streams and agree token for token, but for rounding where a draw or
	// the nucleus's edge falls within it (devsample.go).
	Sampler   SamplerPlace
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
	// decoded up to this step). Calls never overlap, but those of batches decoded at the same
	// time interleave; they hold up generation: keep them quick.
	Stream func(i int, partial Completion)
}

// SamplerPlace is where generation draws its tokens.
type SamplerPlace string

const (
	SamplerHost   SamplerPlace = "host"   // in Go, from the logits of each step (sample.go)
	SamplerDevice SamplerPlace = "device" // inside the decoding program (devsample.go)
)

// DefaultSampler is where tokens are drawn when GenerateOptions.Sampler is "": on the device,
// except sampled (not greedy) decoding on the go backend, where the host sampler is faster.
func (m *Model) DefaultSampler(s Sampling) SamplerPlace {
	if s.Temperature != 0 && m.Backend().String() == "go" {
		return SamplerHost
	}
	return SamplerDevice
}

// Row is one prompt with its own additions (none for an unsteered row).
type Row struct {
	Prompt string
	Adds   []Addition
	// Chat, when set, is the prompt as chat messages, rendered through the model's chat
	// template with the generation prompt (ChatTemplate; Prompt is then only a label).
	Chat []chat.Message
}

// Completion is one generated continuation.
type Completion struct {
	Row
	Tokens    []int  // BOS, the prompt's tokens, then the generated ones
	PromptLen int    // tokens of BOS + prompt
	Text      string // the generated part, decoded
	// Sampler is where its tokens were drawn.
	Sampler SamplerPlace
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
	if opts.MaxNewTokens > m.Context() {
		return nil, fmt.Errorf("actadd: MaxNewTokens %d exceeds the model's context of %d positions: ask for fewer new tokens", opts.MaxNewTokens, m.Context())
	}
	if err := opts.Sampling.check(); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	switch opts.Sampler {
	case "":
		opts.Sampler = m.DefaultSampler(opts.Sampling)
	case SamplerHost, SamplerDevice:
	default:
		return nil, fmt.Errorf("actadd: unknown sampler %q: use actadd.SamplerHost or actadd.SamplerDevice (or \"\" for the model's default)", opts.Sampler)
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
		if need := len(r.tokens) + opts.MaxNewTokens - 1; need > m.Context() {
			return nil, fmt.Errorf("actadd: row %d: %d prompt tokens + %d new tokens need %d positions (the last new token is not fed back), more than the context of %d",
				i, len(r.tokens), opts.MaxNewTokens, need, m.Context())
		}
	}
	out := make([]Completion, len(rows))
	prog := newProgress(opts.Progress, "generate "+m.Label(), "tokens", len(rows)*opts.MaxNewTokens)
	bts := prep.batches(opts.BatchSize, m.batchLayout())
	inFlight := min(len(bts), m.BatchesInFlight())
	if inFlight <= 1 {
		var mu sync.Mutex
		for _, bt := range bts {
			if err := m.generateBatch(prep, bt, opts, out, prog, &mu); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	// Several batches at once: each decoder takes the next batch when done; the first error
	// stops the others at their next step.
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	opts.Context = ctx
	queue := make(chan batch, len(bts))
	for _, bt := range bts {
		queue <- bt
	}
	close(queue)
	var (
		mu       sync.Mutex // serializes progress, Stream calls and firstErr
		firstErr error
		wg       sync.WaitGroup
	)
	for range inFlight {
		wg.Go(func() {
			for bt := range queue {
				if err := m.generateBatch(prep, bt, opts, out, prog, &mu); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// BatchesInFlight is how many batches GenerateRows decodes at once, and how many generation
// calls a caller with batches of its own (package sweep) should run at once. On the go
// backend, two: one batch's step leaves the cores partly idle (small ops run one after the
// other, and the matmuls of a few rows wait on memory), which the other batch's work fills. On
// other backends, one.
func (m *Model) BatchesInFlight() int {
	switch {
	case m.tuning.inFlight > 0:
		return m.tuning.inFlight
	case m.Backend().String() == "go":
		return 2
	}
	return 1
}

// generateBatch generates the rows of bt (all of the same prompt length) and stores them in out.
// mu serializes progress and Stream calls with the batches decoded at the same time.
func (m *Model) generateBatch(prep *prepared, bt batch, opts GenerateOptions, out []Completion, prog *progress, mu *sync.Mutex) error {
	seqs := make([][]int, bt.width)
	for b := range bt.width {
		seqs[b] = prep.rows[bt.row(b)].tokens
	}
	streams := make([]uint64, len(bt.idx))
	for b, i := range bt.idx {
		streams[b] = uint64(i)
		if opts.Streams != nil {
			streams[b] = opts.Streams[i]
		}
	}
	d := m.newDecoder(steeredPrompts{m, prep, bt}, seqs, len(bt.idx), streams, opts)
	defer d.free()
	// advanced reports a finished step: progress, the caller's stream, and cancellation.
	advanced := func() error {
		mu.Lock()
		defer mu.Unlock()
		prog.add(d.rows)
		if opts.Stream != nil {
			for b, i := range bt.idx {
				c, err := m.completion(prep.rows[i].row, d.seqs[b], d.promptLen, opts)
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
	for step := 0; step < opts.MaxNewTokens && !d.allDone(); step++ {
		var err error
		switch {
		case opts.NoCache:
			err = d.recompute()
		case step == 0:
			err = d.prefill(m.cacheCapacity(d.promptLen, opts.MaxNewTokens))
		default:
			err = d.step()
		}
		if err != nil {
			return err
		}
		if err := advanced(); err != nil {
			return err
		}
	}
	for b, i := range bt.idx {
		c, err := m.completion(prep.rows[i].row, d.seqs[b], d.promptLen, opts)
		if err != nil {
			return err
		}
		out[i] = c
	}
	return nil
}

// completion is row's completion from its tokens so far; with opts.StopAtEOS, what follows the
// first generated EOS is dropped.
func (m *Model) completion(row Row, toks []int, promptLen int, opts GenerateOptions) (Completion, error) {
	if opts.StopAtEOS {
		for j := promptLen; j < len(toks); j++ {
			if toks[j] == m.Tok.EOS() {
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
	return Completion{Row: row, Tokens: toks, PromptLen: promptLen, Text: text, Sampler: opts.Sampler}, nil
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
		if t != nil {
			t.FinalizeAll()
		}
	}
}

// lastPosition slices hidden [batch, seq, d] to its last position, [batch, d].
func lastPosition(h *Node) *Node {
	seq := h.Shape().Dimensions[1]
	return Squeeze(SliceAxis(h, 1, AxisElem(seq-1)), 1)
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// cacheCapacity is the KV cache's length for prompts of promptLen tokens and maxNew new ones:
// room for every token fed to the model (the last new one never is), rounded up to a multiple
// of 16 so that jobs of similar lengths share compiled programs. The step attends to the whole
// cache, so it is kept short.
func (m *Model) cacheCapacity(promptLen, maxNew int) int {
	round := 16
	if m.tuning.capacityRound > 0 {
		round = m.tuning.capacityRound
	}
	return min(roundUp(promptLen+maxNew-1, round), m.Context())
}

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
