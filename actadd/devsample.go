package actadd

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// The protocol's sampler inside a program (Sampler: SamplerDevice): a decoding step returns token
// ids instead of logits. It follows the host sampler (sample.go) step by step, in float64 like
// it, so that for the same logits and the same uniform draw it keeps the same tokens and draws
// the same one:
//
//   - greedy: the argmax of the raw logits, first index among ties;
//   - x = logits/T − F·counts, e = exp(x − max x), in float64;
//   - top-k or top-p without sorting: a bisection over the tokens' rank keys finds the boundary
//     of the kept set in 32 masked reductions, then the ties at the boundary are taken in id
//     order as far as needed (see keep);
//   - the draw: the first kept token, in id order, whose running sum of e exceeds u·Σ kept e.
//
// Rank keys are the processed logits rounded to float32, so two tokens whose float64 x differ
// by less than float32's resolution rank by id here but by x on the host; sums are taken in
// another order than the host's. Where a boundary falls within that rounding, the two can keep
// or draw different tokens; elsewhere they agree exactly.

// sampleMode is the structure of a sampling program; the numbers (temperature, penalty, top-k,
// top-p) are runtime inputs.
type sampleMode int

const (
	sampleGreedy sampleMode = iota // argmax of the raw logits
	sampleAll                      // draw from every token
	sampleTopK                     // draw from the top k
	sampleTopP                     // draw from the nucleus
)

func (m sampleMode) String() string {
	return [...]string{"greedy", "all", "topk", "topp"}[m]
}

// mode is the sampling program s needs over a vocabulary of vocab tokens (as the host
// sampler's filter decides: top-k when 0 < TopK < vocab, else top-p when 0 < TopP < 1).
func (s Sampling) mode(vocab int) sampleMode {
	switch {
	case s.Temperature == 0:
		return sampleGreedy
	case s.TopK > 0:
		if s.TopK < vocab {
			return sampleTopK
		}
		return sampleAll
	case s.TopP > 0 && s.TopP < 1:
		return sampleTopP
	}
	return sampleAll
}

// samplingParams are the runtime numbers of a sampling program: temperature, frequency penalty
// and the filter's parameter (top-k's k or top-p's p), float64.
func (s Sampling) params() []float64 {
	f := s.TopP
	if s.TopK > 0 {
		f = float64(s.TopK)
	}
	return []float64{s.Temperature, s.FreqPenalty, f}
}

// deviceCheck is the error of a device-sampled row whose status is not 0: 1 when its logits are
// not all finite, 2 when the logits divided by the temperature overflow.
func deviceCheck(s Sampling, status int32) error {
	switch status {
	case 0:
		return nil
	case 2:
		return temperatureOverflow(s.Temperature)
	}
	return errNonFinite
}

// deviceDraw is the sampler's graph: logits [B, V] float32 → tokens [B] int32, status [B] int32
// (see deviceCheck), and kept [B, V] bool (the filter's survivors; nil when greedy). For modes
// other than greedy, counts [B, V] int32 holds each token's occurrences in the row so far, u [B]
// float64 the row's uniform draw, and params [3] float64 the Sampling's params().
func deviceDraw(mode sampleMode, logits, counts, u, params *Node) (tokens, status, kept *Node) {
	g := logits.Graph()
	b, v := logits.Shape().Dimensions[0], logits.Shape().Dimensions[1]
	// The sum of a row's logits is not finite when one of them is not.
	finite := IsFinite(ReduceSum(logits, -1))
	status = Where(finite, Const(g, int32(0)), Const(g, int32(1)))
	if mode == sampleGreedy {
		return ArgMax(logits, -1), status, nil
	}
	param := func(i int) *Node { return Squeeze(Slice(params, AxisElem(i))) }
	temperature, penalty, filter := param(0), param(1), param(2)
	x := Sub(Div(ConvertDType(logits, dtypes.Float64), temperature), Mul(penalty, ConvertDType(counts, dtypes.Float64)))
	best := ReduceAndKeep(x, ReduceMax, -1)
	overflow := LogicalAnd(finite, LogicalNot(IsFinite(Squeeze(best, -1))))
	status = Where(overflow, Const(g, int32(2)), status)
	e := Exp(Sub(x, best))
	switch mode {
	case sampleTopK:
		kept = keep(rankKeys(x), OnesLike(e), filter)
	case sampleTopP:
		kept = keep(rankKeys(x), e, Mul(filter, ReduceSum(e, -1)))
	default:
		kept = Ones(g, shapes.Make(dtypes.Bool, b, v))
	}
	w := Where(kept, e, ZerosLike(e))
	tokens = firstExceeding(w, Mul(u, ReduceSum(w, -1)), false)
	// Rounding can leave u·Σ at or past the last running sum: the last kept token then.
	ids := Iota(g, shapes.Make(dtypes.Int32, b, v), 1)
	lastKept := ReduceMax(Where(kept, ids, Const(g, int32(-1))), -1)
	return Min(tokens, lastKept), status, kept
}

