package nbutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/actadd-go/actadd/progress"
)

func TestProgressHTML(t *testing.T) {
	s := progress.Status{What: "generate <tiny>", Unit: "tokens", Done: 3, Total: 12, Elapsed: 1500 * time.Millisecond}
	got := ProgressHTML(s)
	for _, want := range []string{`<progress value="3" max="12"`, "generate &lt;tiny&gt;: 3/12 tokens (25%)", "about 4.5s left"} {
		if !strings.Contains(got, want) {
			t.Errorf("ProgressHTML lacks %q: %s", want, got)
		}
	}
}

// Every cell is a program of its own whose meters count from 1, while GoNB keeps display ids
// for the kernel's whole session: the first meter of two runs must have different display ids,
// or the second run updates the cleared output of the first and shows no bar.
func TestProgressIDsDifferBetweenRuns(t *testing.T) {
	const env = "NBUTIL_TEST_PRINT_PROGRESS_ID"
	if os.Getenv(env) != "" {
		os.Stdout.WriteString(progressID(progress.Status{ID: 1}))
		return
	}
	run := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProgressIDsDifferBetweenRuns$")
		cmd.Env = append(os.Environ(), env+"=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("running the test binary: %v", err)
		}
		id, _, _ := strings.Cut(string(out), "\n")
		return id
	}
	a, b := run(), run()
	if a == b {
		t.Errorf("two runs gave the first meter the same display id %q", a)
	}
	if !strings.HasPrefix(a, "actadd_progress_") {
		t.Errorf("display id %q", a)
	}
}
