package explorer

import "testing"

func TestParseControls(t *testing.T) {
	s, err := parseControls("3", "-7", "4", "40", "12", "1", " weddings", "", "I went up")
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Layer: 3, Coeff: -3.5, N: 4, Tokens: 40, Seed: 12, Metric: Metrics[1].Name, Plus: " weddings", Prompt: "I went up"}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	for _, bad := range [][]string{
		{"x", "0", "1", "1", "0", "0"},
		{"1", "0", "1", "1", "0", "9"},
		{"1", "0", "1", "1", "-1", "0"},
		{"1", "0.5", "1", "1", "0", "0"},
	} {
		if _, err := parseControls(bad[0], bad[1], bad[2], bad[3], bad[4], bad[5], "a", "", "p"); err == nil {
			t.Errorf("parseControls(%q) gave no error", bad)
		}
	}
}
