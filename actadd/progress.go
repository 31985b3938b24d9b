package actadd

import (
	"fmt"
	"io"
	"time"
)

// progress prints a line about long work at most every few seconds, and once at the end.
type progress struct {
	w          io.Writer
	what, unit string
	total      int
	done       int
	start      time.Time
	last       time.Time
}

// progressEvery is the least time between two progress lines.
const progressEvery = 5 * time.Second

func newProgress(w io.Writer, what, unit string, total int) *progress {
	now := time.Now()
	return &progress{w: w, what: what, unit: unit, total: total, start: now, last: now}
}

// add records n more units done and prints a line when due.
func (p *progress) add(n int) {
	if p == nil || p.w == nil {
		return
	}
	p.done += n
	if now := time.Now(); now.Sub(p.last) >= progressEvery || p.done >= p.total {
		p.last = now
		el := now.Sub(p.start)
		rate := float64(p.done) / el.Seconds()
		eta := ""
		if p.done < p.total && rate > 0 {
			eta = fmt.Sprintf(", ETA %s", time.Duration(float64(p.total-p.done)/rate*float64(time.Second)).Round(time.Second))
		}
		fmt.Fprintf(p.w, "%s: %d/%d %s, %.1f %s/s, %s elapsed%s\n", p.what, p.done, p.total, p.unit, rate, p.unit, el.Round(100*time.Millisecond), eta)
	}
}
