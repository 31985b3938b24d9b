// Package hubtest serves a fake Hugging Face hub on loopback (httptest) for tests: the repo-info
// API and the resolve endpoints that Python's huggingface_hub, go-huggingface and hfhub use.
//
// Routes, for models and datasets ("/datasets" prefix on resolve, "/api/datasets" on info):
//
//	GET       /api/models/<id>/revision/<rev>[?blobs=true]  → {"sha", "siblings":[{rfilename,size,blobId,lfs}]}
//	HEAD|GET  /<id>/resolve/<rev-or-sha>/<file>             → the bytes, with ETag, X-Repo-Commit
//	                                                          (+ X-Linked-Etag, X-Linked-Size for LFS)
//
// A revision containing "/" (such as refs/convert/parquet) must be URL-escaped as one path
// segment, as on the real hub. Files ending in .safetensors, .bin, .parquet, .pt, .h5, .onnx,
// .msgpack or .arrow are served as LFS files (ETag = sha256); others as git blobs (ETag = git
// blob sha1). The server counts requests, so tests can assert that no network was used, and
// can cut transfers (or repo-info replies) mid-stream or slow them to a crawl.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actadd-go/actadd/hfhub"
)

// Repo is a repository served by the fake hub: its id, type and revision (defaults "model" and
// "main"), and its files by "/"-separated name. The same ID may be listed several times with
// different revisions; each becomes its own commit.
type Repo struct {
	hfhub.Repo
	Files map[string][]byte
}

// Request is one request the server received.
type Request struct {
	Method, Path, Authorization string
}

// Server is a running fake hub. Its URL is the endpoint to give hfhub (Options.Endpoint).
type Server struct {
	URL string

	srv       *httptest.Server
	closeOnce sync.Once

	mu         sync.Mutex
	requests   []Request
	cut        bool
	cutInfo    bool
	slow       time.Duration
	fileStatus int
	byRev      map[string]*commit // key: type + " " + id + "@" + revision or commit sha
}

type commit struct {
	repo  Repo
	sha   string
	files map[string]fileEntry
}

type fileEntry struct {
	data   []byte
	lfs    bool
	sha256 string
	blobID string // git blob sha1
}

// NewServer starts a fake hub serving repos; it is closed when the test ends.
func NewServer(t testing.TB, repos ...Repo) *Server {
	t.Helper()
	s := &Server{byRev: map[string]*commit{}}
	for _, r := range repos {
		if r.Type == "" {
			r.Type = "model"
		}
		if r.Revision == "" {
			r.Revision = "main"
		}
		c := &commit{repo: r, files: map[string]fileEntry{}}
		h := sha1.New()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", r.Type, r.ID, r.Revision)
		for _, name := range sortedNames(r.Files) {
			data := r.Files[name]
			fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
			h.Write(data)
			sum := sha256.Sum256(data)
			c.files[name] = fileEntry{data: data, lfs: IsLFS(name), sha256: hex.EncodeToString(sum[:]), blobID: GitBlobID(data)}
		}
		c.sha = hex.EncodeToString(h.Sum(nil))
		s.byRev[key(r.Type, r.ID, r.Revision)] = c
		s.byRev[key(r.Type, r.ID, c.sha)] = c
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; later requests fail as with an unreachable hub. Closing twice is fine.
func (s *Server) Close() { s.closeOnce.Do(s.srv.Close) }

// RequestCount is the number of requests received so far.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// SetCutTransfers switches transfer cutting: while on, every GET of file contents announces
// the full Content-Length, sends half of the bytes, and drops the connection.
func (s *Server) SetCutTransfers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = on
}

// SetCutInfo switches repo-info cutting: while on, every repo-info reply announces its full
// Content-Length, sends half of its bytes, and drops the connection.
func (s *Server) SetCutInfo(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutInfo = on
}

// SetSlowTransfers makes every GET of file contents send one byte per interval (0 turns it
// off), as a hub behind a failing link does: the transfer never stalls, yet would take
// forever to finish.
func (s *Server) SetSlowTransfers(interval time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = interval
}

// SetFileStatus makes every request for file contents (not the repo info) answer with the HTTP
// status code, as a gated repo (403), a rate limit (429) or an outage (503) does; 0 turns it off.
func (s *Server) SetFileStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fileStatus = code
}

// Commit returns the commit hash the server gives repo (Type and Revision default to "model"
// and "main"), or "" if it does not serve it.
func (s *Server) Commit(r hfhub.Repo) string {
	if r.Type == "" {
		r.Type = "model"
	}
	if r.Revision == "" {
		r.Revision = "main"
	}
	if c := s.byRev[key(r.Type, r.ID, r.Revision)]; c != nil {
		return c.sha
	}
	return ""
}

// IsLFS reports whether the server treats a file name as an LFS file.
func IsLFS(name string) bool {
	switch path.Ext(name) {
	case ".safetensors", ".bin", ".parquet", ".pt", ".h5", ".onnx", ".msgpack", ".arrow":
		return true
	}
	return false
}

