package loader

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
)

func TestLocateLocalDir(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := checkpoint.WriteTiny(dir, cfg, 1); err != nil {
		t.Fatal(err)
	}
	got, err := Locate(dir, hfhub.Options{Offline: true, CacheDir: t.TempDir()})
	if err != nil || got != dir {
		t.Fatalf("Locate(local) = %s, %v", got, err)
	}
	empty := t.TempDir()
	_, err = Locate(empty, hfhub.Options{Offline: true})
	wantErr(t, err, empty, "config.json")
	writeConfig(t, empty, cfg)
	_, err = Locate(empty, hfhub.Options{Offline: true})
	wantErr(t, err, "model.safetensors")
}

func TestLocateUnknown(t *testing.T) {
	_, err := Locate("gpt3", hfhub.Options{Offline: true, CacheDir: t.TempDir()})
	wantErr(t, err, `"gpt3"`, "gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, tiny", "repository id", "folder")
}

// A folder that cannot be read says why, instead of "has no config.json" or "unknown model".
func TestLocateStatErrors(t *testing.T) {
	opts := hfhub.Options{Offline: true, CacheDir: t.TempDir()}
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	withLoop := filepath.Join(dir, "ckpt")
	os.Mkdir(withLoop, 0o755)
	os.Symlink(checkpoint.ConfigFile, filepath.Join(withLoop, checkpoint.ConfigFile))
	file := filepath.Join(dir, "weights.safetensors")
	os.WriteFile(file, []byte("x"), 0o644)
	for name, want := range map[string][]string{
		loop:                               {loop, "too many levels of symbolic links"},
		withLoop:                           {withLoop, "too many levels of symbolic links"},
		file:                               {file, "is a file: give the folder"},
		filepath.Join(dir, "missing"):      {"no checkpoint folder", "no such file"},
		filepath.Join(loop, "sub"):         {"too many levels of symbolic links"},
		filepath.Join(dir, "missing", "x"): {"no checkpoint folder"},
	} {
		_, err := Locate(name, opts)
		wantErr(t, err, want...)
		if err != nil && strings.Contains(err.Error(), "unknown model") {
			t.Errorf("Locate(%s): %v", name, err)
		}
	}
	if os.Geteuid() != 0 { // root reads everything
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0)
		_, err := Locate(locked, opts)
		wantErr(t, err, "permission denied")
	}
}

