// Package controlvector moves steering vectors between this project and llama.cpp: it exports an
// ActAdd vector as a llama.cpp control vector (GGUF) and imports control vectors made by
// llama.cpp's cvector-generator or by repeng, to apply them here with llama.cpp's semantics.
//
// The two add in different places (docs/control-vectors.md has the whole comparison):
//
//   - ActAdd adds c·(h(p+) − h(p−)), a vector of n positions, to the first n positions of the
//     prompt at blocks.{l}.hook_resid_pre of one block l, once.
//   - llama.cpp adds strength · direction.{il}, one vector per block, to the output of block il
//     (0-based, the tensor named "direction.{il}"), at every position of the sequence, prompt and
//     generated tokens alike. That output is blocks.{il}.hook_resid_post here, which is also
//     blocks.{il+1}.hook_resid_pre. llama.cpp never adds to the output of block 0: its loader
//     refuses a tensor "direction.0".
//
// Export therefore writes the vector of an ActAdd addition at blocks.{l}.hook_resid_pre as
// "direction.{l−1}", reduced to one row (see Reduction); Import reads "direction.{il}" and
// ControlVector.EveryPosition applies it at blocks.{il}.hook_resid_post.
package controlvector

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/actadd"
)

// Arch is the general.architecture of a control vector file, as llama.cpp's gguf-py names it.
const Arch = "controlvector"

// Metadata keys. llama.cpp's loader reads none of them (only the tensors); cvector-generator and
// repeng write the first three, and Export adds its own under "actadd." to record where the
// vector came from.
const (
	keyArch       = "general.architecture"
	keyModelHint  = "controlvector.model_hint"
	keyLayerCount = "controlvector.layer_count"
	keyModel      = "actadd.model"
	keyLayer      = "actadd.layer"
	keyPoint      = "actadd.point"
	keyPairs      = "actadd.pairs"
	keyCoeff      = "actadd.coefficient"
	keyReduction  = "actadd.reduction"
)

// ControlVector is a llama.cpp control vector: one direction per block, each added (scaled by a
// strength) to that block's output at every position.
type ControlVector struct {
	// ModelHint is controlvector.model_hint: the model's architecture as llama.cpp names it
	// (cvector-generator: "llama", "gpt2", ...) or its Hugging Face model_type (repeng). Only a
	// hint: llama.cpp does not check it.
	ModelHint string
	// Directions maps a block il (0-based, llama.cpp's il and this project's blocks.{il}) to the
	// direction added to its output, n_embd values.
	Directions map[int][]float32
	// D is the width (n_embd) shared by every direction.
	D int
	// Meta holds the file's other scalar and string metadata, e.g. the actadd.* entries Export
	// writes.
	Meta map[string]any
}

// Layers lists the blocks that have a direction, in increasing order.
func (cv *ControlVector) Layers() []int {
	ls := make([]int, 0, len(cv.Directions))
	for l := range cv.Directions {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	return ls
}

// Import reads a control vector file written by llama.cpp's cvector-generator, repeng's
// ControlVector.export_gguf, or Export. It accepts what llama.cpp's loader accepts: tensors named
// "direction.{il}" with il ≥ 1, all of them 1-D F32 of one width (other tensors, which llama.cpp
// also requires to be 1-D F32, are ignored).
func Import(path string) (*ControlVector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("controlvector: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("controlvector: %w", err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("controlvector: %s has more than the %d bytes a control vector can need: is it a model rather than a control vector?", path, MaxFileSize)
	}
	cv, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("controlvector: %s: %w", path, err)
	}
	return cv, nil
}

