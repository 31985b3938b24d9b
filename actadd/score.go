package actadd

import (
	"fmt"
	"io"
	"sort"

	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// ScoreOptions control LogProbs and NextTokenRanks.
type ScoreOptions struct {
	// SkipFirst drops the predictions made at the first n positions (BOS is position 0): the
	// paper excludes the n steered positions from its perplexity comparison.
	SkipFirst int
	BatchSize int // rows per program call; 0 means 32
	// MaxBatchTokens caps rows × padded length per LogProbs call (0 means DefaultMaxBatchTokens):
	// batches of long texts get fewer rows (BatchSize halved until they fit), because the logits
	// of a batch take rows × length × vocabulary floats (32 rows of 1024 tokens: 6.6 GB for
	// GPT-2, several times that with the log-softmax).
	MaxBatchTokens int
	Progress       io.Writer // periodic progress lines; nil for none
}

// DefaultMaxBatchTokens is ScoreOptions.MaxBatchTokens's default: 4096 tokens, whose GPT-2
// logits take 0.8 GB.
const DefaultMaxBatchTokens = 4096

// LogProbs scores every text (BOS prepended) with the same additions: out[i][j] is the
// log-probability of token t+1 given tokens 0..t, for t = SkipFirst+j, t < len-1.
func (m *Model) LogProbs(texts []string, opts ScoreOptions, adds ...Addition) ([][]float32, error) {
	rows := make([]Row, len(texts))
	for i, t := range texts {
		rows[i] = Row{Prompt: t, Adds: adds}
	}
	return m.LogProbsRows(rows, opts)
}

// LogProbsRows is LogProbs with additions per row. Rows of any lengths are batched together,
// padded on the right (padding never influences real positions: attention is causal).
func (m *Model) LogProbsRows(rows []Row, opts ScoreOptions) ([][]float32, error) {
	prep, err := m.prepareScoring(rows, &opts)
	if err != nil {
		return nil, err
	}
	for i, r := range prep.rows {
		if len(r.tokens) < 2 {
			return nil, fmt.Errorf("actadd: row %d (%q) has no token to score after BOS", i, r.row.Prompt)
		}
	}
	p, err := m.steeredProgram("logprobs", prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		tokens := in[0]
		t := tokens.Shape().Dimensions[1]
		logits := w.Logits(SliceAxis(w.Forward(tokens, in[1], st.Hook()), 1, AxisRange(0, t-1))) // [b, t-1, vocab]
		next := SliceAxis(tokens, 1, AxisRange(1, t))                                            // [b, t-1]
		return []*Node{Sub(gatherLast(logits, next), logSumExp(logits))}
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(rows))
	prog := newProgress(opts.Progress, "score "+m.Label(), "texts", len(rows))
	maxTokens := opts.MaxBatchTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxBatchTokens
	}
	for _, bt := range prep.scoringBatches(opts.BatchSize, maxTokens) {
		seqs, seq := paddedRows(prep, bt)
		inputs, err := m.steeredInputs(prep, bt, seqs)
		if err != nil {
			return nil, err
		}
		outs, err := p.Call(inputs...)
		if err != nil {
			return nil, err
		}
		lp := take[float32](outs[0])
		for b, i := range bt.idx {
			if nonFinite(lp[b*(seq-1):(b+1)*(seq-1)]) >= 0 {
				return nil, prep.outputError(i, errNonFinite)
			}
			n := len(prep.rows[i].tokens)
			from := min(opts.SkipFirst, n-1)
			out[i] = append([]float32(nil), lp[b*(seq-1)+from:b*(seq-1)+n-1]...)
		}
		prog.add(len(bt.idx))
	}
	return out, nil
}

// NextTokenRanks returns, for every prompt (BOS prepended), the rank of targets[i] in the
// next-token distribution after the prompt: the number of tokens with a strictly higher logit
// (0 = the most likely token). P@K of an item is rank < K.
func (m *Model) NextTokenRanks(prompts []string, targets []int, opts ScoreOptions, adds ...Addition) ([]int, error) {
	if len(prompts) != len(targets) {
		return nil, fmt.Errorf("actadd: %d prompts but %d targets: give one target token per prompt", len(prompts), len(targets))
	}
	rows := make([]Row, len(prompts))
	for i, t := range prompts {
		rows[i] = Row{Prompt: t, Adds: adds}
		if targets[i] < 0 || targets[i] >= m.VocabSize() {
			return nil, fmt.Errorf("actadd: target %d of prompt %d is not a token id", targets[i], i)
		}
	}
	prep, err := m.prepareScoring(rows, &opts)
	if err != nil {
		return nil, err
	}
	p, err := m.steeredProgram("ranks", prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		h := w.Forward(in[0], in[1], st.Hook())
		b := h.Shape().Dimensions[0]
		rowIdx := Iota(h.Graph(), shapes.Make(dtypes.Int32, b), 0)
		last := Gather(h, Stack([]*Node{rowIdx, in[2]}, -1)) // [b, d]
		logits := w.Logits(last)                             // [b, vocab]
		target := gatherLast(logits, in[3])                  // [b]
		higher := GreaterThan(logits, ExpandAxes(target, -1))
		// The sum of a row's logits is not finite when one of them is not.
		return []*Node{ReduceSum(ConvertDType(higher, dtypes.Int32), -1), ReduceSum(logits, -1)}
	})
	if err != nil {
		return nil, err
	}
	ranks := make([]int, len(rows))
	prog := newProgress(opts.Progress, "rank "+m.Label(), "prompts", len(rows))
	for _, bt := range prep.scoringBatches(opts.BatchSize, 0) {
		seqs, _ := paddedRows(prep, bt)
		inputs, err := m.steeredInputs(prep, bt, seqs)
		if err != nil {
			return nil, err
		}
		lastIdx := make([]int32, bt.width)
		tgt := make([]int32, bt.width)
		for b := range bt.width {
			i := bt.row(b)
			lastIdx[b] = int32(len(prep.rows[i].tokens) - 1)
			tgt[b] = int32(targets[i])
		}
		inputs = append(inputs[:2], append([]any{lastIdx, tgt}, inputs[2:]...)...)
		outs, err := p.Call(inputs...)
		if err != nil {
			return nil, err
		}
		r, sums := take[int32](outs[0]), take[float32](outs[1])
		for b, i := range bt.idx {
			if nonFinite(sums[b:b+1]) >= 0 {
				return nil, prep.outputError(i, errNonFinite)
			}
			ranks[i] = int(r[b])
		}
		prog.add(len(bt.idx))
	}
	return ranks, nil
}

