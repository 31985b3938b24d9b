package actadd_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/internal/fuzzcheck"
)

// FuzzLoadVector reads arbitrary bytes as a saved steering vector. Every input gives a vector
// or an error, within fuzzcheck's bounds. A vector that loads is one SaveVector could have
// written (at least one position, a positive width, finite values, a finite coefficient, a
// layer that is not negative, the position the file names), and it saves and loads again
// equal, with its addition.
func FuzzLoadVector(f *testing.F) {
	dir := f.TempDir()
	seed := func(name string, save func(path string) error) {
		path := filepath.Join(dir, name)
		if err := save(path); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	v := &actadd.Vector{Model: "gpt2", Layer: 6, Point: actadd.DefaultPoint, Pairs: [][2]string{{" weddings", ""}},
		N: 2, D: 3, Data: []float32{0.5, -1, 2, 1e-3, 0, -7.25}}
	seed("v2.safetensors", func(p string) error { return actadd.SaveVector(p, v, actadd.Apply(v, 4)) })
	mean := &actadd.Vector{Model: "tiny (random-weight stand-in, not GPT-2)", Layer: 1, Point: "hook_resid_mid",
		Pairs: [][2]string{{"Love", "Hate"}, {"I love\x1fit", "I hate it"}}, N: 1, D: 4, Data: []float32{1, 2, 3, 4}}
	seed("v2-mean.safetensors", func(p string) error {
		return actadd.SaveVector(p, mean, actadd.Apply(mean, -2.5).AtPosition(actadd.Back))
	})
	seed("v1.safetensors", func(p string) error {
		meta := map[string]string{"format": "actadd-vector/1", "model": "gpt2", "layer": "6", "point": actadd.DefaultPoint,
			"plus": "Love\x1fI love it", "minus": "Hate\x1fI hate it", "coefficient": "4", "position": "front"}
		return checkpoint.WriteSafetensors(p, map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{2, 3}, Data: make([]float32, 6)}}, meta)
	})

	path, again := filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "again.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var v *actadd.Vector
		var add actadd.Addition
		var err error
		fuzzcheck.Bounded(t, len(data), 64, func() { v, add, err = actadd.LoadVector(path) })
		if err != nil {
			if v != nil {
				t.Fatalf("error %v with a vector", err)
			}
			return
		}
		switch {
		case v.N < 1 || v.D < 1 || len(v.Data) != v.N*v.D:
			t.Fatalf("loaded a vector of %d × %d with %d values", v.N, v.D, len(v.Data))
		case v.Layer < 0:
			t.Fatalf("loaded a vector of layer %d", v.Layer)
		case math.IsNaN(add.Coeff) || math.IsInf(add.Coeff, 0):
			t.Fatalf("loaded coefficient %v", add.Coeff)
		case add.Vector != v || add.Layer != v.Layer || add.Point != v.Point:
			t.Fatalf("the addition %+v does not apply the vector loaded", add)
		}
		for i, x := range v.Data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("loaded value %v at %d", x, i)
			}
		}
		_, meta, err := checkpoint.ReadSafetensors(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := add.Position.String(); got != meta["position"] {
			t.Fatalf("position %q loaded as %s", meta["position"], got)
		}
		if err := actadd.SaveVector(again, v, add); err != nil {
			t.Fatalf("saving the vector loaded: %v", err)
		}
		v2, add2, err := actadd.LoadVector(again)
		if err != nil {
			t.Fatalf("loading the vector saved: %v", err)
		}
		if !reflect.DeepEqual(v2, v) {
			t.Fatalf("vector %+v saved and loaded as %+v", v, v2)
		}
		add2.Vector, add.Vector = nil, nil
		if !reflect.DeepEqual(add2, add) {
			t.Fatalf("addition %+v saved and loaded as %+v", add, add2)
		}
	})
}
