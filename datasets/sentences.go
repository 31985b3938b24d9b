package datasets

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/neurosnap/sentences"
	"github.com/neurosnap/sentences/data"
)

// punktModel is the English Punkt model embedded in github.com/neurosnap/sentences (abbreviations,
// collocations, frequent sentence starters, orthographic contexts): the parameters of NLTK's
// english.pickle, exported to JSON. It is read only, so it is safe for concurrent use.
var punktModel = sync.OnceValues(func() (*sentences.Storage, error) {
	b, err := data.Asset("data/english.json")
	if err == nil {
		var st *sentences.Storage
		if st, err = sentences.LoadTraining(b); err == nil {
			return st, nil
		}
	}
	return nil, fmt.Errorf("datasets: loading the English Punkt model of github.com/neurosnap/sentences: %w", err)
})

// Sentences splits text into sentences as the authors' E1 code did: NLTK's
// PunktSentenceTokenizer.tokenize (NLTK 3.8, boundaries realigned) with the pre-trained English
// model, as loaded by nltk.data.load("tokenizers/punkt/english.pickle"). The sentences are the
// strings NLTK returns, which E1 tokenizes as they are: the whitespace between two sentences
// belongs to neither, but the first sentence keeps any whitespace the text starts with, and a
// sentence may hold newlines (NLTK does not split at paragraph breaks). An empty text gives
// no sentences. It is safe for concurrent use.
//
// The model is the one github.com/neurosnap/sentences embeds, an export of NLTK's English
// model, without the three abbreviations that module's English tokenizer adds (sgt, gov, no).
// The splitting is NLTK's algorithm, written here: that module's own tokenizer is a different
// algorithm (it splits at whitespace-delimited words only, ends sentences at closing curly
// quotes, and never ends one after a number), and the decisions that differ are made inside
// it, beyond what pre- or post-processing its output can change. docs/fidelity.md has the
// comparison with NLTK.
//
// The error is not nil only when the embedded model cannot be loaded (a broken module): then
// no text is split, rather than being silently scored as one sentence.
func Sentences(text string) ([]string, error) {
	model, err := punktModel()
	if err != nil {
		return nil, err
	}
	p := punkt{model}
	var out []string
	for _, s := range p.realign(text, p.slices(text)) {
		out = append(out, text[s.start:max(s.start, s.stop)])
	}
	return out, nil
}

// punkt is NLTK's PunktSentenceTokenizer (nltk/tokenize/punkt.py, NLTK 3.8) at inference, with
// the default PunktLanguageVars. Offsets are byte offsets into the text; NLTK's are code
// points, which is the same thing here because every offset it computes lands on an ASCII
// character or on a code-point boundary.
type punkt struct{ *sentences.Storage }

// span is a Python slice text[start:stop].
type span struct{ start, stop int }

// endCandidate is one match of NLTK's period_context_re: a '.', '?' or '!' at pos, followed
// either by one of nonWordChars (after = that character, nextTok = -1) or by whitespace and a
// token starting at nextTok (after = the whitespace and that token).
type endCandidate struct {
	pos     int
	after   string
	nextTok int
}

// nonWordChars is PunktLanguageVars._re_non_word_chars: characters that cannot appear within
// words.
const nonWordChars = `)";}]*:@'({[?!`

func isNonWord(c byte) bool { return strings.IndexByte(nonWordChars, c) >= 0 }

// runeAt decodes the rune at byte offset i of s.
func runeAt(s string, i int) (rune, int) { return utf8.DecodeRuneInString(s[i:]) }

// isPySpace (wedding.go) is also Python's \s and str.isspace.

// skipSpace returns the offset after the run of whitespace (space true) or of non-whitespace
// (space false) that starts at offset i of s.
func skipSpace(s string, i int, space bool) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if isPySpace(r) != space {
			break
		}
		i += n
	}
	return i
}

// endCandidates returns period_context_re.finditer(text): every sentence-ending character
// followed by a non-word character, or by whitespace and another token.
func endCandidates(text string) []endCandidate {
	var out []endCandidate
	for i := 0; i < len(text); i++ {
		if c := text[i]; c != '.' && c != '?' && c != '!' {
			continue
		}
		j := i + 1
		if j < len(text) && isNonWord(text[j]) {
			out = append(out, endCandidate{pos: i, after: text[j : j+1], nextTok: -1})
			continue
		}
		k := skipSpace(text, j, true)
		if k == j || k == len(text) {
			continue
		}
		out = append(out, endCandidate{pos: i, after: text[j:skipSpace(text, k, false)], nextTok: k})
	}
	return out
}

