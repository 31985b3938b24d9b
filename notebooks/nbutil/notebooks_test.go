package nbutil_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
)

// cells reads a notebook of this repository (notebooks/<name>) as its cells' types and sources.
func cells(t *testing.T, name string) (kinds, sources []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			CellType string   `json:"cell_type"`
			Source   []string `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, c := range nb.Cells {
		kinds = append(kinds, c.CellType)
		sources = append(sources, strings.Join(c.Source, ""))
	}
	return kinds, sources
}

// at is an experiment's config at a scale.
func at[C any](t *testing.T, fn func(string) (C, error), scale string) C {
	t.Helper()
	cfg, err := fn(scale)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The sizes the notebooks' markdown quotes are those of the configs they run.
func TestNotebookTextQuotesTheConfigs(t *testing.T) {
	const paper, quick = experiments.ScalePaper, experiments.ScaleQuick
	pp, qp := at(t, experiments.PerplexityAt, paper), at(t, experiments.PerplexityAt, quick)
	pw, qw := at(t, experiments.WeddingAt, paper), at(t, experiments.WeddingAt, quick)
	qc := at(t, experiments.ConceptNetAt, quick)
	po, qo := at(t, experiments.OverheadAt, paper), at(t, experiments.OverheadAt, quick)
	for name, phrases := range map[string][]string{
		"01-perplexity.ipynb": {
			fmt.Sprintf("paper's sizes (%d documents, bins with > %d documents", pp.Docs, pp.MinBinDocs),
			fmt.Sprintf("quick run (%d documents, bins with > %d document", qp.Docs, qp.MinBinDocs),
		},
		"02-wedding-layer-sweep.ipynb": {
			fmt.Sprintf("paper's sizes (%d completions × %d tokens per setting", pw.Completions, pw.NewTokens),
			fmt.Sprintf("quick run (%d completions × %d tokens per setting", qw.Completions, qw.NewTokens),
		},
		"03-conceptnet.ipynb": {
			fmt.Sprintf("the first %d (quick", qc.MaxItems),
		},
		"04-overhead.ipynb": {
			fmt.Sprintf("%d seeds, batch %d × %d (`experiments.OverheadAt(\"paper\")`", po.Seeds, po.Batch, po.Seq),
			fmt.Sprintf("%d seeds, batch %d × %d: `experiments.OverheadAt(\"quick\")`", qo.Seeds, qo.Batch, qo.Seq),
		},
	} {
		kinds, sources := cells(t, name)
		var text strings.Builder
		for i, k := range kinds {
			if k == "markdown" {
				text.WriteString(sources[i])
			}
		}
		for _, p := range phrases {
			if !strings.Contains(text.String(), p) {
				t.Errorf("%s: the markdown does not say %q (the config's numbers)", name, p)
			}
		}
	}
}

// Each experiment notebook has one parameters cell (the model flag and the experiment's flags)
// and one thin run cell: the figures folder and the config first (checked before any work),
// the model, one experiments call, the summary and the figures; the tables, the overrides and
// the checks are library code (tested in package experiments).
func TestExperimentNotebooksAreThin(t *testing.T) {
	for name, c := range map[string]struct{ flags, call string }{
		"01-perplexity.ipynb":          {"experiments.PerplexityFlags(flag.CommandLine)", "experiments.Perplexity(m, cfg)"},
		"02-wedding-layer-sweep.ipynb": {"experiments.WeddingFlags(flag.CommandLine)", "experiments.WeddingSweep(m, cfg)"},
		"03-conceptnet.ipynb":          {"experiments.ConceptNetFlags(flag.CommandLine)", "experiments.ConceptNet(m, cfg)"},
		"04-overhead.ipynb":            {"experiments.OverheadFlags(flag.CommandLine)", "experiments.Overhead(nil, cfg)"},
	} {
		kinds, sources := cells(t, name)
		var params, runs []string
		for i, k := range kinds {
			switch s := sources[i]; {
			case k != "code":
			case strings.Contains(s, "flag."):
				params = append(params, s)
			case strings.HasPrefix(s, "%%"):
				runs = append(runs, s)
			}
		}
		if len(params) != 1 || len(runs) != 1 {
			t.Errorf("%s: %d parameter cells and %d run cells, want 1 and 1", name, len(params), len(runs))
			continue
		}
		if strings.Count(params[0], c.flags) != 1 {
			t.Errorf("%s: the parameters cell does not declare %s once:\n%s", name, c.flags, params[0])
		}
		run := runs[0]
		for _, want := range []string{"nbutil.FiguresDir()", "nbutil.Config(", c.call, "fmt.Print(res.Summary())", "nbutil.Check(nbutil.ShowFiguresOf(figures, res))"} {
			if strings.Count(run, want) != 1 {
				t.Errorf("%s: the run cell has %d × %q, want 1:\n%s", name, strings.Count(run, want), want, run)
			}
		}
		// The figures folder and the config are checked before the experiment runs.
		if f, cfg, call := strings.Index(run, "nbutil.FiguresDir()"), strings.Index(run, "nbutil.Config("), strings.Index(run, c.call); f > call || cfg > call {
			t.Errorf("%s: the run cell calls the experiment before FiguresDir or Config:\n%s", name, run)
		}
		if lines := strings.Count(strings.TrimSpace(run), "\n") + 1; lines > 15 {
			t.Errorf("%s: the run cell has %d lines: keep it to the library calls", name, lines)
		}
		for _, unwanted := range []string{"for ", "Printf", "if ", "strings.Split", "-1"} {
			if strings.Contains(run+params[0], unwanted) {
				t.Errorf("%s: %q in the notebook's code: move that logic into package experiments", name, unwanted)
			}
		}
	}
}

