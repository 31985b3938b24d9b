package hftok

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoder turns token strings back into text pieces, as tokenizers' decode_chain does. first
// is false when the tokens continue a text (DecodeToken): then the steps that act only at the
// start of a text (Metaspace's prefix removal, Strip) are skipped. Strings hold raw bytes:
// ByteLevel and ByteFallback can produce bytes that are not valid UTF-8 on their own.
type decoder func(tokens []string, first bool) []string

func buildDecoder(c *component) (decoder, error) {
	if c == nil {
		// tokenizers joins the tokens with spaces when the file has no decoder.
		return func(t []string, _ bool) []string { return []string{strings.Join(t, " ")} }, nil
	}
	switch c.Type {
	case "Sequence":
		var steps []decoder
		for i, sub := range c.Decoders {
			d, err := buildDecoder(sub)
			if err != nil {
				return nil, fmt.Errorf("decoders[%d]: %w", i, err)
			}
			steps = append(steps, d)
		}
		return func(t []string, first bool) []string {
			for _, d := range steps {
				t = d(t, first)
			}
			return t
		}, nil
	case "ByteLevel":
		return func(t []string, _ bool) []string {
			var b strings.Builder
			for _, tok := range t {
				b.WriteString(fromByteLevel(tok))
			}
			return []string{b.String()}
		}, nil
	case "Replace":
		rep, err := buildReplace(c)
		if err != nil {
			return nil, fmt.Errorf("Replace decoder: %w", err)
		}
		return func(t []string, _ bool) []string {
			out := make([]string, len(t))
			for i, tok := range t {
				out[i] = rep(tok)
			}
			return out
		}, nil
	case "ByteFallback":
		return func(t []string, _ bool) []string {
			out := make([]string, 0, len(t))
			var bytes []byte
			for _, tok := range t {
				if b, ok := byteToken(tok); ok {
					bytes = append(bytes, b)
					continue
				}
				if len(bytes) > 0 {
					out = append(out, string(bytes))
					bytes = bytes[:0]
				}
				out = append(out, tok)
			}
			if len(bytes) > 0 {
				out = append(out, string(bytes))
			}
			return out
		}, nil
	case "Fuse":
		return func(t []string, _ bool) []string { return []string{strings.Join(t, "")} }, nil
	case "Strip":
		if utf8.RuneCountInString(c.Content) != 1 {
			return nil, fmt.Errorf("Strip decoder content %q is not one character", c.Content)
		}
		ch := c.Content
		start, stop := c.Start, c.Stop
		return func(t []string, first bool) []string {
			if !first {
				return t
			}
			out := make([]string, len(t))
			for i, tok := range t {
				for k := 0; k < start && strings.HasPrefix(tok, ch); k++ {
					tok = tok[len(ch):]
				}
				for k := 0; k < stop && strings.HasSuffix(tok, ch); k++ {
					tok = tok[:len(tok)-len(ch)]
				}
				out[i] = tok
			}
			return out
		}, nil
	case "Metaspace":
		rep := c.Replacement
		if utf8.RuneCountInString(rep) != 1 {
			return nil, fmt.Errorf("Metaspace decoder replacement %q is not one character", rep)
		}
		scheme := c.PrependScheme
		if scheme == "" {
			scheme = "never"
			if c.AddPrefixSpace == nil || *c.AddPrefixSpace {
				scheme = "always"
			}
		}
		return func(t []string, first bool) []string {
			out := make([]string, len(t))
			for i, tok := range t {
				// tokenizers drops every replacement character of the first token (not only
				// a leading one) when a prefix was prepended.
				if i == 0 && first && scheme != "never" {
					out[i] = strings.ReplaceAll(tok, rep, "")
				} else {
					out[i] = strings.ReplaceAll(tok, rep, " ")
				}
			}
			return out
		}, nil
	default:
		return nil, fmt.Errorf("decoder type %q is not implemented (implemented: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)", c.Type)
	}
}

// fromByteLevel maps ByteLevel runes back to bytes. A token with a rune outside the ByteLevel
// alphabet (an added token such as "<|begin_of_text|>" is all inside it) is kept as it is.
func fromByteLevel(tok string) string {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := byteLevelInverse[r]
		if !ok {
			return tok
		}
		out = append(out, b)
	}
	return string(out)
}

// byteToken reads a byte-fallback token "<0xNN>".
func byteToken(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range tok[3:5] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = byte(c - '0')
		case c >= 'A' && c <= 'F':
			d = byte(c-'A') + 10
		case c >= 'a' && c <= 'f':
			d = byte(c-'a') + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}
