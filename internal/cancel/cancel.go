// Package cancel gives tests a context cancelled at a chosen point of a run: After(n) is live
// for n checks of its Err and cancelled from then on. Long work in this module checks Err
// between its units (and actadd at every decoding step), so a test can stop a run exactly
// between two units, or in the middle of one, without timing.
package cancel

import (
	"context"
	"sync/atomic"
)

// After returns a context whose Err is nil for its first n calls and context.Canceled from
// then on. Its Done channel never closes: it is meant for code that asks Err.
func After(n int64) context.Context {
	c := &after{Context: context.Background()}
	c.n.Store(n)
	return c
}

type after struct {
	context.Context
	n atomic.Int64
}

func (c *after) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}
