package hfhub

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A hub that answers the repo info but never sends the file: the watchdog must cancel the
// download and report it, instead of hanging.
func TestStalledDownloadIsCancelled(t *testing.T) {
	defer SetWatchForTest(300*time.Millisecond, time.Minute, time.Minute, 20*time.Millisecond)()

	sha := strings.Repeat("ab", 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			fmt.Fprintf(w, `{"sha": %q, "siblings": [{"rfilename": "big.bin", "size": 10}]}`, sha)
			return
		}
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()
	_, err := Download(Repo{ID: "acme/stuck"}, []string{"big.bin"}, Options{CacheDir: t.TempDir(), Endpoint: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "made no progress") {
		t.Fatalf("stalled download: %v, want a 'made no progress' error", err)
	}
}
