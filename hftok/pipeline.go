package hftok

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// The normalizers and pre-tokenizers below follow Hugging Face tokenizers' (Rust) semantics for
// the component types the Llama-family files use. go-huggingface's hftokenizer parses the same
// file but cannot be used for these steps (measured on the released files, see doc.go): its Split
// pre-tokenizer compiles the pattern with Go's regexp, which rejects the lookahead "\s+(?!\S)" of
// Llama 3's and Qwen's pattern, and then keeps the whole text as one word; its ByteLevel ignores
// use_regex and cuts before every space instead; its Prepend normalizer does nothing; its BPE
// has no byte fallback and no ignore_merges. Regular expressions here use github.com/dlclark/regexp2, which implements the
// lookahead; its \s is Unicode's White_Space, as in the Oniguruma engine tokenizers uses.

// normalizer rewrites the text of one segment (the text between two added tokens).
type normalizer func(string) string

// piece is one pre-token: a span of normalized text that BPE tokenizes on its own.
// atStart records whether it begins at offset 0 of the input text (Metaspace's "first").
type piece struct {
	text    string
	atStart bool
}

// preTokenizer splits each piece into smaller ones.
type preTokenizer func([]piece) []piece

func buildNormalizer(c *component) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var steps []normalizer
		for i, sub := range c.Normalizers {
			n, err := buildNormalizer(sub)
			if err != nil {
				return nil, fmt.Errorf("normalizers[%d]: %w", i, err)
			}
			if n != nil {
				steps = append(steps, n)
			}
		}
		return func(s string) string {
			for _, n := range steps {
				s = n(s)
			}
			return s
		}, nil
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Prepend":
		p := c.Prepend
		// tokenizers prepends only to a non-empty string.
		return func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}, nil
	case "Replace":
		return buildReplace(c)
	default:
		return nil, fmt.Errorf("normalizer type %q is not implemented (implemented: Sequence, NFC, NFD, NFKC, NFKD, Prepend, Replace)", c.Type)
	}
}

func buildReplace(c *component) (func(string) string, error) {
	if c.Pattern == nil {
		return nil, fmt.Errorf("Replace has no pattern")
	}
	content := c.Content
	switch {
	case c.Pattern.String != nil:
		old := *c.Pattern.String
		if old == "" {
			return nil, fmt.Errorf("Replace with an empty String pattern")
		}
		return func(s string) string { return strings.ReplaceAll(s, old, content) }, nil
	case c.Pattern.Regex != nil:
		re, err := compileRegex(*c.Pattern.Regex)
		if err != nil {
			return nil, err
		}
		return func(s string) string {
			var b strings.Builder
			runes := []rune(s)
			prev := 0
			for _, m := range findAll(re, runes) {
				b.WriteString(string(runes[prev:m[0]]))
				b.WriteString(content)
				prev = m[1]
			}
			b.WriteString(string(runes[prev:]))
			return b.String()
		}, nil
	default:
		return nil, fmt.Errorf("Replace pattern has neither String nor Regex")
	}
}

func compileRegex(expr string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("compiling regular expression %q: %w", expr, err)
	}
	return re, nil
}

// findAll returns the rune offsets [start, end) of the successive non-overlapping matches of re
// in runes, empty matches included (as Oniguruma's find_iter reports them).
func findAll(re *regexp2.Regexp, runes []rune) [][2]int {
	var out [][2]int
	m, err := re.FindRunesMatch(runes)
	for err == nil && m != nil {
		out = append(out, [2]int{m.Index, m.Index + m.Length})
		m, err = re.FindNextMatch(m)
	}
	// regexp2 reports errors only for match timeouts, which are not set here.
	return out
}

// gpt2Pattern is the split pattern ByteLevel applies when use_regex is true (GPT-2's).
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// span is a rune range of a piece and whether it matched the split pattern.
type span struct {
	start, end int
	match      bool
}

