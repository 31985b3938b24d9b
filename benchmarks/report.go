package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// PrintTable prints res as a table for people.
func PrintTable(w io.Writer, res *Result) {
	m := res.Machine
	fmt.Fprintf(w, "machine: %s, %d cores, %.0f GiB; %s %s GODEBUG=%s\n", m.CPU, m.Cores, m.MemoryGiB, m.GoVersion, m.GOEXPERIMENT, m.GODEBUG)
	fmt.Fprintf(w, "%s\n", res.Backend)
	if t := res.Torch; t != nil {
		var libs []string
		for l := range strings.SplitSeq(t.BLAS, ", ") {
			libs = append(libs, filepath.Base(l))
		}
		fmt.Fprintf(w, "reference: PyTorch %s, %d threads, BLAS %s\n", t.Version, t.Threads, strings.Join(libs, ", "))
	} else {
		fmt.Fprintf(w, "reference: PyTorch not run\n")
	}
	fmt.Fprintf(w, "ratios are Go time / PyTorch time (>1: Go slower); load average %s at start, %s at end\n\n", res.LoadStart, res.LoadEnd)
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
			if f.Torch != nil {
				tb, tp = fmt.Sprintf("%.3f", f.Torch.BaseMean), fmt.Sprintf("%+.2f", f.Torch.PremiumPct)
			}
			prem := fmt.Sprintf("%+.2f ± %.2f", f.PremiumPct, f.PremiumCI95Pct)
			if len(f.Base) < 2 {
				prem = fmt.Sprintf("%+.2f (1 pair, no CI)", f.PremiumPct)
			}
			rows = append(rows, fmt.Sprintf("%s\t%d×%d\t%d\t%d\t%.3f\t%.3f\t%s\t%+.2f\t%.1f\t%.3f\t%s\t%s\t%s\t", f.Model, f.Batch, f.Seq, f.SteerLayer,
				f.Reps, f.BaseMean, f.SteerMean, prem, f.PairedMedPct, f.BaseCVPct, f.PremiumOpsPct, tb, tp, ratio(f.RatioVsTorch)))
		}
		table("forward\tbatch\tlayer\treps\tbase s\tsteered s\tpremium % (95% CI)\tpaired med %\tbase cv %\tops premium %\ttorch base s\ttorch prem %\tratio\t", rows...)
	}
	var gens []string
	for _, g := range []*GenResult{res.Generation, res.GenerationGreedy} {
		if g == nil {
			continue
		}
		ts, tt := "-", "-"
		if g.Torch != nil {
			ts, tt = fmt.Sprintf("%.1f", g.Torch.Seconds), fmt.Sprintf("%.1f", g.Torch.TokensPerSecond)
		}
		how := "greedy"
		if g.Sampling.Temperature > 0 {
			how = fmt.Sprintf("T=%g p=%g fp=%g", g.Sampling.Temperature, g.Sampling.TopP, g.Sampling.FreqPenalty)
		}
		gens = append(gens, fmt.Sprintf("%s\t%s\t%d×%d\t%d\t%d\t%.1f (%d)\t%.1f\t%.1f\t%s\t%s\t%s\t", g.Model, how, g.Rows, g.NewTokens, g.PromptTokens, g.Batch,
			g.WarmupSeconds, g.WarmupBuilds, g.Seconds, g.TokensPerSecond, ts, tt, ratio(g.RatioVsTorch)))
	}
	if len(gens) > 0 {
		table("generation\tsampling\trows×new\tprompt\tbatch\twarm-up s (compiles)\ts\ttok/s\ttorch s\ttorch tok/s\tratio\t", gens...)
	}
	if s := res.Sweep; s != nil {
		table("sweep\tlayers×coeffs\tnew tokens\tbatched compiles\tbatched s\tone-by-one compiles\tone-by-one s\t",
			fmt.Sprintf("%s\t%d×%d\t%d\t%d\t%.1f\t%d\t%.1f\t", s.Model, s.Layers, len(s.Coeffs), s.NewTokens,
				s.Batched.Compiles, s.Batched.Seconds, s.OneByOne.Compiles, s.OneByOne.Seconds))
	}
	fmt.Fprintf(w, "total %.0fs\n", res.WallSeconds)
}

// SummaryLine is the final key=value line: forward_ratio_vs_torch=… gen_ratio_vs_torch=…
// premium_pct=… premium_ops_pct=… sweep_compiles=… ("na" for what was not measured).
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
		"gen_ratio_vs_torch=" + f(s.GenRatioVsTorch, "%.2f"),
		"premium_pct=" + f(s.PremiumPct, "%.2f"),
		"premium_ops_pct=" + f(s.PremiumOpsPct, "%.3f"),
		"sweep_compiles=" + c,
	}, " ")
}

func ratio(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *p)
}
