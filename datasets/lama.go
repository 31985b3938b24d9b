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

	"github.com/actadd-go/actadd/lm"
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

// Prompt returns the masked sentences joined with " " and cut before the first "[MASK]", as the
// authors built the prompt, with trailing spaces and tabs removed. E3's probes take the
// authors' token rule instead (SingleTokenProbes). It reports false when there is no "[MASK]".
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
	// Label is the record's obj_label; LabelText is the text of LabelToken, the last token of
	// prompt+label, which contains Label (" cat" for "cat" after "is a ", "'s" for "s" after
	// "John'").
	Label, LabelText string
	LabelToken       int
}

// DropReason says why SingleTokenProbes left a record out.
type DropReason string

// The reasons SingleTokenProbes drops records.
const (
	DropNoMask     DropReason = "no [MASK] in masked_sentences"
	DropEmptyLabel DropReason = "empty obj_label"
	// DropMultiToken: the last token of prompt+label does not contain the label (the
	// authors' single-token test).
	DropMultiToken DropReason = "label is not within the last token of prompt+label"
	// DropPromptText: the prompt's tokens (those of prompt+label but the last) are not how
	// GPT-2 tokenizes their own text, so they cannot be scored as a text prompt here: "\n"
	// "\n" before a digit label, say, whose text "\n\n" is one token.
	DropPromptText DropReason = "no text encodes to the prompt's tokens"
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

// SingleTokenProbes turns records into probes with the authors' rule, keeping those whose label
// is a single token in their sense, and reports how many were dropped and why.
//
// The authors' rule (scripts/lama_demo.py): prompt is the masked sentences joined with " " and
// cut before the first "[MASK]", untrimmed; the tokens of BOS + prompt + obj_label are split
// into the model's input (all but the last) and the target (the last token); a record is kept
// when the target's text contains obj_label. So the target may include the space before
// "[MASK]" (" cat"), or merge with the end of the prompt ("John'" + "s": the prompt's tokens end
// with " John" and the target is "'s"); extra whitespace before "[MASK]" stays in the prompt as
// its own token; a "[MASK]" at the start leaves a prompt of BOS alone.
//
// Prompt is the text of the input tokens after BOS, checked to encode back to exactly them
// (DropPromptText otherwise), so tok.EncodeWithBOS(p.Prompt) followed by p.LabelToken is the
// authors' tokenization. Records without "[MASK]" or without a label are dropped too
// (DropNoMask, DropEmptyLabel), where the authors' code would have built a prompt of the whole
// text or a target from the prompt's own last token.
func SingleTokenProbes(recs []LAMARecord, tok lm.Tokenizer) ([]LAMAProbe, LAMAFilterReport) {
	rep := LAMAFilterReport{Total: len(recs), Dropped: map[DropReason]int{}}
	var probes []LAMAProbe
	for _, r := range recs {
		before, _, found := strings.Cut(strings.Join(r.MaskedSentences, " "), Mask)
		switch {
		case !found:
			rep.Dropped[DropNoMask]++
			continue
		case r.ObjLabel == "":
			rep.Dropped[DropEmptyLabel]++
			continue
		}
		ids := lm.EncodeWithBOS(tok, before+r.ObjLabel)
		if len(ids) <= bosLen(tok) { // no prompt token at all (a tokenizer without BOS)
			rep.Dropped[DropPromptText]++
			continue
		}
		input, target := ids[:len(ids)-1], ids[len(ids)-1]
		labelText, err := tok.Decode([]int{target})
		if err != nil || !strings.Contains(strings.ToValidUTF8(labelText, "\uFFFD"), r.ObjLabel) {
			rep.Dropped[DropMultiToken]++
			continue
		}
		prompt, err := tok.Decode(input[bosLen(tok):])
		if err != nil || !slices.Equal(lm.EncodeWithBOS(tok, prompt), input) {
			rep.Dropped[DropPromptText]++
			continue
		}
		probes = append(probes, LAMAProbe{
			UUID: r.UUID, Pred: r.Pred, Prompt: prompt,
			Label: r.ObjLabel, LabelText: labelText, LabelToken: target,
		})
	}
	rep.Kept = len(probes)
	return probes, rep
}

// bosLen is 1 when tok prepends BOS to a prompt, 0 otherwise.
func bosLen(tok lm.Tokenizer) int {
	if _, ok := tok.BOS(); ok {
		return 1
	}
	return 0
}