// The quickstart shows steered next to unsteered completions with one library call per
// example, and its --layer flag reads layers as notebooks 01–04 do.
func TestQuickstartIsThin(t *testing.T) {
	kinds, sources := cells(t, "00-quickstart.ipynb")
	runs := 0
	for i, k := range kinds {
		s := sources[i]
		if k != "code" || !strings.HasPrefix(s, "%%") {
			continue
		}
		runs++
		for _, want := range []string{"m.Compare(", "nbutil.Show(cmp)", "flagLayer.Resolve("} {
			if strings.Count(s, want) != 1 {
				t.Errorf("run cell %d has %d × %q, want 1:\n%s", i, strings.Count(s, want), want, s)
			}
		}
		if strings.Contains(s, "for ") || strings.Contains(s, "-1") {
			t.Errorf("run cell %d holds logic that belongs in the library:\n%s", i, s)
		}
	}
	if runs != 2 {
		t.Errorf("%d run cells, want 2 (weddings, love − hate)", runs)
	}
	for i, k := range kinds {
		if k == "code" && strings.Contains(sources[i], "flag.") && !strings.Contains(sources[i], "experiments.LayerFlag(") {
			t.Errorf("the parameters cell does not read --layer with experiments.LayerFlag:\n%s", sources[i])
		}
	}
}

// markdown is the markdown of a notebook of this repository, its cells joined.
func markdown(t *testing.T, name string) string {
	t.Helper()
	kinds, sources := cells(t, name)
	var b strings.Builder
	for i, k := range kinds {
		if k == "markdown" {
			b.WriteString(sources[i])
		}
	}
	return b.String()
}

// What the text says a scaled layer is on gpt2 and on the tiny stand-in is what the layer flag
// resolves it to.
func TestScaledLayersInTheTextResolveAsSaid(t *testing.T) {
	const gpt2Layers = 12
	tinyLayers := checkpoint.TinyConfig().NLayer
	resolve := func(l string, n int) int {
		t.Helper()
		layer, err := experiments.ParseLayer(l)
		if err != nil {
			t.Fatal(err)
		}
		r, err := layer.Resolve(n)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ where, text, want string }{
		{"00-quickstart.ipynb", markdown(t, "00-quickstart.ipynb"), fmt.Sprintf("`--layer=6/48` is layer 6 of GPT-2-XL's 48, where the paper's wedding vector works best, which is layer %d of gpt2's %d and layer %d of the %d-layer tiny stand-in",
			resolve("6/48", gpt2Layers), gpt2Layers, resolve("6/48", tinyLayers), tinyLayers)},
		{"README.md", strings.Join(strings.Fields(string(readme)), " "), fmt.Sprintf("(`16/48`, the paper's layer 16 of GPT-2-XL's 48: %d on gpt2, %d on tiny)",
			resolve("16/48", gpt2Layers), resolve("16/48", tinyLayers))},
		{"01-perplexity.ipynb", markdown(t, "01-perplexity.ipynb"), fmt.Sprintf("`16·n_layer/48` rounded down — %d for gpt2", resolve("16/48", gpt2Layers))},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s does not say %q (what the layer flag resolves to)", c.where, c.want)
		}
	}
}

// A cold first run compiles the library for minutes: every notebook's setup cell says so
// before it starts, and compiles every package of this module the notebook imports, so that
// the cells after it start in seconds.
func TestSetupCellsWarmTheBuild(t *testing.T) {
	nbs, err := filepath.Glob(filepath.Join("..", "*.ipynb"))
	if err != nil || len(nbs) == 0 {
		t.Fatalf("no notebooks: %v", err)
	}
	imported := regexp.MustCompile(`"github\.com/actadd-go/actadd/([^"]+)"`)
	for _, p := range nbs {
		name := filepath.Base(p)
		kinds, sources := cells(t, name)
		setup, pkgs := "", map[string]bool{}
		for i, k := range kinds {
			if k != "code" {
				continue
			}
			if strings.Contains(sources[i], "go mod edit") {
				setup = sources[i]
			}
			for _, m := range imported.FindAllStringSubmatch(sources[i], -1) {
				pkgs[m[1]] = true
			}
		}
		say, build := strings.Index(setup, "a few minutes the first time"), strings.Index(setup, "go build ")
		if say < 0 || build < 0 || say > build {
			t.Errorf("%s: the setup cell does not say that the first build takes minutes before it compiles the library (go build):\n%s", name, setup)
			continue
		}
		for pkg := range pkgs {
			if !strings.Contains(setup[build:], `"$MOD/`+pkg+`"`) {
				t.Errorf("%s: the setup cell does not compile %s, which the notebook imports", name, pkg)
			}
		}
	}
}
