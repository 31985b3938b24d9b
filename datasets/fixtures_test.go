package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/internal/extdata"
)

var updateFixtures = flag.Bool("update", false, "rewrite the OpenWebText fixture from $ACTADD_TEST_DATA/openwebtext-sample/owt1000.jsonl")

const owtFixturePath = "fixtures/openwebtext/owt300.jsonl"

func TestOpenWebTextFixture(t *testing.T) {
	docs, fx, err := OpenWebTextFixture()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 300 || fx.Items != 300 {
		t.Fatalf("%d documents (fixture says %d), want 300", len(docs), fx.Items)
	}
	// The README states the checksum: keep it and the file in step.
	readme, err := os.ReadFile("fixtures/openwebtext/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(owtFixture); fx.SHA256 != hex.EncodeToString(sum[:]) || !bytes.Contains(readme, []byte(fx.SHA256)) {
		t.Errorf("sha256 %s is not the embedded file's, or not the one fixtures/openwebtext/README.md states", fx.SHA256)
	}
	relevant := 0
	for i, d := range docs {
		if strings.TrimSpace(d.Text) == "" {
			t.Errorf("document %d is empty", i)
		}
		if Relevance(d.Text) > 0 {
			relevant++
		}
	}
	// E1 bins relevance 0.5% wide: the sample must reach beyond the first bin.
	s := SampleByRelevance(docs, 8, 0)
	if relevant != 39 || len(s) != 8 || s[0].Relevance < 0.01 {
		t.Errorf("%d documents with wedding words (want 39); an 8-document E1 sample starts at relevance %.4f", relevant, s[0].Relevance)
	}
	if !strings.Contains(fx.String(), fx.SHA256) || !strings.Contains(fx.String(), "CC0-1.0") {
		t.Errorf("String() = %q: want the checksum and the licence", fx)
	}
}

// selectOpenWebTextFixture is the rule fixtures/openwebtext/README.md describes: every line
// whose document has a wedding word, then the other lines of at most 8 KiB by increasing sha256
// of their text, up to n lines, in the source's order.
func selectOpenWebTextFixture(t *testing.T, source []byte, n int) []byte {
	type line struct {
		index int
		hash  string
	}
	lines := bytes.SplitAfter(source, []byte("\n"))
	var keep []int
	var others []line
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var doc struct{ Text string }
		if err := json.Unmarshal(l, &doc); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if Relevance(doc.Text) > 0 {
			keep = append(keep, i)
		} else if len(bytes.TrimRight(l, "\n")) <= 8<<10 {
			sum := sha256.Sum256([]byte(doc.Text))
			others = append(others, line{i, hex.EncodeToString(sum[:])})
		}
	}
	slices.SortFunc(others, func(a, b line) int { return strings.Compare(a.hash, b.hash) })
	for _, o := range others[:n-len(keep)] {
		keep = append(keep, o.index)
	}
	slices.Sort(keep)
	var out []byte
	for _, i := range keep {
		out = append(out, bytes.TrimRight(lines[i], "\n")...)
		out = append(out, '\n')
	}
	return out
}

// The embedded sample is what the selection rule picks from the 1,000 documents it was taken
// from. With -update, the rule rewrites it.
func TestOpenWebTextFixtureSelection(t *testing.T) {
	source, err := os.ReadFile(extdata.Path(t, "openwebtext-sample", "owt1000.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := selectOpenWebTextFixture(t, source, 300)
	if *updateFixtures {
		if err := os.WriteFile(owtFixturePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes); update the size and sha256 in its README", owtFixturePath, len(want))
		return
	}
	if !bytes.Equal(owtFixture, want) {
		t.Errorf("%s (%d bytes) is not what the selection rule picks (%d bytes); rerun with -update", owtFixturePath, len(owtFixture), len(want))
	}
}

// The hand-written LAMA fixture exercises every drop reason of SingleTokenProbes and the
// cases its rule keeps in the authors' way.
func TestLAMAFixture(t *testing.T) {
	recs, fx, err := LAMAFixture()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 41 || fx.Items != 41 || !strings.Contains(fx.String(), "NOT LAMA") {
		t.Fatalf("%d records, fixture %s", len(recs), fx)
	}
	uuids := map[string]bool{}
	for _, r := range recs {
		if len(r.UUID) != 32 || uuids[r.UUID] || r.Pred == "" || r.Sub == "" || len(r.MaskedSentences) == 0 {
			t.Errorf("record %+v: want a fresh 32-hex uuid, a predicate, a subject and masked sentences", r)
		}
		uuids[r.UUID] = true
	}
	probes, rep := SingleTokenProbes(recs, tokenizer(t))
	want := map[DropReason]int{DropNoMask: 1, DropEmptyLabel: 1, DropMultiToken: 2, DropPromptText: 1}
	if fmt.Sprint(rep.Dropped) != fmt.Sprint(want) || rep.Kept != 36 || len(probes) != 36 {
		t.Errorf("%s; want 36 kept, dropped %v", rep, want)
	}
	byLabel := map[string]LAMAProbe{}
	for _, p := range probes {
		byLabel[p.Label] = p
	}
	for label, want := range map[string]struct{ prompt, labelText string }{
		"instrument": {"Pianos have keys. A piano is an", " instrument"}, // two sentences
		"honey":      {"Bees make", " honey"},                            // the first of two [MASK]s
		"white":      {"Fresh snow is\t", "white"},                       // a tab before [MASK]
		"blue":       {"On a clear day the sky is ", " blue"},            // two spaces
		"yes":        {`Asked whether dogs are loyal, most owners say "`, "yes"},
		"s":          {"This is John", "'s"}, // the label merges with the prompt
		"apple":      {"", "apple"},          // [MASK] first: BOS alone
		"clouds":     {"  ", " clouds"},      // spaces only before [MASK]
	} {
		if p := byLabel[label]; p.Prompt != want.prompt || p.LabelText != want.labelText {
			t.Errorf("probe for %q: prompt %q, label text %q; want %q, %q", label, p.Prompt, p.LabelText, want.prompt, want.labelText)
		}
	}
	t.Log(rep)
}
