package llama_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestLoadRefusesBeforeReading(t *testing.T) {
	v := variants()[1]
	dir := t.TempDir()
	if err := llama.WriteRandom(dir, v.cfg, llama.RandomOptions{Seed: 1, DType: "BF16", Shards: 2}); err != nil {
		t.Fatal(err)
	}
	b := testbackend.Get(t)
	opts := llama.LoadOptions{Hub: hfhub.Options{Offline: true}, MemoryBytes: 1000}
	if _, err := llama.LoadWith(b, dir, opts); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("a model in 1000 bytes: %v", err)
	}
	m, err := llama.LoadWith(b, dir, llama.LoadOptions{Hub: hfhub.Options{Offline: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Revision, "sha256:") || m.Name == "" {
		t.Errorf("Name %q, Revision %q", m.Name, m.Revision)
	}
	described := t.TempDir()
	if err := llama.WriteRandom(described, v.cfg, llama.RandomOptions{Seed: 1, Description: "random weights, not a trained model"}); err != nil {
		t.Fatal(err)
	}
	if d, err := llama.Load(b, described); err != nil || !strings.HasPrefix(d.Name, "random weights, not a trained model (") {
		t.Errorf("a described checkpoint is named %q (%v)", d.Name, err)
	}

	// A config that does not match the weights: one layer more, then an untied head.
	for _, edit := range []func(c *llama.Config){
		func(c *llama.Config) { c.NumHiddenLayers++ },
		func(c *llama.Config) { c.NumHiddenLayers-- },
		func(c *llama.Config) { c.IntermediateSize++ },
		func(c *llama.Config) { c.TieWordEmbeddings = false },
	} {
		c := v.cfg
		edit(&c)
		js, err := llama.ConfigJSON(c, "BF16")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigFile), js, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := llama.LoadWith(b, dir, llama.LoadOptions{Hub: hfhub.Options{Offline: true}}); err == nil {
			t.Errorf("config %+v loaded weights written for another", c)
		}
	}
}

func TestWriteRandomLayout(t *testing.T) {
	for _, v := range variants() {
		dir := t.TempDir()
		if err := llama.WriteRandom(dir, v.cfg, llama.RandomOptions{Seed: 1, DType: v.dtype, Shards: v.shards}); err != nil {
			t.Fatal(err)
		}
		info, err := checkpoint.ListTensors(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := llama.WeightShapes(v.cfg)
		if len(info) != len(want) {
			t.Errorf("%s: %d tensors, want %d", v.name, len(info), len(want))
		}
		files := map[string]bool{}
		for n, ti := range info {
			if ti.DType != v.dtype {
				t.Errorf("%s: %s stored as %s", v.name, n, ti.DType)
			}
			files[ti.File] = true
		}
		if v.shards > 1 && len(files) != v.shards {
			t.Errorf("%s: %d files, want %d shards", v.name, len(files), v.shards)
		}
		c, err := llama.ReadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.ParamCount() != v.cfg.ParamCount() || c.HeadDim != v.cfg.HeadDim || c.SlidingWindow != v.cfg.SlidingWindow {
			t.Errorf("%s: config read back as %+v", v.name, c)
		}
	}
}

// TestLoadFromHub loads a sharded checkpoint by repo id from a fake hub (with a token, as for
// a gated repo), then again offline from the cache.
func TestLoadFromHub(t *testing.T) {
	v := variants()[5] // qwen3, two shards
	dir := t.TempDir()
	if err := llama.WriteRandom(dir, v.cfg, llama.RandomOptions{Seed: 2, DType: v.dtype, Shards: v.shards}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"README.md": []byte("a test repo\n")}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	repo := hubtest.Repo{Repo: hfhub.Repo{ID: "acme/tiny-qwen3"}, Files: files}
	srv := hubtest.NewServer(t, repo)
	cache := t.TempDir()
	b := testbackend.Get(t)
	m, err := llama.LoadWith(b, "acme/tiny-qwen3", llama.LoadOptions{Hub: hfhub.Options{CacheDir: cache, Endpoint: srv.URL, Token: "hf_gated"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "acme/tiny-qwen3" || m.Revision != srv.Commit(repo.Repo) {
		t.Errorf("Name %q, Revision %q; want the repo id and commit %s", m.Name, m.Revision, srv.Commit(repo.Repo))
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer hf_gated" {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Authorization)
		}
		if strings.HasSuffix(r.Path, "README.md") {
			t.Errorf("downloaded %s, which the model does not need", r.Path)
		}
	}
	local, err := llama.Load(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := randomRows(1, 1, 5, v.cfg.VocabSize)
	a, err1 := m.Run(rows)
	c, err2 := local.Run(rows)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !slices.Equal(tensors.MustCopyFlatData[float32](a.Logits), tensors.MustCopyFlatData[float32](c.Logits)) {
		t.Errorf("the hub copy computes other logits than the local one")
	}
	srv.Close()
	if _, err := llama.LoadWith(b, "acme/tiny-qwen3", llama.LoadOptions{Hub: hfhub.Options{CacheDir: cache, Offline: true}}); err != nil {
		t.Errorf("offline from the cache: %v", err)
	}
	if _, err := llama.LoadWith(b, "acme/other", llama.LoadOptions{Hub: hfhub.Options{CacheDir: cache, Offline: true}}); !errors.Is(err, hfhub.ErrNotCached) {
		t.Errorf("an uncached repo offline: %v, want ErrNotCached", err)
	}
}

func TestRandomTensorsSeeded(t *testing.T) {
	cfg := variants()[1].cfg
	a, b, c := llama.RandomTensors(cfg, 4), llama.RandomTensors(cfg, 4), llama.RandomTensors(cfg, 5)
	for n := range a {
		if !slices.Equal(a[n].Data, b[n].Data) {
			t.Fatalf("%s differs between two draws with seed 4", n)
		}
		if len(a[n].Data) > 1 && slices.Equal(a[n].Data, c[n].Data) {
			t.Errorf("%s is the same with seeds 4 and 5", n)
		}
	}
	// The weights are pinned: a change of generator changes every checkpoint written from them.
	if got := a["model.embed_tokens.weight"].Data[0]; got != llama.RandomTensors(cfg, 4)["model.embed_tokens.weight"].Data[0] {
		t.Errorf("not reproducible: %v", got)
	}
}
