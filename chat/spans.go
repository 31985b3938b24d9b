package chat

import (
	"errors"
	"fmt"
	"strings"
)

// Encoder turns rendered chat text into token ids. Encode must not add special tokens of its
// own (the template writes BOS where the model wants it: apply_chat_template encodes with
// add_special_tokens=False) and must turn the text of the checkpoint's special and added
// tokens ("<|im_start|>", "<start_of_turn>", ...) into their ids, as Hugging Face tokenizers
// do by default.
type Encoder interface {
	Encode(text string) []int
}

// Span is where one message's content landed in a rendering: bytes [TextStart, TextEnd) of
// the text and tokens [TokenStart, TokenEnd) of the ids. The text span holds the content as
// the template wrote it (after any trim or strip the template applies). The token span holds
// every token with at least one byte of that text, so a token that merges template text and
// content across the boundary (SentencePiece's "▁Tell" after Mistral's "[INST] ") counts as
// content.
type Span struct {
	Message              int // index into the messages
	TextStart, TextEnd   int
	TokenStart, TokenEnd int
}

// Len returns the number of tokens in the span.
func (s Span) Len() int { return s.TokenEnd - s.TokenStart }

// Rendered is a conversation rendered through a template and encoded.
type Rendered struct {
	Text string
	IDs  []int
	// Spans has one entry per message whose content appears in the text, in message order.
	// A message the template drops (a system message a template ignores) has none.
	Spans []Span
}

// Span returns the span of message i's content, or an error when the template did not write
// that content.
func (r *Rendered) Span(i int) (Span, error) {
	for _, s := range r.Spans {
		if s.Message == i {
			return s, nil
		}
	}
	return Span{}, fmt.Errorf("chat: message %d's content does not appear in the rendered chat", i)
}

// LastUser returns the span of the last user message's content: where ActAdd's user-content
// positions start.
func (r *Rendered) LastUser(messages []Message) (Span, error) {
	for i := len(messages) - 1; i >= 0; i-- {
		if messages[i].Role == "user" {
			return r.Span(i)
		}
	}
	return Span{}, errors.New("chat: the conversation has no user message")
}

// Markers around a message's content while locating it: code points of Unicode's private use
// area, which no template trims, strips or tests for, and which no real message holds.
const (
	markOpen  = "\U000F0001"
	markClose = "\U000F0002"
)

// Locate renders the conversation and returns the text with the span of each message's
// content (the token fields are left zero). It finds message i by rendering again with its
// content wrapped in private-use markers: the text before the opening marker must equal the
// plain rendering's start and the text after the closing marker its end, and what lies
// between them in the plain rendering is the content as the template wrote it. A template
// that treats marked content differently (one that tests what a message starts with) or
// writes a content twice makes these checks fail, and Locate says so rather than guess: what
// the plain rendering holds between that start and end must be the content as the marked
// rendering wrote it, less whitespace trimmed off its ends.
func (t *Template) Locate(messages []Message, opt Options) (string, []Span, error) {
	text, err := t.Render(messages, opt)
	if err != nil {
		return "", nil, err
	}
	for i, m := range messages {
		if strings.Contains(m.Content, markOpen) || strings.Contains(m.Content, markClose) {
			return "", nil, fmt.Errorf("chat: message %d holds the private-use code points U+F0001/U+F0002 that Locate uses as markers", i)
		}
	}
	var spans []Span
	marked := make([]Message, len(messages))
	for i := range messages {
		copy(marked, messages)
		marked[i].Content = markOpen + messages[i].Content + markClose
		mt, err := t.Render(marked, opt)
		if err != nil {
			return "", nil, fmt.Errorf("chat: rendering with message %d marked: %w", i, err)
		}
		n := strings.Count(mt, markOpen)
		if n == 0 && strings.Count(mt, markClose) == 0 {
			continue // the template does not write this message
		}
		if n != 1 || strings.Count(mt, markClose) != 1 {
			return "", nil, fmt.Errorf("chat: message %d's content is written %d times (or cut) by the template; name its positions yourself", i, n)
		}
		a := strings.Index(mt, markOpen)
		b := strings.Index(mt, markClose)
		if b < a {
			return "", nil, fmt.Errorf("chat: the template reorders message %d's content; name its positions yourself", i)
		}
		prefix, suffix := mt[:a], mt[b+len(markClose):]
		if !strings.HasPrefix(text, prefix) || !strings.HasSuffix(text, suffix) || len(prefix)+len(suffix) > len(text) {
			return "", nil, fmt.Errorf("chat: the template renders message %d differently when its content is marked (does it test the content?); name its positions yourself", i)
		}
		// What the plain rendering holds in place of the marked content must be that content
		// as written between the markers, less whitespace a trim or strip took off its ends.
		inner, middle := mt[a+len(markOpen):b], text[len(prefix):len(text)-len(suffix)]
		k := strings.Index(inner, middle)
		if k < 0 || strings.TrimSpace(inner[:k]) != "" || strings.TrimSpace(inner[k+len(middle):]) != "" {
			return "", nil, fmt.Errorf("chat: the template renders message %d differently when its content is marked (does it test the content?); name its positions yourself", i)
		}
		spans = append(spans, Span{Message: i, TextStart: len(prefix), TextEnd: len(text) - len(suffix)})
	}
	return text, spans, nil
}

// Tokenize renders the conversation, encodes it with enc and locates each message's content
// in the text and the tokens. The token span of a text span [a, b) is found from the
// encodings of text[:a] and text[:b]: it starts at the first token where enc(text[:a]) and
// the full encoding differ, and ends after the last token that holds a byte before b.
func (t *Template) Tokenize(enc Encoder, messages []Message, opt Options) (*Rendered, error) {
	if enc == nil {
		return nil, errors.New("chat: Tokenize needs an Encoder (the checkpoint's tokenizer)")
	}
	if extra := enc.Encode(""); len(extra) > 0 {
		return nil, fmt.Errorf("chat: the Encoder turns empty text into %v: it adds special tokens (BOS?), but the chat template writes them itself; encode without special tokens", extra)
	}
	text, spans, err := t.Locate(messages, opt)
	if err != nil {
		return nil, err
	}
	ids := enc.Encode(text)
	for k := range spans {
		s := &spans[k]
		s.TokenStart = commonPrefix(ids, enc.Encode(text[:s.TextStart]))
		upTo := enc.Encode(text[:s.TextEnd])
		end := commonPrefix(ids, upTo)
		if end < len(upTo) {
			// ids[end] straddles the end of the content: it holds some of its bytes.
			end = min(end+1, len(ids))
		}
		if s.TextEnd == s.TextStart {
			end = s.TokenStart
		}
		s.TokenEnd = max(end, s.TokenStart)
	}
	return &Rendered{Text: text, IDs: ids, Spans: spans}, nil
}

func commonPrefix(a, b []int) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
