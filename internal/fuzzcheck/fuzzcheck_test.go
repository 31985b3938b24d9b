package fuzzcheck

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records Fatalf instead of stopping.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failure = fmt.Sprintf(format, args...) }

var sink []byte

// An allocation far beyond the input's size fails; one within the bound does not.
func TestBounded(t *testing.T) {
	r := &recorder{TB: t}
	Bounded(r, 100, 64, func() { sink = make([]byte, 2*Slack) })
	if r.failure == "" {
		t.Errorf("an allocation of %d bytes for 100 input bytes passed", 2*Slack)
	}
	r = &recorder{TB: t}
	Bounded(r, 100, 64, func() { sink = make([]byte, 1000) })
	if r.failure != "" {
		t.Errorf("an allocation of 1000 bytes failed: %s", r.failure)
	}
	sink = nil
}
