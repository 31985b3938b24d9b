// Package testbackend gives the project's tests and Go benchmarks their backend: the go backend
// as backend.New builds it, whatever $GOMLX_BACKEND says, unless $ACTADD_TEST_BACKEND=selected
// moves them to the backend backend.New selects (see backend.ForTests).
package testbackend

import (
	"testing"

	"github.com/actadd-go/actadd/backend"
	"github.com/gomlx/compute"
)

// Get returns backend.ForTests's backend, failing t if it cannot be built.
func Get(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.ForTests()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
