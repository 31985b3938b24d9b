package datasets

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// Document is one text of a corpus.
type Document struct {
	Text string
}

var nulRuns = regexp.MustCompile("\x00+")

// CleanText removes runs of NUL characters, as the authors did when reading OpenWebText (whose
// original archives separate documents with NULs). Every reader in this package applies it.
func CleanText(s string) string {
	if !strings.Contains(s, "\x00") {
		return s
	}
	return nulRuns.ReplaceAllLiteralString(s, "")
}

// ReadDocuments streams the documents stored at each path, in order, each cleaned with
// CleanText. What a path holds is decided by its name:
//
//   - *.jsonl, *.json: one JSON object per line with a string field "text" (see ReadJSONL);
//   - *.parquet: the string column "text" of a parquet file, e.g. the Hugging Face hub's parquet
//     conversion of OpenWebText (null values become empty documents);
//   - a directory: its *.txt, *.jsonl, *.json and *.parquet files (not subdirectories), sorted
//     by name (DocumentFiles);
//   - any other file: UTF-8 plain text, the whole file being one document (a leading byte-order
//     mark is dropped).
//
// The sequence yields a non-nil error at most once, as its last element. Stop early by breaking
// out of the loop.
func ReadDocuments(paths ...string) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		files, err := DocumentFiles(paths...)
		if err != nil {
			yield(Document{}, err)
			return
		}
		for _, path := range files {
			if !readFile(path, yield) {
				return
			}
		}
	}
}

// LoadDocuments collects ReadDocuments(paths...) into a slice.
func LoadDocuments(paths ...string) ([]Document, error) {
	var docs []Document
	for doc, err := range ReadDocuments(paths...) {
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// DocumentFiles lists the files ReadDocuments reads for paths, in the order it reads them: each
// file as given, and in place of each directory its *.txt, *.jsonl, *.json and *.parquet files
// (not subdirectories), sorted by name. A path that cannot be read is an error that keeps the
// reason (missing, permission denied, a symlink loop).
func DocumentFiles(paths ...string) ([]string, error) {
	var files []string
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("datasets: reading documents: %w", err)
		}
		if !st.IsDir() {
			files = append(files, path)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("datasets: reading documents: %w", err)
		}
		var names []string
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".txt", ".jsonl", ".json", ".parquet":
				if !e.IsDir() {
					names = append(names, e.Name())
				}
			}
		}
		slices.Sort(names)
		for _, name := range names {
			files = append(files, filepath.Join(path, name))
		}
	}
	return files, nil
}

// readFile yields the documents of one file and reports whether to go on.
func readFile(path string, yield func(Document, error) bool) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".json":
		f, err := os.Open(path)
		if err != nil {
			return yield(Document{}, fmt.Errorf("datasets: reading documents: %w", err))
		}
		defer f.Close()
		for doc, err := range ReadJSONL(f) {
			if err != nil {
				return yield(Document{}, fmt.Errorf("datasets: %s: %w", path, err))
			}
			if !yield(doc, nil) {
				return false
			}
		}
		return true
	case ".parquet":
		return readParquet(path, yield)
	default:
		data, err := os.ReadFile(path)
		if err != nil {
			return yield(Document{}, fmt.Errorf("datasets: reading documents: %w", err))
		}
		if kind := archiveKind(data); kind != "" {
			return yield(Document{}, fmt.Errorf("datasets: %s is %s, not a text file: extract it first and pass the .txt, .jsonl or .parquet files it holds", path, kind))
		}
		if !utf8.Valid(data) {
			return yield(Document{}, fmt.Errorf("datasets: %s is not UTF-8 text: convert it to UTF-8 (or pass .jsonl or .parquet files)", path))
		}
		return yield(Document{Text: CleanText(string(bytes.TrimPrefix(data, utf8BOM)))}, nil)
	}
}

// archiveKind names the compressed or archive format data starts with ("" for none): such a
// file read as text would become one document of binary noise. OpenWebText's own release, for
// one, is .xz-compressed tar files of .txt documents.
func archiveKind(data []byte) string {
	for _, m := range []struct{ magic, kind string }{
		{"\x1f\x8b", "gzip-compressed"}, {"\xfd7zXZ\x00", "xz-compressed"}, {"\x28\xb5\x2f\xfd", "zstd-compressed"},
		{"BZh", "bzip2-compressed"}, {"PK\x03\x04", "a zip archive"}, {"7z\xbc\xaf\x27\x1c", "a 7z archive"},
	} {
		if strings.HasPrefix(string(data), m.magic) {
			return m.kind
		}
	}
	if len(data) >= 262 && string(data[257:262]) == "ustar" {
		return "a tar archive"
	}
	return ""
}