func TestLocateTiny(t *testing.T) {
	root := t.TempDir()
	opts := hfhub.Options{CacheDir: filepath.Join(root, "huggingface", "hub"), Offline: true}
	dir, err := Locate(checkpoint.TinyName, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := checkpoint.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := StandInDir(checkpoint.TinyName, opts); err != nil || filepath.Dir(dir) != filepath.Join(root, "huggingface", "actadd") || !strings.HasPrefix(filepath.Base(dir), "tiny-") || dir != want {
		t.Errorf("tiny generated in %s", dir)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, checkpoint.ConfigFile)); cfg.NLayer != 4 || cfg.NEmbd != 64 || cfg.VocabSize != 50257 ||
		!strings.Contains(string(b), checkpoint.TinyDescription) {
		t.Errorf("tiny config %+v; config.json:\n%s", cfg, b)
	}
	tensors, err := checkpoint.Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tensorsDigest(tensors) != tensorsDigest(checkpoint.RandomTensors(checkpoint.TinyConfig(), checkpoint.TinySeed)) {
		t.Error("tiny weights are not checkpoint.RandomTensors(checkpoint.TinyConfig(), checkpoint.TinySeed)")
	}
	// Reused, not regenerated: a marker file in the folder survives.
	marker := filepath.Join(dir, "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir2, err := Locate(checkpoint.TinyName, opts); err != nil || dir2 != dir {
		t.Fatalf("second Locate(tiny) = %s, %v", dir2, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the tiny model was regenerated instead of reused")
	}
	// An incomplete folder is replaced.
	if err := os.Remove(filepath.Join(dir, checkpoint.WeightsFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Locate(checkpoint.TinyName, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpoint.Read(dir, cfg); err != nil {
		t.Errorf("after repair: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "*.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	if Describe(checkpoint.TinyName) != checkpoint.TinyDescription || !strings.Contains(Describe("gpt2"), "openai-community/gpt2") {
		t.Error("Describe")
	}
}

func TestLocateThroughHub(t *testing.T) {
	cfg := smallConfig()
	src := t.TempDir()
	if err := checkpoint.WriteTiny(src, cfg, 7); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, name := range []string{checkpoint.ConfigFile, checkpoint.WeightsFile, "README.md"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	srv := hubtest.NewServer(t, hubtest.Repo{Repo: hfhub.Repo{ID: "openai-community/gpt2"}, Files: files})
	cache := t.TempDir()
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}

	dir, err := Locate("gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "models--openai-community--gpt2", "snapshots", srv.Commit(hfhub.Repo{ID: "openai-community/gpt2"})); dir != want {
		t.Errorf("dir %s, want %s", dir, want)
	}
	gotCfg, err := checkpoint.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := checkpoint.Read(dir, gotCfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, tensors, checkpoint.RandomTensors(cfg, 7))

	srv.Close()
	before := srv.RequestCount()
	for _, offline := range []bool{true, false} {
		o := opts
		o.Offline = offline
		dir2, err := Locate("gpt2", o)
		if err != nil || dir2 != dir {
			t.Fatalf("offline=%v with the hub gone: %s, %v", offline, dir2, err)
		}
	}
	if srv.RequestCount() != before {
		t.Errorf("cached Locate made %d requests", srv.RequestCount()-before)
	}

	_, err = Locate("gpt2-medium", hfhub.Options{CacheDir: cache, Offline: true})
	if !errors.Is(err, hfhub.ErrNotCached) {
		t.Fatalf("missing model offline: %v does not match hfhub.ErrNotCached", err)
	}
	wantErr(t, err, "gpt2-medium", "openai-community/gpt2-medium", filepath.Join(cache, "models--openai-community--gpt2-medium"),
		"huggingface-cli download", `load "tiny" instead`, "not GPT-2")
	// The library speaks to a Go caller: environment variables it does not read are the
	// make targets' and notebooks' advice, not its own.
	if strings.Contains(err.Error(), "ACTADD_MODEL") || strings.Count(err.Error(), `"tiny"`) != 1 {
		t.Errorf("advice for a Go caller expected once, without ACTADD_MODEL: %v", err)
	}
}

func smallConfig() checkpoint.Config {
	cfg := checkpoint.TinyConfig()
	cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.NPositions = 2, 16, 2, 32
	return cfg
}

func writeConfig(t *testing.T, dir string, cfg checkpoint.Config) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func tensorsDigest(ts map[string]checkpoint.Tensor) string {
	h := sha256.New()
	for _, w := range checkpoint.WeightTable(checkpoint.TinyConfig()) {
		t := ts[w.Name]
		fmt.Fprint(h, w.Name, t.Shape)
		for _, v := range t.Data {
			fmt.Fprint(h, math.Float32bits(v), ",")
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func sameTensors(t *testing.T, got, want map[string]checkpoint.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for n, w := range want {
		g := got[n]
		if !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.Data, w.Data) {
			t.Errorf("tensor %s differs", n)
		}
	}
}

// A name spelled as a repository id that is no local folder goes to the hub; offline and not
// cached, the error says both.
func TestLocateRepoIDOffline(t *testing.T) {
	_, err := Locate("acme/some-model", hfhub.Options{Offline: true, CacheDir: t.TempDir()})
	if !errors.Is(err, hfhub.ErrNotCached) {
		t.Fatalf("%v does not match hfhub.ErrNotCached", err)
	}
	wantErr(t, err, "acme/some-model", "no local folder acme/some-model exists either", "stand-ins")
	if !isRepoID("Qwen/Qwen2.5-0.5B") || isRepoID("/abs/path") || isRepoID("a/b/c") || isRepoID("../x") || isRepoID("plain") {
		t.Error("isRepoID")
	}
}
