package nbutil_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/notebooks/nbutil"
)

// A chat notebook runs the flag's model, else $ACTADD_MODEL's, else an instruction-tuned
// default; the GPT-2-shaped stand-in, which has no chat template, becomes the Llama-3-shaped one.
func TestChatModelName(t *testing.T) {
	for _, c := range []struct{ flag, env, want string }{
		{"", "", nbutil.DefaultChatModel},
		{"", "tiny", nbutil.ChatStandIn},
		{"tiny", "", nbutil.ChatStandIn},
		{"", "tiny-qwen2", "tiny-qwen2"},
		{"HuggingFaceTB/SmolLM2-135M-Instruct", "tiny-qwen2", "HuggingFaceTB/SmolLM2-135M-Instruct"},
	} {
		t.Setenv(nbutil.ModelEnv, c.env)
		if got := nbutil.ChatModelName(c.flag); got != c.want {
			t.Errorf("flag %q, $%s=%q: %q, want %q", c.flag, nbutil.ModelEnv, c.env, got, c.want)
		}
	}
}

// Notebook 06 is thin: one parameters cell, one run cell with the model, one library call
// into package experiments, the comparison and the summary; no logic of its own in the run cell.
func TestChatNotebookIsThin(t *testing.T) {
	kinds, sources := cells(t, "06-chat-and-llama-cpp.ipynb")
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
		t.Fatalf("%d parameter cells and %d run cells, want 1 and 1", len(params), len(runs))
	}
	for _, want := range []string{"nbutil.FiguresDir()", "nbutil.LoadModel(nbutil.ChatModelName(*flagModel))", "experiments.ChatSteerAndExport(m, ", "nbutil.Show(res.Comparison)", "fmt.Print(res.Summary())"} {
		if strings.Count(runs[0], want) != 1 {
			t.Errorf("the run cell has %d × %q, want 1:\n%s", strings.Count(runs[0], want), want, runs[0])
		}
	}
	for _, unwanted := range []string{"for ", "if ", "Printf"} {
		if strings.Contains(runs[0], unwanted) {
			t.Errorf("%q in the notebook's code: move that logic into package experiments", unwanted)
		}
	}
}
