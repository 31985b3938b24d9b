package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/internal/extdata"
	"github.com/parquet-go/parquet-go"
)

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"plain":                     "plain",
		"a\x00b":                    "ab",
		"\x00\x00\x00lead":          "lead",
		"mid\x00\x00\x00dle\x00":    "middle",
		"naïve\x00\x00 café\x00 ok": "naïve café ok",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadJSONL(t *testing.T) {
	in := "{\"text\": \"first\\u0000\\u0000 doc\", \"id\": 1}\n\n  \n{\"text\": \"\"}\n{\"text\": \"last, no newline\"}"
	var got []string
	for doc, err := range ReadJSONL(strings.NewReader(in)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, doc.Text)
	}
	want := []string{"first doc", "", "last, no newline"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ReadJSONL = %q, want %q", got, want)
	}

	// A byte-order mark before the first object is not part of the JSON.
	got = nil
	for doc, err := range ReadJSONL(strings.NewReader("\ufeff{\"text\": \"after a BOM\"}\n{\"text\": \"\ufeffkept inside\"}\n")) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, doc.Text)
	}
	if strings.Join(got, "|") != "after a BOM|\ufeffkept inside" {
		t.Errorf("ReadJSONL with a BOM = %q", got)
	}

	for bad, wantMsg := range map[string]string{
		"{\"text\": \"ok\"}\nnot json\n":                          "line 2",
		"{\"title\": \"no text\"}\n":                              "line 1: no string field",
		"{\"text\": 3}\n":                                         "line 1",
		"{\"text\": \"ok\"}\n\n{\"text\": \"caf\xe9 au lait\"}\n": "line 3 is not valid UTF-8 (byte 14 of the line)",
		"\ufeff\ufeff{\"text\": \"two BOMs\"}\n":                  "line 1: invalid character",
	} {
		var err error
		for _, e := range ReadJSONL(strings.NewReader(bad)) {
			if e != nil {
				err = e
			}
		}
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("ReadJSONL(%q): error %v, want one containing %q", bad, err, wantMsg)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// parquetRow mimics the hub's parquet conversion of OpenWebText (an optional string column
// "text"), plus a column the reader must ignore.
type parquetRow struct {
	Text *string `parquet:"text,optional"`
	Len  int64   `parquet:"len"`
}

func parquetBytes(t *testing.T, texts ...*string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquetRow](&buf)
	rows := make([]parquetRow, len(texts))
	for i, s := range texts {
		rows[i].Text = s
		if s != nil {
			rows[i].Len = int64(len(*s))
		}
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr(s string) *string { return &s }

func TestLoadDocumentsFormats(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.txt"), "second\x00 file\n")
	writeFile(t, filepath.Join(dir, "a.txt"), "first file")
	writeFile(t, filepath.Join(dir, "c.jsonl"), `{"text": "json one"}`+"\n"+`{"text": "json two"}`+"\n")
	writeFile(t, filepath.Join(dir, "ignored.md"), "not a document")
	if err := os.WriteFile(filepath.Join(dir, "d.parquet"), parquetBytes(t, ptr("pq one"), nil, ptr("pq\x00\x00 three")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.txt"), 0o755); err != nil {
		t.Fatal(err)
	}

	docs, err := LoadDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.Text)
	}
	want := []string{"first file", "second file\n", "json one", "json two", "pq one", "", "pq three"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("LoadDocuments(dir) = %q, want %q", got, want)
	}

	// Several paths, a single plain-text file, early stop.
	docs, err = LoadDocuments(filepath.Join(dir, "a.txt"), filepath.Join(dir, "d.parquet"))
	if err != nil || len(docs) != 4 || docs[0].Text != "first file" || docs[3].Text != "pq three" {
		t.Errorf("LoadDocuments(a.txt, d.parquet) = %v, %v", docs, err)
	}
	n := 0
	for _, err := range ReadDocuments(dir) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
}

// A plain-text file that starts with a byte-order mark: the mark is not part of the text.
func TestLoadDocumentsBOM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "essay.txt")
	writeFile(t, path, "\ufeffThe wedding was lovely.")
	docs, err := LoadDocuments(path)
	if err != nil || len(docs) != 1 || docs[0].Text != "The wedding was lovely." {
		t.Errorf("LoadDocuments = %q, %v", docs, err)
	}
}

// Permission denied is reported as such (only testable when not running as root).
func TestLoadDocumentsPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file: permission denied cannot happen")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "locked.jsonl"), "{\"text\": \"x\"}\n")
	os.Chmod(filepath.Join(dir, "locked.jsonl"), 0)
	sub := filepath.Join(dir, "locked")
	os.Mkdir(sub, 0)
	for _, p := range []string{filepath.Join(dir, "locked.jsonl"), sub} {
		if _, err := LoadDocuments(p); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("LoadDocuments(%s): error %v, want permission denied", p, err)
		}
	}
}

func TestLoadDocumentsErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "garbage.parquet"), "PAR1 this is not parquet at all")
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[struct {
		Body string `parquet:"body"`
	}](&buf)
	if _, err := w.Write([]struct {
		Body string `parquet:"body"`
	}{{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notext.parquet"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink loop is reported as such, whether named directly or met in a folder's listing.
	if err := os.Symlink("loop.jsonl", filepath.Join(dir, "loop.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loopdir", filepath.Join(dir, "loopdir")); err != nil {
		t.Fatal(err)
	}
	// Files that are not text, passed by name: OpenWebText's release is .xz tar files.
	var gz, tarball bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a wedding document"))
	zw.Close()
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "urlsf_subset00-1_data/0001.txt", Mode: 0o644, Size: 18})
	tw.Write([]byte("a wedding document"))
	tw.Close()
	for name, data := range map[string][]byte{
		"docs.txt.gz": gz.Bytes(), "shard.tar": tarball.Bytes(), "shard.xz": []byte("\xfd7zXZ\x00\x00\x04junk"),
		"latin1.txt": []byte("caf\xe9 wedding"), "latin1.jsonl": []byte("{\"text\": \"caf\xe9 wedding\"}\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, wantMsg := range map[string]string{
		"garbage.parquet": "parquet",
		"notext.parquet":  `no string column "text"`,
		"missing.jsonl":   "no such file",
		"docs.txt.gz":     "gzip-compressed, not a text file: extract it first",
		"shard.tar":       "a tar archive",
		"shard.xz":        "xz-compressed",
		"latin1.txt":      "not UTF-8 text",
		"latin1.jsonl":    "line 1 is not valid UTF-8",
		"loop.jsonl":      "too many levels of symbolic links",
		"loopdir":         "too many levels of symbolic links",
	} {
		_, err := LoadDocuments(filepath.Join(dir, name))
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("LoadDocuments(%s): error %v, want one containing %q", name, err, wantMsg)
		}
	}
}

func TestLoadOpenWebTextSample(t *testing.T) {
	docs, err := LoadDocuments(extdata.Path(t, "openwebtext-sample", "owt1000.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1000 {
		t.Fatalf("got %d documents, want 1000", len(docs))
	}
	words := 0
	for i, d := range docs {
		if d.Text == "" || strings.Contains(d.Text, "\x00") {
			t.Errorf("document %d is empty or holds NUL", i)
		}
		words += len(strings.Fields(d.Text))
	}
	// The data README says ~771k words.
	if words < 700_000 || words > 850_000 {
		t.Errorf("%d words in total, want about 771k", words)
	}
}
