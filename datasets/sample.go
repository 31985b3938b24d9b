package datasets

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// ScoredDocument is a document of a relevance sample with its wedding statistics.
type ScoredDocument struct {
	Document
	// Index is the document's position in the slice given to SampleByRelevance.
	Index int
	// Relevance is Relevance(Text); WeddingWords and Words are RelevanceCounts(Text).
	Relevance           float64
	WeddingWords, Words int
}

// SampleByRelevance picks experiment E1's documents, as the authors did on OpenWebText: n/2
// (rounded down) of the most wedding-relevant documents, and n - n/2 documents drawn at random
// (seeded, without replacement) among those with no wedding word at all.
//
// The relevant half is the documents with at least one wedding word, highest Relevance first;
// ties keep input order. When fewer than n/2 documents have a wedding word, all of them are
// taken and the random half is not enlarged; when fewer than n - n/2 have none, all of those
// are taken. The result can therefore hold fewer than n documents (never duplicates): check its
// length. It lists the relevant documents first, then the random ones in draw order.
//
// The same docs, n and seed give the same sample (with the same Go version: the draw uses
// math/rand/v2's PCG). It does not reproduce the authors' pandas draw (random_state=0).
func SampleByRelevance(docs []Document, n int, seed uint64) []ScoredDocument {
	if n <= 0 {
		return nil
	}
	var relevant, zero []ScoredDocument
	for i, d := range docs {
		w, words := RelevanceCounts(d.Text)
		s := ScoredDocument{Document: d, Index: i, WeddingWords: w, Words: words}
		if words > 0 {
			s.Relevance = float64(w) / float64(words)
		}
		if w > 0 {
			relevant = append(relevant, s)
		} else {
			zero = append(zero, s)
		}
	}
	slices.SortStableFunc(relevant, func(a, b ScoredDocument) int {
		return cmp.Compare(b.Relevance, a.Relevance)
	})
	out := relevant[:min(n/2, len(relevant))]

	// Partial Fisher–Yates: the first k elements of zero become a uniform random sample.
	k := min(n-n/2, len(zero))
	r := rand.New(rand.NewPCG(seed, 0x61637461646421)) // second word: any fixed constant
	for i := range k {
		j := i + r.IntN(len(zero)-i)
		zero[i], zero[j] = zero[j], zero[i]
	}
	return append(out, zero[:k]...)
}
