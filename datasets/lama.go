package datasets

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/bpe"
)

// LAMARecord is one line of LAMA's data/ConceptNet/test.jsonl.
type LAMARecord struct {
	Sub             string   `json:"sub"`
	Obj             string   `json:"obj"`
	Pred            string   `json:"pred"`
	MaskedSentences []string `json:"masked_sentences"`
	ObjLabel        string   `json:"obj_label"`
	UUID            string   `json:"uuid"`
}

// Mask is the placeholder LAMA puts where the object goes.
const Mask = "[MASK]"

// Prompt returns the text the model continues: the masked sentences joined with " " and cut
// before the first "[MASK]", as the authors built it, with trailing spaces and tabs removed
// (the label then carries the space: see SingleTokenProbes). It reports false when there is no
// "[MASK]".
func (r LAMARecord) Prompt() (string, bool) {
	prompt, _, found := strings.Cut(strings.Join(r.MaskedSentences, " "), Mask)
	if !found {
		return "", false
	}
	return strings.TrimRight(prompt, " \t"), true
}

// ReadLAMA reads LAMA records, one JSON object per line (blank lines are skipped; a UTF-8
// byte-order mark at the start is dropped; lines must be valid UTF-8).
func ReadLAMA(r io.Reader) ([]LAMARecord, error) {
	var recs []LAMARecord
	var bad error
	err := jsonlLines(r, func(n int, b []byte) bool {
		var rec LAMARecord
		if err := json.Unmarshal(b, &rec); err != nil {
			bad = fmt.Errorf("line %d: %w (want LAMA's JSONL: one object per line with sub, obj, pred, masked_sentences, obj_label, uuid)", n, err)
			return false
		}
		recs = append(recs, rec)
		return true
	})
	if err = cmp.Or(bad, err); err != nil {
		return nil, fmt.Errorf("datasets: LAMA %w", err)
	}
	return recs, nil
}

// LoadLAMA reads a LAMA JSONL file such as data/ConceptNet/test.jsonl (see
// DownloadLAMAConceptNet).
func LoadLAMA(path string) ([]LAMARecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w (get LAMA's ConceptNet test.jsonl with DownloadLAMAConceptNet)", err)
	}
	defer f.Close()
	recs, err := ReadLAMA(f)
	if err != nil {
		return nil, fmt.Errorf("%w, in %s", err, path)
	}
	return recs, nil
}

// LAMAProbe is a LAMA fact ready for experiment E3: the model reads Prompt (with BOS) and the
// expected next token is LabelToken.
type LAMAProbe struct {
	UUID   string
	Pred   string
	Prompt string
	// Label is the record's obj_label; LabelText is the text whose single token is
	// LabelToken (normally " " + Label).
	Label, LabelText string
	LabelToken       int
}

// DropReason says why SingleTokenProbes left a record out.
type DropReason string

// The reasons SingleTokenProbes drops records.
const (
	DropNoMask      DropReason = "no [MASK] in masked_sentences"
	DropEmptyPrompt DropReason = "empty prompt before [MASK]"
	DropEmptyLabel  DropReason = "empty obj_label"
	DropMultiToken  DropReason = "label is not a single GPT-2 token"
	DropMerges      DropReason = "label merges with the end of the prompt"
)

// LAMAFilterReport counts what SingleTokenProbes kept and dropped.
type LAMAFilterReport struct {
	Total, Kept int
	Dropped     map[DropReason]int
}

// String summarises the report on one line, reasons sorted by name.
func (r LAMAFilterReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kept %d of %d LAMA records", r.Kept, r.Total)
	for _, k := range slices.Sorted(maps.Keys(r.Dropped)) {
		fmt.Fprintf(&b, "; %d dropped: %s", r.Dropped[k], k)
	}
	return b.String()
}

// SingleTokenProbes turns records into probes, keeping only those whose label is one GPT-2
// token, and reports how many were dropped and why.
//
// Tokenization. The authors tokenized prompt+label, with the prompt ending in the space before
// "[MASK]", and took the last token as the label when its text contained the label. Here the
// prompt has its trailing space trimmed (Prompt) and the label is tokenized as LabelText =
// " " + obj_label, one token; so tok.EncodeWithBOS(p.Prompt) followed by p.LabelToken is
// exactly tok.EncodeWithBOS(p.Prompt + p.LabelText), which is checked (DropMerges otherwise).
// When "[MASK]" follows a non-space character (e.g. a quote), LabelText is obj_label with no
// space, as the concatenation would give.
func SingleTokenProbes(recs []LAMARecord, tok *bpe.Tokenizer) ([]LAMAProbe, LAMAFilterReport) {
	rep := LAMAFilterReport{Total: len(recs), Dropped: map[DropReason]int{}}
	var probes []LAMAProbe
	for _, r := range recs {
		joined := strings.Join(r.MaskedSentences, " ")
		before, _, found := strings.Cut(joined, Mask)
		prompt, _ := r.Prompt()
		var reason DropReason
		switch {
		case !found:
			reason = DropNoMask
		case strings.TrimSpace(prompt) == "":
			reason = DropEmptyPrompt
		case r.ObjLabel == "":
			reason = DropEmptyLabel
		}
		if reason != "" {
			rep.Dropped[reason]++
			continue
		}
		labelText := r.ObjLabel
		if len(prompt) < len(before) { // the prompt ended in whitespace, now trimmed
			labelText = " " + r.ObjLabel
		}
		ids := tok.Encode(labelText)
		if len(ids) != 1 {
			rep.Dropped[DropMultiToken]++
			continue
		}
		p := tok.Encode(prompt)
		if !slices.Equal(tok.Encode(prompt+labelText), append(p, ids[0])) {
			rep.Dropped[DropMerges]++
			continue
		}
		probes = append(probes, LAMAProbe{
			UUID: r.UUID, Pred: r.Pred, Prompt: prompt,
			Label: r.ObjLabel, LabelText: labelText, LabelToken: ids[0],
		})
	}
	rep.Kept = len(probes)
	return probes, rep
}
