package benchmarks

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gobench "github.com/janpfeifer/go-benchmarks"

	"github.com/actadd-go/actadd/actadd"
)

// TestSmoke runs the whole suite at a tiny size without PyTorch: it checks that the benchmarks
// run and report, not how fast (timings are never asserted).
func TestSmoke(t *testing.T) {
	opts := Options{
		Forward: []ModelReps{{"tiny", 2}}, Batch: 2, Seq: 16, SteeringOpsReps: 2,
		GenModel: "tiny", GenRows: 3, GenNewTokens: 3, GenBatch: 2, GenGreedy: true,
		Prompt:      "I went up to my friend and said",
		SamplerTime: 20 * time.Millisecond, OneCoreReps: 1, OneCoreGenBatches: 1,
		SweepCoeffs: []float64{-1, 1, 4}, SweepNewTokens: 2,
		E2: "tiny", E2Completions: 2, E2NewTokens: 2, E1: "tiny", E1Docs: 3,
	}
	sections := 0
	opts.Sections = func(*Result) { sections++ }
	res, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Forward) != 1 || len(res.Forward[0].Base) != 2 || len(res.Forward[0].Steer) != 2 || res.Forward[0].SteerLayer != 2 {
		t.Errorf("forward result incomplete: %+v", res.Forward)
	} else if f := res.Forward[0]; f.PremiumCI95Pct <= 0 || f.SteeringOpsSeconds == 0 || res.Summary.PremiumOpsPct == nil {
		t.Errorf("premium interval or steering-ops time missing: %+v", f)
	}
	for _, g := range []*GenResult{res.Generation, res.GenerationGreedy} {
		if g == nil || g.PromptTokens != 9 || g.TokensPerSecond <= 0 || g.Rows != 4 || len(g.Seconds) != 2 {
			t.Errorf("generation result incomplete (want 3 rows rounded up to 2 batches of 2): %+v", g)
		} else if g.Builds != 0 {
			t.Errorf("the timed generation compiled %d programs after its warm-up, want 0", g.Builds)
		}
	}
	if sm := res.Sampler; sm == nil || len(sm.Micro) != 2 || sm.Micro[0].Count < 1 || sm.Micro[0].Median <= 0 || sm.InRun == nil {
		t.Errorf("sampler result incomplete: %+v", sm)
	} else if res.Summary.SamplerMsPerStep == nil || *res.Summary.SamplerMsPerStep != sm.Micro[0].Median*1000 {
		t.Errorf("summary sampler_ms_per_step %v, want the Go sampler's median %v ms", res.Summary.SamplerMsPerStep, sm.Micro[0].Median*1000)
	}
	if o := res.OneCore; o == nil || len(o.Forward) != 1 || len(o.Greedy) != 1 || o.ForwardRatio != nil {
		t.Errorf("one-core result incomplete (or a ratio without PyTorch): %+v", o)
	}
	if len(res.Machine.ThreadEnv) == 0 && res.Machine.ThreadEnv == nil {
		t.Errorf("machine's threading environment not recorded (want a map, empty when none is set)")
	}
	s := res.Sweep
	if s == nil || s.Configs != 4*3 {
		t.Fatalf("sweep result incomplete: %+v", s)
	}
	// The batched sweep on a cold model compiles the steered prefill (which builds the vectors
	// from the pair's rows itself) and the step; going one by one only adds the width-1 prefill
	// and step. Not timings: counts.
	if s.Batched.Compiles < 1 || s.Batched.Compiles > 2 || s.OneByOne.Compiles > 2 {
		t.Errorf("sweep compiled %d programs batched, %d one by one; want ≤ 2 and ≤ 2", s.Batched.Compiles, s.OneByOne.Compiles)
	}
	if len(res.Paper) != 2 || sections < 5 {
		t.Fatalf("paper runs %+v, %d sections reported; want E2 and E1, and a report after each section", res.Paper, sections)
	}
	for _, p := range res.Paper {
		if !p.RandomWeights || p.Tokens <= 0 || p.Seconds <= 0 {
			t.Errorf("%s: %+v", p.Experiment, p)
		}
	}
	if e2 := res.Paper[1]; e2.Settings != 5 || e2.Tokens != 5*2*2 {
		t.Errorf("E2 on tiny (4 layers): %d settings, %d tokens; want 5 and 20", e2.Settings, e2.Tokens)
	}
	line := SummaryLine(res)
	for _, key := range []string{"forward_ratio_vs_torch=na ", "greedy_ratio_vs_torch=na ", "sampled_ratio_vs_torch=na ", "sampler_ms_per_step=",
		"premium_pct=", "sweep_compiles=", "gen_ratio_vs_torch=na ", "premium_ops_pct="} {
		if !strings.Contains(line, key) {
			t.Errorf("summary line %q lacks %q", line, key)
		}
	}
	dir := t.TempDir()
	path, err := WriteJSON(res, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "latest.json")} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if back.Summary.SweepCompiles == nil || *back.Summary.SweepCompiles != s.Batched.Compiles {
			t.Errorf("%s: summary did not round-trip", p)
		}
	}
	PrintTable(&strings.Builder{}, res)
}

