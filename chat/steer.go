package chat

import (
	"errors"
	"fmt"
	"slices"
)

// Where names the positions at which ActAdd takes a steering vector from a prompt pair and
// adds it to a prompt, once both are rendered through a chat template.
type Where int

const (
	// AtFront is ActAdd's own choice: positions 0, 1, ... of the rendered prompt, that is BOS
	// and the template's header before the user's words (docs/chat-templates.md lists these
	// tokens per family). Where the pair's members share that header, their residual streams
	// are equal there (causal attention), so the vector is zero at those positions and its
	// first nonzero position is the first token of the user's content.
	AtFront Where = iota
	// AtUserContent starts at the first token of the last user message's content, in the pair
	// and in the prompt alike: the vector is taken from the user's words, not from the
	// template's header, and added where the prompt's user words begin.
	AtUserContent
)

func (w Where) String() string {
	switch w {
	case AtFront:
		return "front"
	case AtUserContent:
		return "user-content"
	}
	return fmt.Sprintf("Where(%d)", int(w))
}

// Start returns the first position w names in a rendering of messages.
func (r *Rendered) Start(w Where, messages []Message) (int, error) {
	switch w {
	case AtFront:
		return 0, nil
	case AtUserContent:
		s, err := r.LastUser(messages)
		if err != nil {
			return 0, err
		}
		return s.TokenStart, nil
	}
	return 0, fmt.Errorf("chat: unknown positions %v (use AtFront or AtUserContent)", w)
}

// Prompt is an ActAdd prompt, or one side of a prompt pair, given as chat messages.
type Prompt struct {
	Messages []Message
	Options  Options
}

// Steered is a prompt rendered for steering: its token ids and the position at which the
// vector's first position is added.
type Steered struct {
	*Rendered
	Start int
}

// SteerPrompt renders p through the template and returns its ids with the position where the
// vector starts.
func (t *Template) SteerPrompt(enc Encoder, p Prompt, w Where) (Steered, error) {
	r, err := t.Tokenize(enc, p.Messages, p.Options)
	if err != nil {
		return Steered{}, err
	}
	start, err := r.Start(w, p.Messages)
	if err != nil {
		return Steered{}, err
	}
	return Steered{Rendered: r, Start: start}, nil
}

// Pair is a prompt pair rendered for steering: the ids of both sides, padded so that the
// positions [Start, Start+Len) of each hold the vector's positions.
type Pair struct {
	Plus, Minus Steered
	// Len is the number of positions of the vector: from Start to the end of the longer side's
	// last user content. The shorter side is padded there with pad ids.
	Len int
}

// SteerPair renders both sides of a pair and pads the shorter last user content with the pad
// ids (one pad unit, e.g. the tokenizer's single-space token; the pair's padding is the
// tokenizer's to define) until both contents have the same number of tokens, inserting the
// padding right after the content, before the template's end-of-turn tokens. Both sides must
// render the same tokens before their user content when w is AtFront, or the vector's
// positions would not line up.
func (t *Template) SteerPair(enc Encoder, plus, minus Prompt, pad []int, w Where) (Pair, error) {
	var sides [2]Steered
	var spans [2]Span
	for i, p := range [2]Prompt{plus, minus} {
		s, err := t.SteerPrompt(enc, p, AtUserContent)
		if err != nil {
			return Pair{}, fmt.Errorf("chat: side %d of the pair: %w", i, err)
		}
		sp, err := s.LastUser(p.Messages)
		if err != nil {
			return Pair{}, err
		}
		sides[i], spans[i] = s, sp
	}
	n := max(spans[0].Len(), spans[1].Len())
	for i := range sides {
		missing := n - spans[i].Len()
		if missing == 0 {
			continue
		}
		if len(pad) == 0 {
			return Pair{}, errors.New("chat: the pair's user contents differ in length and no pad ids were given")
		}
		if missing%len(pad) != 0 {
			return Pair{}, fmt.Errorf("chat: cannot pad %d tokens with a %d-token pad unit", missing, len(pad))
		}
		r := *sides[i].Rendered
		at := spans[i].TokenEnd
		padding := make([]int, 0, missing)
		for len(padding) < missing {
			padding = append(padding, pad...)
		}
		r.IDs = slices.Insert(slices.Clone(r.IDs), at, padding...)
		r.Spans = slices.Clone(r.Spans)
		for k := range r.Spans {
			if r.Spans[k].TokenStart >= at && r.Spans[k].Message != spans[i].Message {
				r.Spans[k].TokenStart += missing
				r.Spans[k].TokenEnd += missing
			}
			if r.Spans[k].Message == spans[i].Message {
				r.Spans[k].TokenEnd += missing
			}
		}
		sides[i].Rendered = &r
	}
	pair := Pair{Plus: sides[0], Minus: sides[1]}
	switch w {
	case AtUserContent:
		pair.Len = n
	case AtFront:
		if !slices.Equal(sides[0].IDs[:spans[0].TokenStart], sides[1].IDs[:spans[1].TokenStart]) {
			return Pair{}, errors.New("chat: the pair's sides render different tokens before their user content, so front positions do not line up; give both the same system message and options, or use AtUserContent")
		}
		pair.Plus.Start, pair.Minus.Start = 0, 0
		pair.Len = spans[0].TokenStart + n
	default:
		return Pair{}, fmt.Errorf("chat: unknown positions %v (use AtFront or AtUserContent)", w)
	}
	return pair, nil
}
