package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes res to dir/<timestamp>.json and dir/latest.json and returns the first path.
func WriteJSON(res *Result, dir string) (string, error) {
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", err
	}
	raw = append(raw, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, res.Started.UTC().Format("20060102T150405Z")+".json")
	for _, p := range []string{path, filepath.Join(dir, "latest.json")} {
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			return "", err
		}
	}
	return path, nil
}

// PrintTable prints res as tables for people.
func PrintTable(w io.Writer, res *Result) {
	m := res.Machine
	fmt.Fprintf(w, "machine: %s (%s; %s), %d cores, %.0f GiB; %s %s GODEBUG=%s\n", m.CPU, m.CPUID, strings.Join(m.Features, " "),
		m.Cores, m.MemoryGiB, m.GoVersion, m.GOEXPERIMENT, m.GODEBUG)
	if m.GPU != "" {
		fmt.Fprintf(w, "GPU: %s\n", m.GPU)
	}
	fmt.Fprintf(w, "inherited threading variables: %s\n", envString(m.ThreadEnv))
	fmt.Fprintf(w, "%s\n", res.Backend)
	if ref := res.Reference; ref != nil && ref.Info != nil {
		t := ref.Info
		core := ""
		if t.OpenBLAS != nil {
			core = fmt.Sprintf(", OpenBLAS core %s (%s)", t.OpenBLAS.Core, t.OpenBLAS.Parallel)
		}
		fmt.Fprintf(w, "reference: PyTorch %s on %s%s; inherited threading variables %s\n", t.Version, t.Device, core,
			map[bool]string{true: "passed on", false: "dropped"}[ref.InheritEnv])
		if len(ref.CoreProbes) > 0 {
			var ps []string
			for _, p := range ref.CoreProbes {
				name := p.CoreType
				if name == "" {
					name = "detected"
				}
				ps = append(ps, fmt.Sprintf("%s→%s %.0f", name, p.Core, p.GFLOPS))
			}
			fmt.Fprintf(w, "  OPENBLAS_CORETYPE probe (GFLOP/s): %s\n", strings.Join(ps, ", "))
		}
		for _, c := range ref.Calibration {
			fmt.Fprintf(w, "  calibration: %s: forward %.3fs, greedy batch %.3fs\n", c.Setup, c.ForwardSeconds, c.GreedySeconds)
		}
		fmt.Fprintf(w, "  forward uses: %s\n  generation uses: %s\n", ref.Forward, ref.Generation)
	} else {
		fmt.Fprintf(w, "reference: PyTorch not run\n")
	}
	fmt.Fprintf(w, "ratios are Go time / PyTorch time over interleaved pairs (geometric mean [95%% interval]; >1: Go slower); load average %s at start, %s at end\n\n",
		res.LoadStart, res.LoadEnd)
	table := func(header string, rows ...string) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, header)
		for _, r := range rows {
			fmt.Fprintln(tw, r)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(res.Forward) > 0 {
		var rows []string
		for _, f := range res.Forward {
			tb, tp := "-", "-"
			if f.Ratio != nil {
				tb, tp = fmt.Sprintf("%.3f", f.TorchBaseMean), fmt.Sprintf("%+.2f", f.TorchPremiumPct)
			}
			prem := fmt.Sprintf("%+.2f ± %.2f", f.PremiumPct, f.PremiumCI95Pct)
			if len(f.Base) < 2 {
				prem = fmt.Sprintf("%+.2f (1 pair, no CI)", f.PremiumPct)
			}
			rows = append(rows, fmt.Sprintf("%s\t%d×%d\t%d\t%d\t%.3f\t%.3f\t%s\t%+.2f\t%.1f\t%.3f\t%s\t%s\t%s\t", f.Model, f.Batch, f.Seq, f.SteerLayer,
				f.Reps, f.BaseMean, f.SteerMean, prem, f.PairedMedPct, f.BaseCVPct, f.PremiumOpsPct, tb, tp, interval(f.Ratio)))
		}
		table("forward\tbatch\tlayer\tpairs\tbase s\tsteered s\tpremium % (95% CI)\tpaired med %\tbase cv %\tops premium %\ttorch base s\ttorch prem %\tratio\t", rows...)
	}
	var gens []string
	for _, g := range []*GenResult{res.Generation, res.GenerationGreedy} {
		if g == nil {
			continue
		}
		ts, tt := "-", "-"
		if len(g.TorchSeconds) > 0 {
			ts, tt = fmt.Sprintf("%.1f", sum(g.TorchSeconds)), fmt.Sprintf("%.1f", g.TorchTokensPerSecond)
		}
		gens = append(gens, fmt.Sprintf("%s\t%s\t%d×%d\t%d\t%d\t%.1f (%d)\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t", g.Model, samplingName(g.Sampling), g.Rows, g.NewTokens,
			g.PromptTokens, g.Batch, g.WarmupSeconds, g.WarmupBuilds, g.CompileSeconds, sum(g.Seconds), g.TokensPerSecond, ts, tt, interval(g.Ratio)))
	}
	if len(gens) > 0 {
		table("generation\tsampling\trows×new\tprompt\tbatch\twarm-up s (compiles)\tcompile s≈\ts\ttok/s\ttorch s\ttorch tok/s\tratio\t", gens...)
	}
	if s := res.Sampler; s != nil {
		var rows []string
		for _, m := range s.Micro {
			rows = append(rows, fmt.Sprintf("%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t", m.Name, m.Median*1000, m.Mean*1000, m.P5*1000, m.P95*1000, m.Count))
		}
		if s.TorchMedian > 0 {
			rows = append(rows, fmt.Sprintf("torch-sampler (sorts the vocabulary)\t%.2f\t-\t-\t-\t20\t", s.TorchMedian*1000))
		}
		table(fmt.Sprintf("sampler alone, per step of %d rows × %d (go-benchmarks)\tmedian ms\tmean ms\tp5 ms\tp95 ms\tcalls\t", s.Rows, s.Vocab), rows...)
		if s.InRun != nil {
			line := fmt.Sprintf("in the run, sampled − greedy per step: Go %s ms", msInterval(s.InRun))
			if s.TorchInRun != nil {
				line += fmt.Sprintf(", PyTorch %s ms", msInterval(s.TorchInRun))
			}
			fmt.Fprintf(w, "%s\n\n", line)
		}
	}
	if o := res.OneCore; o != nil {
		var rows []string
		if len(o.Forward) > 0 {
			rows = append(rows, fmt.Sprintf("forward %d×%d\t%d\t%.3f\t%s\t%s\t", res.Forward[0].Batch, res.Forward[0].Seq, len(o.Forward), mean(o.Forward), meanOrDash(o.TorchForward), interval(o.ForwardRatio)))
		}
		if len(o.Greedy) > 0 {
			rows = append(rows, fmt.Sprintf("greedy batches (%.1f tok/s)\t%d\t%.3f\t%s\t%s\t", o.GreedyTokPerS, len(o.Greedy), mean(o.Greedy), meanOrDash(o.TorchGreedy), interval(o.GreedyRatio)))
		}
		table(fmt.Sprintf("one core, %s\tpairs\tGo s\ttorch s\tratio\t", o.Model), rows...)
	}
	if s := res.Sweep; s != nil {
		table("sweep\tlayers×coeffs\tnew tokens\tbatched compiles\tbatched s\tone-by-one compiles\tone-by-one s\t",
			fmt.Sprintf("%s\t%d×%d\t%d\t%d\t%.1f\t%d\t%.1f\t", s.Model, s.Layers, len(s.Coeffs), s.NewTokens,
				s.Batched.Compiles, s.Batched.Seconds, s.OneByOne.Compiles, s.OneByOne.Seconds))
	}
	if len(res.Paper) > 0 {
		var rows []string
		for _, p := range res.Paper {
			size := fmt.Sprintf("%d settings × %d × %d tokens", p.Settings, p.Completions, p.NewTokens)
			if p.Documents > 0 {
				size = fmt.Sprintf("%d documents", p.Documents)
			}
			model := p.Model
			if p.RandomWeights {
				model += " (RANDOM WEIGHTS)"
			}
			rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%d\t%.1f\t%d\t%.0f\t", p.Experiment, model, size, p.Tokens, p.Seconds, p.Compiles, p.TokensPerSecond))
		}
		table("paper experiment\tmodel\tsize\ttokens\ts (end to end)\tcompiles\ttok/s\t", rows...)
	}
	printLlama(w, res)
	fmt.Fprintf(w, "total %.0fs\n", res.WallSeconds)
}

