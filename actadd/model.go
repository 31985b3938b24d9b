// Package actadd implements Activation Addition (Turner et al., arXiv 2308.10248): steering a
// language model by adding c·(h(p+) − h(p−)), the difference of the residual streams of a prompt
// pair, to the residual stream of a new prompt, with no training. It sees the model through the
// interfaces of package lm (any family package loader loads: GPT-2, Llama, Mistral, Qwen).
//
// The residual stream is edited in one place, steering.edit in steer.go, with the steering
// inputs of the compiled programs and the graph side of pair rows. The other files prepare its
// inputs or run steered programs, and call into steer.go, never the other way:
//
//   - addition.go, vector.go: what to add where (Addition), and steering vectors from prompt pairs;
//   - prepare.go, pairrows.go: a call's rows tokenized, their additions placed, the prompt pairs
//     whose vectors a steered pass builds itself (pair rows), cut into batches;
//   - generate.go, decode.go, sample.go, devsample.go: batched, KV-cached generation with the
//     protocol's sampler;
//   - score.go, forward.go: per-token log-probabilities, next-token ranks, timed forward passes.
//
// Steering vectors, coefficients and layers are runtime inputs of the compiled programs: sweeping
// them never recompiles, and each row of a batch can carry its own configuration.
package actadd

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/loader"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a language model with its tokenizer, ready to be steered. It sees the model only
// through the lm interfaces, whatever its family.
type Model struct {
	// LM is the model: its sizes, weights and programs.
	LM lm.Model
	// Tok is its tokenizer.
	Tok lm.Tokenizer
	// Name and Revision say what the weights are (lm.Info): results and figures print them.
	Name, Revision string
	// BackendName is the backend the model runs on ("go", "xla:cuda", ...), for labels.
	BackendName string

	info     lm.Info
	dims     lm.Dims
	mu       sync.Mutex
	programs map[string]lm.Program
	packed   map[string]*packedStep  // packed decoding-step programs by name and shape (decode.go)
	acquired int64                   // packed step programs acquired so far
	acts     map[actsKey][][]float32 // per-layer activation differences of prompt pairs, see vector.go
	vectors  map[vectorKey]*Vector

	tuning decodeTuning
	chat   chatState // the chat template and the vectors of chat prompt pairs (chat.go)
}

// decodeTuning holds alternatives to the decoding defaults, for the tests and benchmarks of
// this package that compare them in one process.
type decodeTuning struct {
	unpackedStep    bool         // the decoding step takes its weights as inputs (not packed)
	packedSteps     int          // packed decoding-step programs kept (0: maxPackedSteps)
	capacityRound   int          // the KV cache's length is a multiple of this (0: 16)
	layout          *batchLayout // how batches are cut (nil: batchLayout's choice)
	inFlight        int          // batches decoded at once (0: BatchesInFlight's choice)
	noSharedPrefill bool         // prefill every row even when all rows of a batch are the same
}

// Load loads a model by name on the backend chosen by backend.New (GOMLX_BACKEND, else XLA when
// a PJRT plugin is installed, else the go backend): a published model (loader.Names lists
// them), a Hugging Face repository id, a local checkpoint folder, or one of the random-weight
// offline stand-ins ("tiny", the GPT-2-shaped one). The family comes from config.json's
// model_type (package loader).
func Load(name string) (*Model, error) {
	b, _, err := backend.New()
	if err != nil {
		return nil, err
	}
	m, tok, err := loader.Load(b, name)
	if err != nil {
		return nil, err
	}
	mm, err := Wrap(m, tok, backend.Describe(b))
	if err == nil {
		mm.chat.source = name // where ChatTemplate finds the checkpoint's template
	}
	return mm, err
}

// Wrap makes a model steerable with its tokenizer; backendName labels results. A nil tok means
// the family's built-in tokenizer (GPT-2's BPE), for families that have one
// (loader.BuiltinTokenizer).
func Wrap(m lm.Model, tok lm.Tokenizer, backendName string) (*Model, error) {
	if m == nil {
		return nil, fmt.Errorf("actadd: Wrap: nil model: load one with loader.Load (or build one with gpt2.New) first")
	}
	info, dims := m.Info(), m.Dims()
	if tok == nil {
		var err error
		if tok, err = loader.BuiltinTokenizer(info.Family); err != nil {
			return nil, fmt.Errorf("actadd: Wrap: %w", err)
		}
	}
	if tok.VocabSize() > dims.Vocab {
		return nil, fmt.Errorf("actadd: model %s has a vocabulary of %d tokens, but its tokenizer has %d: give the tokenizer that belongs to the checkpoint", info.Name, dims.Vocab, tok.VocabSize())
	}
	bos, hasBOS := tok.BOS()
	for _, id := range []struct {
		what string
		id   int
		use  bool
	}{{"BOS", bos, hasBOS}, {"EOS", tok.EOS(), true}, {"padding", tok.Pad(), true}} {
		if id.use && (id.id < 0 || id.id >= dims.Vocab) {
			return nil, fmt.Errorf("actadd: the tokenizer's %s id %d is outside model %s's vocabulary of %d: give the tokenizer that belongs to the checkpoint", id.what, id.id, info.Name, dims.Vocab)
		}
	}
	return &Model{LM: m, Tok: tok, Name: info.Name, Revision: info.Revision, BackendName: backendName, info: info, dims: dims,
		programs: map[string]lm.Program{}, packed: map[string]*packedStep{}, acts: map[actsKey][][]float32{}, vectors: map[vectorKey]*Vector{}}, nil
}

