package hfhub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var modelRepo = hubtest.Repo{
	Repo: hfhub.Repo{ID: "acme/model"},
	Files: map[string][]byte{
		"config.json":        []byte(`{"n_layer": 2}`),
		"model.safetensors":  randomBytes(300_000, 1),
		"sub/dir/notes.txt":  []byte("hello\n"),
		"weights/extra.bin":  randomBytes(1000, 2),
		"unrequested.txt":    []byte("never downloaded"),
		"tokenizer/vocab.md": []byte("# vocab"),
	},
}

func TestDownloadThenOffline(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	var progress bytes.Buffer
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL + "/", Progress: &progress}
	files := []string{"config.json", "model.safetensors", "sub/dir/notes.txt", "weights/extra.bin"}

	paths, err := hfhub.Download(modelRepo.Repo, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	sha := srv.Commit(modelRepo.Repo)
	repoDir := filepath.Join(cache, "models--acme--model")
	for i, f := range files {
		want := filepath.Join(repoDir, "snapshots", sha, filepath.FromSlash(f))
		if paths[i] != want {
			t.Errorf("path of %s = %s, want %s", f, paths[i], want)
		}
		got, err := os.ReadFile(paths[i])
		if err != nil || !bytes.Equal(got, modelRepo.Files[f]) {
			t.Errorf("contents of %s differ (err %v)", f, err)
		}
	}
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil || string(ref) != sha {
		t.Errorf("refs/main = %q (err %v), want %q", ref, err, sha)
	}
	// Python's layout: the snapshot entry links to ../../blobs/<etag>; LFS etag = sha256.
	sum := sha256.Sum256(modelRepo.Files["model.safetensors"])
	if target, err := os.Readlink(paths[1]); err != nil || target != filepath.Join("..", "..", "blobs", hex.EncodeToString(sum[:])) {
		t.Errorf("model.safetensors links to %q (err %v)", target, err)
	}
	if !strings.Contains(progress.String(), "downloading acme/model model.safetensors") {
		t.Errorf("no progress line in %q", progress.String())
	}
	if n := strings.Count(progress.String(), "\n"); n > 3*len(files) {
		t.Errorf("%d progress lines for %d small files: too many\n%s", n, len(files), progress.String())
	}

	// Cached: no request at all, online or offline, server up or down.
	before := srv.RequestCount()
	again, err := hfhub.Download(modelRepo.Repo, files, opts)
	if err != nil || !slices.Equal(again, paths) {
		t.Fatalf("second download: %v, %v", again, err)
	}
	srv.Close()
	for _, offline := range []bool{true, false} {
		o := opts
		o.Offline = offline
		again, err := hfhub.Download(modelRepo.Repo, files, o)
		if err != nil || !slices.Equal(again, paths) {
			t.Fatalf("offline=%v download with the server closed: %v, %v", offline, again, err)
		}
	}
	if n := srv.RequestCount(); n != before {
		t.Errorf("cached downloads made %d requests", n-before)
	}
	// The listing was cached too.
	names, err := hfhub.ListFiles(modelRepo.Repo, hfhub.Options{CacheDir: cache, Offline: true})
	if err != nil || len(names) != len(modelRepo.Files) {
		t.Errorf("offline ListFiles = %v, %v", names, err)
	}
}

