package filehash

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("hello\n"), 0o644)
	os.WriteFile(b, []byte("world\n"), 0o644)
	// sha256sum a.txt → 5891b5b5…, and `sha256sum a.txt b.txt | sha256sum` → the listing's sum.
	if got, err := File(a); err != nil || got != "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" {
		t.Errorf("File = %s, %v", got, err)
	}
	if got, err := Files([]string{a, b}); err != nil || got != "6ddb4c079eb5ca951069c4237b11308889f4ae7e3486d0794fccfbcbf716eb6f" {
		t.Errorf("Files = %s, %v", got, err)
	}
	if _, err := Files([]string{a, filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing file gave no error")
	}
}