// splitSpans applies a split behavior (tokenizers' SplitDelimiterBehavior) to the covering
// list of matched and unmatched spans, returning the kept ranges.
func splitSpans(spans []span, behavior string) ([][2]int, error) {
	var out [][2]int
	switch behavior {
	case "Isolated":
		for _, s := range spans {
			out = append(out, [2]int{s.start, s.end})
		}
	case "Removed":
		for _, s := range spans {
			if !s.match {
				out = append(out, [2]int{s.start, s.end})
			}
		}
	case "Contiguous":
		prevMatch := false
		for _, s := range spans {
			if s.match && prevMatch && len(out) > 0 {
				out[len(out)-1][1] = s.end
			} else {
				out = append(out, [2]int{s.start, s.end})
			}
			prevMatch = s.match
		}
	case "MergedWithPrevious":
		prevMatch := false
		for _, s := range spans {
			if s.match && !prevMatch && len(out) > 0 {
				out[len(out)-1][1] = s.end
			} else {
				out = append(out, [2]int{s.start, s.end})
			}
			prevMatch = s.match
		}
	case "MergedWithNext":
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prevMatch && len(out) > 0 {
				out[len(out)-1][0] = s.start
			} else {
				out = append(out, [2]int{s.start, s.end})
			}
			prevMatch = s.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	default:
		return nil, fmt.Errorf("split behavior %q is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous", behavior)
	}
	return out, nil
}

// matcher finds the matched spans of a piece's runes.
type matcher func(runes []rune) [][2]int

// splitter builds a pre-tokenizer that splits each piece by m's matches with behavior.
func splitter(m matcher, behavior string, invert bool) (preTokenizer, error) {
	if _, err := splitSpans(nil, behavior); err != nil {
		return nil, err
	}
	return func(in []piece) []piece {
		var out []piece
		for _, p := range in {
			runes := []rune(p.text)
			if len(runes) == 0 {
				continue
			}
			var spans []span
			prev := 0
			for _, mt := range m(runes) {
				if mt[0] != prev {
					spans = append(spans, span{prev, mt[0], invert})
				}
				spans = append(spans, span{mt[0], mt[1], !invert})
				prev = mt[1]
			}
			if prev != len(runes) {
				spans = append(spans, span{prev, len(runes), invert})
			}
			ranges, _ := splitSpans(spans, behavior)
			for _, r := range ranges {
				if r[0] == r[1] {
					continue
				}
				out = append(out, piece{text: string(runes[r[0]:r[1]]), atStart: p.atStart && r[0] == 0})
			}
		}
		return out
	}, nil
}

func regexMatcher(re *regexp2.Regexp) matcher {
	return func(runes []rune) [][2]int { return findAll(re, runes) }
}

// runeMatcher matches every single rune for which is returns true.
func runeMatcher(is func(rune) bool) matcher {
	return func(runes []rune) [][2]int {
		var out [][2]int
		for i, r := range runes {
			if is(r) {
				out = append(out, [2]int{i, i + 1})
			}
		}
		return out
	}
}

// stringMatcher matches the non-overlapping occurrences of lit.
func stringMatcher(lit string) matcher {
	pat := []rune(lit)
	return func(runes []rune) [][2]int {
		var out [][2]int
		for i := 0; i+len(pat) <= len(runes); {
			if string(runes[i:i+len(pat)]) == lit {
				out = append(out, [2]int{i, i + len(pat)})
				i += len(pat)
			} else {
				i++
			}
		}
		return out
	}
}

// byteLevelAlphabet is GPT-2's map from bytes to printable runes, used by ByteLevel.
var byteLevelAlphabet, byteLevelInverse = func() ([256]rune, map[rune]byte) {
	var fwd [256]rune
	inv := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = rune(256 + n)
			n++
		}
		inv[fwd[b]] = byte(b)
	}
	return fwd, inv
}()

// toByteLevel writes each byte of s as its ByteLevel rune.
func toByteLevel(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteLevelAlphabet[s[i]])
	}
	return b.String()
}