// utf8BOM is the byte-order mark some editors put at the start of UTF-8 files.
var utf8BOM = []byte("\ufeff")

// jsonlLines calls fn with each non-blank line of r and its 1-based number, until fn returns
// false. A UTF-8 byte-order mark at the start of r is removed. Every line must be valid UTF-8:
// Go's JSON decoder would silently replace invalid bytes with U+FFFD, so they are refused here,
// as in plain-text files.
func jsonlLines(r io.Reader, fn func(n int, line []byte) bool) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if n == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if at := invalidUTF8At(b); at >= 0 {
				return fmt.Errorf("line %d is not valid UTF-8 (byte %d of the line): convert the file to UTF-8", n, at+1)
			}
			if !fn(n, b) {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// invalidUTF8At returns the offset of the first byte of b that is not valid UTF-8, or -1.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// ReadJSONL streams the documents of r, which holds one JSON object per line with a string
// field "text" (other fields are ignored; blank lines are skipped; a UTF-8 byte-order mark at
// the start is dropped). Lines must be valid UTF-8. Texts are cleaned with CleanText. The
// sequence yields a non-nil error at most once, as its last element.
func ReadJSONL(r io.Reader) iter.Seq2[Document, error] {
	const want = `want one JSON object per line, like {"text": "..."}`
	return func(yield func(Document, error) bool) {
		var bad error
		err := jsonlLines(r, func(n int, b []byte) bool {
			var rec struct {
				Text *string `json:"text"`
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				bad = fmt.Errorf("line %d: %w (%s)", n, err, want)
				return false
			}
			if rec.Text == nil {
				bad = fmt.Errorf("line %d: no string field \"text\" (%s)", n, want)
				return false
			}
			if !yield(Document{Text: CleanText(*rec.Text)}, nil) {
				return false
			}
			return true
		})
		if err = cmp.Or(bad, err); err != nil {
			yield(Document{}, err)
		}
	}
}

// checkParquetFooter checks the footer length that the last 8 bytes of a parquet file claim
// (a little-endian uint32 before the magic "PAR1") against the file's size: parquet-go
// allocates that length before reading it, so a damaged file of a few bytes could make it
// allocate up to 4 GiB.
func checkParquetFooter(f io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for a parquet file (delete it to download it again)", size)
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != magic {
		return errors.New("no parquet footer (\"PAR1\") at the end: the file is incomplete or not parquet; delete it to download it again")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("its footer claims %d bytes but the file has %d: the file is incomplete or damaged; delete it to download it again", n, size)
	}
	return nil
}

// parquetText is the one column read from parquet files.
type parquetText struct {
	Text *string `parquet:"text,optional"`
}

// readParquet yields the "text" column of a parquet file. github.com/parquet-go/parquet-go
// (the reader github.com/gomlx/go-huggingface's datasets package uses) panics on files or
// schemas it cannot handle, so the schema is checked first and any remaining panic is turned
// into an error.
func readParquet(path string, yield func(Document, error) bool) (goOn bool) {
	fail := func(err error) bool {
		return yield(Document{}, fmt.Errorf("datasets: reading parquet file %s: %w", path, err))
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := checkParquetFooter(f, st.Size()); err != nil {
		return fail(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fail(fmt.Errorf("%w (is it a complete parquet file? delete it to download it again)", err))
	}
	col, ok := pf.Schema().Lookup("text")
	if !ok || !col.Node.Leaf() || col.Node.Type().Kind() != parquet.ByteArray {
		return fail(errors.New(`no string column "text"; OpenWebText parquet files have one`))
	}
	inYield := false
	defer func() {
		if p := recover(); p != nil {
			if inYield {
				panic(p) // the caller's panic, not the library's
			}
			goOn = fail(fmt.Errorf("parquet library failed: %v", p))
		}
	}()
	reader := parquet.NewGenericReader[parquetText](pf)
	defer reader.Close()
	batch := make([]parquetText, 64)
	for {
		n, err := reader.Read(batch)
		for _, row := range batch[:n] {
			var doc Document
			if row.Text != nil {
				doc.Text = CleanText(*row.Text)
			}
			inYield = true
			more := yield(doc, nil)
			inYield = false
			if !more {
				return false
			}
		}
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return fail(err)
		}
	}
}
