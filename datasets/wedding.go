package datasets

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// weddingWords is the authors' keyword list for the wedding experiments (E1, E2).
var weddingWords = []string{
	"wedding", "weddings", "wed", "marry", "married", "marriage", "bride", "groom", "honeymoon",
}

// WeddingWords returns the 9 wedding words the paper counts (E1's relevance, E2's metric), all
// lower case: wedding, weddings, wed, marry, married, marriage, bride, groom, honeymoon.
// The result is a fresh copy.
func WeddingWords() []string { return slices.Clone(weddingWords) }

func isWeddingWord(w string) bool { return slices.Contains(weddingWords, w) }

// pyLower is Python's str.lower() for the purpose of matching ASCII keywords: Go's
// strings.ToLower maps U+0130 (İ) to "i", Python to "i̇" (i + U+0307), so "WEDDİNG" must not match.
// The other differences between the two (final sigma, special casing) never produce ASCII.
func pyLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}

// isPySpace reports whether Python's str.split() splits at r: Go's unicode.IsSpace plus the
// separators U+001C..U+001F, which Python counts as whitespace and Go does not.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// pySplit is Python's str.split() with no arguments.
func pySplit(s string) []string { return strings.FieldsFunc(s, isPySpace) }

// RelevanceCounts returns how many of the whitespace-separated words of text are wedding words,
// and how many words it has; Relevance is their ratio. See Relevance for the exact rules.
func RelevanceCounts(text string) (wedding, words int) {
	fields := pySplit(pyLower(text))
	for _, w := range fields {
		if isWeddingWord(w) {
			wedding++
		}
	}
	return wedding, len(fields)
}

// Relevance is a document's wedding relevance for experiment E1: the number of its words that
// are wedding words, divided by its number of words, as the authors computed it in Python with
// text.lower().split(). Words are separated by whitespace only and compared exactly, without
// stripping punctuation: "married." and "Wedding," do not count. It returns 0 for a text
// without words (where the Python code divides by zero).
func Relevance(text string) float64 {
	wedding, words := RelevanceCounts(text)
	if words == 0 {
		return 0
	}
	return float64(wedding) / float64(words)
}

// nonWord is Python 3's re pattern \W on str patterns: any character that is neither "_" nor
// alphanumeric in Python's sense (str.isalnum: Unicode letters L*, and numbers N*). Go's \W is
// ASCII-only, hence the explicit classes. Combining marks (M*) are non-word in both.
var nonWord = regexp.MustCompile(`[^\p{L}\p{N}_]`)

// WeddingCount is experiment E2's metric: the number of wedding words in a completion, as the
// authors' get_word_count_metric computed it: lower-case the text, replace every non-word
// character (Python's Unicode-aware regexp \W) with a space, split on whitespace and count exact
// matches. Unlike Relevance, punctuation is removed, so "married." counts; "wed" is counted
// only as a whole word, never inside "wedding" or "wednesday".
func WeddingCount(completion string) int {
	n := 0
	for _, w := range pySplit(nonWord.ReplaceAllLiteralString(pyLower(completion), " ")) {
		if isWeddingWord(w) {
			n++
		}
	}
	return n
}