func TestMissingOffline(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	repo := hfhub.Repo{ID: "acme/model"}

	_, err := hfhub.Download(repo, []string{"model.safetensors"}, hfhub.Options{CacheDir: cache, Endpoint: srv.URL, Offline: true})
	if !errors.Is(err, hfhub.ErrNotCached) {
		t.Fatalf("offline error %v does not match ErrNotCached", err)
	}
	var nc *hfhub.NotCachedError
	if !errors.As(err, &nc) || !nc.Offline || !slices.Equal(nc.Files, []string{"model.safetensors"}) {
		t.Errorf("NotCachedError fields: %+v", nc)
	}
	for _, want := range []string{"acme/model", "model.safetensors", filepath.Join(cache, "models--acme--model"), "huggingface-cli download acme/model model.safetensors", "HF_HUB_OFFLINE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if srv.RequestCount() != 0 {
		t.Errorf("offline mode made %d requests", srv.RequestCount())
	}

	// Partially cached: only the missing file is named.
	if _, err := hfhub.Download(repo, []string{"config.json"}, hfhub.Options{CacheDir: cache, Endpoint: srv.URL}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err = hfhub.Download(repo, []string{"config.json", "model.safetensors"}, hfhub.Options{CacheDir: cache, Endpoint: srv.URL})
	if !errors.As(err, &nc) || nc.Offline || nc.Err == nil || !slices.Equal(nc.Files, []string{"model.safetensors"}) {
		t.Fatalf("unreachable hub: got %v", err)
	}
	if !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error does not say the hub is unreachable: %v", err)
	}
}

// A cache entry that exists but cannot be read is reported as such, not as "not in the cache"
// (and no download is tried into a cache that cannot be read).
func TestUnreadableCache(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	repo := hfhub.Repo{ID: "acme/model"}
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}
	paths, err := hfhub.Download(repo, []string{"config.json"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot entry that is a symlink loop.
	os.Remove(paths[0])
	os.Symlink(filepath.Base(paths[0]), paths[0])
	n := srv.RequestCount()
	for _, offline := range []bool{true, false} {
		o := opts
		o.Offline = offline
		_, err = hfhub.Download(repo, []string{"config.json"}, o)
		if err == nil || errors.Is(err, hfhub.ErrNotCached) || !strings.Contains(err.Error(), "too many levels of symbolic links") || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("offline=%v, snapshot entry a symlink loop: %v", offline, err)
		}
	}
	// A ref that is a symlink loop.
	ref := filepath.Join(hfhub.RepoDir(cache, repo), "refs", "main")
	os.Remove(ref)
	os.Symlink("main", ref)
	if _, err := hfhub.Download(repo, []string{"config.json"}, hfhub.Options{CacheDir: cache, Offline: true}); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("ref a symlink loop: %v", err)
	}
	if _, err := hfhub.ListFiles(repo, hfhub.Options{CacheDir: cache, Offline: true}); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("ListFiles, ref a symlink loop: %v", err)
	}
	if srv.RequestCount() != n {
		t.Errorf("%d requests for an unreadable cache", srv.RequestCount()-n)
	}
}

func TestCutTransferDetected(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}
	srv.SetCutTransfers(true)
	_, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts)
	if err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("cut transfer: got error %v, want one saying it was cut short", err)
	}
	snap := filepath.Join(cache, "models--acme--model", "snapshots", srv.Commit(modelRepo.Repo), "model.safetensors")
	if _, err := os.Lstat(snap); !os.IsNotExist(err) {
		t.Errorf("the broken snapshot entry %s was left behind (%v)", snap, err)
	}
	srv.SetCutTransfers(false)
	paths, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts)
	if err != nil {
		t.Fatalf("retry after a cut: %v", err)
	}
	if got, _ := os.ReadFile(paths[0]); !bytes.Equal(got, modelRepo.Files["model.safetensors"]) {
		t.Error("retry gave wrong contents")
	}
}

// A hub that sends a file one byte at a time never stalls, but the transfer would never end:
// the minimum-rate watchdog cancels it with a clear error, and nothing is left in the snapshot.
func TestCrawlingDownloadIsCancelled(t *testing.T) {
	defer hfhub.SetWatchForTest(time.Minute, 400*time.Millisecond, time.Minute, 20*time.Millisecond)()
	srv := hubtest.NewServer(t, modelRepo)
	srv.SetSlowTransfers(20 * time.Millisecond) // 50 B/s
	opts := hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL, MinRate: 1000}
	_, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts)
	if err == nil || !strings.Contains(err.Error(), "is too slow to finish") || !strings.Contains(err.Error(), "below the minimum of 1000 B/s") {
		t.Fatalf("crawling download: %v, want a 'too slow' error", err)
	}
	t.Log(err)
	// The cancelled transfer leaves nothing that stops a later download.
	srv.SetSlowTransfers(0)
	if _, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts); err != nil {
		t.Fatalf("after the hub recovered: %v", err)
	}
}

