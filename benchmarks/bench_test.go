package benchmarks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke runs the whole suite at a tiny size without PyTorch: it checks that the benchmarks
// run and report, not how fast (timings are never asserted).
func TestSmoke(t *testing.T) {
	opts := Options{
		Forward: []ModelReps{{"tiny", 2}}, Batch: 2, Seq: 16, SteeringOpsReps: 2,
		GenModel: "tiny", GenRows: 3, GenNewTokens: 3, GenBatch: 2, GenGreedy: true,
		Prompt:      "I went up to my friend and said",
		SweepCoeffs: []float64{-1, 1, 4}, SweepNewTokens: 2,
	}
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
		if g == nil || g.PromptTokens != 9 || g.TokensPerSecond <= 0 {
			t.Errorf("generation result incomplete: %+v", g)
		} else if g.Builds != 0 {
			t.Errorf("the timed generation compiled %d programs after its warm-up, want 0", g.Builds)
		}
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
	line := SummaryLine(res)
	for _, key := range []string{"forward_ratio_vs_torch=na ", "gen_ratio_vs_torch=na ", "premium_pct=", "premium_ops_pct=", "sweep_compiles="} {
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