// GitBlobID is git's object id of a blob with these contents (what the hub lists as blobId and
// serves as ETag for non-LFS files).
func GitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func key(typ, id, rev string) string { return typ + " " + id + "@" + rev }

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Server) lookup(typ, id, rev string) *commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byRev[key(typ, id, rev)]
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Error-Message", msg)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: p, Authorization: r.Header.Get("Authorization")})
	cut, cutInfo, slow, status := s.cut, s.cutInfo, s.slow, s.fileStatus
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		jsonError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch {
	case strings.HasPrefix(p, "/api/models/"):
		s.serveInfo(w, "model", strings.TrimPrefix(p, "/api/models/"), cutInfo)
	case strings.HasPrefix(p, "/api/datasets/"):
		s.serveInfo(w, "dataset", strings.TrimPrefix(p, "/api/datasets/"), cutInfo)
	case strings.HasPrefix(p, "/datasets/") && status == 0:
		s.serveFile(w, r, "dataset", strings.TrimPrefix(p, "/datasets/"), cut, slow)
	case status != 0:
		jsonError(w, status, fmt.Sprintf("fake hub answers %d for files", status))
	default:
		s.serveFile(w, r, "model", strings.TrimPrefix(p, "/"), cut, slow)
	}
}

// serveInfo answers <id>/revision/<escaped rev>.
func (s *Server) serveInfo(w http.ResponseWriter, typ, rest string, cut bool) {
	id, escRev, ok := strings.Cut(rest, "/revision/")
	rev, err := url.PathUnescape(escRev)
	if !ok || err != nil || strings.Contains(escRev, "/") {
		jsonError(w, http.StatusNotFound, fmt.Sprintf("Invalid rev id: %s", escRev))
		return
	}
	if !s.hasRepo(typ, id) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		jsonError(w, http.StatusNotFound, "Repository not found")
		return
	}
	c := s.lookup(typ, id, rev)
	if c == nil {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		jsonError(w, http.StatusNotFound, fmt.Sprintf("Invalid rev id: %s", rev))
		return
	}
	type lfs struct {
		SHA256      string `json:"sha256"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type sib struct {
		Name   string `json:"rfilename"`
		Size   int    `json:"size"`
		BlobID string `json:"blobId"`
		LFS    *lfs   `json:"lfs,omitempty"`
	}
	info := struct {
		ID           string    `json:"id"`
		ModelID      string    `json:"modelId,omitempty"`
		SHA          string    `json:"sha"`
		LastModified time.Time `json:"lastModified"`
		Private      bool      `json:"private"`
		Siblings     []sib     `json:"siblings"`
	}{ID: id, SHA: c.sha, Siblings: []sib{}}
	if typ == "model" {
		info.ModelID = id
	}
	for _, name := range sortedNames(c.repo.Files) {
		f := c.files[name]
		e := sib{Name: name, Size: len(f.data), BlobID: f.blobID}
		if f.lfs {
			pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", f.sha256, len(f.data))
			e.BlobID = GitBlobID([]byte(pointer))
			e.LFS = &lfs{SHA256: f.sha256, Size: len(f.data), PointerSize: len(pointer)}
		}
		info.Siblings = append(info.Siblings, e)
	}
	body, err := json.Marshal(info)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if cut {
		cutReply(w, body)
	}
	_, _ = w.Write(body)
}

// cutReply announces body's full Content-Length, sends its first half and drops the connection.
func cutReply(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler) // drops the connection without logging
}

func (s *Server) hasRepo(typ, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byRev {
		if c.repo.Type == typ && c.repo.ID == id {
			return true
		}
	}
	return false
}

// serveFile answers <id>/resolve/<escaped rev or sha>/<file>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, typ, rest string, cut bool, slow time.Duration) {
	id, after, ok := strings.Cut(rest, "/resolve/")
	escRev, escFile, ok2 := strings.Cut(after, "/")
	rev, err1 := url.PathUnescape(escRev)
	file, err2 := url.PathUnescape(escFile)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		jsonError(w, http.StatusNotFound, "Not found")
		return
	}
	c := s.lookup(typ, id, rev)
	if c == nil {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		jsonError(w, http.StatusNotFound, fmt.Sprintf("Invalid rev id: %s", rev))
		return
	}
	f, ok := c.files[file]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		jsonError(w, http.StatusNotFound, "Entry not found")
		return
	}
	h := w.Header()
	h.Set("X-Repo-Commit", c.sha)
	h.Set("Content-Type", "application/octet-stream")
	if f.lfs {
		h.Set("ETag", `"`+f.sha256+`"`)
		h.Set("X-Linked-Etag", `"`+f.sha256+`"`)
		h.Set("X-Linked-Size", fmt.Sprint(len(f.data)))
	} else {
		h.Set("ETag", `"`+f.blobID+`"`)
	}
	if cut && r.Method == http.MethodGet && r.Header.Get("Range") == "" && len(f.data) > 1 {
		cutReply(w, f.data)
	}
	if slow > 0 && r.Method == http.MethodGet && r.Header.Get("Range") == "" {
		h.Set("Content-Length", fmt.Sprint(len(f.data)))
		w.WriteHeader(http.StatusOK)
		fl, _ := w.(http.Flusher)
		for i := range f.data {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(slow):
			}
			if _, err := w.Write(f.data[i : i+1]); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		return
	}
	http.ServeContent(w, r, path.Base(file), time.Time{}, bytes.NewReader(f.data))
}
