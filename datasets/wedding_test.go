package datasets

import (
	"math"
	"slices"
	"testing"
)

func TestWeddingWords(t *testing.T) {
	want := []string{"wedding", "weddings", "wed", "marry", "married", "marriage", "bride", "groom", "honeymoon"}
	got := WeddingWords()
	if !slices.Equal(got, want) {
		t.Fatalf("WeddingWords() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if WeddingWords()[0] != "wedding" {
		t.Error("changing the returned slice changed the list")
	}
}

func TestWeddingCount(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"I went to a wedding.", 1},
		{"Wedding! WEDDINGS? wed, Wed; marry married. Marriage— bride's groom/honeymoon", 10},
		{"The newlyweds wedded on a Wednesday; the wedding-planner was busy.", 1}, // only "wedding"
		{"wed wedding weddingcake", 2},
		{"married.", 1},
		{"they married_off", 0},             // "_" is a word character
		{"bride\u00a0groom\tgroom\nwed", 4}, // NBSP, tab and newline separate words
		{"mariée married·bride", 2},         // "·" (U+00B7) is a non-word character
		{"WEDDİNG", 0},                      // Python lowers İ to "i̇", not "i"
	} {
		if got := WeddingCount(c.text); got != c.want {
			t.Errorf("WeddingCount(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

func TestRelevance(t *testing.T) {
	for _, c := range []struct {
		text          string
		wedding, word int
	}{
		{"", 0, 0},
		{"   \n\t ", 0, 0},
		{"wedding", 1, 1},
		{"The Wedding was lovely", 1, 4},
		{"they got married.", 0, 3}, // no punctuation stripping
		{"married married, MARRIED wed wedding", 4, 5},
		{"Wed. wednesday newlywed weddings", 1, 4},
		{"bride\x1cgroom", 2, 2},           // Python's split() splits at U+001C..U+001F
		{"honeymoon\u3000honeymoon", 2, 2}, // and at ideographic space
	} {
		w, n := RelevanceCounts(c.text)
		if w != c.wedding || n != c.word {
			t.Errorf("RelevanceCounts(%q) = %d, %d; want %d, %d", c.text, w, n, c.wedding, c.word)
		}
		want := 0.0
		if c.word > 0 {
			want = float64(c.wedding) / float64(c.word)
		}
		if got := Relevance(c.text); got != want {
			t.Errorf("Relevance(%q) = %v, want %v", c.text, got, want)
		}
	}
}

func TestRelevanceOfDocuments(t *testing.T) {
	docs := []string{
		"We planned the wedding for June. The bride wore white and the groom wore blue. After the wedding they left for their honeymoon.",
		"The stock market fell sharply on Monday as investors worried about interest rates.",
		"He married her in 1990, and their marriage lasted.",
	}
	want := []float64{4.0 / 23, 0, 2.0 / 9} // "wedding." and "honeymoon." keep their periods
	for i, d := range docs {
		if got := Relevance(d); math.Abs(got-want[i]) > 1e-15 {
			t.Errorf("Relevance(doc %d) = %v, want %v", i, got, want[i])
		}
	}
}