func TestCorruptBlobDetected(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}
	data := modelRepo.Files["model.safetensors"]
	sum := sha256.Sum256(data)
	blob := filepath.Join(cache, "models--acme--model", "blobs", hex.EncodeToString(sum[:]))
	// A blob of the right size but wrong contents: go-huggingface trusts it and links it.
	bad := bytes.Clone(data)
	bad[100] ^= 1
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts)
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("corrupt blob: got %v, want a sha256 mismatch", err)
	}
	if _, err := os.Stat(blob); !os.IsNotExist(err) {
		t.Errorf("corrupt blob not removed (%v)", err)
	}
	if _, err := hfhub.Download(modelRepo.Repo, []string{"model.safetensors"}, opts); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestDatasetRepo(t *testing.T) {
	parquet := hubtest.Repo{
		Repo: hfhub.Repo{ID: "acme/texts", Type: "dataset", Revision: "refs/convert/parquet"},
		Files: map[string][]byte{
			"default/train/0000.parquet": randomBytes(5000, 3),
			"default/test/0000.parquet":  randomBytes(700, 4),
		},
	}
	mainRev := hubtest.Repo{
		Repo:  hfhub.Repo{ID: "acme/texts", Type: "dataset"},
		Files: map[string][]byte{"README.md": []byte("# texts\n"), "data.jsonl": []byte("{}\n")},
	}
	srv := hubtest.NewServer(t, parquet, mainRev)
	cache := t.TempDir()
	opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}

	names, err := hfhub.ListFiles(parquet.Repo, opts)
	if err != nil || !slices.Equal(names, []string{"default/test/0000.parquet", "default/train/0000.parquet"}) {
		t.Fatalf("ListFiles = %v, %v", names, err)
	}
	paths, err := hfhub.Download(parquet.Repo, []string{"default/train/0000.parquet"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(cache, "datasets--acme--texts")
	sha := srv.Commit(parquet.Repo)
	if want := filepath.Join(repoDir, "snapshots", sha, "default", "train", "0000.parquet"); paths[0] != want {
		t.Errorf("path %s, want %s", paths[0], want)
	}
	if ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "refs", "convert", "parquet")); err != nil || string(ref) != sha {
		t.Errorf("refs/refs/convert/parquet = %q, %v; want %s", ref, err, sha)
	}
	if _, err := hfhub.Download(mainRev.Repo, []string{"README.md", "data.jsonl"}, opts); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	off := hfhub.Options{CacheDir: cache, Offline: true}
	if p, err := hfhub.Download(parquet.Repo, []string{"default/train/0000.parquet"}, off); err != nil || p[0] != paths[0] {
		t.Errorf("offline parquet: %v, %v", p, err)
	}
	if p, err := hfhub.Download(mainRev.Repo, []string{"README.md"}, off); err != nil {
		t.Errorf("offline main: %v, %v", p, err)
	} else if got, _ := os.ReadFile(p[0]); string(got) != "# texts\n" {
		t.Errorf("offline main README = %q", got)
	}
	_, err = hfhub.Download(parquet.Repo, []string{"default/test/0000.parquet"}, off)
	if !errors.Is(err, hfhub.ErrNotCached) || !strings.Contains(err.Error(), "--repo-type dataset --revision refs/convert/parquet") {
		t.Errorf("offline missing parquet: %v", err)
	}
}

