package datasets

import (
	"fmt"
	"slices"
	"testing"
)

// craftedCorpus has 5 documents with wedding words (relevance 1/2, 1/3, 1/4, 1/5, 1/6 for
// i = 0..4) and 20 without.
func craftedCorpus() []Document {
	var docs []Document
	for i := range 25 {
		text := fmt.Sprintf("document number %d", i)
		if i%5 == 0 {
			k := i / 5 // 0..4
			text = "wedding"
			for range k + 1 {
				text += " filler"
			}
		}
		docs = append(docs, Document{Text: text})
	}
	return docs
}

func indices(s []ScoredDocument) []int {
	var out []int
	for _, d := range s {
		out = append(out, d.Index)
	}
	return out
}

func TestSampleByRelevance(t *testing.T) {
	docs := craftedCorpus()
	s := SampleByRelevance(docs, 7, 0)
	if len(s) != 7 {
		t.Fatalf("got %d documents, want 7", len(s))
	}
	// Relevant half: the 3 most relevant, highest first.
	if got := indices(s[:3]); !slices.Equal(got, []int{0, 5, 10}) {
		t.Errorf("relevant half = %v, want [0 5 10]", got)
	}
	for _, d := range s[:3] {
		if d.WeddingWords != 1 || d.Relevance != 1/float64(d.Words) || d.Text != docs[d.Index].Text {
			t.Errorf("bad scores for document %d: %+v", d.Index, d)
		}
	}
	// Random half: 4 distinct documents without wedding words.
	seen := map[int]bool{}
	for _, d := range s[3:] {
		if d.WeddingWords != 0 || d.Relevance != 0 || seen[d.Index] {
			t.Errorf("random half holds document %d (%d wedding words, repeated %v)", d.Index, d.WeddingWords, seen[d.Index])
		}
		seen[d.Index] = true
	}

	// Reproducible with the same seed; a different seed draws differently.
	if again := SampleByRelevance(docs, 7, 0); !slices.Equal(indices(again), indices(s)) {
		t.Errorf("same seed gave %v then %v", indices(s), indices(again))
	}
	differs := false
	for seed := uint64(1); seed < 6; seed++ {
		if !slices.Equal(indices(SampleByRelevance(docs, 7, seed)), indices(s)) {
			differs = true
		}
	}
	if !differs {
		t.Error("seeds 0..5 all gave the same sample")
	}
}

func TestSampleByRelevanceTooFew(t *testing.T) {
	docs := craftedCorpus()
	// 30 asked: all 5 relevant (not 15) and 15 others; the random half is not enlarged.
	s := SampleByRelevance(docs, 30, 0)
	if len(s) != 20 {
		t.Fatalf("got %d documents, want 20", len(s))
	}
	got := indices(s)
	if !slices.Equal(got[:5], []int{0, 5, 10, 15, 20}) {
		t.Errorf("relevant part = %v", got[:5])
	}
	slices.Sort(got)
	if len(slices.Compact(got)) != 20 {
		t.Error("sample holds duplicates")
	}
	// 60 asked: all 5 relevant and all 20 others (not 30).
	if s := SampleByRelevance(docs, 60, 0); len(s) != 25 {
		t.Errorf("got %d documents, want 25", len(s))
	}
	if s := SampleByRelevance(docs, 0, 0); len(s) != 0 {
		t.Errorf("n = 0 gave %d documents", len(s))
	}
	if s := SampleByRelevance(nil, 10, 0); len(s) != 0 {
		t.Errorf("no documents gave %d", len(s))
	}
}

func TestSampleOpenWebText(t *testing.T) {
	docs, _, err := OpenWebTextFixture()
	if err != nil {
		t.Fatal(err)
	}
	s := SampleByRelevance(docs, 20, 0)
	if len(s) != 20 {
		t.Fatalf("got %d documents, want 20", len(s))
	}
	for i, d := range s {
		if (i < 10) != (d.WeddingWords > 0) {
			t.Errorf("position %d: document %d has %d wedding words", i, d.Index, d.WeddingWords)
		}
		if i > 0 && i < 10 && d.Relevance > s[i-1].Relevance {
			t.Errorf("relevant half not sorted at %d", i)
		}
	}
}
