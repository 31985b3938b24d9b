package hfhub

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotCached is matched (errors.Is) by the error returned when files are missing from the
// local cache and the hub cannot be used: offline mode, the endpoint is unreachable, or its
// reply was cut short.
var ErrNotCached = errors.New("hfhub: not in the local Hugging Face cache")

// NotCachedError is the error behind ErrNotCached. Callers may errors.As it to add advice.
type NotCachedError struct {
	Repo     Repo     // the repository (normalized)
	Files    []string // the missing files; empty when a file listing was asked for
	RepoDir  string   // the repository's folder in the cache
	CacheDir string   // the hub cache folder
	Offline  bool     // true: offline mode was on; false: the hub was unreachable or its reply cut short (see Err)
	Err      error    // the network error when the hub was unreachable or its reply cut short
}

// Is makes errors.Is(err, ErrNotCached) true.
func (e *NotCachedError) Is(target error) bool { return target == ErrNotCached }

// Unwrap returns the network error, if any.
func (e *NotCachedError) Unwrap() error { return e.Err }

func (e *NotCachedError) Error() string {
	var b strings.Builder
	what := "the file list"
	if len(e.Files) > 0 {
		what = strings.Join(e.Files, ", ")
	}
	fmt.Fprintf(&b, "hfhub: %s: %s not in the local Hugging Face cache (looked in %s)", e.Repo, what, e.RepoDir)
	var cut *cutShortError
	switch {
	case e.Offline:
		b.WriteString(" and offline mode is on (Options.Offline or HF_HUB_OFFLINE)")
	case errors.As(e.Err, &cut):
		fmt.Fprintf(&b, ", and %v: the hub answered but the connection dropped mid-reply; try again", cut)
	default:
		fmt.Fprintf(&b, " and the hub is unreachable (%v)", e.Err)
	}
	cmd := "huggingface-cli download " + e.Repo.ID
	if e.Repo.Type == "dataset" {
		cmd += " --repo-type dataset"
	}
	if e.Repo.Revision != "main" {
		cmd += " --revision " + e.Repo.Revision
	}
	if len(e.Files) > 0 {
		cmd += " " + strings.Join(e.Files, " ")
	}
	lead := ". To get it: run once with network access (HF_HUB_OFFLINE unset, HF_ENDPOINT reachable), or"
	if cut != nil {
		lead = ". If it keeps failing,"
	}
	fmt.Fprintf(&b, "%s on a machine with internet run `%s` and copy its ~/.cache/huggingface/hub/%s folder into %s"+
		" (or point HF_HUB_CACHE at a copied hub cache)", lead, cmd, e.Repo.folder(), e.CacheDir)
	return b.String()
}
