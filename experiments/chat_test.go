package experiments_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/controlvector"
	"github.com/actadd-go/actadd/experiments"
)

// ChatSteerAndExport steers a chat turn of the Llama-family stand-in through its template,
// reproducibly, and writes a control vector llama.cpp's layout reads back: direction.{l−1}
// holding the coefficient times the vector's last position.
func TestChatSteerAndExport(t *testing.T) {
	m := actaddtest.WithChatTemplate(t, "tiny-llama")
	out := filepath.Join(t.TempDir(), "love-hate.gguf")
	cfg := experiments.ChatSteer{Plus: "Love", Minus: "Hate", Prompt: "Tell me about your neighbours", System: "Be brief.",
		Layer: 2, Coeff: 6, UserContent: true, N: 2, Tokens: 5, Seed: 1, Export: out}
	res, err := experiments.ChatSteerAndExport(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := experiments.ChatSteerAndExport(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Comparison.Steered {
		if res.Comparison.Steered[i].Text != again.Comparison.Steered[i].Text {
			t.Errorf("completion %d differs between two runs with one seed", i)
		}
	}
	if res.Covered != "Tell" && res.Covered != " Tell" {
		t.Errorf("the vector of %d positions covers %q from position %d", res.Vector.N, res.Covered, res.Start)
	}
	cv, err := controlvector.Import(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Block != 1 || len(cv.Directions) != 1 || cv.Directions[1] == nil || cv.ModelHint != "llama" {
		t.Fatalf("block %d; file's blocks %v, hint %q", res.Block, cv.Layers(), cv.ModelHint)
	}
	last := res.Vector.At(res.Vector.N - 1)
	for j, x := range cv.Directions[1] {
		if d := x - float32(cfg.Coeff)*last[j]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("direction[%d] = %v, want %v", j, x, float32(cfg.Coeff)*last[j])
		}
	}
	for _, want := range []string{"--control-vector-scaled " + out + " 1", "--control-vector-layer-range 1 1", "-cnv"} {
		if !strings.Contains(res.Command, want) || !strings.Contains(res.Summary(), want) {
			t.Errorf("command %q lacks %q", res.Command, want)
		}
	}
	cfg.Layer = 1 // blocks.1.hook_resid_pre is block 0's output, where llama.cpp adds nothing
	if _, err := experiments.ChatSteerAndExport(m, cfg); err == nil || !strings.Contains(err.Error(), "direction.0") {
		t.Errorf("an export llama.cpp cannot apply: %v", err)
	}
}
