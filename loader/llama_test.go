package loader_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
	"github.com/actadd-go/actadd/loader"
)

// Every Llama-family stand-in loads offline by name, as its family, labelled as a random-weight
// stand-in and pinned by its folder, with a tokenizer that adds BOS as the family does.
func TestLlamaFamilyStandIns(t *testing.T) {
	opts := hfhub.Options{CacheDir: filepath.Join(t.TempDir(), "huggingface", "hub"), Offline: true}
	for name, want := range map[string]struct {
		family string
		bos    bool
	}{"tiny-llama": {"llama", true}, "tiny-mistral": {"mistral", true}, "tiny-qwen2": {"qwen2", false}, "tiny-qwen3": {"qwen3", false}} {
		m, tok, err := loader.LoadWith(testbackend.Get(t), name, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		info := m.Info()
		dir, err := loader.StandInDir(name, opts)
		if err != nil {
			t.Fatal(err)
		}
		if info.Family != want.family || info.Name != loader.Describe(name) || !strings.Contains(info.Name, "random-weight") ||
			info.Revision != filepath.Base(dir) || info.PosEmbed {
			t.Errorf("%s: info %+v, folder %s", name, info, dir)
		}
		if _, ok := tok.BOS(); ok != want.bos {
			t.Errorf("%s: BOS added %t, want %t", name, ok, want.bos)
		}
		if tok.VocabSize() != m.Dims().Vocab {
			t.Errorf("%s: tokenizer of %d ids for a vocabulary of %d", name, tok.VocabSize(), m.Dims().Vocab)
		}
		if s, err := tok.Decode(append(tok.Encode("wedding"), tok.Pad())); err != nil || s != "wedding " {
			t.Errorf("%s: \"wedding\" and Pad decode to %q, %v: want one space after the word", name, s, err)
		}
		text := "I talk about weddings constantly."
		if s, err := tok.Decode(tok.Encode(text)); err != nil || s != text || len(tok.Encode(text)) >= len(text) {
			t.Errorf("%s: %q encodes to %v, decodes to %q (%v): want fewer tokens than bytes, and the text back", name, text, tok.Encode(text), s, err)
		}
		m.Finalize()
	}
}

// A Llama-family repository is fetched from the hub by its id: config.json, the shards of a
// sharded checkpoint and the tokenizer files, then loaded as its family, named by the id and
// pinned by the commit; once cached it loads with the hub gone.
func TestLlamaFamilyThroughHub(t *testing.T) {
	stand, err := loader.Locate("tiny-qwen3", hfhub.Options{CacheDir: filepath.Join(t.TempDir(), "hub"), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := llama.ReadConfig(stand)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := llama.WriteRandom(src, cfg, llama.RandomOptions{Seed: 3, Shards: 2, DType: "BF16"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(stand, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := hfhub.Repo{ID: "acme/tiny-qwen3"}
	srv := hubtest.NewServer(t, hubtest.Repo{Repo: repo, Files: hubFiles(t, src)})
	opts := hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL}
	m, tok, err := loader.LoadWith(testbackend.Get(t), repo.ID, opts)
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.Name != repo.ID || info.Revision != srv.Commit(repo) || info.Family != "qwen3" {
		t.Errorf("info %+v, want %s at %s, qwen3", info, repo.ID, srv.Commit(repo))
	}
	if _, ok := tok.BOS(); ok {
		t.Error("the Qwen3-shaped tokenizer adds BOS")
	}
	m.Finalize()
	srv.Close()
	opts.Offline = true
	if m, _, err = loader.LoadWith(testbackend.Get(t), repo.ID, opts); err != nil {
		t.Fatalf("offline, cached: %v", err)
	}
	m.Finalize()
	if _, _, err := loader.LoadWith(testbackend.Get(t), "acme/other", opts); err == nil || !strings.Contains(err.Error(), "tiny-llama") {
		t.Errorf("a missing repository offline: %v (want the stand-ins named)", err)
	}
}

// hubFiles reads every file of a folder for a fake hub repository.
func hubFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// The published shapes have the published models' parameter counts (those of their
// config.json, as llama's config tests record them).
func TestRandomShapes(t *testing.T) {
	for name, want := range map[string]int64{"smollm2-135m": 134515008, "qwen2.5-0.5b": 494032768} {
		s, ok := loader.ShapeOf(name)
		if !ok || s.Params != want {
			t.Errorf("%s: %d parameters, want %d", name, s.Params, want)
		}
	}
	m, tok, err := loader.RandomShape(testbackend.Get(t), "tiny-qwen2", "random", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	if m.Info().Family != "qwen2" || tok.VocabSize() > m.Dims().Vocab {
		t.Errorf("family %s, tokenizer of %d ids for %d", m.Info().Family, tok.VocabSize(), m.Dims().Vocab)
	}
	if _, _, err := loader.RandomShape(testbackend.Get(t), "gpt5", "x", 1); err == nil {
		t.Error("an unknown shape was built")
	}
}
