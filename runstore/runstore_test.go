package runstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actadd-go/actadd/runstore"
)

// steering and sampler stand for a sweep's settings in these tests.
type steering struct {
	Plus, Minus string
	Coeff       float64
	Layer       int
}

type sampler struct {
	Temperature, TopP, FreqPenalty float64
}

// unit is one unit's result: a fake completion and a score.
type unit struct {
	Layer, Completion int
	Text              string
	Score             float32
}

// job is a small layer sweep: n completions per layer.
type job struct {
	layers []int
	n      int
	coeff  float64
	seed   uint64
}

func (j job) key(layer, c int) runstore.Key {
	return runstore.Key{Kind: "test/completion", Code: "v1", Model: "test-model", Revision: "r1", Backend: "go",
		Steering: steering{Plus: " weddings", Coeff: j.coeff, Layer: layer},
		Sampler:  sampler{Temperature: 1, TopP: 0.3, FreqPenalty: 1},
		Data:     "prompt-sha", Seed: j.seed, Unit: c}
}

// compute is the deterministic work of one unit; its results depend on everything in the key.
func (j job) compute(layer, c int) unit {
	h := fnv.New64a()
	fmt.Fprint(h, layer, c, j.coeff, j.seed)
	x := h.Sum64()
	return unit{Layer: layer, Completion: c, Text: "text-" + strconv.FormatUint(x, 36), Score: float32(math.Sin(float64(x%10000)) / 3)}
}

// run computes (or reads back) every unit of j, calling after each unit; pause is slept per
// computed unit, to give a test time to kill the run.
func run(ctx context.Context, st *runstore.Store, j job, pause time.Duration, after func(unit)) ([]unit, error) {
	var out []unit
	for _, l := range j.layers {
		for c := range j.n {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			u, err := runstore.Do(st, j.key(l, c), func() (unit, error) {
				time.Sleep(pause)
				return j.compute(l, c), nil
			})
			if err != nil {
				return out, err
			}
			out = append(out, u)
			if after != nil {
				after(u)
			}
		}
	}
	return out, nil
}

