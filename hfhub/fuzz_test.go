package hfhub_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
	"github.com/actadd-go/actadd/internal/fuzzcheck"
)

// replyOracle is what a repo-info reply claims, decoded independently of hfhub.
type replyOracle struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		Name   string `json:"rfilename"`
		Size   int64  `json:"size"`
		BlobID string `json:"blobId"`
		LFS    *struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"lfs"`
	} `json:"siblings"`
}

// consistent reports whether the reply lists name exactly once, with the size and the hashes
// (where it gives them) of data.
func (r replyOracle) consistent(name string, data []byte) error {
	n := 0
	for _, s := range r.Siblings {
		if s.Name != name {
			continue
		}
		n++
		size := s.Size
		if s.LFS != nil && s.LFS.Size > 0 {
			size = s.LFS.Size
		}
		if size > 0 && size != int64(len(data)) {
			return fmt.Errorf("%s: the reply lists %d bytes, the file has %d", name, size, len(data))
		}
		if s.LFS != nil && s.LFS.SHA256 != "" {
			sum := sha256.Sum256(data)
			if !strings.EqualFold(s.LFS.SHA256, hex.EncodeToString(sum[:])) {
				return fmt.Errorf("%s: the reply lists sha256 %s", name, s.LFS.SHA256)
			}
		} else if s.LFS == nil && len(s.BlobID) == 40 {
			h := sha1.New()
			fmt.Fprintf(h, "blob %d\x00", len(data))
			h.Write(data)
			if !strings.EqualFold(s.BlobID, hex.EncodeToString(h.Sum(nil))) {
				return fmt.Errorf("%s: the reply lists blob %s", name, s.BlobID)
			}
		}
	}
	if n != 1 {
		return fmt.Errorf("%s listed %d times", name, n)
	}
	return nil
}

// FuzzRepoInfoReply answers hfhub's repo-info request with an arbitrary status and body (seeded
// with the fake hub's real replies); the files themselves come from the fake hub, intact. Every
// reply gives a result or an error within fuzzcheck's bounds, and an error message that does
// not paste a long reply whole. A listing is exactly the reply's file names, and only a 200
// reply with a commit hash gives one. A download succeeds only when the reply's size and hash
// for each file (where it gives them) are the file's, and then the files read equal to what
// the hub holds and the listing is found again offline. Nothing is written outside the cache.
func FuzzRepoInfoReply(f *testing.F) {
	config, err := os.ReadFile("../gpt2/testdata/hf-tiny/config.json")
	if err != nil {
		f.Fatal(err)
	}
	repo := hubtest.Repo{Repo: hfhub.Repo{ID: "acme/tiny"}, Files: map[string][]byte{
		"config.json":       config,
		"model.safetensors": randomBytes(2000, 3),
		"README.md":         []byte("# tiny\n"),
	}}
	hub := hubtest.NewServer(f, repo)
	want := []string{"config.json", "model.safetensors"}

	var mu sync.Mutex
	var status int
	var reply []byte
	hubURL, err := url.Parse(hub.URL)
	if err != nil {
		f.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(hubURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			proxy.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		code, body := status, reply
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write(body)
	}))
	f.Cleanup(srv.Close)

	resp, err := http.Get(hub.URL + "/api/models/acme/tiny/revision/main?blobs=true")
	if err != nil {
		f.Fatal(err)
	}
	real, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		f.Fatalf("the fake hub's reply: %d, %v", resp.StatusCode, err)
	}
	f.Add(uint16(0), real)
	f.Add(uint16(0), bytes.Replace(real, []byte(`"size":`), []byte(`"size":1`), 1))
	f.Add(uint16(0), []byte(`{"sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [{"rfilename": "config.json"}]}`))
	f.Add(uint16(404-200), []byte(`{"error": "Repository not found"}`))
	f.Add(uint16(503-200), []byte("<html><body>Service unavailable</body></html>"))

	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		mu.Lock()
		status, reply = 200+int(code)%400, body
		mu.Unlock()
		root := t.TempDir()
		opts := hfhub.Options{CacheDir: filepath.Join(root, "cache"), Endpoint: srv.URL, MinRate: -1}
		var names, paths []string
		var listErr, dlErr error
		fuzzcheck.Bounded(t, len(body)+3000, 64, func() {
			names, listErr = hfhub.ListFiles(repo.Repo, opts)
			paths, dlErr = hfhub.Download(repo.Repo, want, opts)
		})
		for _, err := range []error{listErr, dlErr} {
			if err != nil && len(err.Error()) > 4096 {
				t.Fatalf("an error message of %d bytes: %.300s…", len(err.Error()), err)
			}
		}
		if entries, err := os.ReadDir(root); err != nil || len(entries) > 1 {
			t.Fatalf("files written outside the cache: %v (%v)", entries, err)
		}

		var claim replyOracle
		parsed := json.Unmarshal(body, &claim) == nil
		if listErr == nil {
			if status != http.StatusOK || !parsed {
				t.Fatalf("a reply of status %d (JSON: %v) gave the listing %q", status, parsed, names)
			}
			if len(claim.SHA) != 40 || strings.Trim(claim.SHA, "0123456789abcdef") != "" {
				t.Fatalf("a reply without a commit hash (sha %q) gave the listing %q", claim.SHA, names)
			}
			var claimed []string
			for _, s := range claim.Siblings {
				claimed = append(claimed, s.Name)
			}
			if !slices.Equal(names, claimed) && !(len(names) == 0 && len(claimed) == 0) {
				t.Fatalf("the reply lists %q, ListFiles gave %q", claimed, names)
			}
		}
		if dlErr != nil {
			return
		}
		for i, name := range want {
			if err := claim.consistent(name, repo.Files[name]); err != nil {
				t.Fatalf("downloaded although the reply does not describe the file: %v", err)
			}
			got, err := os.ReadFile(paths[i])
			if err != nil || !bytes.Equal(got, repo.Files[name]) {
				t.Fatalf("%s downloaded as %d bytes unlike the hub's %d (%v)", name, len(got), len(repo.Files[name]), err)
			}
		}
		offline := opts
		offline.Offline = true
		again, err := hfhub.ListFiles(repo.Repo, offline)
		if err != nil || !slices.Equal(again, names) {
			var nc *hfhub.NotCachedError
			t.Fatalf("listing %q found offline as %q (%v; not cached: %v)", names, again, err, errors.As(err, &nc))
		}
	})
}
