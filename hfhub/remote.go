package hfhub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// apiClient fetches repo info. It is bounded so an absent network fails fast: dialing gives up
// after 10 s, and the whole request after a minute.
var apiClient = &http.Client{
	Timeout: time.Minute,
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       30 * time.Second,
	},
}

// repoInfo is the part of /api/<type>s/<id>/revision/<rev>?blobs=true that we use.
type repoInfo struct {
	SHA      string    `json:"sha"`
	Siblings []sibling `json:"siblings"`
}

type sibling struct {
	Name   string `json:"rfilename"`
	Size   int64  `json:"size"`
	BlobID string `json:"blobId"`
	LFS    *struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"lfs"`
}

func (s sibling) size() int64 {
	if s.LFS != nil && s.LFS.Size > 0 {
		return s.LFS.Size
	}
	return s.Size
}

func (ri *repoInfo) find(name string) (sibling, bool) {
	for _, s := range ri.Siblings {
		if s.Name == name {
			return s, true
		}
	}
	return sibling{}, false
}

func (ri *repoInfo) names() []string {
	n := make([]string, len(ri.Siblings))
	for i, s := range ri.Siblings {
		n[i] = s.Name
	}
	return n
}

// unreachableError marks failures to talk to the hub at all (network errors, 5xx, 429): with
// files missing they become a NotCachedError.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// infoURL builds the repo-info URL. go-huggingface puts the revision into the path unescaped,
// which breaks revisions such as "refs/convert/parquet" (the hub wants refs%2Fconvert%2Fparquet);
// that is why hfhub fetches the info itself and hands go-huggingface only commit hashes.
func infoURL(endpoint string, repo Repo) string {
	return fmt.Sprintf("%s/api/%s/%s/revision/%s?blobs=true", endpoint, repo.plural(), repo.ID, url.PathEscape(repo.Revision))
}

// fetchInfo asks the hub for repo's file list and commit, and stores the answer in the cache
// (repoDir/info/<commit>, where go-huggingface keeps it too) for offline listings.
func fetchInfo(repo Repo, opts Options) (*repoInfo, error) {
	u := infoURL(opts.Endpoint, repo)
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hfhub: %s: bad endpoint %q: %w (set HF_ENDPOINT or Options.Endpoint to a URL such as %s)", repo, opts.Endpoint, err, DefaultEndpoint)
	}
	if opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+opts.Token)
	}
	req.Header.Set("User-Agent", "actadd-hfhub/1 (go)")
	resp, err := apiClient.Do(req)
	if err != nil {
		return nil, &unreachableError{err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &unreachableError{&cutShortError{url: u, got: int64(len(body)), want: resp.ContentLength, err: err}}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case transientStatus(resp.StatusCode):
		return nil, &unreachableError{fmt.Errorf("%s answered %s%s", u, resp.Status, hubMessage(body))}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("hfhub: %s: the hub at %s answered %s%s: check the repo id, its type (model or dataset) and the revision;"+
			" if the repo is private or gated, set HF_TOKEN to a token that can read it", repo, opts.Endpoint, resp.Status, hubMessage(body))
	default:
		return nil, fmt.Errorf("hfhub: %s: the hub at %s answered %s%s", repo, opts.Endpoint, resp.Status, hubMessage(body))
	}
	info := &repoInfo{}
	if err := json.Unmarshal(body, info); err != nil {
		return nil, fmt.Errorf("hfhub: %s: cannot parse the repo info from %s: %w (is the endpoint a Hugging Face hub?)", repo, u, err)
	}
	if !isCommit(info.SHA) {
		return nil, fmt.Errorf("hfhub: %s: repo info from %s has no commit hash (sha=%q): is the endpoint a Hugging Face hub?", repo, u, info.SHA)
	}
	// Best effort: a cache we cannot write is reported by the download itself.
	_ = writeFileAtomic(filepath.Join(RepoDir(opts.CacheDir, repo), "info", info.SHA), body)
	return info, nil
}

// cachedInfo reads the repo info stored for commit, if any.
func cachedInfo(repoDir, commit string) (*repoInfo, bool) {
	b, err := os.ReadFile(filepath.Join(repoDir, "info", commit))
	if err != nil {
		return nil, false
	}
	info := &repoInfo{}
	if json.Unmarshal(b, info) != nil || info.SHA != commit {
		return nil, false
	}
	return info, true
}

// hubMessage extracts the hub's {"error": "..."} message from a response body.
func hubMessage(body []byte) string {
	var m struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil && m.Error != "" {
		// The hub's own messages are a line; a mirror or proxy may send pages of text.
		if len(m.Error) > 300 {
			m.Error = strings.ToValidUTF8(m.Error[:300], "") + "…"
		}
		return ": " + m.Error
	}
	if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 && !strings.ContainsAny(s, "<>") {
		return ": " + s
	}
	return ""
}

// transientStatus reports an HTTP status that means the hub cannot serve now (rate limit or
// server error): such failures count as an unreachable hub.
func transientStatus(code int) bool { return code == http.StatusTooManyRequests || code >= 500 }

// cutShortError is a reply of the hub that ended early: the hub answered, then the
// connection dropped (or timed out) mid-reply. It counts as an unreachable hub for the
// fallbacks (a cached listing), but is reported as what it is.
type cutShortError struct {
	url       string
	got, want int64 // want < 0: the hub did not announce the length
	err       error
}

func (e *cutShortError) Error() string {
	of := ""
	if e.want >= 0 {
		of = fmt.Sprintf(" of %d", e.want)
	}
	return fmt.Sprintf("the hub's reply to %s was cut short after %d%s bytes (%v)", e.url, e.got, of, e.err)
}

func (e *cutShortError) Unwrap() error { return e.err }

func isUnreachable(err error) bool {
	var u *unreachableError
	return errors.As(err, &u)
}