func open(t *testing.T, dir string, opts runstore.Options) *runstore.Store {
	t.Helper()
	st, err := runstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var paper = job{layers: []int{0, 1, 2, 3}, n: 25, coeff: 1, seed: 0}

// TestHelperRun is the child process of TestResumeAfterKill: it runs the job in the store
// named by RUNSTORE_HELPER_DIR and prints a line per finished unit.
func TestHelperRun(t *testing.T) {
	dir := os.Getenv("RUNSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("child process of TestResumeAfterKill")
	}
	st := open(t, dir, runstore.Options{})
	if _, err := run(context.Background(), st, paper, 20*time.Millisecond, func(u unit) { fmt.Printf("done %d %d\n", u.Layer, u.Completion) }); err != nil {
		t.Fatal(err)
	}
}

// A run killed (SIGKILL) midway resumes where it stopped and ends with the results of an
// uninterrupted run; no finished unit is lost or computed twice.
func TestResumeAfterKill(t *testing.T) {
	total := len(paper.layers) * paper.n
	want, err := run(context.Background(), open(t, t.TempDir(), runstore.Options{}), paper, 0, nil)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$", "-test.v")
	cmd.Env = append(os.Environ(), "RUNSTORE_HELPER_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	reported := 0
	for sc.Scan() && reported < total/3 {
		if strings.HasPrefix(sc.Text(), "done ") {
			reported++
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if reported < total/3 {
		t.Fatalf("the child reported %d units before it ended, want %d", reported, total/3)
	}

	st := open(t, dir, runstore.Options{})
	kept := st.Stats().Records
	if kept < reported || kept >= total {
		t.Fatalf("after the kill the store holds %d records; the child had reported %d of %d", kept, reported, total)
	}
	got, err := run(context.Background(), st, paper, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the resumed run's results differ from the uninterrupted run's")
	}
	if s := st.Stats(); s.Reused != kept || s.Computed != total-kept {
		t.Errorf("resumed run: %d reused, %d computed; want %d and %d", s.Reused, s.Computed, kept, total-kept)
	}
}

// A run cancelled through its context resumes the same way, in one process.
func TestResumeAfterCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := run(ctx, open(t, dir, runstore.Options{}), paper, 0, func(unit) {
		if n++; n == 30 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	st := open(t, dir, runstore.Options{})
	got, err := run(context.Background(), st, paper, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := run(context.Background(), open(t, t.TempDir(), runstore.Options{}), paper, 0, nil)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the resumed run's results differ from the uninterrupted run's")
	}
	if s := st.Stats(); s.Reused != 30 || s.Computed != len(want)-30 {
		t.Errorf("%d reused, %d computed; want 30 and %d", s.Reused, s.Computed, len(want)-30)
	}
}

// A sweep grown by one layer computes only that layer's units; an unchanged one computes
// nothing; a changed setting computes everything again.
func TestSweepGrows(t *testing.T) {
	dir := t.TempDir()
	j := job{layers: []int{0, 1}, n: 5, coeff: 1}
	if _, err := run(context.Background(), open(t, dir, runstore.Options{}), j, 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name             string
		j                job
		reused, computed int
		fresh            bool
		records          int
	}{
		{name: "one more layer", j: job{layers: []int{0, 1, 2}, n: 5, coeff: 1}, reused: 10, computed: 5, records: 15},
		{name: "unchanged", j: job{layers: []int{0, 1, 2}, n: 5, coeff: 1}, reused: 15, computed: 0, records: 15},
		{name: "another coefficient", j: job{layers: []int{0, 1, 2}, n: 5, coeff: 2}, reused: 0, computed: 15, records: 30},
		{name: "another seed", j: job{layers: []int{2}, n: 5, coeff: 2, seed: 7}, reused: 0, computed: 5, records: 35},
		{name: "fresh", j: job{layers: []int{0}, n: 5, coeff: 1}, fresh: true, reused: 0, computed: 5, records: 5},
	} {
		st := open(t, dir, runstore.Options{Fresh: c.fresh})
		got, err := run(context.Background(), st, c.j, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := st.Stats()
		if s.Reused != c.reused || s.Computed != c.computed || s.Records != c.records {
			t.Errorf("%s: %d reused, %d computed, %d records; want %d, %d, %d", c.name, s.Reused, s.Computed, s.Records, c.reused, c.computed, c.records)
		}
		for i, u := range got {
			if want := c.j.compute(u.Layer, u.Completion); u != want {
				t.Fatalf("%s: unit %d is %+v, want %+v", c.name, i, u, want)
			}
		}
		if !strings.Contains(st.String(), dir) || s.Bytes <= 0 {
			t.Errorf("%s: String() = %q, Bytes = %d", c.name, st, s.Bytes)
		}
		st.Close()
	}
}

// A damaged tail (a record cut short by a kill, or failing its checksum) is dropped with a
// warning and never read; the records before it are kept and new ones follow them.
func TestDamagedTail(t *testing.T) {
	j := job{layers: []int{0}, n: 6, coeff: 1}
	for _, damage := range []struct {
		name string
		do   func(data []byte) []byte
	}{
		{"cut short", func(data []byte) []byte { return data[:len(data)-7] }},
		{"flipped byte", func(data []byte) []byte { data[len(data)-3] ^= 0x20; return data }},
		{"garbage", func(data []byte) []byte { return append(data, "not a record at all"...) }},
		{"header cut short", func(data []byte) []byte { return append(data, "ars1\x05"...) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			dir := t.TempDir()
			st := open(t, dir, runstore.Options{})
			if _, err := run(context.Background(), st, j, 0, nil); err != nil {
				t.Fatal(err)
			}
			st.Close()
			path := filepath.Join(dir, "records.log")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damage.do(data), 0o644); err != nil {
				t.Fatal(err)
			}
			var warn strings.Builder
			st = open(t, dir, runstore.Options{Warn: &warn})
			if !strings.Contains(warn.String(), "dropped a damaged tail") {
				t.Errorf("no warning: %q", warn.String())
			}
			wantKept := j.n
			if damage.name == "cut short" || damage.name == "flipped byte" {
				wantKept = j.n - 1 // the last record was damaged
			}
			if s := st.Stats(); s.Records != wantKept {
				t.Errorf("%d records kept, want %d", s.Records, wantKept)
			}
			got, err := run(context.Background(), st, j, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range got {
				if want := j.compute(u.Layer, u.Completion); u != want {
					t.Fatalf("unit %+v, want %+v", u, want)
				}
			}
			st.Close()
			warn.Reset()
			st = open(t, dir, runstore.Options{Warn: &warn})
			if warn.Len() != 0 || st.Stats().Records != j.n {
				t.Errorf("after the repair: warning %q, %d records (want none and %d)", warn.String(), st.Stats().Records, j.n)
			}
		})
	}
}

// Two stores open on one folder (as two processes would) see each other's records.
func TestSharedFolder(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir, runstore.Options{}), open(t, dir, runstore.Options{})
	j := job{layers: []int{0}, n: 3, coeff: 1}
	if _, err := run(context.Background(), a, j, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := run(context.Background(), b, j, 0, nil); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Reused != 3 || s.Computed != 0 {
		t.Errorf("second store: %d reused, %d computed; want 3 and 0", s.Reused, s.Computed)
	}
	j.layers = []int{1}
	if _, err := run(context.Background(), b, j, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := run(context.Background(), a, j, 0, nil); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.Reused != 3 || s.Computed != 3 {
		t.Errorf("first store: %d reused, %d computed; want 3 and 3", s.Reused, s.Computed)
	}
}

func TestBadInput(t *testing.T) {
	st := open(t, t.TempDir(), runstore.Options{})
	good := paper.key(0, 0)
	for name, c := range map[string]struct {
		k    runstore.Key
		v    any
		want string
	}{
		"no kind":       {runstore.Key{Code: "v1", Model: "m", Backend: "go", Unit: 1}, 1, "no Kind"},
		"no code":       {runstore.Key{Kind: "k", Model: "m", Backend: "go", Unit: 1}, 1, "no Code version"},
		"no model":      {runstore.Key{Kind: "k", Code: "v1", Backend: "go", Unit: 1}, 1, "must name the Model"},
		"no unit":       {runstore.Key{Kind: "k", Code: "v1", Model: "m", Backend: "go"}, 1, "no Unit"},
		"bad setting":   {runstore.Key{Kind: "k", Code: "v1", Model: "m", Backend: "go", Unit: 1, Steering: func() {}}, 1, "cannot be encoded"},
		"NaN value":     {good, math.NaN(), "cannot be recorded"},
		"bad value":     {good, make(chan int), "cannot be recorded"},
		"not JSON able": {good, map[bool]int{true: 1}, "cannot be recorded"},
	} {
		if err := st.Put(c.k, c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Put error %v, want one containing %q", name, err, c.want)
		}
	}
	if err := st.Put(good, "a string"); err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := st.Get(good, &n); err == nil || !strings.Contains(err.Error(), "does not decode") {
		t.Errorf("Get into the wrong type: %v", err)
	}
	if _, err := runstore.Open("", runstore.Options{}); err == nil {
		t.Error("Open(\"\") gave no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := runstore.Open(file, runstore.Options{}); err == nil {
		t.Error("Open of a file gave no error")
	}
}

// A nil Store records nothing: Do computes every time, Get finds nothing, Put and Close do
// nothing, and a bad key or value is still an error.
func TestNilStore(t *testing.T) {
	var st *runstore.Store
	calls := 0
	for range 2 {
		v, err := runstore.Do(st, paper.key(0, 0), func() (int, error) { calls++; return 7, nil })
		if err != nil || v != 7 {
			t.Fatalf("Do on a nil store: %v, %v", v, err)
		}
	}
	if calls != 2 {
		t.Errorf("Do on a nil store computed %d times in 2 calls", calls)
	}
	var v int
	if ok, err := st.Get(paper.key(0, 0), &v); ok || err != nil {
		t.Errorf("Get on a nil store: %v, %v", ok, err)
	}
	if err := st.Put(paper.key(0, 0), math.NaN()); err == nil {
		t.Error("Put of NaN on a nil store gave no error")
	}
	if err := st.Put(runstore.Key{}, 1); err == nil {
		t.Error("Put of an empty key on a nil store gave no error")
	}
	if st.Stats() != (runstore.Stats{}) || st.String() != "no run store" || st.Dir() != "" || st.Close() != nil {
		t.Errorf("nil store: stats %+v, %q, dir %q", st.Stats(), st.String(), st.Dir())
	}
}

// Has tells a recorded key from an unrecorded one without reading it, sees records another
// Store appended, and ignores the records a Fresh store ignores.
func TestHas(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir, runstore.Options{}), open(t, dir, runstore.Options{})
	if err := a.Put(paper.key(0, 0), paper.compute(0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		st   *runstore.Store
		k    runstore.Key
		want bool
	}{{a, paper.key(0, 0), true}, {a, paper.key(0, 1), false}, {b, paper.key(0, 0), true}, {open(t, dir, runstore.Options{Fresh: true}), paper.key(0, 0), false}} {
		if got, err := c.st.Has(c.k); err != nil || got != c.want {
			t.Errorf("Has(%v) = %v, %v; want %v", c.k.Unit, got, err, c.want)
		}
	}
	if a.Stats().Reused != 0 {
		t.Errorf("Has counted %d units as reused", a.Stats().Reused)
	}
}
