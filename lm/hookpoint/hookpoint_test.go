package hookpoint_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/lm/hookpoint"
)

func TestParseRoundTrip(t *testing.T) {
	for _, p := range hookpoint.All(3, true) {
		l, kind, err := hookpoint.Parse(p, 3)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if l >= 0 && hookpoint.Block(l, kind) != p {
			t.Errorf("%s parsed as block %d kind %s", p, l, kind)
		}
	}
	if got := hookpoint.ResidPre(6); got != "blocks.6.hook_resid_pre" {
		t.Errorf("ResidPre(6) = %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{"blocks.3.hook_resid_pre", "blocks.-1.hook_resid_pre", "blocks.01.hook_resid_pre",
		"blocks.1.hook_resid", "blocks.1", "hook_resid_pre", "blocks.x.hook_mlp_out", ""} {
		if _, _, err := hookpoint.Parse(bad, 3); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "hook point") {
			t.Errorf("Parse(%q): %v", bad, err)
		}
	}
	if len(hookpoint.All(2, false)) != 2*5+2 || len(hookpoint.All(2, true)) != 2*5+3 {
		t.Error("All counts wrong")
	}
}
