package nbutil_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// The sizes the notebooks' markdown quotes are those of the configs they run.
func TestNotebookTextQuotesTheConfigs(t *testing.T) {
	pp, qp := experiments.PaperPerplexity(), experiments.QuickPerplexity()
	pw, qw := experiments.PaperWedding(), experiments.QuickWedding()
	qc := experiments.QuickConceptNet()
	po, qo := experiments.PaperOverhead(), experiments.QuickOverhead()
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
			fmt.Sprintf("%d seeds, batch %d × %d (`experiments.PaperOverhead()`", po.Seeds, po.Batch, po.Seq),
			fmt.Sprintf("%d seeds, batch %d × %d: `experiments.QuickOverhead()`", qo.Seeds, qo.Batch, qo.Seq),
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

// Each experiment notebook has one parameters cell of flags and one thin run cell: the config
// from the flags, the model, one experiments call, the summary and the figures; the tables and
// the overrides are library code (tested in package experiments).
func TestExperimentNotebooksAreThin(t *testing.T) {
	for name, call := range map[string]string{
		"01-perplexity.ipynb":          "experiments.Perplexity(",
		"02-wedding-layer-sweep.ipynb": "experiments.WeddingSweep(",
		"03-conceptnet.ipynb":          "experiments.ConceptNet(",
		"04-overhead.ipynb":            "experiments.Overhead(",
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
		run := runs[0]
		for _, want := range []string{call, "Flags{Scale: scale", "fmt.Print(res.Summary())", "nbutil.Check(nbutil.ShowFiguresOf(res))"} {
			if strings.Count(run, want) != 1 {
				t.Errorf("%s: the run cell has %d × %q, want 1:\n%s", name, strings.Count(run, want), want, run)
			}
		}
		for _, unwanted := range []string{"for ", "Printf", "if ", "strings.Split"} {
			if strings.Contains(run+params[0], unwanted) {
				t.Errorf("%s: %q in the notebook's code: move that logic into package experiments", name, unwanted)
			}
		}
	}
}