// Decode is Import for a file's bytes.
func Decode(b []byte) (*ControlVector, error) {
	f, err := parse(b)
	if err != nil {
		return nil, err
	}
	if a, ok := f.meta[keyArch]; ok && a != Arch {
		return nil, fmt.Errorf("general.architecture is %q, not %q: this is not a control vector (a model or a LoRA adapter?)", a, Arch)
	}
	cv := &ControlVector{Directions: map[int][]float32{}, Meta: map[string]any{}}
	for k, v := range f.meta {
		switch k {
		case keyArch:
		case keyModelHint:
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s is a %T, not a string", k, v)
			}
			cv.ModelHint = s
		default:
			if _, isArray := v.(Array); !isArray {
				cv.Meta[k] = v
			}
		}
	}
	for _, t := range f.tensors {
		if t.typ != ggmlF32 || len(t.dims) != 1 {
			return nil, fmt.Errorf("tensor %q is not a 1-D F32 tensor (type %d, dims %v), which llama.cpp's loader requires of every tensor of a control vector", t.name, t.typ, t.dims)
		}
		rest, ok := strings.CutPrefix(t.name, "direction.")
		if !ok {
			continue
		}
		il, err := strconv.Atoi(rest)
		if err != nil || il < 0 || strconv.Itoa(il) != rest {
			return nil, fmt.Errorf("tensor %q: the part after \"direction.\" is not a layer number", t.name)
		}
		if il == 0 {
			return nil, fmt.Errorf("tensor %q: llama.cpp adds no direction to the output of block 0 and refuses this tensor", t.name)
		}
		if cv.D == 0 {
			cv.D = len(t.data)
		} else if len(t.data) != cv.D {
			return nil, fmt.Errorf("tensor %q has %d values, another direction has %d: directions must share the model's width", t.name, len(t.data), cv.D)
		}
		for i, x := range t.data {
			if x-x != 0 {
				return nil, fmt.Errorf("tensor %q holds %v at dimension %d", t.name, x, i)
			}
		}
		cv.Directions[il] = t.data
	}
	if len(cv.Directions) == 0 {
		return nil, fmt.Errorf("no tensor named direction.{layer}: not a control vector")
	}
	return cv, nil
}

// LayerRange selects the blocks a control vector is applied to, as llama.cpp's
// --control-vector-layer-range a b does: blocks a..b inclusive. The zero value means llama.cpp's
// default, 1..n_layer (every block that can have a direction).
type LayerRange struct{ From, To int }

// EveryPosition returns the addition that applies cv to model m with llama.cpp's semantics:
// strength · direction.{il} added to blocks.{il}.hook_resid_post at every position, for every il
// in the range. It refuses a vector whose width is not the model's, and directions for blocks
// the model does not have (llama.cpp ignores those silently).
func (cv *ControlVector) EveryPosition(m *actadd.Model, strength float64, r LayerRange) (actadd.EveryPosition, error) {
	nLayer, d := m.Layers(), m.Width()
	return cv.everyPosition(m.Name, nLayer, d, strength, r)
}

func (cv *ControlVector) everyPosition(model string, nLayer, d int, strength float64, r LayerRange) (actadd.EveryPosition, error) {
	if cv.D != d {
		return actadd.EveryPosition{}, fmt.Errorf("controlvector: the control vector has width %d, model %s has width %d: it was made for another model (model hint %q)", cv.D, model, d, cv.ModelHint)
	}
	if math.IsNaN(strength) || math.IsInf(strength, 0) {
		return actadd.EveryPosition{}, fmt.Errorf("controlvector: strength %v is not a finite number", strength)
	}
	for il := range cv.Directions {
		if il >= nLayer {
			return actadd.EveryPosition{}, fmt.Errorf("controlvector: the control vector has a direction for block %d, model %s has blocks 0..%d: it was made for another model (model hint %q)", il, model, nLayer-1, cv.ModelHint)
		}
	}
	if r == (LayerRange{}) {
		r = LayerRange{1, nLayer}
	}
	e := actadd.EveryPosition{Point: "hook_resid_post", Vectors: map[int][]float32{}}
	for il, dir := range cv.Directions {
		if il < r.From || il > r.To {
			continue
		}
		v := make([]float32, d)
		for j, x := range dir {
			v[j] = x * float32(strength) // llama.cpp scales in float32 at load time
		}
		e.Vectors[il] = v
	}
	return e, nil
}

