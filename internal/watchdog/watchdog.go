// Package watchdog decides when a download should be given up: when no byte has arrived for a
// while (a stall), or when bytes keep arriving too slowly for the transfer ever to end (a hub
// sending one byte per second never stalls). It holds the rule only; callers sample the bytes
// received so far, feed them to a Meter, and cancel the transfer on its error.
package watchdog

import (
	"fmt"
	"time"
)

// Defaults for Limits' zero fields.
const (
	// DefaultStall: no byte for this long is a stall.
	DefaultStall = 2 * time.Minute
	// DefaultMinRate is the slowest average, in bytes per second, a transfer may keep up over
	// DefaultWindow: 8 KiB/s, at which gpt2's 548 MB of weights would take 19 hours.
	DefaultMinRate = 8 << 10
	// DefaultWindow is the span the rate is averaged over.
	DefaultWindow = 2 * time.Minute
)

// Limits bound a transfer. Zero fields take the defaults; a negative MinRate turns the rate
// check off.
type Limits struct {
	Stall   time.Duration
	MinRate int64 // bytes per second, averaged over Window
	Window  time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Stall <= 0 {
		l.Stall = DefaultStall
	}
	if l.MinRate == 0 {
		l.MinRate = DefaultMinRate
	}
	if l.Window <= 0 {
		l.Window = DefaultWindow
	}
	return l
}

// Meter watches one transfer. The zero value is not usable: call New.
type Meter struct {
	limits     Limits
	start      time.Time
	last       int64     // bytes at the last change
	lastChange time.Time // when the byte count last changed
	samples    []sample  // the last Window of observations, oldest first
}

type sample struct {
	at    time.Time
	bytes int64
}

// New starts watching a transfer that begins at start with nothing received.
func New(limits Limits, start time.Time) *Meter {
	return &Meter{limits: limits.withDefaults(), start: start, lastChange: start, samples: []sample{{start, 0}}}
}

// Observe records that total bytes have arrived by now, and returns an error saying why the
// transfer should be abandoned, or nil. Call it regularly (every second or so) with
// non-decreasing times.
func (m *Meter) Observe(now time.Time, total int64) error {
	if total != m.last {
		m.last, m.lastChange = total, now
	}
	if idle := now.Sub(m.lastChange); idle >= m.limits.Stall {
		return fmt.Errorf("made no progress for %v", round(idle))
	}
	m.samples = append(m.samples, sample{now, total})
	// Drop the samples older than one window, keeping the newest of them as the window's start.
	i := 0
	for i+1 < len(m.samples) && now.Sub(m.samples[i+1].at) >= m.limits.Window {
		i++
	}
	m.samples = m.samples[i:]
	if m.limits.MinRate < 0 {
		return nil
	}
	first := m.samples[0]
	span := now.Sub(first.at)
	if span < m.limits.Window {
		return nil // not one full window yet
	}
	got := total - first.bytes
	if rate := float64(got) / span.Seconds(); rate < float64(m.limits.MinRate) {
		return fmt.Errorf("is too slow to finish: %s in the last %v (%s/s), below the minimum of %s/s",
			Bytes(got), round(span), Bytes(int64(rate)), Bytes(m.limits.MinRate))
	}
	return nil
}

// round shortens a duration for messages: whole seconds from a minute up.
func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// Bytes formats a byte count for messages: "512 B", "1.5 KiB", "12.0 MiB", "1.20 GiB".
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
