package checkpoint

import (
	"path/filepath"
	"strings"
	"testing"
)

// A tensor whose shape does not hold its data is refused when writing, also where the shape's
// product wraps around to the data's length ((2⁶²+1)·4 = 2⁶⁴ + 4): such a file could not be read.
func TestWriteRefusesShapeNotHoldingData(t *testing.T) {
	dir := t.TempDir()
	for name, shape := range map[string][]int{
		"product wraps to the data's length": {1<<62 + 1, 4},
		"too few values":                     {2, 4},
		"negative dimension":                 {-1, -4},
		"scalar shape for 4 values":          nil,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".safetensors")
		err := WriteSafetensors(path, map[string]Tensor{"v": {Shape: shape, Data: make([]float32, 4)}}, nil)
		if err == nil || !strings.Contains(err.Error(), "does not hold its 4 values") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	path := filepath.Join(dir, "ok.safetensors")
	if err := WriteSafetensors(path, map[string]Tensor{"v": {Shape: []int{2, 2}, Data: make([]float32, 4)}}, nil); err != nil {
		t.Fatal(err)
	}
	if ts, _, err := ReadSafetensors(path); err != nil || len(ts["v"].Data) != 4 {
		t.Errorf("a well-formed tensor: %v, %v", ts, err)
	}
}