// contexts is _match_potential_end_contexts: each candidate with its decision text (the word
// before it, the character, and what follows), dropping a candidate whose word overlaps the
// next one's (in "acting!!! I" only the last '!' is decided).
func contexts(text string, yield func(endCandidate, string)) {
	var prev *endCandidate
	prevSlice := span{}
	for _, m := range endCandidates(text) {
		before := text[prevSlice.stop:m.pos]
		// _get_last_whitespace_index: the last ASCII whitespace character (string.whitespace),
		// where index 0 counts as none.
		wordStart := strings.LastIndexAny(before, " \t\n\r\x0b\x0c")
		if wordStart > 0 {
			wordStart += prevSlice.stop + 1
		} else {
			wordStart = prevSlice.start
		}
		if prev != nil && prevSlice.stop <= wordStart {
			yield(*prev, text[prevSlice.start:prevSlice.stop]+text[prev.pos:prev.pos+1]+prev.after)
		}
		prev = &m
		prevSlice = span{wordStart, m.pos}
	}
	if prev != nil {
		yield(*prev, text[prevSlice.start:prevSlice.stop]+text[prev.pos:prev.pos+1]+prev.after)
	}
}

// slices is _slices_from_text: the sentences before boundary realignment.
func (p punkt) slices(text string) []span {
	var out []span
	last := 0
	contexts(text, func(m endCandidate, context string) {
		if !p.containsSentBreak(context) {
			return
		}
		out = append(out, span{last, m.pos + 1})
		if m.nextTok >= 0 {
			last = m.nextTok
		} else {
			last = m.pos + 1
		}
	})
	return append(out, span{last, len(strings.TrimRightFunc(text, isPySpace))})
}

// realign is _realign_boundaries: closing quotes and brackets right after a sentence end move
// into the sentence they close ("(Sent1.) Sent2." gives "(Sent1.)" and "Sent2."). Only ASCII
// quotes count, as in NLTK.
func (p punkt) realign(text string, slices []span) []span {
	var out []span
	realign := 0
	for i, s1 := range slices {
		s1.start += realign
		if i+1 == len(slices) {
			if s1.start < s1.stop {
				out = append(out, s1)
			}
			continue
		}
		s2 := slices[i+1]
		if closers, end, ok := boundaryRealignment(text[s2.start:max(s2.start, s2.stop)]); ok {
			out = append(out, span{s1.start, s2.start + closers})
			realign = end
		} else {
			realign = 0
			if s1.start < s1.stop {
				out = append(out, s1)
			}
		}
	}
	return out
}

// boundaryRealignment matches PunktLanguageVars.re_boundary_realignment,
// `["')\]}]+?(?:\s+|(?=--)|$)` (MULTILINE), at the start of s: it returns the length of the
// closing characters, the end of the match (whitespace included) and whether it matched.
func boundaryRealignment(s string) (closers, end int, ok bool) {
	for k := 0; k < len(s) && strings.IndexByte(`"')]}`, s[k]) >= 0; k++ {
		at := k + 1 // the lazy +? tries the shortest run of closers first
		if at == len(s) || strings.HasPrefix(s[at:], "--") {
			return at, at, true
		}
		if end := skipSpace(s, at, true); end > at {
			return at, end, true
		}
	}
	return 0, 0, false
}

// containsSentBreak is text_contains_sentbreak: whether a token of the decision text other
// than its last is annotated as a sentence break.
func (p punkt) containsSentBreak(context string) bool {
	toks := p.annotate(tokenizeWords(context))
	for _, t := range toks[:max(0, len(toks)-1)] {
		if t.sentBreak {
			return true
		}
	}
	return false
}

// token is NLTK's PunktToken, with the annotations the tokenizer uses.
type token struct {
	tok, typ                  string
	sentBreak, abbr, ellipsis bool
}