func TestCommitRevisionAndToken(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	cache := t.TempDir()
	sha := srv.Commit(modelRepo.Repo)
	repo := hfhub.Repo{ID: "acme/model", Revision: sha}
	paths, err := hfhub.Download(repo, []string{"config.json"}, hfhub.Options{CacheDir: cache, Endpoint: srv.URL, Token: "hf_secret"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(paths[0], sha) {
		t.Errorf("path %s not in snapshot %s", paths[0], sha)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--acme--model", "refs")); !os.IsNotExist(err) {
		t.Errorf("a commit revision wrote refs (%v)", err)
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer hf_secret" {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Authorization)
		}
	}
	srv.Close()
	if _, err := hfhub.Download(repo, []string{"config.json"}, hfhub.Options{CacheDir: cache, Offline: true}); err != nil {
		t.Errorf("offline by commit: %v", err)
	}
}

func TestErrors(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	opts := hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL}
	cases := []struct {
		repo  hfhub.Repo
		files []string
		want  string
	}{
		{hfhub.Repo{ID: "acme/nope"}, []string{"config.json"}, "404"},
		{hfhub.Repo{ID: "acme/model", Revision: "v9"}, []string{"config.json"}, "Invalid rev id"},
		{hfhub.Repo{ID: "acme/model"}, []string{"missing.txt"}, `has no file "missing.txt"`},
		{hfhub.Repo{ID: "acme/model"}, []string{"../etc/passwd"}, "not a plain relative path"},
		{hfhub.Repo{ID: "acme/model", Type: "space"}, []string{"x"}, `use "model" or "dataset"`},
		{hfhub.Repo{ID: "a/b/c"}, []string{"x"}, "org/name"},
	}
	for _, c := range cases {
		_, err := hfhub.Download(c.repo, c.files, opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, hfhub.ErrNotCached) {
			t.Errorf("Download(%v, %v): %v; want an error containing %q", c.repo, c.files, err, c.want)
		}
	}
}

func TestDefaultOptions(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT",
		"HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH"} {
		t.Setenv(k, "")
	}
	check := func(name, want string) {
		t.Helper()
		if got := hfhub.DefaultOptions().CacheDir; got != want {
			t.Errorf("%s: CacheDir = %s, want %s", name, got, want)
		}
	}
	check("nothing set", filepath.Join(home, ".cache", "huggingface", "hub"))
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	check("XDG_CACHE_HOME", "/xdg/huggingface/hub")
	t.Setenv("HF_HOME", "~/hfhome")
	check("HF_HOME", filepath.Join(home, "hfhome", "hub"))
	t.Setenv("HUGGINGFACE_HUB_CACHE", "/legacy")
	check("HUGGINGFACE_HUB_CACHE", "/legacy")
	t.Setenv("HF_HUB_CACHE", "/hubcache")
	check("HF_HUB_CACHE", "/hubcache")

	o := hfhub.DefaultOptions()
	if o.Endpoint != "https://huggingface.co" || o.Offline || o.Token != "" || o.Progress == nil {
		t.Errorf("defaults: %+v", o)
	}
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	for _, v := range []string{"1", "true", "YES", "on"} {
		t.Setenv("HF_HUB_OFFLINE", v)
		if !hfhub.DefaultOptions().Offline {
			t.Errorf("HF_HUB_OFFLINE=%s not offline", v)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "0")
	if hfhub.DefaultOptions().Offline {
		t.Error("HF_HUB_OFFLINE=0 is offline")
	}
	if e := hfhub.DefaultOptions().Endpoint; e != "https://mirror.example" {
		t.Errorf("Endpoint = %q", e)
	}
	// Token: the login file under HF_HOME, overridden by HF_TOKEN.
	if err := os.MkdirAll(filepath.Join(home, "hfhome"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "hfhome", "token"), []byte("hf_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok := hfhub.DefaultOptions().Token; tok != "hf_file" {
		t.Errorf("token from file = %q", tok)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	if tok := hfhub.DefaultOptions().Token; tok != "hf_env" {
		t.Errorf("token from HF_TOKEN = %q", tok)
	}
}

func TestListFilesOfflineWithoutCache(t *testing.T) {
	_, err := hfhub.ListFiles(hfhub.Repo{ID: "acme/model"}, hfhub.Options{CacheDir: t.TempDir(), Offline: true})
	if !errors.Is(err, hfhub.ErrNotCached) || !strings.Contains(err.Error(), "file list") {
		t.Errorf("got %v", err)
	}
}

// TestConcurrentDownloads starts several downloads of the same files into one empty cache at
// once, as two notebooks (or parallel test binaries) loading the same model do. Without the
// download lock, go-huggingface's and verify's remove-and-relink steps raced and some failed.
func TestConcurrentDownloads(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	files := []string{"config.json", "model.safetensors"}
	for round := range 8 {
		cache := t.TempDir()
		opts := hfhub.Options{CacheDir: cache, Endpoint: srv.URL}
		errs := make([]error, 6)
		paths := make([][]string, len(errs))
		var wg sync.WaitGroup
		for g := range errs {
			wg.Go(func() { paths[g], errs[g] = hfhub.Download(modelRepo.Repo, files, opts) })
		}
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Fatalf("round %d, download %d of %d: %v", round, g, len(errs), err)
			}
			for i, f := range files {
				if got, err := os.ReadFile(paths[g][i]); err != nil || !bytes.Equal(got, modelRepo.Files[f]) {
					t.Fatalf("round %d, download %d: %s differs (err %v)", round, g, f, err)
				}
			}
		}
	}
}

