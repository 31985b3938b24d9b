package datasets

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/internal/extdata"
)

func tokenizer(t *testing.T) *bpe.Tokenizer {
	t.Helper()
	tok, err := bpe.New()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLAMAHead(t *testing.T) {
	recs, err := LoadLAMA(extdata.Path(t, "lama-conceptnet", "test.head5.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	r := recs[0]
	if r.Sub != "alive" || r.Obj != "think" || r.Pred != "HasSubevent" || r.ObjLabel != "think" ||
		r.UUID != "d4f11631dde8a43beda613ec845ff7d1" || len(r.MaskedSentences) != 1 {
		t.Errorf("record 0 = %+v", r)
	}
	if p, ok := r.Prompt(); !ok || p != "One of the things you do when you are alive is" {
		t.Errorf("Prompt() = %q, %v", p, ok)
	}

	tok := tokenizer(t)
	probes, rep := SingleTokenProbes(recs, tok)
	if rep.Total != 5 || rep.Kept != len(probes) {
		t.Errorf("report %+v for %d probes", rep, len(probes))
	}
	dropped := 0
	for reason, n := range rep.Dropped {
		dropped += n
		if reason != DropMultiToken {
			t.Errorf("unexpected drop reason %q", reason)
		}
	}
	if rep.Kept+dropped != 5 {
		t.Errorf("kept %d + dropped %d != 5", rep.Kept, dropped)
	}
	for _, p := range probes {
		if ids := tok.Encode(" " + p.Label); len(ids) != 1 || ids[0] != p.LabelToken || p.LabelText != " "+p.Label {
			t.Errorf("probe %s: label %q token %d, Encode gives %v", p.UUID, p.Label, p.LabelToken, ids)
		}
		if strings.HasSuffix(p.Prompt, " ") || strings.Contains(p.Prompt, Mask) {
			t.Errorf("probe %s: prompt %q", p.UUID, p.Prompt)
		}
	}
	if len(probes) == 0 || probes[0].UUID != r.UUID || probes[0].LabelToken != tok.Encode(" think")[0] {
		t.Errorf("first probe = %+v", probes)
	}
	t.Log(rep)
}

func TestSingleTokenProbesReasons(t *testing.T) {
	rec := func(label string, sentences ...string) LAMARecord {
		return LAMARecord{ObjLabel: label, MaskedSentences: sentences, UUID: label}
	}
	recs := []LAMARecord{
		rec("cat", "A pet is a [MASK] ."),                        // kept: prompt "A pet is a", label " cat"
		rec("dog", "First sentence.", "Second is a [MASK]."),     // kept: sentences joined with " "
		rec("cat", "No mask here."),                              // no [MASK]
		rec("cat", "[MASK] is a pet."),                           // kept: BOS alone, label "cat"
		rec("cat", "   [MASK] is a pet."),                        // kept: prompt "  " (its own token), label " cat"
		rec("", "A pet is a [MASK]."),                            // empty label
		rec("antidisestablishmentarianism", "It causes [MASK]."), // the last token is "ism"
		rec("cat", `He said "[MASK]" twice [MASK].`),             // kept: no space before, label "cat"
		rec("s", "It is John'[MASK] ."),                          // kept: "'s" merges with the prompt
		rec("cat", "A pet is a  [MASK]."),                        // kept: the extra space stays in the prompt
		rec("9", "Line one.\n\n[MASK] is a digit."),              // "\n" "\n" before "9": the text "\n\n" is one token
	}
	tok := tokenizer(t)
	probes, rep := SingleTokenProbes(recs, tok)
	want := map[DropReason]int{DropNoMask: 1, DropEmptyLabel: 1, DropMultiToken: 1, DropPromptText: 1}
	if fmt.Sprint(rep.Dropped) != fmt.Sprint(want) || rep.Total != 11 || rep.Kept != 7 {
		t.Errorf("report = %+v, want dropped %v, 7 of 11 kept", rep, want)
	}
	wantProbes := []struct{ prompt, labelText string }{
		{"A pet is a", " cat"}, {"First sentence. Second is a", " dog"}, {"", "cat"}, {"  ", " cat"},
		{`He said "`, "cat"}, {"It is John", "'s"}, {"A pet is a ", " cat"},
	}
	if len(probes) != len(wantProbes) {
		t.Fatalf("got %d probes %+v, want %d", len(probes), probes, len(wantProbes))
	}
	for i, w := range wantProbes {
		p := probes[i]
		// The authors' tokenization: BOS + prompt + label, the last token being the target.
		ids := tok.EncodeWithBOS(p.Prompt)
		all := tok.EncodeWithBOS(p.Prompt + p.LabelText)
		if p.Prompt != w.prompt || p.LabelText != w.labelText || !slices.Equal(all, append(ids, p.LabelToken)) {
			t.Errorf("probe %d = %+v, want prompt %q, label text %q, and prompt+label = prompt's tokens + label token", i, p, w.prompt, w.labelText)
		}
	}
	if s := rep.String(); !strings.Contains(s, "kept 7 of 11") || !strings.Contains(s, "1 dropped: "+string(DropPromptText)) {
		t.Errorf("String() = %q", s)
	}
}

// LAMA files with a byte-order mark are read; invalid UTF-8 and broken lines are refused with
// the line number.
func TestReadLAMAInput(t *testing.T) {
	rec := `{"sub": "owl", "obj": "bird", "pred": "IsA", "masked_sentences": ["An owl is a [MASK]."], "obj_label": "bird", "uuid": "u1"}`
	recs, err := ReadLAMA(strings.NewReader("\ufeff" + rec + "\n\n" + rec + "\n"))
	if err != nil || len(recs) != 2 || recs[0].Sub != "owl" || recs[1].UUID != "u1" {
		t.Errorf("ReadLAMA with a BOM = %+v, %v", recs, err)
	}
	for in, want := range map[string]string{
		rec + "\n" + strings.Replace(rec, "owl", "\xffowl", 1) + "\n": "line 2 is not valid UTF-8 (byte 10 of the line)",
		rec + "\n{\"sub\": \n":               "LAMA line 2: unexpected end of JSON",
		`{"masked_sentences": "not a list"}`: "LAMA line 1: json: cannot unmarshal",
	} {
		if _, err := ReadLAMA(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadLAMA(%.40q…): error %v, want one containing %q", in, err, want)
		}
	}
	loop := filepath.Join(t.TempDir(), "test.jsonl")
	os.Symlink("test.jsonl", loop)
	if _, err := LoadLAMA(loop); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("LoadLAMA of a symlink loop: %v", err)
	}
}

// lamaZip builds an archive shaped like LAMA's data.zip with lines ConceptNet lines.
func lamaZip(t *testing.T, lines int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("data/Google_RE/date_of_birth_test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, `{"other": "subset"}`)
	if w, err = zw.Create(LAMAConceptNetEntry); err != nil {
		t.Fatal(err)
	}
	for i := range lines {
		fmt.Fprintf(w, `{"sub": "s%d", "obj": "cat", "pred": "IsA", "masked_sentences": ["A s%d is a [MASK] ."], "obj_label": "cat", "uuid": "u%d"}`+"\n", i, i, i)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDownloadLAMAConceptNet(t *testing.T) {
	good := lamaZip(t, LAMAConceptNetLines)
	var body atomic.Pointer[[]byte]
	body.Store(&good)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/LAMA/data.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(*body.Load())
	}))
	defer srv.Close()
	dir := t.TempDir()
	opts := LAMAOptions{URL: srv.URL + "/LAMA/data.zip", CacheDir: dir}

	path, err := DownloadLAMAConceptNet(opts)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "ConceptNet", "test.jsonl") {
		t.Errorf("path = %s", path)
	}
	recs, err := LoadLAMA(path)
	if err != nil || len(recs) != LAMAConceptNetLines || recs[7].UUID != "u7" {
		t.Fatalf("LoadLAMA: %d records, %v", len(recs), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.zip")); err != nil {
		t.Errorf("archive not kept: %v", err)
	}

	// Cached: no request. Extracted file lost: re-extracted from the archive, no request.
	n := hits.Load()
	if _, err := DownloadLAMAConceptNet(opts); err != nil || hits.Load() != n {
		t.Errorf("second call: %v, %d requests", err, hits.Load()-n)
	}
	os.Remove(path)
	if _, err := DownloadLAMAConceptNet(opts); err != nil || hits.Load() != n {
		t.Errorf("re-extraction: %v, %d requests", err, hits.Load()-n)
	}

	// Bad downloads are refused and leave nothing behind.
	for name, data := range map[string][]byte{
		"not a zip":  []byte("<html>error page</html>"),
		"short file": lamaZip(t, 100),
		"truncated":  good[:len(good)/2],
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			body.Store(&data)
			_, err := DownloadLAMAConceptNet(LAMAOptions{URL: opts.URL, CacheDir: d})
			if err == nil {
				t.Fatal("no error")
			}
			entries, _ := os.ReadDir(d)
			if len(entries) != 0 {
				t.Errorf("left %v in the cache folder", entries)
			}
		})
	}
	// A server that never answers: the timeout ends the wait.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	_, err = DownloadLAMAConceptNet(LAMAOptions{URL: hang.URL, CacheDir: t.TempDir(), Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "by hand") {
		t.Errorf("hanging server: error %v", err)
	}

	_, err = DownloadLAMAConceptNet(LAMAOptions{URL: srv.URL + "/missing.zip", CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: error %v", err)
	}

	// Offline: the cached file without a request; nothing cached is an error, not a download.
	n = hits.Load()
	if p, err := DownloadLAMAConceptNet(LAMAOptions{URL: opts.URL, CacheDir: dir, Offline: true}); err != nil || p != path || hits.Load() != n {
		t.Errorf("offline with the file cached: %q, %v, %d requests", p, err, hits.Load()-n)
	}
	if _, err := DownloadLAMAConceptNet(LAMAOptions{URL: opts.URL, CacheDir: t.TempDir(), Offline: true}); err == nil || !strings.Contains(err.Error(), "offline") || hits.Load() != n {
		t.Errorf("offline with nothing cached: %v, %d requests", err, hits.Load()-n)
	}
}

// A server that sends the archive a few bytes at a time never goes silent, but the download
// would never end: the minimum-rate watchdog cancels it and nothing is left behind.
func TestDownloadLAMAConceptNetTooSlow(t *testing.T) {
	defer func(saved watchSettings) { lamaWatch = saved }(lamaWatch)
	lamaWatch.Window, lamaWatch.Tick = 300*time.Millisecond, 10*time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			w.Write([]byte("PK"))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, err := DownloadLAMAConceptNet(LAMAOptions{URL: srv.URL, CacheDir: dir, MinRate: 10_000})
	if err == nil || !strings.Contains(err.Error(), "too slow to finish") || !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("crawling server: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v in the cache folder", entries)
	}
	t.Log(err)
}