// preTokInfo records what the pre-tokenizer does to a space, for Pad.
type preTokInfo struct {
	byteLevel        bool
	metaspace        string // the Metaspace replacement rune, when there is one
	metaspacePrepend bool   // Metaspace puts it before the text (prepend_scheme always or first)
}

func buildPreTokenizer(c *component, info *preTokInfo) (preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var steps []preTokenizer
		for i, sub := range c.PreTokenizers {
			p, err := buildPreTokenizer(sub, info)
			if err != nil {
				return nil, fmt.Errorf("pretokenizers[%d]: %w", i, err)
			}
			if p != nil {
				steps = append(steps, p)
			}
		}
		return func(ps []piece) []piece {
			for _, p := range steps {
				ps = p(ps)
			}
			return ps
		}, nil
	case "Split":
		if c.Pattern == nil {
			return nil, fmt.Errorf("Split has no pattern")
		}
		var m matcher
		switch {
		case c.Pattern.Regex != nil:
			re, err := compileRegex(*c.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Split: %w", err)
			}
			m = regexMatcher(re)
		case c.Pattern.String != nil && *c.Pattern.String != "":
			m = stringMatcher(*c.Pattern.String)
		default:
			return nil, fmt.Errorf("Split pattern has neither a non-empty String nor a Regex")
		}
		p, err := splitter(m, c.Behavior, c.Invert)
		if err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		return p, nil
	case "Digits":
		behavior := "Contiguous"
		if c.IndividualDigits {
			behavior = "Isolated"
		}
		return splitter(runeMatcher(unicode.IsNumber), behavior, false)
	case "ByteLevel":
		info.byteLevel = true
		addPrefix := c.AddPrefixSpace != nil && *c.AddPrefixSpace
		useRegex := c.UseRegex == nil || *c.UseRegex
		var split preTokenizer
		if useRegex {
			re, err := compileRegex(gpt2Pattern)
			if err != nil {
				return nil, err
			}
			split, _ = splitter(regexMatcher(re), "Isolated", false)
		}
		return func(in []piece) []piece {
			ps := in
			if addPrefix {
				ps = make([]piece, len(in))
				for i, p := range in {
					ps[i] = p
					if !strings.HasPrefix(p.text, " ") {
						ps[i].text = " " + p.text
					}
				}
			}
			if split != nil {
				ps = split(ps)
			}
			out := make([]piece, len(ps))
			for i, p := range ps {
				out[i] = piece{text: toByteLevel(p.text), atStart: p.atStart}
			}
			return out
		}, nil
	case "Metaspace":
		rep := c.Replacement
		if utf8.RuneCountInString(rep) != 1 {
			return nil, fmt.Errorf("Metaspace replacement %q is not one character", rep)
		}
		info.metaspace = rep
		scheme := c.PrependScheme
		if scheme == "" {
			// Files written before prepend_scheme existed say add_prefix_space instead.
			scheme = "never"
			if c.AddPrefixSpace == nil || *c.AddPrefixSpace {
				scheme = "always"
			}
		}
		if scheme != "always" && scheme != "first" && scheme != "never" {
			return nil, fmt.Errorf("Metaspace prepend_scheme %q is not always, first or never", scheme)
		}
		info.metaspacePrepend = scheme != "never"
		split := c.Split == nil || *c.Split
		repRune, _ := utf8.DecodeRuneInString(rep)
		splitRep, _ := splitter(runeMatcher(func(r rune) bool { return r == repRune }), "MergedWithNext", false)
		return func(in []piece) []piece {
			ps := make([]piece, 0, len(in))
			for _, p := range in {
				t := strings.ReplaceAll(p.text, " ", rep)
				if (scheme == "always" || (scheme == "first" && p.atStart)) && !strings.HasPrefix(t, rep) {
					t = rep + t
				}
				ps = append(ps, piece{text: t, atStart: p.atStart})
			}
			if split {
				ps = splitRep(ps)
			}
			return ps
		}, nil
	default:
		return nil, fmt.Errorf("pre-tokenizer type %q is not implemented (implemented: Sequence, Split, Digits, ByteLevel, Metaspace)", c.Type)
	}
}