func TestParseModels(t *testing.T) {
	got, err := ParseModels("gpt2:5, gpt2-medium")
	if err != nil || len(got) != 2 || got[0] != (ModelReps{"gpt2", 5}) || got[1] != (ModelReps{"gpt2-medium", 3}) {
		t.Errorf("ParseModels = %v, %v", got, err)
	}
	for _, bad := range []string{"gpt3:2", "gpt2:0", "gpt2:x"} {
		if _, err := ParseModels(bad); err == nil {
			t.Errorf("ParseModels(%q) did not fail", bad)
		}
	}
}

// TestRatioInterval checks the paired ratio estimate: the geometric mean of the per-pair ratios
// and an interval that holds it, widening with the spread of the pairs.
func TestRatioInterval(t *testing.T) {
	iv := ratioInterval([]float64{2, 4, 8}, []float64{1, 2, 4})
	if math.Abs(iv.Value-2) > 1e-12 || iv.Lo != iv.Hi && math.Abs(iv.Lo-2) > 1e-12 || iv.N != 3 {
		t.Errorf("equal ratios: %+v, want 2 with a zero-width interval", iv)
	}
	iv = ratioInterval([]float64{1.1, 0.9, 1.2, 0.8}, []float64{1, 1, 1, 1})
	if !(iv.Lo < iv.Value && iv.Value < iv.Hi) || iv.Lo > 0.9 || iv.Hi < 1.1 {
		t.Errorf("spread ratios: %+v, want an interval around the geometric mean reaching past 0.9 and 1.1", iv)
	}
	if one := ratioInterval([]float64{3}, []float64{2}); one.Value != 1.5 || one.Lo != 1.5 || one.N != 1 {
		t.Errorf("one pair: %+v", one)
	}
}

// TestMicro checks that go-benchmarks' table is captured and parsed: a function that sleeps
// 2 ms has a median of about 2 ms (not asserted as a timing: only that the parse put the
// numbers in the right columns, median between the quantiles).
func TestMicro(t *testing.T) {
	var table strings.Builder
	stats, err := micro(&table, 1, 30*time.Millisecond,
		gobench.NamedFunction{Name: "sleep-2ms", Func: func() { time.Sleep(2 * time.Millisecond) }},
		gobench.NamedFunction{Name: "noop", Func: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	s := stats[0]
	if s.Name != "sleep-2ms" || s.Median < 0.002 || s.P5 > s.Median || s.Median > s.P95 || s.Count < 1 || stats[1].Name != "noop" {
		t.Errorf("parsed %+v from\n%s", stats, table.String())
	}
	if _, err := parseMicro("Benchmarks:\tMean\n", []gobench.NamedFunction{{Name: "x"}}); err == nil {
		t.Errorf("a table without the function's line parsed")
	}
}

// TestStepSampler checks the exported host sampler that the sampler benchmark times: greedy
// picks each row's argmax, and the paper's sampler draws the one token that holds all the
// probability.
func TestStepSampler(t *testing.T) {
	const vocab = 50
	logits := make([]float32, 3*vocab)
	for b, best := range []int{7, 0, 49} {
		logits[b*vocab+best] = 30
	}
	for _, s := range []actadd.Sampling{actadd.Greedy, actadd.PaperSampling} {
		st, err := NewStepSampler(s, vocab, [][]int{{1}, {2}, {3}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Next(logits)
		if err != nil || got[0] != 7 || got[1] != 0 || got[2] != 49 {
			t.Errorf("%+v: Next = %v, %v; want [7 0 49]", s, got, err)
		}
		if _, err := st.Next(logits[:vocab]); err == nil {
			t.Errorf("%+v: Next accepted logits for one row of three", s)
		}
	}
}