// Reduction is how Export turns an ActAdd vector of n positions into the one direction a
// control vector holds.
type Reduction string

const (
	// Mean averages the positions where the prompts differ: the rows that are not exactly
	// zero, as llama.cpp's cvector-generator (method mean) averages the non-zero rows of its
	// differences. Rows where both prompts read the same tokens so far are exactly zero and are
	// left out: BOS, where a model adds one, and a chat template's shared header for a vector
	// taken at the front of the prompt; a vector taken at the user's content
	// (actadd.Addition.AtUserContent) keeps its first row, a word of the pair.
	Mean Reduction = "mean"
	// Last takes the last position: where the prompts' content has been read in full, as repeng
	// reads its pairs (the last token's hidden state).
	Last Reduction = "last"
)

// ExportOptions sets what Export writes.
type ExportOptions struct {
	// Coeff multiplies the exported direction, so that llama.cpp's strength 1 adds what ActAdd
	// adds with coefficient Coeff (per position, for Last; on average, for Mean). Required: use
	// the coefficient the vector is applied with (the Addition's Coeff).
	Coeff float64
	// Reduction picks the position(s) the direction is taken from; Mean when empty.
	Reduction Reduction
	// ModelHint is written as controlvector.model_hint: llama.cpp's name of the architecture
	// ("gpt2" for GPT-2 checkpoints) when empty.
	ModelHint string
}

// Export writes v as a llama.cpp control vector at path: one tensor, "direction.{il}", for the
// block whose output is v's hook point (blocks.{l}.hook_resid_pre is the output of block l − 1;
// blocks.{l}.hook_resid_post that of block l). What does not travel (docs/control-vectors.md):
// the vector's n positions become one direction (opts.Reduction), and llama.cpp adds it at every
// position, prompt and generated tokens alike, where ActAdd adds it to the first n positions of
// the prompt only. Vectors llama.cpp cannot place are refused: those at hook_resid_pre of blocks
// 0 and 1 (the embeddings, and the output of block 0, to which llama.cpp adds nothing) and at
// points that are not a block's output (attn_out, resid_mid, mlp_out).
func Export(path string, v *actadd.Vector, opts ExportOptions) error {
	b, err := Encode(v, opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("controlvector: %w", err)
	}
	return nil
}

// Block returns llama.cpp's il, the block whose output is hook point kind point of block layer
// (blocks.{layer}.{point}), or an error where llama.cpp cannot add there.
func Block(layer int, point string) (int, error) {
	if point == "" {
		point = actadd.DefaultPoint
	}
	var il int
	switch point {
	case "hook_resid_pre":
		il = layer - 1
	case "hook_resid_post":
		il = layer
	default:
		return 0, fmt.Errorf("controlvector: blocks.%d.%s is not a block's output, the only place llama.cpp adds a control vector: use a vector at hook_resid_pre or hook_resid_post", layer, point)
	}
	if il < 1 {
		return 0, fmt.Errorf("controlvector: blocks.%d.%s is the output of block %d; llama.cpp adds control vectors only to the outputs of blocks 1 and above (it refuses direction.0): use a vector at hook_resid_pre of block 2 or later", layer, point, il)
	}
	return il, nil
}