// rankKeys maps processed logits [B, V] to int32 keys in the same order as their float32
// values (−0 as +0), so that a threshold on keys is a threshold on logits.
func rankKeys(x *Node) *Node {
	g := x.Graph()
	xf := ConvertDType(x, dtypes.Float32)
	xf = Where(Equal(xf, ZerosLike(xf)), ZerosLike(xf), xf)
	bits := Bitcast(xf, dtypes.Int32)
	// Negative floats order backwards as integers: flip their magnitude bits.
	return Where(LessThan(bits, ZerosLike(bits)), BitwiseXor(bits, Const(g, int32(0x7FFFFFFF))), bits)
}

// keep returns the kept set [B, V] bool of a filter that keeps the best-ranked tokens (by key,
// higher first, ties by lower id) until their weights w [B, V] float64 reach need [B]: top-p
// (w = e, need = p·Σe) and top-k (w = 1, need = k).
//
// The boundary key τ is the largest with Σ{w : key ≥ τ} ≥ need, found by bisection over the
// int32 key range (32 halvings, each one masked sum). Every token above τ is kept; of those at
// τ, the lowest ids are added until the running total reaches need.
func keep(keys, w, need *Node) *Node {
	g := keys.Graph()
	lo := ConvertDType(ReduceMin(keys, -1), dtypes.Int64)
	hi := ConvertDType(ReduceMax(keys, -1), dtypes.Int64)
	zero := ZerosLike(w)
	for range 32 {
		mid := Add(lo, Div(AddScalar(Sub(hi, lo), 1), Const(g, int64(2))))
		above := GreaterOrEqual(keys, ExpandAxes(ConvertDType(mid, dtypes.Int32), -1))
		ok := GreaterOrEqual(ReduceSum(Where(above, w, zero), -1), need)
		lo = Where(ok, mid, lo)
		hi = Where(ok, hi, AddScalar(mid, -1))
	}
	tau := ExpandAxes(ConvertDType(lo, dtypes.Int32), -1)
	over := GreaterThan(keys, tau)
	ties := Equal(keys, tau)
	rest := Sub(need, ReduceSum(Where(over, w, zero), -1))
	last := firstExceeding(Where(ties, w, zero), rest, true)
	ids := Iota(g, shapes.Make(dtypes.Int32, keys.Shape().Dimensions...), 1)
	return LogicalOr(over, LogicalAnd(ties, LessOrEqual(ids, ExpandAxes(last, -1))))
}

// blockLen is the block length of firstExceeding's two-level running sums.
const blockLen = 128

// firstExceeding returns, for w [B, V] float64 ≥ 0 and target [B], the first index i whose
// running sum w[0] + … + w[i] exceeds target (reaches it, when orEqual), V when none does. The
// running sums are taken in blocks of blockLen: the sums of whole blocks before i, then the
// terms of i's block.
func firstExceeding(w, target *Node, orEqual bool) *Node {
	g := w.Graph()
	b, v := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
	nb := (v + blockLen - 1) / blockLen
	if pad := nb*blockLen - v; pad > 0 {
		w = GrowRight(w, 1, pad, 0)
	}
	blocks := Reshape(w, b, nb, blockLen)
	past := func(sums, t *Node) *Node { // sums ≤ t (< t when orEqual): not yet exceeding
		if orEqual {
			return LessThan(sums, t)
		}
		return LessOrEqual(sums, t)
	}
	count := func(mask *Node) *Node { return ReduceSum(ConvertDType(mask, dtypes.Int32), -1) }
	blockSums := ReduceSum(blocks, -1)                                // [B, nb]
	runBlocks := Einsum("bi,ij->bj", blockSums, upperTriangle(g, nb)) // running sums through each block
	t := ExpandAxes(target, -1)
	blk := count(past(runBlocks, t)) // the block where the running sum first exceeds target
	inRange := LessThan(blk, Const(g, int32(nb)))
	blkc := Min(blk, Const(g, int32(nb-1)))
	before := Sub(gatherLast(runBlocks, blkc), gatherLast(blockSums, blkc)) // running sum before the block
	rows := Iota(g, shapes.Make(dtypes.Int32, b), 0)
	terms := Gather(blocks, Stack([]*Node{rows, blkc}, -1))                                         // [B, blockLen]
	runTerms := Add(ExpandAxes(before, -1), Einsum("bi,ij->bj", terms, upperTriangle(g, blockLen))) // [B, blockLen]
	i := Add(Mul(blkc, Const(g, int32(blockLen))), count(past(runTerms, t)))
	return Where(inRange, Min(i, Const(g, int32(v))), Const(g, int32(v)))
}

// upperTriangle is the n × n float64 matrix with ones on and above the diagonal: x·U is the
// running sum of x.
func upperTriangle(g *Graph, n int) *Node {
	row := Iota(g, shapes.Make(dtypes.Int32, n, n), 0)
	col := Iota(g, shapes.Make(dtypes.Int32, n, n), 1)
	return ConvertDType(LessOrEqual(row, col), dtypes.Float64)
}
