package sweep

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/actadd-go/actadd/actadd"
)

// What a run store records of a unit reads back exactly: a completion's text even when it ends
// inside a character (invalid UTF-8, which a JSON string would replace), and every float32 bit
// pattern of a log-prob list (an empty list reads back as nil, as actadd returns it).
func TestRecordsReadBackExactly(t *testing.T) {
	s := Setting{Prompt: "p", Steered: true, Add: actadd.Pair(" a", "", 1)}
	comps := []actadd.Completion{{Row: actadd.Row{Prompt: "p", Adds: s.adds()}, Tokens: []int{50256, 79, 8582}, PromptLen: 2, Text: " complex\xf0\x9f"}}
	data, err := json.Marshal(stored(comps))
	if err != nil {
		t.Fatal(err)
	}
	var rec []storedCompletion
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	back, err := restore(rec, s, genUnit{0, 0, 1})
	if err != nil || !reflect.DeepEqual(back, comps) {
		t.Errorf("completion read back as %#v (%v), want %#v", back, err, comps)
	}

	lps := []float32s{{-1.5, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.MaxFloat32, float32(math.Inf(-1))}, nil}
	data, err = json.Marshal(lps)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32s
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1] != nil || len(got[0]) != len(lps[0]) {
		t.Fatalf("log-probs read back as %v, want %v", got, lps)
	}
	for i, x := range lps[0] {
		if math.Float32bits(got[0][i]) != math.Float32bits(x) {
			t.Errorf("log-prob %d read back as %v, want %v", i, got[0][i], x)
		}
	}
}

// The batches of a scoring sweep: sorted by length (ties in text order), size texts each, fewer
// where size rows of the padded length would pass the token cap.
func TestScoreBatches(t *testing.T) {
	lens := []int{40, 3, 17, 3, 100, 16, 5}
	got := scoreBatches(lens, 2, 90, 1024)
	// Sorted: 3(1) 3(3) 5(6) 16(5) 17(2) 40(0) 100(4); padded 16 16 16 16 32 48 112: two rows
	// of 48 or 112 pass 90 tokens.
	want := [][]int{{1, 3}, {6, 5}, {2}, {0}, {4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scoreBatches = %v, want %v", got, want)
	}
	if got := scoreBatches(lens, 0, 0, 1024); len(got) != 1 || len(got[0]) != len(lens) {
		t.Errorf("default sizes: %v, want one batch of every text", got)
	}
}

// Steering prompts that differ only in bytes that are not valid UTF-8 have keys of their own:
// JSON alone would turn both into U+FFFD and hand one's results back for the other. Keys of
// valid prompts are unchanged.
func TestSteeringKeyKeepsInvalidUTF8(t *testing.T) {
	key := func(a actadd.Addition) string {
		b, err := json.Marshal(SteeringKey(a))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := key(actadd.Pair("\xff", "", 1)), key(actadd.Pair("\xfe", "", 1)); a == b {
		t.Errorf("two prompts share the key %s", a)
	}
	if a, b := key(actadd.Pair("x", "\xff", 1)), key(actadd.Pair("x", "\xfe", 1)); a == b {
		t.Errorf("two minus prompts share the key %s", a)
	}
	want := `{"Plus":" weddings","Minus":"","Coeff":4,"Layer":6,"Point":"hook_resid_pre","Position":"front"}`
	if got := key(actadd.Pair(" weddings", "", 4).AtLayer(6)); got != want {
		t.Errorf("the key of a valid prompt pair changed:\n%s\nwant\n%s", got, want)
	}
}