// Encode is Export returning the file's bytes.
func Encode(v *actadd.Vector, opts ExportOptions) ([]byte, error) {
	if v == nil || v.N < 1 || v.D < 1 || len(v.Data) != v.N*v.D {
		return nil, fmt.Errorf("controlvector: Export: malformed or missing vector")
	}
	if opts.Coeff == 0 || math.IsNaN(opts.Coeff) || math.IsInf(opts.Coeff, 0) {
		return nil, fmt.Errorf("controlvector: Export: coefficient %v: give the non-zero, finite coefficient the vector is applied with (ExportOptions.Coeff)", opts.Coeff)
	}
	il, err := Block(v.Layer, v.Point)
	if err != nil {
		return nil, err
	}
	red := opts.Reduction
	if red == "" {
		red = Mean
	}
	dir := make([]float32, v.D)
	switch red {
	case Mean:
		acc := make([]float64, v.D)
		rows := 0
		for i := range v.N {
			row := v.At(i)
			if !slices.ContainsFunc(row, func(x float32) bool { return x != 0 }) {
				continue
			}
			rows++
			for j, x := range row {
				acc[j] += float64(x)
			}
		}
		if rows == 0 {
			return nil, fmt.Errorf("controlvector: Export: the vector is zero at all %d positions (the pair's prompts read the same tokens there): nothing to average; take it over positions where the prompts differ", v.N)
		}
		for j := range dir {
			dir[j] = float32(acc[j] / float64(rows) * opts.Coeff)
		}
	case Last:
		for j, x := range v.At(v.N - 1) {
			dir[j] = float32(float64(x) * opts.Coeff)
		}
	default:
		return nil, fmt.Errorf("controlvector: Export: unknown reduction %q (use %q or %q)", red, Mean, Last)
	}
	for j, x := range dir {
		if x-x != 0 {
			return nil, fmt.Errorf("controlvector: Export: direction holds %v at dimension %d: use a smaller coefficient", x, j)
		}
	}
	hint := opts.ModelHint
	if hint == "" {
		hint = "gpt2"
	}
	pairs := v.Pairs
	if pairs == nil {
		pairs = [][2]string{}
	}
	pj, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("controlvector: Export: %w", err)
	}
	meta := map[string]any{
		keyArch: Arch, keyModelHint: hint,
		// llama.cpp's cvector-generator writes int32 here (repeng uint32); nothing reads it.
		keyLayerCount: int32(1),
		keyModel:      v.Model, keyLayer: int32(v.Layer), keyPoint: v.Point, keyPairs: string(pj),
		keyCoeff: opts.Coeff, keyReduction: string(red),
	}
	return encode(meta, []tensor{{name: fmt.Sprintf("direction.%d", il), typ: ggmlF32, dims: []uint64{uint64(v.D)}, data: dir}})
}

// Scaled is a control vector with its strength, as one --control-vector-scaled FILE S gives it
// to llama.cpp.
type Scaled struct {
	CV       *ControlVector
	Strength float64
}

// Combined applies several control vectors at once, summed after scaling as llama.cpp sums the
// files given to it, with the same check llama.cpp makes: every file must have the same width
// and the same highest block (llama.cpp refuses others as not matching "previous vector
// dimensions").
func Combined(m *actadd.Model, r LayerRange, vs ...Scaled) (actadd.EveryPosition, error) {
	if len(vs) == 0 {
		return actadd.EveryPosition{}, fmt.Errorf("controlvector: Combined: no control vectors")
	}
	top := slices.Max(vs[0].CV.Layers())
	sum := actadd.EveryPosition{Point: "hook_resid_post", Vectors: map[int][]float32{}}
	for i, s := range vs {
		if t := slices.Max(s.CV.Layers()); t != top {
			return actadd.EveryPosition{}, fmt.Errorf("controlvector: Combined: vector %d's highest block is %d, the first's is %d: llama.cpp refuses to sum such files", i, t, top)
		}
		e, err := s.CV.EveryPosition(m, s.Strength, r)
		if err != nil {
			return actadd.EveryPosition{}, err
		}
		for l, v := range e.Vectors {
			acc := sum.Vectors[l]
			if acc == nil {
				acc = make([]float32, len(v))
				sum.Vectors[l] = acc
			}
			for j, x := range v {
				acc[j] += x
			}
		}
	}
	return sum, nil
}