// gatherLast gathers x[..., idx] along the last axis for every leading index: x [a..., n], idx
// [a...].
func gatherLast(x, idx *Node) *Node {
	g := x.Graph()
	lead := idx.Shape().Dimensions
	var coords []*Node
	for axis := range lead {
		coords = append(coords, Iota(g, shapes.Make(dtypes.Int32, lead...), axis))
	}
	coords = append(coords, ConvertDType(idx, dtypes.Int32))
	return Gather(x, Stack(coords, -1))
}

// logSumExp reduces the last axis: log Σ exp(x), computed stably.
func logSumExp(x *Node) *Node {
	mx := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Log(ReduceSum(Exp(Sub(x, mx)), -1)), Squeeze(mx, -1))
}

// prepareScoring validates options and rows for scoring.
func (m *Model) prepareScoring(rows []Row, opts *ScoreOptions) (*prepared, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("actadd: no texts to score")
	}
	if opts.SkipFirst < 0 {
		return nil, fmt.Errorf("actadd: SkipFirst must be ≥ 0, got %d", opts.SkipFirst)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	return m.prepareRows(rows, false)
}

// scoringBatches sorts rows by length and cuts them into batches of size rows (the last one
// padded to size when there are several), so similar lengths share a batch; with maxTokens > 0,
// a batch whose rows × padded length would exceed it gets size/2, size/4, … rows (at least 1).
func (p *prepared) scoringBatches(size, maxTokens int) []batch {
	order := make([]int, len(p.rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(p.rows[order[a]].tokens) < len(p.rows[order[b]].tokens) })
	size = min(size, len(order))
	var out []batch
	for s := 0; s < len(order); {
		// Halving (rather than any width) keeps the number of batch shapes, hence of compiled
		// programs, small.
		width := size
		for width > 1 && maxTokens > 0 && width*p.paddedLen(order[min(s+width, len(order))-1]) > maxTokens {
			width /= 2
		}
		out = append(out, batch{idx: order[s:min(s+width, len(order))], width: width})
		s += width
	}
	return out
}

// paddedLen is the length row i is padded to in a scoring batch whose longest row it is.
func (p *prepared) paddedLen(i int) int {
	n := len(p.rows[i].tokens)
	if r := roundUp(n, 16); r <= p.context {
		return r
	}
	return n
}

// paddedRows returns a batch's token rows right-padded with the padding token to a common length,
// rounded up to a multiple of 16 (within the context) so that few shapes get compiled.
func paddedRows(prep *prepared, bt batch) ([][]int, int) {
	seq := 0
	for _, i := range bt.idx {
		seq = max(seq, prep.paddedLen(i))
	}
	seqs := make([][]int, bt.width)
	for b := range bt.width {
		row := append(make([]int, 0, seq), prep.rows[bt.row(b)].tokens...)
		for len(row) < seq {
			row = append(row, prep.pad)
		}
		seqs[b] = row
	}
	return seqs, seq
}

// Logits returns the logits [seq][vocab] of one prompt (BOS prepended) under the additions.
func (m *Model) Logits(prompt string, adds ...Addition) ([][]float32, error) {
	return m.logitsRow(Row{Prompt: prompt, Adds: adds})
}

// logitsRow is Logits for a row (a prompt's text, or its chat messages).
func (m *Model) logitsRow(r Row) ([][]float32, error) {
	prep, err := m.prepareRows([]Row{r}, false)
	if err != nil {
		return nil, err
	}
	p, err := m.steeredProgram("logits", prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		return []*Node{w.Logits(w.Forward(in[0], in[1], st.Hook()))}
	})
	if err != nil {
		return nil, err
	}
	seqs := [][]int{prep.rows[0].tokens}
	inputs, err := m.steeredInputs(prep, batch{idx: []int{0}, width: 1}, seqs)
	if err != nil {
		return nil, err
	}
	outs, err := p.Call(inputs...)
	if err != nil {
		return nil, err
	}
	flat := take[float32](outs[0])
	if nonFinite(flat) >= 0 {
		return nil, prep.outputError(0, errNonFinite)
	}
	v := m.VocabSize()
	out := make([][]float32, len(seqs[0]))
	for t := range out {
		out[t] = flat[t*v : (t+1)*v]
	}
	return out, nil
}
