package sweep

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"unicode/utf8"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/internal/machine"
	"github.com/actadd-go/actadd/runstore"
)

// Code versions of the units a sweep records (runstore.Key.Code). A record is reused only
// under the same version, so bump a version whenever a change of this package, of package
// actadd or of package gpt2 changes what its units hold (another batch layout, another sampler,
// another forward pass): stores then compute those units again instead of handing back results
// of the old code.
const (
	GenerateCode = "sweep.generate/2" // a batch of completions of one setting (Generate)
	ScoreCode    = "sweep.score/1"    // the log-probs of a batch of texts under one setting (Score)
)

// Kinds of the units a sweep records (runstore.Key.Kind).
const (
	generateKind = "sweep/completions"
	scoreKind    = "sweep/log-probs"
)

// keyBase is the part of every unit's key that names the model and the numerics that compute
// it (internal/machine.Numerics: backend, architecture, SIMD kernels, GoMLX versions).
func keyBase(m *actadd.Model, kind, code string) runstore.Key {
	return runstore.Key{Kind: kind, Code: code, Model: m.Name, Revision: m.Revision, Backend: machine.Numerics(m.BackendName)}
}

// steeringKey is a setting's addition as a key holds it; nil for the unsteered setting.
type steeringKey struct {
	Plus, Minus string
	Coeff       float64
	Layer       int
	Point       string
	Position    string
	// Vector is the SHA-256 of a given vector (its model, layer, point, pairs, shape and
	// values); "" when the vector comes from the prompt pair.
	Vector string `json:",omitempty"`
	// PlusBytes and MinusBytes hold a prompt that is not valid UTF-8 as it is: JSON would
	// replace its invalid bytes, so that different prompts would share a key. Absent for
	// valid UTF-8, which keeps every other key as it was.
	PlusBytes  []byte `json:",omitempty"`
	MinusBytes []byte `json:",omitempty"`
	// Chat is a chat addition's pair as messages and where it is taken and added (the
	// template's hash is in the key's Data); absent for plain additions.
	Chat *chatSteeringKey `json:",omitempty"`
}

// SteeringKey is how a run store's key (runstore.Key.Steering) names an addition: its prompt
// pair, coefficient, layer, hook point and position, and for a given vector the SHA-256 of
// its values. Experiments that record their own units (E3) use it too.
func SteeringKey(a actadd.Addition) any {
	k := steeringKey{Plus: a.Plus, Minus: a.Minus, Coeff: a.Coeff, Layer: a.Layer, Point: a.Point, Position: a.Position.String()}
	if k.Point == "" {
		k.Point = actadd.DefaultPoint
	}
	if !utf8.ValidString(a.Plus) {
		k.PlusBytes = []byte(a.Plus)
	}
	if !utf8.ValidString(a.Minus) {
		k.MinusBytes = []byte(a.Minus)
	}
	k.Chat = chatSteering(a)
	if v := a.Vector; v != nil {
		h := sha256.New()
		meta, _ := json.Marshal(struct {
			Model, Point string
			Layer, N, D  int
			Pairs        [][2]string
		}{v.Model, v.Point, v.Layer, v.N, v.D, v.Pairs})
		h.Write(meta)
		writeFloats(h, v.Data)
		k.Vector = hex.EncodeToString(h.Sum(nil))
	}
	return k
}

// settingKey is the steering of a setting for its units' keys: nil when unsteered.
func settingKey(s Setting) any {
	if !s.Steered {
		return nil
	}
	return SteeringKey(s.Add)
}

// Checksum is the SHA-256 of a list of texts (each length-prefixed, so that the list's
// boundaries count), as a run store's key (runstore.Key.Data) names its data.
func Checksum(texts []string) string {
	h := sha256.New()
	var n [8]byte
	for _, t := range texts {
		binary.LittleEndian.PutUint64(n[:], uint64(len(t)))
		h.Write(n[:])
		h.Write([]byte(t))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func writeFloats(h hash.Hash, xs []float32) {
	var b [4]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		h.Write(b[:])
	}
}

// generateSampler is what a generation unit's key holds of the generation options (the seed
// goes to runstore.Key.Seed).
type generateSampler struct {
	Temperature, TopP  float64
	TopK               int
	FreqPenalty        float64
	MaxNewTokens       int
	StopAtEOS, NoCache bool
	// Place is where the tokens were drawn (the model's default when the options leave it
	// open): the device and host samplers agree but for rounding at a draw's edge.
	Place actadd.SamplerPlace
}

// generateUnitKey says which completions of a setting a unit holds: those of random streams
// First … First+Count−1, generated together in one batch of Count rows.
type generateUnitKey struct {
	First uint64
	Count int
}

// storedCompletion is what a run store holds of a completion (its Row is the setting's). Text
// is kept as bytes: a completion can end inside a character, and JSON would replace such a
// string's invalid UTF-8.
type storedCompletion struct {
	Tokens    []int
	PromptLen int
	Text      []byte
	Sampler   actadd.SamplerPlace
}

// scoreUnitKey says what a scoring unit holds: the log-probs of Texts texts (their checksum is
// the key's Data), scored in one batch, after the first SkipFirst predictions.
type scoreUnitKey struct {
	Texts, SkipFirst int
}

// float32s is a list of float32 recorded exactly and compactly: their little-endian bits in
// base64 (JSON numbers would take twice the room).
type float32s []float32

func (f float32s) MarshalJSON() ([]byte, error) {
	b := make([]byte, 4*len(f))
	for i, x := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (f *float32s) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		return fmt.Errorf("sweep: a recorded list of float32 is not base64 of 4-byte values")
	}
	if len(b) == 0 {
		*f = nil // as computed: actadd returns no log-probs as a nil slice
		return nil
	}
	*f = make(float32s, len(b)/4)
	for i := range *f {
		(*f)[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}
