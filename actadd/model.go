// Package actadd implements Activation Addition (Turner et al., arXiv 2308.10248): steering GPT-2
// by adding c·(h(p+) − h(p−)), the difference of the residual streams of a prompt pair, to the
// residual stream of a new prompt, with no training.
//
// The residual stream is edited in one place, steering.edit in steer.go. The other files prepare
// its inputs or run steered programs:
//
//   - addition.go, vector.go: what to add where (Addition), and steering vectors from prompt pairs;
//   - prepare.go: a call's rows tokenized, their additions placed, cut into batches;
//   - pairrows.go: vectors built inside a steered pass from prompt rows appended to its batch;
//   - generate.go, sample.go: batched, KV-cached generation with the protocol's sampler;
//   - score.go, forward.go: per-token log-probabilities, next-token ranks, timed forward passes.
//
// Steering vectors, coefficients and layers are runtime inputs of the compiled programs: sweeping
// them never recompiles, and each row of a batch can carry its own configuration.
package actadd

import (
	"fmt"
	"sync"

	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/gpt2"
)

// Model is a GPT-2 with its tokenizer, ready to be steered.
type Model struct {
	*gpt2.Model
	Tok *bpe.Tokenizer
	// BackendName is the backend the model runs on ("go", "xla:cuda", ...), for labels.
	BackendName string

	mu       sync.Mutex
	programs map[string]*gpt2.Program
	packed   map[string]*packedStep  // packed decoding-step programs by name and shape (decode.go)
	acquired int64                   // packed step programs acquired so far
	acts     map[actsKey][][]float32 // per-layer activation differences of prompt pairs, see vector.go
	vectors  map[vectorKey]*Vector

	tuning decodeTuning
}

// decodeTuning holds alternatives to the decoding defaults, for benchmarks that compare them
// in one process.
type decodeTuning struct {
	unpackedStep    bool         // the decoding step takes its weights as inputs (gpt2.NewProgram)
	packedSteps     int          // packed decoding-step programs kept (0: maxPackedSteps)
	capacityRound   int          // the KV cache's length is a multiple of this (0: 16)
	layout          *batchLayout // how batches are cut (nil: batchLayout's choice)
	inFlight        int          // batches decoded at once (0: BatchesInFlight's choice)
	noSharedPrefill bool         // prefill every row even when all rows of a batch are the same
}

// Load loads a model by name (gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, a local
// checkpoint directory, or "tiny", the random-weight offline stand-in) on the backend chosen by
// backend.New (GOMLX_BACKEND, else XLA when a PJRT plugin is installed, else the go backend).
func Load(name string) (*Model, error) {
	b, _, err := backend.New()
	if err != nil {
		return nil, err
	}
	m, err := gpt2.Load(b, name)
	if err != nil {
		return nil, err
	}
	return Wrap(m, backend.Describe(b))
}

// Wrap makes a loaded gpt2.Model steerable; backendName labels results.
func Wrap(m *gpt2.Model, backendName string) (*Model, error) {
	if m == nil {
		return nil, fmt.Errorf("actadd: Wrap: nil model: load one with gpt2.Load or gpt2.New first")
	}
	tok, err := bpe.New()
	if err != nil {
		return nil, err
	}
	if m.Config.VocabSize != tok.VocabSize() {
		return nil, fmt.Errorf("actadd: model %s has a vocabulary of %d tokens, but the GPT-2 tokenizer has %d: ActAdd needs a GPT-2 checkpoint with vocab_size %[3]d", m.Name, m.Config.VocabSize, tok.VocabSize())
	}
	return &Model{Model: m, Tok: tok, BackendName: backendName, programs: map[string]*gpt2.Program{}, packed: map[string]*packedStep{}, acts: map[actsKey][][]float32{}, vectors: map[vectorKey]*Vector{}}, nil
}

// Label names the model and backend, e.g. "gpt2-xl on xla:cuda", for figures and printed results.
func (m *Model) Label() string { return fmt.Sprintf("%s on %s", m.Name, m.BackendName) }

// program returns the cached program named key, building it with build the first time.
func (m *Model) program(key string, build func() (*gpt2.Program, error)) (*gpt2.Program, error) {
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

// tokenize encodes a prompt with BOS prepended, as TransformerLens does.
func (m *Model) tokenize(prompt string) ([]int, error) {
	if prompt == "" {
		return nil, fmt.Errorf("actadd: empty prompt: give some text to continue or score")
	}
	ids := m.Tok.EncodeWithBOS(prompt)
	if len(ids) > m.Config.NPositions {
		return nil, fmt.Errorf("actadd: prompt of %d tokens (with BOS) exceeds the model's context of %d: shorten it", len(ids), m.Config.NPositions)
	}
	return ids, nil
}
