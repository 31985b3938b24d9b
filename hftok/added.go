package hftok

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedMatcher finds added tokens in text as tokenizers' AddedVocabulary does: leftmost-longest
// matches, with each token's single_word, lstrip and rstrip rules.
type addedMatcher struct {
	byFirst map[byte][]addedPattern // candidates by first byte, longest first
}

type addedPattern struct {
	text string
	tok  addedToken
}

func newAddedMatcher(pats []addedPattern) *addedMatcher {
	if len(pats) == 0 {
		return nil
	}
	m := &addedMatcher{byFirst: make(map[byte][]addedPattern)}
	for _, p := range pats {
		if p.text == "" {
			continue
		}
		m.byFirst[p.text[0]] = append(m.byFirst[p.text[0]], p)
	}
	for _, list := range m.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].text) > len(list[j].text) })
	}
	return m
}

// segment is a span of text [start, end): an added token (id >= 0) or text to tokenize (id < 0).
type segment struct {
	start, end int
	id         int
}

// split cuts text into added tokens and the text between them. Empty text gives no segments.
func (m *addedMatcher) split(text string) []segment {
	if text == "" {
		return nil
	}
	if m == nil {
		return []segment{{0, len(text), -1}}
	}
	var out []segment
	done := 0 // end of the last emitted segment
	for i := 0; i < len(text); {
		var hit *addedPattern
		for k, p := range m.byFirst[text[i]] {
			if strings.HasPrefix(text[i:], p.text) {
				hit = &m.byFirst[text[i]][k]
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		start, stop := i, i+len(hit.text)
		if hit.tok.SingleWord {
			before := start == 0 || !endsWithWord(text[:start])
			after := stop == len(text) || !startsWithWord(text[stop:])
			if !before || !after {
				i++
				continue
			}
		}
		if hit.tok.Lstrip {
			s := len(strings.TrimRightFunc(text[:start], unicode.IsSpace))
			start = max(s, done)
		}
		if hit.tok.Rstrip {
			stop = len(text) - len(strings.TrimLeftFunc(text[stop:], unicode.IsSpace))
		}
		if done < start {
			out = append(out, segment{done, start, -1})
		}
		out = append(out, segment{start, stop, hit.tok.ID})
		done = stop
		i = stop
	}
	if done < len(text) {
		out = append(out, segment{done, len(text), -1})
	}
	return out
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}
