package watchdog

import (
	"strings"
	"testing"
	"time"
)

// feed observes total(i) every second for n seconds and returns the first error and when.
func feed(m *Meter, start time.Time, n int, total func(s int) int64) (error, int) {
	for s := 1; s <= n; s++ {
		if err := m.Observe(start.Add(time.Duration(s)*time.Second), total(s)); err != nil {
			return err, s
		}
	}
	return nil, 0
}

func TestMeter(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	limits := Limits{Stall: 30 * time.Second, MinRate: 1000, Window: 10 * time.Second}
	for _, c := range []struct {
		name   string
		total  func(s int) int64
		want   string // "" for no error within 60 s
		atSecs int
	}{
		{"steady and fast", func(s int) int64 { return int64(s) * 5000 }, "", 0},
		{"a byte per second", func(s int) int64 { return int64(s) }, "too slow to finish: 10 B in the last 10s (1 B/s), below the minimum of 1000 B/s", 10},
		{"fast, then a crawl", func(s int) int64 { return int64(min(s, 20))*5000 + int64(max(s-20, 0)) }, "too slow", 29},
		{"fast, then silence", func(s int) int64 { return int64(min(s, 20)) * 5000 }, "too slow", 29},
		{"silence from the start", func(int) int64 { return 0 }, "too slow", 10},
		// Bursts averaging above the minimum are fine.
		{"bursty", func(s int) int64 { return int64(s/5) * 20000 }, "", 0},
	} {
		err, at := feed(New(limits, start), start, 60, c.total)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v at %d s", c.name, err, at)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || at != c.atSecs):
			t.Errorf("%s: error %v at %d s, want %q at %d s", c.name, err, at, c.want, c.atSecs)
		}
	}
	// With the rate check off, only silence ends a transfer.
	off := Limits{Stall: 30 * time.Second, MinRate: -1, Window: 10 * time.Second}
	if err, _ := feed(New(off, start), start, 60, func(s int) int64 { return int64(s) }); err != nil {
		t.Errorf("rate check off, a byte per second: %v", err)
	}
	if err, at := feed(New(off, start), start, 60, func(s int) int64 { return int64(min(s, 5)) }); err == nil || !strings.Contains(err.Error(), "made no progress for 30s") || at != 35 {
		t.Errorf("rate check off, silence after 5 s: %v at %d s", err, at)
	}
}
