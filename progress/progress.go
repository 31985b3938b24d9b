// Package progress reports long work so that a person can follow it: how much is done of how
// much (done/total), the rate, and the time left.
//
// A Meter writes a line to its writer at most every Every (and once at the end):
//
//	generate gpt2 on go: 120/400 tokens (30%), 45.2 tokens/s, 2.7s elapsed, about 6s left
//
// Meters that have a writer are also reported, more often, to the observers registered with
// Observe (a notebook's progress line that updates in place, see package nbutil), and, when
// the environment variable FileEnv names a file, appended to that file as Status.FileLine
// lines (scripts/run-notebooks.sh tails it to show progress on the console while notebooks
// run headless).
package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Every is the least time between two lines a Meter writes to its writer or to FileEnv's file.
const Every = 5 * time.Second

// ObserveEvery is the least time between two reports of a Meter to the observers.
const ObserveEvery = 250 * time.Millisecond

// FileEnv names the environment variable that, when set, names a file to which every Meter
// appends its lines (FileLine format).
const FileEnv = "ACTADD_PROGRESS_FILE"

// Status is a snapshot of a Meter.
type Status struct {
	ID          uint64 // unique per Meter in this process
	What, Unit  string // what is measured ("generate gpt2 on go") and its unit ("tokens")
	Done, Total int
	Elapsed     time.Duration
	Finished    bool // Done reached Total
}

// Rate is the units done per second so far (0 before any time has passed).
func (s Status) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done) / s.Elapsed.Seconds()
}

// Left estimates the time left from the rate so far; ok is false while nothing is done.
func (s Status) Left() (left time.Duration, ok bool) {
	if s.Done >= s.Total {
		return 0, true
	}
	r := s.Rate()
	if s.Done <= 0 || r <= 0 {
		return 0, false
	}
	return time.Duration(float64(s.Total-s.Done) / r * float64(time.Second)), true
}

// Fraction is Done/Total in [0, 1].
func (s Status) Fraction() float64 {
	if s.Total <= 0 {
		return 1
	}
	return math.Min(1, float64(s.Done)/float64(s.Total))
}

// String is the status as one line: done/total with the percentage, rate, elapsed time and the
// time left; a finished meter says how long it took.
func (s Status) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d/%d %s", s.What, s.Done, s.Total, s.Unit)
	if s.Finished {
		fmt.Fprintf(&b, " in %s, %s %s/s", Duration(s.Elapsed), rate(s.Rate()), s.Unit)
		return b.String()
	}
	fmt.Fprintf(&b, " (%.0f%%), %s %s/s, %s elapsed", 100*s.Fraction(), rate(s.Rate()), s.Unit, Duration(s.Elapsed))
	if left, ok := s.Left(); ok {
		fmt.Fprintf(&b, ", about %s left", Duration(left))
	} else {
		b.WriteString(", time left not known yet")
	}
	return b.String()
}

// FileLine is the status as a line for FileEnv's file: the seconds left (rounded up; -1 when
// not known yet), a tab, and String. Scripts read the number; people read the rest.
func (s Status) FileLine() string {
	left, ok := s.Left()
	secs := -1
	if ok {
		secs = int(math.Ceil(left.Seconds()))
	}
	return fmt.Sprintf("%d\t%s\n", secs, s)
}

// rate formats a rate with three significant digits at most (1234, 45.2, 0.123).
func rate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	case r >= 1:
		return fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.3g", r)
}

// Duration formats d for people: 850ms, 2.7s, 42s, 3m05s, 2h04m.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Meter measures one piece of long work. Its methods may be called from several goroutines; a
// nil *Meter does nothing.
type Meter struct {
	w          io.Writer
	id         uint64
	what, unit string
	total      int
	start      time.Time
	now        func() time.Time // time.Now, replaced in tests

	mu                          sync.Mutex
	done                        int
	lastLine, lastObs, lastFile time.Time
}

var meterIDs atomic.Uint64

// New returns a Meter of total units, reporting to w (nil: to no writer, and not to the
// observers or the progress file either: a call that was not asked for progress stays quiet).
func New(w io.Writer, what, unit string, total int) *Meter {
	return newAt(w, what, unit, total, time.Now)
}

func newAt(w io.Writer, what, unit string, total int, now func() time.Time) *Meter {
	t := now()
	return &Meter{w: w, id: meterIDs.Add(1), what: what, unit: unit, total: total, start: t, now: now,
		lastLine: t, lastObs: t.Add(-ObserveEvery), lastFile: t}
}

// Add records n more units done and reports when a report is due.
func (m *Meter) Add(n int) {
	if m == nil || m.w == nil {
		return
	}
	m.mu.Lock()
	m.done += n
	now := m.now()
	s := m.statusLocked(now)
	line := s.Finished || now.Sub(m.lastLine) >= Every
	if line {
		m.lastLine = now
	}
	obs := s.Finished || now.Sub(m.lastObs) >= ObserveEvery
	if obs {
		m.lastObs = now
	}
	file := s.Finished || now.Sub(m.lastFile) >= Every
	if file {
		m.lastFile = now
	}
	if line {
		fmt.Fprintln(m.w, s)
	}
	m.mu.Unlock()
	if obs {
		notify(s)
	}
	if file {
		appendToFile(s)
	}
}

// Status returns the meter's current status.
func (m *Meter) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked(m.now())
}

func (m *Meter) statusLocked(now time.Time) Status {
	return Status{ID: m.id, What: m.what, Unit: m.unit, Done: m.done, Total: m.total,
		Elapsed: now.Sub(m.start), Finished: m.done >= m.total}
}

// observers are called with the statuses of every meter that has a writer.
var (
	obsMu     sync.Mutex
	observers = map[int]func(Status){}
	nextObs   int
)

// Observe calls fn with the status of every Meter that has a writer, at most every
// ObserveEvery per meter and once when it finishes, until stop is called. fn runs on the
// goroutine doing the work: keep it quick.
func Observe(fn func(Status)) (stop func()) {
	obsMu.Lock()
	defer obsMu.Unlock()
	id := nextObs
	nextObs++
	observers[id] = fn
	return func() {
		obsMu.Lock()
		defer obsMu.Unlock()
		delete(observers, id)
	}
}

func notify(s Status) {
	obsMu.Lock()
	fns := make([]func(Status), 0, len(observers))
	for _, fn := range observers {
		fns = append(fns, fn)
	}
	obsMu.Unlock()
	for _, fn := range fns {
		fn(s)
	}
}

// fileMu serializes appends to FileEnv's file within this process; each line is one write to a
// file opened for appending, so lines of several processes do not interleave.
var fileMu sync.Mutex

// appendToFile appends s to the file FileEnv names, if any. Progress must never fail the
// work it reports on, so an unwritable file is reported once on stderr and then ignored.
func appendToFile(s Status) {
	path := os.Getenv(FileEnv)
	if path == "" {
		return
	}
	fileMu.Lock()
	defer fileMu.Unlock()
	if fileFailed {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = f.WriteString(s.FileLine())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fileFailed = true
		fmt.Fprintf(os.Stderr, "progress: cannot append to $%s (%v); progress goes to the cell only\n", FileEnv, err)
	}
}

var fileFailed bool
