package actadd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/gomlx/core/tensors"
)

// prepared holds a call's rows tokenized, with their additions placed.
type prepared struct {
	rows  []preparedRow
	point string // the kind of hook point steered (one per call)
	pad   int    // the tokenizer's padding token
	k     int    // most additions on one row
	span  int    // the longest steering vector's length (every batch of a job has this shape)
	// pairTokens holds the token rows of the distinct prompt pairs whose vectors the steered
	// program builds itself (pairrows.go): p+ of pair q at row 2q, p− at 2q+1, each BOS and
	// space-padded to the pair's length. Every batch of the job carries all of them, so that all
	// batches share one shape.
	pairTokens [][]int
	context    int // the model's context length
}

type preparedRow struct {
	row    Row
	tokens []int
	adds   []placedAddition
}

// rowError is an error about row i of a call: "actadd: row i: …", wrapping err.
type rowError struct {
	i   int
	err error
}

func (e *rowError) Error() string {
	return fmt.Sprintf("actadd: row %d: %s", e.i, strings.TrimPrefix(e.err.Error(), "actadd: "))
}

func (e *rowError) Unwrap() error { return e.err }

// outputError is err about row i's outputs, naming the row's prompt and additions.
func (p *prepared) outputError(i int, err error) error {
	r := p.rows[i].row
	return fmt.Errorf("actadd: row %d (prompt %q, additions %v): %w", i, r.Prompt, r.Adds, err)
}

// pairRows reports whether some additions build their vector from pair rows.
func (p *prepared) pairRows() bool { return len(p.pairTokens) > 0 }

// prepareRows tokenizes the rows and places their additions (see prepareTokens).
func (m *Model) prepareRows(rows []Row, pairRows bool) (*prepared, error) {
	tokens := make([][]int, len(rows))
	for i, r := range rows {
		var err error
		if tokens[i], err = m.rowTokens(r); err != nil {
			return nil, &rowError{i, err}
		}
	}
	return m.prepareTokens(rows, tokens, pairRows)
}

// prepareTokens places the additions of rows whose tokens are given. An addition's vector is
// computed by a separate pass (once per prompt pair, and cached) or given; with pairRows, an
// addition of a prompt pair instead names the pair's token rows, from which the steered program
// builds the vector itself.
func (m *Model) prepareTokens(rows []Row, tokens [][]int, pairRows bool) (*prepared, error) {
	prep := &prepared{context: m.Context(), pad: m.Tok.Pad()}
	pairIndex := map[[2]string]int{}
	for i, r := range rows {
		pr := preparedRow{row: r, tokens: tokens[i]}
		for _, a := range r.Adds {
			if err := a.check(m.Layers(), m.Width()); err != nil {
				return nil, &rowError{i, err}
			}
			p := placedAddition{layer: a.Layer, coeff: a.Coeff}
			if a.Chat != nil {
				if err := m.placeChat(&p, a, r, tokens[i]); err != nil {
					return nil, &rowError{i, err}
				}
			} else if pairRows && a.Vector == nil {
				q, ok := pairIndex[pairKey(a)]
				if !ok {
					pair, n, err := m.pairTokens([][2]string{{a.Plus, a.Minus}})
					if err != nil {
						return nil, &rowError{i, err}
					}
					q = len(pairIndex)
					pairIndex[pairKey(a)] = q
					prep.pairTokens = append(prep.pairTokens, pair...)
					p.n = n
				} else {
					p.n = len(prep.pairTokens[2*q])
				}
				p.pair = q
			} else {
				v, err := m.vector(a)
				if err != nil {
					return nil, &rowError{i, err}
				}
				p.vector, p.n = v, v.N
			}
			if prep.point == "" {
				prep.point = a.point()
			} else if prep.point != a.point() {
				return nil, fmt.Errorf("actadd: one call steers one kind of hook point, got both %s and %s: make two calls", prep.point, a.point())
			}
			if p.n > len(tokens[i]) {
				what := fmt.Sprintf("prompt %q has %d tokens (with BOS)", r.Prompt, len(tokens[i]))
				if r.Prompt == "" { // ForwardTokens: token rows, no prompt text
					what = fmt.Sprintf("token row has %d tokens", len(tokens[i]))
				}
				return nil, fmt.Errorf("actadd: row %d: %s but the steering vector %s covers %d: the row must be at least as long as the vector",
					i, what, a, p.n)
			}
			if a.Chat == nil {
				p.start = a.Position.start(len(tokens[i]), p.n)
			}
			pr.adds = append(pr.adds, p)
			prep.span = max(prep.span, p.n)
		}
		prep.k = max(prep.k, len(pr.adds))
		prep.rows = append(prep.rows, pr)
	}
	return prep, nil
}

