package explorer_test

import (
	"path/filepath"
	"testing"

	"github.com/actadd-go/actadd/explorer"
)

// Running the explorer's cell again starts from the controls' last values, except where the
// cell's flags changed since: there the new flag wins.
func TestResumeKeepsTheLastSettings(t *testing.T) {
	flags := settings()
	last := flags
	last.Layer, last.Coeff, last.Prompt, last.Seed, last.Metric = 3, -2.5, "Yesterday", 7, "p+ words"
	st := explorer.State{Flags: flags, Last: last}
	if got := st.Resume(flags); got != last {
		t.Errorf("unchanged flags: resumed %+v, want the last settings %+v", got, last)
	}
	edited := flags
	edited.Coeff, edited.N = 9, 2
	want := last
	want.Coeff, want.N = 9, 2
	if got := st.Resume(edited); got != want {
		t.Errorf("flags edited in the cell: resumed %+v, want %+v", got, want)
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv(explorer.StateEnv, "")
	path, err := explorer.StatePath("/some/notebooks", "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := explorer.StatePath("/some/notebooks", "gpt2"); other == path {
		t.Error("two models share a state file")
	}
	if other, _ := explorer.StatePath("/other/notebooks", "tiny"); other == path {
		t.Error("two notebook folders share a state file")
	}
	if _, ok, err := explorer.LoadState(path); ok || err != nil {
		t.Fatalf("no state yet: ok %v, err %v", ok, err)
	}
	s := explorer.State{Flags: settings(), Last: settings()}
	s.Last.Layer, s.Last.Coeff = 2, 0.5
	if err := explorer.SaveState(path, s); err != nil {
		t.Fatal(err)
	}
	got, ok, err := explorer.LoadState(path)
	if !ok || err != nil || got != s {
		t.Errorf("LoadState = %+v, %v, %v; want %+v", got, ok, err, s)
	}
	if filepath.Base(filepath.Dir(path)) != "explorer" {
		t.Errorf("state file %s is not in the cache's explorer folder", path)
	}
}

func TestStateEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(explorer.StateEnv, dir)
	if p, err := explorer.StatePath("/nb", "tiny"); err != nil || filepath.Dir(p) != dir {
		t.Errorf("with $%s=%s: StatePath = %q, %v", explorer.StateEnv, dir, p, err)
	}
	t.Setenv(explorer.StateEnv, "off")
	if p, err := explorer.StatePath("/nb", "tiny"); err != nil || p != "" {
		t.Errorf("with $%s=off: StatePath = %q, %v; want none", explorer.StateEnv, p, err)
	}
}
