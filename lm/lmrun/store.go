package lmrun

import (
	"fmt"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// Store holds a model's weights on its backend, the leading inputs of every program. A family's
// Model embeds it, so that its methods are the Model's; the family fills it with InitStore.
type Store struct {
	backend   compute.Backend
	params    []*tensors.Tensor
	builds    atomic.Int64 // graphs built from these weights
	finalized atomic.Bool  // Finalize was called: the weights are gone
}

// InitStore sets the backend and the weights of s, in the order the family's Weights expects
// them.
func InitStore(s *Store, backend compute.Backend, params []*tensors.Tensor) {
	s.backend, s.params = backend, params
}

// CountBuild counts one more graph built from the weights of s.
func CountBuild(s *Store) { s.builds.Add(1) }

// Usable returns an error once s has been finalized; prefix and name say which model.
func Usable(s *Store, prefix, name string) error {
	if s.finalized.Load() {
		return fmt.Errorf("%s: model %s was finalized (its weights are freed): load it again to use it", prefix, name)
	}
	return nil
}

// Backend is the backend the weights live on.
func (s *Store) Backend() compute.Backend { return s.backend }

// Builds counts the graphs compiled from this model so far (every program, every shape). Sweeps
// use it to prove that changing a steering vector, coefficient or layer does not recompile.
func (s *Store) Builds() int64 { return s.builds.Load() }

// Params returns the weight tensors, in the order Weights expects them as the first graph inputs.
func (s *Store) Params() []*tensors.Tensor { return s.params }

// NumParams is the number of weight tensors (the leading inputs of every program).
func (s *Store) NumParams() int { return len(s.params) }

// Finalize frees the weights on the backend. The model cannot be used afterwards: its programs
// return an error saying so. Do not call it while other goroutines use the model.
func (s *Store) Finalize() {
	s.finalized.Store(true)
	for _, t := range s.params {
		t.FinalizeAll()
	}
	s.params = nil
}