// batch is a group of rows of equal prompt length, padded to width rows by repeating its last
// row, so that every batch of a group has the same shape and reuses one compiled program.
type batch struct {
	idx   []int // the rows that are not padding
	width int
}

// row is the row at batch position b (padding positions repeat the last row).
func (bt batch) row(b int) int { return bt.idx[min(b, len(bt.idx)-1)] }

// batchLayout says how batches are cut from a group of rows of one prompt length.
type batchLayout int

const (
	// paddedTail, GenerateRows' layout: every batch of a group is size rows wide (the last
	// one padded), so that they all share one compiled program, which matters where compiling
	// takes seconds (XLA) and keeps a sweep at two programs everywhere.
	paddedTail batchLayout = iota
	// narrowTail: batches of size rows and a last one only as wide as its rows rounded up to a
	// multiple of 8 (200 rows at 32: six of 32 and one of 8): less padding computed, at the
	// cost of a second program shape. For the decoding benchmarks (docs/decoding.md).
	narrowTail
	// evenSplit: a group's batches as even as can be (200 at 32: seven of 29), one shape. For
	// the decoding benchmarks: the go backend decodes 29 rows more slowly than 32.
	evenSplit
)

// batchLayout is the layout GenerateRows uses: paddedTail unless a benchmark says otherwise.
func (m *Model) batchLayout() batchLayout {
	if m.tuning.layout != nil {
		return *m.tuning.layout
	}
	return paddedTail
}

// batches groups row indices by prompt length into batches of at most size rows, laid out as
// layout says; padding positions repeat a batch's last row.
func (p *prepared) batches(size int, layout batchLayout) []batch {
	byLen := map[int][]int{}
	var lens []int
	for i, r := range p.rows {
		n := len(r.tokens)
		if _, ok := byLen[n]; !ok {
			lens = append(lens, n)
		}
		byLen[n] = append(byLen[n], i)
	}
	sort.Ints(lens)
	var out []batch
	for _, n := range lens {
		g := byLen[n]
		width := min(size, len(g))
		if layout == evenSplit {
			count := (len(g) + size - 1) / size
			width = (len(g) + count - 1) / count
		}
		for s := 0; s < len(g); s += width {
			bt := batch{idx: g[s:min(s+width, len(g))], width: width}
			if layout == narrowTail && len(bt.idx) < width {
				bt.width = min(width, (len(bt.idx)+7)/8*8)
			}
			out = append(out, bt)
		}
	}
	return out
}

// steeredInputs packs a batch's token rows (with the job's pair rows), positions and, when the
// call steers, the steering inputs: the inputs of a steered program.
func (m *Model) steeredInputs(prep *prepared, bt batch, seqs [][]int) ([]any, error) {
	seq := len(seqs[0])
	all := seqs
	if prep.k > 0 {
		all = prep.withPairRows(seqs, seq)
	}
	tok, err := m.tokensTensor(all)
	if err != nil {
		return nil, err
	}
	inputs := []any{tok, lm.PositionsTensor(len(all), seq, 0)}
	if prep.k == 0 {
		return inputs, nil
	}
	placed := make([][]placedAddition, bt.width)
	for b := range bt.width {
		placed[b] = prep.rows[bt.row(b)].adds
	}
	return append(inputs, steeringInputs(placed, prep.k, prep.span, m.Layers(), m.Width(), prep.pairRows())...), nil
}

// take copies a program output to Go and frees it.
func take[T float32 | int32](t *tensors.Tensor) []T {
	defer t.FinalizeAll()
	return tensors.MustCopyFlatData[T](t)
}
