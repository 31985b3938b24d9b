package nbutil

import (
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
