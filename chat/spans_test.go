package chat

import (
	"slices"
	"strings"
	"testing"
)

// wordEncoder is a toy tokenizer for tests: special tokens are single tokens; other text splits
// into pieces that are a space followed by a word, a word, or a run of other whitespace, as
// SentencePiece-style tokenizers glue a space to the word after it. Ids are assigned on first
// sight, so equal pieces get equal ids.
type wordEncoder struct {
	special []string
	ids     map[string]int
	pieces  []string
}

func newWordEncoder(special ...string) *wordEncoder {
	return &wordEncoder{special: special, ids: map[string]int{}}
}

func (e *wordEncoder) id(piece string) int {
	if id, ok := e.ids[piece]; ok {
		return id
	}
	e.ids[piece] = len(e.pieces)
	e.pieces = append(e.pieces, piece)
	return len(e.pieces) - 1
}

func (e *wordEncoder) Encode(text string) []int {
	var ids []int
	for len(text) > 0 {
		matched := false
		for _, s := range e.special {
			if strings.HasPrefix(text, s) {
				ids = append(ids, e.id(s))
				text = text[len(s):]
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		isSpace := func(c byte) bool { return c == ' ' || c == '\n' }
		n := 0
		if isSpace(text[0]) && !(text[0] == ' ' && len(text) > 1 && !isSpace(text[1])) {
			for n < len(text) && isSpace(text[n]) {
				n++
			}
			// A run of spaces leaves its last space to the word after it.
			if n > 1 && n < len(text) && text[n-1] == ' ' {
				n--
			}
		} else {
			if text[0] == ' ' {
				n = 1
			}
			for n < len(text) && !isSpace(text[n]) && !e.startsSpecial(text[n:]) {
				n++
			}
		}
		ids = append(ids, e.id(text[:n]))
		text = text[n:]
	}
	return ids
}

func (e *wordEncoder) startsSpecial(s string) bool {
	for _, sp := range e.special {
		if strings.HasPrefix(s, sp) {
			return true
		}
	}
	return false
}

func (e *wordEncoder) decode(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.pieces[id]
	}
	return out
}

func TestWordEncoder(t *testing.T) {
	e := newWordEncoder("<s>", "[INST]")
	got := e.decode(e.Encode("<s>[INST] Tell me\n\nabout  it"))
	want := []string{"<s>", "[INST]", " Tell", " me", "\n\n", "about", " ", " it"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocateAndTokenize(t *testing.T) {
	tmpl := loadTurns(t)
	msgs := conversation(true)
	enc := newWordEncoder("<|bos|>", "<|turn|>", "<|end|>")
	r, err := tmpl.Tokenize(enc, msgs, Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Spans) != 4 {
		t.Fatalf("want a span for each of 4 messages, got %+v", r.Spans)
	}
	// turns.jinja strips the system message and trims the others.
	for i, want := range []string{"Be brief.", "I went up to my friend and said", "Hello!", "Tell me about weddings."} {
		s, err := r.Span(i)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Text[s.TextStart:s.TextEnd]; got != want {
			t.Errorf("message %d: text span %q, want %q", i, got, want)
		}
		if i == 0 {
			// The toy tokenizer glues the template's brackets to the system message's words.
			want = "[Be brief.]"
		}
		if got := strings.Join(enc.decode(r.IDs[s.TokenStart:s.TokenEnd]), ""); got != want {
			t.Errorf("message %d: token span %q, want %q", i, got, want)
		}
	}
	u, err := r.LastUser(msgs)
	if err != nil || u.Message != 3 {
		t.Fatalf("LastUser: %+v, %v", u, err)
	}
	if got := enc.decode(r.IDs[:u.TokenStart]); got[len(got)-2] != "user" || got[len(got)-1] != "\n" {
		t.Errorf("the tokens before the last user content end %q, want the header", got[len(got)-3:])
	}
}

func TestTokenizeBoundaryToken(t *testing.T) {
	// Mistral-style: the template writes "[INST] " and the content's first word takes the space.
	tmpl, err := New(`{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}`,
		map[string]string{"bos_token": "<s>", "eos_token": "</s>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	enc := newWordEncoder("<s>", "</s>", "[INST]", "[/INST]")
	msgs := []Message{{"user", "Tell me."}}
	r, err := tmpl.Tokenize(enc, msgs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r.LastUser(msgs)
	if got := enc.decode(r.IDs[s.TokenStart:s.TokenEnd]); !slices.Equal(got, []string{" Tell", " me."}) {
		t.Errorf("token span %q: want the boundary token \" Tell\" included", got)
	}
	if got := enc.decode(r.IDs[s.TokenEnd:]); !slices.Equal(got, []string{" ", "[/INST]"}) {
		t.Errorf("after the span: %q", got)
	}
}

func TestLocateRefusesWhatItCannotPlace(t *testing.T) {
	twice, err := New(`{% for m in messages %}{{ m.content }}|{{ m.content }}{% endfor %}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := twice.Locate([]Message{{"user", "x"}}, Options{}); err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Errorf("content written twice: want an error, got %v", err)
	}
	tests, err := New(`{% for m in messages %}{% if m.content.startswith('<') %}tool:{% endif %}{{ m.content }}{% endfor %}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tests.Locate([]Message{{"user", "<x>"}}, Options{}); err == nil || !strings.Contains(err.Error(), "differently") {
		t.Errorf("a template that tests the content: want an error, got %v", err)
	}
	dropped, err := New(`{% for m in messages %}{% if m.role != 'system' %}{{ m.content }}{% endif %}{% endfor %}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, spans, err := dropped.Locate([]Message{{"system", "s"}, {"user", "u"}}, Options{})
	if err != nil || len(spans) != 1 || spans[0].Message != 1 {
		t.Errorf("a dropped system message: want one span for message 1, got %+v, %v", spans, err)
	}
	if _, _, err := dropped.Locate([]Message{{"user", "a" + markOpen}}, Options{}); err == nil {
		t.Error("content holding a marker: want an error")
	}
}

func TestSteerPair(t *testing.T) {
	tmpl := loadTurns(t)
	enc := newWordEncoder("<|bos|>", "<|turn|>", "<|end|>")
	pad := []int{enc.id(" ")}
	plus := Prompt{Messages: []Message{{"user", "Love"}}}
	minus := Prompt{Messages: []Message{{"user", "Hate it all"}}}
	for _, w := range []Where{AtUserContent, AtFront} {
		p, err := tmpl.SteerPair(enc, plus, minus, pad, w)
		if err != nil {
			t.Fatalf("%v: %v", w, err)
		}
		if len(p.Plus.IDs) != len(p.Minus.IDs) {
			t.Errorf("%v: sides differ in length: %q vs %q", w, enc.decode(p.Plus.IDs), enc.decode(p.Minus.IDs))
		}
		header := len(enc.Encode("<|bos|><|turn|>user\n"))
		wantStart, wantLen := header, 3
		if w == AtFront {
			wantStart, wantLen = 0, header+3
		}
		if p.Plus.Start != wantStart || p.Minus.Start != wantStart || p.Len != wantLen {
			t.Errorf("%v: start %d/%d len %d, want start %d len %d", w, p.Plus.Start, p.Minus.Start, p.Len, wantStart, wantLen)
		}
		got := enc.decode(p.Plus.IDs[header : header+3])
		if !slices.Equal(got, []string{"Love", " ", " "}) {
			t.Errorf("%v: padded plus content %q", w, got)
		}
		if got := enc.decode(p.Plus.IDs[header+3:]); !slices.Equal(got, []string{"<|end|>", "\n"}) {
			t.Errorf("%v: the end of turn must follow the padding, got %q", w, got)
		}
		s, _ := p.Plus.LastUser(plus.Messages)
		if s.Len() != 3 {
			t.Errorf("%v: the padded span is %d tokens, want 3", w, s.Len())
		}
	}
	if _, err := tmpl.SteerPair(enc, plus, minus, nil, AtUserContent); err == nil {
		t.Error("contents of different lengths and no pad: want an error")
	}
	withSystem := Prompt{Messages: []Message{{"system", "Be kind."}, {"user", "Hate"}}}
	if _, err := tmpl.SteerPair(enc, plus, withSystem, pad, AtFront); err == nil {
		t.Error("front positions with different headers: want an error")
	}
	if _, err := tmpl.SteerPair(enc, plus, withSystem, pad, AtUserContent); err != nil {
		t.Errorf("user-content positions with different headers: %v", err)
	}
	s, err := tmpl.SteerPrompt(enc, Prompt{Messages: conversation(true), Options: Options{AddGenerationPrompt: true}}, AtUserContent)
	if err != nil {
		t.Fatal(err)
	}
	if got := enc.decode(s.IDs[s.Start : s.Start+2]); !slices.Equal(got, []string{"Tell", " me"}) {
		t.Errorf("SteerPrompt starts at %q, want the last user content", got)
	}
}

// bosEncoder adds BOS to every encoding, as a tokenizer called with add_special_tokens=True.
type bosEncoder struct{ *wordEncoder }

func (e bosEncoder) Encode(text string) []int {
	return append([]int{e.id("<|bos|>")}, e.wordEncoder.Encode(text)...)
}

func TestTokenizeRefusesAnEncoderThatAddsBOS(t *testing.T) {
	tmpl := loadTurns(t)
	_, err := tmpl.Tokenize(bosEncoder{newWordEncoder("<|bos|>")}, conversation(false), Options{})
	if err == nil || !strings.Contains(err.Error(), "without special tokens") {
		t.Errorf("want an error about added special tokens, got %v", err)
	}
	if _, err := tmpl.Tokenize(nil, conversation(false), Options{}); err == nil {
		t.Error("a nil Encoder: want an error")
	}
}