// A repo-info reply cut short (the hub answered, then the connection dropped) is reported as
// what it is, with the bytes received and announced, not as an unreachable hub; trying again
// works.
func TestInfoReplyCutShort(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	srv.SetCutInfo(true)
	opts := hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL}
	cutShort := regexp.MustCompile(`reply to \S+/api/models/acme/model/revision/main\?blobs=true was cut short after (\d+) of (\d+) bytes`)
	_, dlErr := hfhub.Download(modelRepo.Repo, []string{"config.json"}, opts)
	_, lsErr := hfhub.ListFiles(modelRepo.Repo, opts)
	for what, err := range map[string]error{"Download": dlErr, "ListFiles": lsErr} {
		if !errors.Is(err, hfhub.ErrNotCached) {
			t.Fatalf("%s: error %v does not match ErrNotCached", what, err)
		}
		m := cutShort.FindStringSubmatch(err.Error())
		if m == nil || strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "try again") {
			t.Fatalf("%s: error %q does not say that the reply was cut short after N of M bytes and to try again", what, err)
		}
		got, _ := strconv.Atoi(m[1])
		want, _ := strconv.Atoi(m[2])
		if got <= 0 || got != want/2 {
			t.Errorf("%s: cut short after %d of %d bytes; the fake hub sends half", what, got, want)
		}
	}
	srv.SetCutInfo(false)
	if _, err := hfhub.Download(modelRepo.Repo, []string{"config.json"}, opts); err != nil {
		t.Fatalf("trying again: %v", err)
	}
}

// TestFileStatusErrors: the hub lists the files but refuses to serve them.
func TestFileStatusErrors(t *testing.T) {
	srv := hubtest.NewServer(t, modelRepo)
	for _, c := range []struct {
		code      int
		want      string
		notCached bool
	}{
		{403, "set HF_TOKEN", false},
		{401, "gated or private", false},
		{404, "answered 404", false},
		{429, "hub is unreachable", true},
		{503, "hub is unreachable", true},
	} {
		srv.SetFileStatus(c.code)
		_, err := hfhub.Download(modelRepo.Repo, []string{"config.json"}, hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL})
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, hfhub.ErrNotCached) != c.notCached {
			t.Errorf("file status %d: error %v; want one saying %q, ErrNotCached %v", c.code, err, c.want, c.notCached)
		}
	}
}
