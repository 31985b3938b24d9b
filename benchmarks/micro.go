package benchmarks

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	gobench "github.com/janpfeifer/go-benchmarks"
)

// MicroStat is one function's timing by go-benchmarks: per call, after warm-ups.
type MicroStat struct {
	Name   string  `json:"name"`
	Mean   float64 `json:"mean_seconds"`
	Median float64 `json:"median_seconds"`
	P5     float64 `json:"p5_seconds"`
	P95    float64 `json:"p95_seconds"`
	Count  int     `json:"count"`
}

// stdoutMu serializes the capture of os.Stdout in micro.
var stdoutMu sync.Mutex

// micro times each function with github.com/janpfeifer/go-benchmarks (warmUps untimed calls,
// then calls for d, streaming median and 5%/95% quantiles) and returns its statistics.
// go-benchmarks v0.1.1 prints its table to os.Stdout and returns nothing, so micro captures
// that table, with durations printed in nanoseconds, and parses it; the table also goes to
// table (nil: nowhere) as go-benchmarks printed it.
func micro(table io.Writer, warmUps int, d time.Duration, fns ...gobench.NamedFunction) ([]MicroStat, error) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var captured strings.Builder
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&captured, r)
		close(done)
	}()
	stdout := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = stdout }()
		gobench.New(fns...).WithWarmUps(warmUps).WithDuration(d).WithQuantiles(5, 95).
			WithPrettyPrintFn(func(d time.Duration) string { return strconv.FormatInt(d.Nanoseconds(), 10) }).
			WithColumnSize(14).Done()
	}()
	w.Close()
	<-done
	r.Close()
	if table != nil {
		_, _ = io.WriteString(table, captured.String())
	}
	return parseMicro(captured.String(), fns)
}

// parseMicro reads go-benchmarks' table: a header, then per function its name, mean, median,
// the quantiles and the count, tab-separated.
func parseMicro(table string, fns []gobench.NamedFunction) ([]MicroStat, error) {
	var out []MicroStat
	s := bufio.NewScanner(strings.NewReader(table))
	for s.Scan() {
		f := strings.Split(s.Text(), "\t")
		if len(f) != 6 || strings.TrimSpace(f[0]) == "Benchmarks:" {
			continue
		}
		var ns [5]int64
		for i := range ns {
			v, err := strconv.ParseInt(strings.TrimSpace(f[i+1]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("go-benchmarks table line %q: %w", s.Text(), err)
			}
			ns[i] = v
		}
		sec := func(v int64) float64 { return float64(v) / 1e9 }
		out = append(out, MicroStat{Name: strings.TrimSpace(f[0]), Mean: sec(ns[0]), Median: sec(ns[1]), P5: sec(ns[2]), P95: sec(ns[3]), Count: int(ns[4])})
	}
	if len(out) != len(fns) {
		return nil, fmt.Errorf("go-benchmarks printed %d results for %d functions:\n%s", len(out), len(fns), table)
	}
	return out, nil
}