// Label names the model and backend, e.g. "gpt2-xl on xla:cuda", for figures and printed results.
func (m *Model) Label() string { return fmt.Sprintf("%s on %s", m.Name, m.BackendName) }

// Info says what the weights are: name, revision, family.
func (m *Model) Info() lm.Info { return m.info }

// Family is the model's architecture, config.json's model_type ("gpt2", "llama", "qwen2", ...).
func (m *Model) Family() string { return m.info.Family }

// Layers is the number of transformer blocks: additions go at layers 0 … Layers()-1.
func (m *Model) Layers() int { return m.dims.Layers }

// Width is d_model, the width of the residual stream and of a steering vector's rows.
func (m *Model) Width() int { return m.dims.Width }

// Context is the number of positions the model attends over: prompt and new tokens together.
func (m *Model) Context() int { return m.dims.Context }

// VocabSize is the width of the model's logits.
func (m *Model) VocabSize() int { return m.dims.Vocab }

// Backend is the backend the weights live on.
func (m *Model) Backend() compute.Backend { return m.LM.Backend() }

// Builds counts the graphs built from the model's weights so far (lm.Model.Builds).
func (m *Model) Builds() int64 { return m.LM.Builds() }

// Finalize frees the model's weights; it cannot be used afterwards.
func (m *Model) Finalize() { m.LM.Finalize() }

// EncodeWithBOS tokenizes text as a prompt: the tokenizer's BOS (when the model has one), then
// its tokens.
func (m *Model) EncodeWithBOS(text string) []int { return lm.EncodeWithBOS(m.Tok, text) }

// program returns the cached program named key, building it with build the first time.
func (m *Model) program(key string, build func() (lm.Program, error)) (lm.Program, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.programs[key]; ok {
		return p, nil
	}
	p, err := build()
	if err != nil {
		return nil, err
	}
	m.programs[key] = p
	return p, nil
}

// compile is lm.Model.Compile, unpacked.
func (m *Model) compile(name string, build func(g lm.Graph, in []*Node) []*Node) (lm.Program, error) {
	return m.LM.Compile(name, false, build)
}

// tokenize encodes a prompt with BOS prepended (when the model has one), as TransformerLens does.
func (m *Model) tokenize(prompt string) ([]int, error) {
	if prompt == "" {
		return nil, fmt.Errorf("actadd: empty prompt: give some text to continue or score")
	}
	ids := m.EncodeWithBOS(prompt)
	if len(ids) == 0 {
		return nil, fmt.Errorf("actadd: prompt %q encodes to no tokens: give some text to continue or score", prompt)
	}
	if len(ids) > m.Context() {
		return nil, fmt.Errorf("actadd: prompt of %d tokens (with BOS) exceeds the model's context of %d: shorten it", len(ids), m.Context())
	}
	return ids, nil
}

// tokensTensor checks a batch of token rows (equal lengths, ids in the vocabulary, within the
// context) and packs it as an int32 [batch, seq] tensor.
func (m *Model) tokensTensor(rows [][]int) (*tensors.Tensor, error) {
	return lm.TokensTensor("actadd", "", m.VocabSize(), m.Context(), rows)
}

// capture runs token rows of equal length through the model (unsteered) and returns the
// activations at points, each [batch, seq, Width], in the order given.
func (m *Model) capture(rows [][]int, points []string) ([]*tensors.Tensor, error) {
	tok, err := m.tokensTensor(rows)
	if err != nil {
		return nil, err
	}
	sorted := append([]string(nil), points...)
	sort.Strings(sorted)
	p, err := m.program("capture/"+strings.Join(sorted, ","), func() (lm.Program, error) {
		return m.compile("actadd.capture", func(g lm.Graph, in []*Node) []*Node {
			captured := map[string]*Node{}
			g.Forward(in[0], in[1], lm.Capture(captured, sorted...))
			outs := make([]*Node, len(sorted))
			for i, c := range sorted {
				if captured[c] == nil {
					panic(fmt.Sprintf("actadd: hook point %q was never reached", c))
				}
				outs[i] = captured[c]
			}
			return outs
		})
	})
	if err != nil {
		return nil, err
	}
	outs, err := p.Call(tok, lm.PositionsTensor(len(rows), len(rows[0]), 0))
	if err != nil {
		return nil, err
	}
	byName := map[string]*tensors.Tensor{}
	for i, c := range sorted {
		byName[c] = outs[i]
	}
	res := make([]*tensors.Tensor, len(points))
	for i, c := range points {
		res[i] = byName[c]
	}
	return res, nil
}
