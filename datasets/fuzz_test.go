package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/internal/fuzzcheck"
	"github.com/parquet-go/parquet-go"
)

// fixtureLines returns the first n lines of an embedded fixture, each with its newline.
func fixtureLines(data []byte, n int) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for len(out) < n && sc.Scan() {
		out = append(out, append(append([]byte(nil), sc.Bytes()...), '\n'))
	}
	return out
}

// essays returns the texts of datasets/testdata/actadd-essays.
func essays(tb testing.TB) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob("testdata/actadd-essays/*.txt")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no essays in testdata/actadd-essays: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// nonBlankLines counts the lines ReadJSONL and ReadLAMA read: those with more than whitespace.
func nonBlankLines(data []byte) int {
	n := 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

// FuzzReadJSONL reads arbitrary bytes as JSONL documents. The sequence ends with at most one
// error, after which nothing follows; without an error every non-blank line became one
// document; texts are valid UTF-8 without NULs; and the documents written as JSONL read back
// equal. Time and allocation stay within fuzzcheck's bounds.
func FuzzReadJSONL(f *testing.F) {
	for _, line := range fixtureLines(owtFixture, 3) {
		f.Add(line)
	}
	f.Add(bytes.Join(fixtureLines(owtFixture, 2), nil))
	f.Add([]byte("\ufeff{\"text\": \"first\\u0000\\u0000 doc\", \"id\": 1}\n\n  \n{\"text\": \"\"}\n{\"text\": \"last\"}"))
	f.Add([]byte("{\"text\": \"ok\"}\r\nnot json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var texts []string
		var errs []error
		fuzzcheck.Bounded(t, len(data), 64, func() {
			for doc, err := range ReadJSONL(bytes.NewReader(data)) {
				if len(errs) > 0 {
					t.Errorf("a document or error after the error %v", errs[0])
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				texts = append(texts, doc.Text)
			}
		})
		if t.Failed() {
			return
		}
		for i, s := range texts {
			if !utf8.ValidString(s) || strings.Contains(s, "\x00") {
				t.Fatalf("document %d is %q: not clean UTF-8", i, s)
			}
		}
		if len(errs) > 0 {
			return
		}
		if n := nonBlankLines(bytes.TrimPrefix(data, utf8BOM)); n != len(texts) {
			t.Fatalf("%d non-blank lines read as %d documents", n, len(texts))
		}
		var out bytes.Buffer
		for _, s := range texts {
			b, _ := json.Marshal(map[string]string{"text": s})
			out.Write(append(b, '\n'))
		}
		var back []string
		for doc, err := range ReadJSONL(&out) {
			if err != nil {
				t.Fatalf("reading back the documents read: %v", err)
			}
			back = append(back, doc.Text)
		}
		if !reflect.DeepEqual(back, texts) {
			t.Fatalf("documents %q read back as %q", texts, back)
		}
	})
}

// FuzzReadTextDocument reads arbitrary bytes as a plain-text document file (ReadDocuments of a
// .txt file). Text that is not UTF-8, or an archive, is an error; valid UTF-8 gives exactly one
// document, the text without a leading byte-order mark and without NULs, which written to a
// file again reads back equal.
func FuzzReadTextDocument(f *testing.F) {
	for _, e := range essays(f) {
		f.Add(e)
	}
	f.Add([]byte("\ufeffa\x00\x00b"))
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Add([]byte("caf\xe9"))
	dir := f.TempDir()
	path, again := filepath.Join(dir, "doc.txt"), filepath.Join(dir, "again.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var docs []Document
		var err error
		fuzzcheck.Bounded(t, len(data), 16, func() { docs, err = LoadDocuments(path) })
		if !utf8.Valid(data) {
			if err == nil {
				t.Fatalf("text that is not UTF-8 read as %q", docs)
			}
			return
		}
		if err != nil {
			if archiveKind(data) == "" {
				t.Fatalf("valid UTF-8 text refused: %v", err)
			}
			return
		}
		if len(docs) != 1 {
			t.Fatalf("one text file read as %d documents", len(docs))
		}
		text := docs[0].Text
		if want := strings.ReplaceAll(strings.TrimPrefix(string(data), "\ufeff"), "\x00", ""); text != want {
			t.Fatalf("text %q read as %q", want, text)
		}
		if err := os.WriteFile(again, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadDocuments(again)
		// A text that now starts with a byte-order mark (NULs removed before it) or with an
		// archive's magic bytes is another file.
		if strings.HasPrefix(text, "\ufeff") || archiveKind([]byte(text)) != "" {
			return
		}
		if err != nil || len(back) != 1 || back[0].Text != text {
			t.Fatalf("document %q read back as %q (%v)", text, back, err)
		}
	})
}

// FuzzReadLAMA reads arbitrary bytes as LAMA records and turns them into probes. The records
// read write back as JSONL that reads equal; without an error every non-blank line became a
// record; SingleTokenProbes accounts for every record, and each probe it keeps is the authors'
// test: LabelToken's text holds Label.
func FuzzReadLAMA(f *testing.F) {
	for _, line := range fixtureLines(lamaFixture, 4) {
		f.Add(line)
	}
	f.Add(lamaFixture)
	f.Add([]byte(`{"masked_sentences": ["[MASK] first", "John' [MASK]"], "obj_label": "s"}` + "\n\n" + `{"masked_sentences": null}`))
	tok, err := bpe.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []LAMARecord
		var probes []LAMAProbe
		var rep LAMAFilterReport
		var err error
		fuzzcheck.Bounded(t, len(data), 64, func() {
			if recs, err = ReadLAMA(bytes.NewReader(data)); err == nil {
				probes, rep = SingleTokenProbes(recs, tok)
			}
		})
		if err != nil {
			if recs != nil {
				t.Fatalf("error %v with records", err)
			}
			return
		}
		if n := nonBlankLines(bytes.TrimPrefix(data, utf8BOM)); n != len(recs) {
			t.Fatalf("%d non-blank lines read as %d records", n, len(recs))
		}
		var out bytes.Buffer
		for _, r := range recs {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(b, '\n'))
		}
		back, err := ReadLAMA(&out)
		if err != nil || !reflect.DeepEqual(back, recs) {
			t.Fatalf("records %+v read back as %+v (%v)", recs, back, err)
		}

		dropped := 0
		for _, n := range rep.Dropped {
			dropped += n
		}
		if rep.Total != len(recs) || rep.Kept != len(probes) || rep.Kept+dropped != rep.Total {
			t.Fatalf("report %v for %d records and %d probes", rep, len(recs), len(probes))
		}
		for _, p := range probes {
			if p.Label == "" || !strings.Contains(strings.ToValidUTF8(p.LabelText, "\uFFFD"), p.Label) {
				t.Fatalf("probe %+v: label not within the label token", p)
			}
			if text, err := tok.DecodeToken(p.LabelToken); err != nil || text != p.LabelText {
				t.Fatalf("probe %+v: token %d is %q (%v)", p, p.LabelToken, text, err)
			}
		}
	})
}