func newToken(tok string) *token {
	typ := pyLower(tok)
	if isNumeric(typ) {
		typ = "##number##"
	}
	return &token{tok: tok, typ: typ}
}

// isNumeric matches PunktToken._RE_NUMERIC, `^-?[\.,]?\d[\d,\.-]*\.?$`.
func isNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s != "" && (s[0] == '.' || s[0] == ',') {
		s = s[1:]
	}
	r, n := utf8.DecodeRuneInString(s)
	if s == "" || !unicode.IsDigit(r) {
		return false
	}
	for _, r := range s[n:] {
		if !unicode.IsDigit(r) && r != ',' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

func (t *token) periodFinal() bool { return strings.HasSuffix(t.tok, ".") }

func (t *token) typeNoPeriod() string {
	if len(t.typ) > 1 && strings.HasSuffix(t.typ, ".") {
		return t.typ[:len(t.typ)-1]
	}
	return t.typ
}

func (t *token) typeNoSentPeriod() string {
	if t.sentBreak {
		return t.typeNoPeriod()
	}
	return t.typ
}

// firstUpper and firstLower are Python's str.isupper and str.islower of the first character.
func (t *token) firstUpper() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r)
}

func (t *token) firstLower() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r)
}

// isInitial matches `[^\W\d]\.$` from the start: one word character that is not a digit (a
// letter, an underscore or a non-decimal numeral), then a period.
func (t *token) isInitial() bool {
	r, n := utf8.DecodeRuneInString(t.tok)
	return t.tok[n:] == "." && (unicode.IsLetter(r) || r == '_' || unicode.IsNumber(r) && !unicode.IsDigit(r))
}

// isEllipsis matches `\.\.+$` from the start: two or more periods and nothing else.
func (t *token) isEllipsis() bool {
	return len(t.tok) >= 2 && strings.Trim(t.tok, ".") == ""
}

// tokenizeWords is _tokenize_words: the text's lines, each split with
// PunktLanguageVars.word_tokenize (blank lines give nothing).
func tokenizeWords(text string) []*token {
	var out []*token
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimFunc(line, isPySpace) == "" {
			continue
		}
		for _, w := range wordTokenize(line) {
			out = append(out, newToken(w))
		}
	}
	return out
}

// wordTokenize is PunktLanguageVars.word_tokenize, the findall of _word_tokenize_fmt:
//
//	MultiChar | (?=WordStart)\S+?(?=\s|$|NonWord|MultiChar|,(?=$|\s|NonWord|MultiChar)) | \S
//
// where MultiChar is `(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)` and WordStart is any character but
// ("`{[:;&#*@)}]-, . Go's regexp has no lookahead, hence the scanner.
func wordTokenize(line string) []string {
	var out []string
	for pos := 0; pos < len(line); {
		if n := multiChar(line, pos); n > 0 {
			out = append(out, line[pos:pos+n])
			pos += n
			continue
		}
		r, n := runeAt(line, pos)
		switch {
		case isPySpace(r):
			pos += n
			continue
		case strings.ContainsRune("(\"`{[:;&#*@)}]-,", r):
			out = append(out, line[pos:pos+n])
			pos += n
			continue
		}
		end := pos + n
		for !wordEndsAt(line, end) {
			_, n := runeAt(line, end)
			end += n
		}
		out = append(out, line[pos:end])
		pos = end
	}
	return out
}

// wordEndsAt is the lookahead that ends a word before offset i.
func wordEndsAt(s string, i int) bool {
	if i == len(s) || multiChar(s, i) > 0 {
		return true
	}
	if r, _ := runeAt(s, i); isPySpace(r) || isNonWord(s[i]) {
		return true
	}
	if s[i] != ',' {
		return false
	}
	j := i + 1
	if j == len(s) || isNonWord(s[j]) || multiChar(s, j) > 0 {
		return true
	}
	r, _ := runeAt(s, j)
	return isPySpace(r)
}