// SummaryLine is the final key=value line ("na" for what was not measured):
//
//	forward_ratio_vs_torch=… greedy_ratio_vs_torch=… sampled_ratio_vs_torch=… sampler_ms_per_step=…
//	premium_pct=… sweep_compiles=… gen_ratio_vs_torch=… premium_ops_pct=…
//
// gen_ratio_vs_torch (the sampled ratio) and premium_ops_pct keep the keys of earlier versions.
func SummaryLine(res *Result) string {
	s := res.Summary
	f := func(p *float64, format string) string {
		if p == nil {
			return "na"
		}
		return fmt.Sprintf(format, *p)
	}
	c := "na"
	if s.SweepCompiles != nil {
		c = fmt.Sprint(*s.SweepCompiles)
	}
	return strings.Join([]string{
		"forward_ratio_vs_torch=" + f(s.ForwardRatioVsTorch, "%.2f"),
		"greedy_ratio_vs_torch=" + f(s.GreedyRatioVsTorch, "%.2f"),
		"sampled_ratio_vs_torch=" + f(s.SampledRatioVsTorch, "%.2f"),
		"sampler_ms_per_step=" + f(s.SamplerMsPerStep, "%.2f"),
		"premium_pct=" + f(s.PremiumPct, "%.2f"),
		"sweep_compiles=" + c,
		"gen_ratio_vs_torch=" + f(s.SampledRatioVsTorch, "%.2f"),
		"premium_ops_pct=" + f(s.PremiumOpsPct, "%.3f"),
		llamaSummary(res),
	}, " ")
}

func interval(iv *Interval) string {
	switch {
	case iv == nil:
		return "-"
	case iv.N < 2:
		return fmt.Sprintf("%.2f (1 pair)", iv.Value)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", iv.Value, iv.Lo, iv.Hi)
}

func msInterval(iv *Interval) string {
	if iv.N < 2 {
		return fmt.Sprintf("%.2f", iv.Value*1000)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", iv.Value*1000, iv.Lo*1000, iv.Hi*1000)
}

func mean(xs []float64) float64 { return sum(xs) / float64(len(xs)) }

func meanOrDash(xs []float64) string {
	if len(xs) == 0 || sum(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", mean(xs))
}

func envString(env map[string]string) string {
	if len(env) == 0 {
		return "none"
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		kv = append(kv, k+"="+env[k])
	}
	return strings.Join(kv, " ")
}
