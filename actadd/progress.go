package actadd

import (
	"io"

	meter "github.com/actadd-go/actadd/progress"
)

// progress reports long work (done/total, rate, time left) through package progress: a line on
// the caller's writer at most every few seconds and at the end, and the live status to the
// progress observers (a notebook's line updated in place, $ACTADD_PROGRESS_FILE).
type progress struct{ m *meter.Meter }

func newProgress(w io.Writer, what, unit string, total int) *progress {
	return &progress{m: meter.New(w, what, unit, total)}
}

// add records n more units done.
func (p *progress) add(n int) {
	if p != nil {
		p.m.Add(n)
	}
}