// multiChar returns the length of the match of `\-{2,}|\.{2,}|(?:\.\s){2,}\.` at offset i of
// s (the first alternative that matches), or 0.
func multiChar(s string, i int) int {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "--"):
		return len(rest) - len(strings.TrimLeft(rest, "-"))
	case strings.HasPrefix(rest, ".."):
		return len(rest) - len(strings.TrimLeft(rest, "."))
	}
	// (?:\.\s){2,}\. : as many ". " pairs as there are, backing off one if no '.' follows.
	var ends []int // offsets in rest after each ". " pair
	at := 0
	for at < len(rest) && rest[at] == '.' {
		r, n := runeAt(rest, at+1)
		if at+1 >= len(rest) || !isPySpace(r) {
			break
		}
		at += 1 + n
		ends = append(ends, at)
	}
	for k := len(ends); k >= 2; k-- {
		if e := ends[k-1]; e < len(rest) && rest[e] == '.' {
			return e + 1
		}
	}
	return 0
}

// annotate runs NLTK's two annotation passes over the tokens of one decision text.
func (p punkt) annotate(toks []*token) []*token {
	for _, t := range toks {
		p.firstPass(t)
	}
	for i, t := range toks[:max(0, len(toks)-1)] {
		p.secondPass(t, toks[i+1])
	}
	return toks
}

// firstPass is _first_pass_annotation: sentence-ending characters break, runs of periods
// are ellipses, and a word ending in a period is an abbreviation when the model knows it (or
// the part after its last hyphen), a sentence break otherwise.
func (p punkt) firstPass(t *token) {
	switch {
	case t.tok == "." || t.tok == "?" || t.tok == "!":
		t.sentBreak = true
	case t.isEllipsis():
		t.ellipsis = true
	case t.periodFinal() && !strings.HasSuffix(t.tok, ".."):
		w := pyLower(t.tok[:len(t.tok)-1])
		if p.AbbrevTypes.Has(w) || p.AbbrevTypes.Has(w[strings.LastIndexByte(w, '-')+1:]) {
			t.abbr = true
		} else {
			t.sentBreak = true
		}
	}
}

// Orthographic context flags (NLTK's _ORTHO_*): where a word type was seen in training
// (beginning or middle of a sentence) and with which case.
const (
	orthoBegUC = 1 << 1
	orthoMidUC = 1 << 2
	orthoUnkUC = 1 << 3
	orthoBegLC = 1 << 4
	orthoMidLC = 1 << 5
	orthoUnkLC = 1 << 6
	orthoUC    = orthoBegUC | orthoMidUC | orthoUnkUC
	orthoLC    = orthoBegLC | orthoMidLC | orthoUnkLC
)

// secondPass is _second_pass_annotation: the collocation, orthographic and sentence-starter
// heuristics revise the first pass for a word ending in a period, given the next token.
func (p punkt) secondPass(t, next *token) {
	if !t.periodFinal() {
		return
	}
	typ, nextTyp := t.typeNoPeriod(), next.typeNoSentPeriod()
	initial := t.isInitial()
	if p.Collocations.Has(typ + "," + nextTyp) {
		t.sentBreak, t.abbr = false, true
		return
	}
	if (t.abbr || t.ellipsis) && !initial {
		starter := p.orthoHeuristic(next)
		if starter == orthoStarter || next.firstUpper() && p.SentStarters.Has(nextTyp) {
			t.sentBreak = true
			return
		}
	}
	if initial || typ == "##number##" {
		starter := p.orthoHeuristic(next)
		if starter == orthoNotStarter ||
			starter == orthoUnknown && initial && next.firstUpper() && p.OrthoContext[nextTyp]&orthoLC == 0 {
			t.sentBreak, t.abbr = false, true
		}
	}
}

// The answers of the orthographic heuristic: NLTK's True, False and "unknown".
const (
	orthoStarter = iota
	orthoNotStarter
	orthoUnknown
)

// orthoHeuristic is _ortho_heuristic: whether the token starts a sentence, judged from the
// cases its type was seen with in training.
func (p punkt) orthoHeuristic(t *token) int {
	if len(t.tok) == 1 && strings.Contains(";:,.!?", t.tok) {
		return orthoNotStarter
	}
	ctx := p.OrthoContext[t.typeNoSentPeriod()]
	switch {
	case t.firstUpper() && ctx&orthoLC != 0 && ctx&orthoMidUC == 0:
		return orthoStarter
	case t.firstLower() && (ctx&orthoUC != 0 || ctx&orthoBegLC == 0):
		return orthoNotStarter
	}
	return orthoUnknown
}