// FuzzSentences splits arbitrary text into sentences. The sentences are non-empty pieces of
// the text, in order, separated only by whitespace: the text is the sentences and the
// whitespace around them, nothing lost, reordered or invented; text with anything but
// whitespace gives at least one sentence. Time and allocation stay within fuzzcheck's bounds.
func FuzzSentences(f *testing.F) {
	for _, e := range essays(f) {
		f.Add(string(e))
	}
	for _, line := range fixtureLines(owtFixture, 3) {
		var rec struct{ Text string }
		if json.Unmarshal(line, &rec) == nil {
			f.Add(rec.Text)
		}
	}
	f.Add("It ended.[3] Next one... And then . . . more. Very bad acting!!! I promise.")
	f.Add("For MySpace (remember that?), it took months. (Just ask the lander.) \"If you got out,\" he says.")
	f.Add("Muammar al-Gaddafi (c. 1942 – 2011) ruled. J. S. Bach wrote it. The U.S. Army left.")
	f.Fuzz(func(t *testing.T, text string) {
		var sents []string
		var err error
		fuzzcheck.Bounded(t, len(text), 64, func() { sents, err = Sentences(text) })
		if err != nil {
			t.Fatal(err)
		}
		isSpace := func(s string) bool { return strings.TrimFunc(s, isPySpace) == "" }
		rest := text
		for i, s := range sents {
			if s == "" {
				t.Fatalf("sentence %d is empty: %q", i, sents)
			}
			at := strings.Index(rest, s)
			if at < 0 || !isSpace(rest[:at]) {
				t.Fatalf("sentence %d %q does not follow the previous one after whitespace in %q (sentences %q)", i, s, text, sents)
			}
			rest = rest[at+len(s):]
		}
		if !isSpace(rest) {
			t.Fatalf("text %q ends with %q, in no sentence (sentences %q)", text, rest, sents)
		}
		if !isSpace(text) && len(sents) == 0 {
			t.Fatalf("text %q gave no sentence", text)
		}
	})
}

// parquetFile encodes texts as a parquet file shaped like the hub's OpenWebText conversion
// (parquetRow, documents_test.go); a nil text is a null value.
func parquetFile(tb testing.TB, texts ...*string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquetRow](&buf)
	rows := make([]parquetRow, len(texts))
	for i, s := range texts {
		rows[i] = parquetRow{Text: s, Len: int64(i)}
	}
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReadParquet reads arbitrary bytes as a parquet file of documents (seeded with parquet
// files of OpenWebText documents). Every input gives documents or an error, never a panic of
// the parquet library, within fuzzcheck's bounds (a page or column claiming gigabytes must not
// be allocated); the documents hold no NUL, and written to parquet again they read back equal.
func FuzzReadParquet(f *testing.F) {
	var texts []*string
	for _, line := range fixtureLines(owtFixture, 2) {
		var rec struct{ Text string }
		if json.Unmarshal(line, &rec) == nil {
			s := rec.Text[:min(len(rec.Text), 300)]
			texts = append(texts, &s)
		}
	}
	f.Add(parquetFile(f, texts...))
	short, empty := "a short one\x00", ""
	f.Add(parquetFile(f, &short, nil, &empty))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	dir := f.TempDir()
	path, again := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "again.parquet")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var docs []Document
		var err error
		fuzzcheck.Bounded(t, len(data), 256, func() { docs, err = LoadDocuments(path) })
		if err != nil {
			return
		}
		ptrs := make([]*string, len(docs))
		for i := range docs {
			if strings.Contains(docs[i].Text, "\x00") {
				t.Fatalf("document %d holds a NUL", i)
			}
			ptrs[i] = &docs[i].Text
		}
		if err := os.WriteFile(again, parquetFile(t, ptrs...), 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadDocuments(again)
		if err != nil || !reflect.DeepEqual(back, docs) && !(len(back) == 0 && len(docs) == 0) {
			t.Fatalf("%d documents read back as %d (%v)", len(docs), len(back), err)
		}
	})
}
