package hfhub

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultEndpoint is the Hugging Face hub used when neither Options.Endpoint nor HF_ENDPOINT
// name another.
const DefaultEndpoint = "https://huggingface.co"

// Repo names a repository on the hub.
type Repo struct {
	// ID is "org/name" (or a legacy single-segment name such as "gpt2").
	ID string
	// Type is "model" (the default when empty) or "dataset".
	Type string
	// Revision is a branch, tag, ref such as "refs/convert/parquet", or a 40-hex commit;
	// "main" when empty.
	Revision string
}

// Options configure where files are cached and how the hub is reached. The zero value works:
// an empty CacheDir or Endpoint means the one DefaultOptions would pick from the environment.
// Offline and Token are used as given (DefaultOptions fills them from the environment).
type Options struct {
	// CacheDir is the Hugging Face hub cache (Python's HF_HUB_CACHE), shared with Python.
	CacheDir string
	// Endpoint is the hub's base URL, e.g. https://huggingface.co or a mirror.
	Endpoint string
	// Offline forbids network access: only cached files are returned.
	Offline bool
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// Progress receives a few progress lines per download; nil means quiet.
	Progress io.Writer
	// MinRate is the slowest average rate, in bytes per second over two minutes, at which a
	// download goes on; a slower one is cancelled with an error, as is one that receives
	// nothing for two minutes. 0 means 8 KiB/s; a negative value turns the rate check off.
	MinRate int64
}

// DefaultOptions reads the environment the way Python's huggingface_hub does:
//
//   - CacheDir: $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (legacy), else $HF_HOME/hub, else
//     $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub;
//   - Endpoint: $HF_ENDPOINT without trailing "/", else https://huggingface.co;
//   - Offline: $HF_HUB_OFFLINE is 1, true, yes or on (any case);
//   - Token: $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN (legacy), else the token file
//     ($HF_TOKEN_PATH, else $HF_HOME/token) that `huggingface-cli login` writes;
//   - Progress: os.Stderr.
func DefaultOptions() Options {
	return Options{
		CacheDir: defaultCacheDir(),
		Endpoint: defaultEndpoint(),
		Offline:  envTrue("HF_HUB_OFFLINE"),
		Token:    defaultToken(),
		Progress: os.Stderr,
	}
}

// hfHome is Python's HF_HOME: $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface.
func hfHome() string {
	if v := os.Getenv("HF_HOME"); v != "" {
		return expandHome(v)
	}
	if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(expandHome(v), "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		// No home directory (some containers): a per-machine temporary cache still works.
		return filepath.Join(os.TempDir(), "huggingface")
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func defaultCacheDir() string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := os.Getenv(k); v != "" {
			return expandHome(v)
		}
	}
	return filepath.Join(hfHome(), "hub")
}

func defaultEndpoint() string {
	if v := strings.TrimRight(strings.TrimSpace(os.Getenv("HF_ENDPOINT")), "/"); v != "" {
		return v
	}
	return DefaultEndpoint
}

func defaultToken() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		p = filepath.Join(hfHome(), "token")
	}
	if b, err := os.ReadFile(expandHome(p)); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// envTrue follows huggingface_hub's _is_true: 1, ON, YES, TRUE in any case.
func envTrue(key string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(key))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// normalized fills the empty fields of o from the environment and makes CacheDir absolute.
func (o Options) normalized() Options {
	if o.CacheDir == "" {
		o.CacheDir = defaultCacheDir()
	}
	if abs, err := filepath.Abs(expandHome(o.CacheDir)); err == nil {
		o.CacheDir = abs
	}
	o.Endpoint = strings.TrimRight(strings.TrimSpace(o.Endpoint), "/")
	if o.Endpoint == "" {
		o.Endpoint = defaultEndpoint()
	}
	return o
}

// DefaultCacheDir is the hub cache folder DefaultOptions picks (Python's HF_HUB_CACHE rules).
func DefaultCacheDir() string { return defaultCacheDir() }
