package hftok

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tokenizerFile is the part of Hugging Face's tokenizer.json this package reads. Unknown
// component types are refused when the pipeline is built (see pipeline.go), never ignored.
type tokenizerFile struct {
	Version       string          `json:"version"`
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    *component      `json:"normalizer"`
	PreTokenizer  *component      `json:"pre_tokenizer"`
	PostProcessor *component      `json:"post_processor"`
	Decoder       *component      `json:"decoder"`
	Model         modelSection    `json:"model"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// component is any normalizer, pre-tokenizer, post-processor or decoder: a "type" and that
// type's fields. Fields of the types this package does not implement are never read.
type component struct {
	Type string `json:"type"`

	// Sequence members.
	Normalizers   []*component `json:"normalizers"`
	PreTokenizers []*component `json:"pretokenizers"`
	Processors    []*component `json:"processors"`
	Decoders      []*component `json:"decoders"`

	// Prepend (normalizer).
	Prepend string `json:"prepend"`
	// Replace (normalizer, decoder); Split (pre-tokenizer).
	Pattern *pattern `json:"pattern"`
	Content string   `json:"content"`
	// Split.
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
	// ByteLevel.
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	TrimOffsets    *bool `json:"trim_offsets"`
	// Metaspace.
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	Split         *bool  `json:"split"`
	// Digits.
	IndividualDigits bool `json:"individual_digits"`
	// Strip (decoder).
	Start int `json:"start"`
	Stop  int `json:"stop"`
	// TemplateProcessing.
	Single        []templateItem                  `json:"single"`
	SpecialTokens map[string]templateSpecialToken `json:"special_tokens"`
}

type pattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type templateItem struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

type templateSpecialToken struct {
	ID  string `json:"id"`
	IDs []int  `json:"ids"`
}

type modelSection struct {
	Type                    string          `json:"type"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Dropout                 *float64        `json:"dropout"`
}

// parseMerges reads the merges in either of the two layouts tokenizers writes: "a b" strings
// (older files) or ["a", "b"] pairs (newer files, whose tokens may contain spaces).
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var asStrings []string
	if err := json.Unmarshal(raw, &asStrings); err == nil {
		out := make([][2]string, len(asStrings))
		for i, m := range asStrings {
			a, b, ok := strings.Cut(m, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merge %d %q is not two tokens separated by one space", i, m)
			}
			out[i] = [2]string{a, b}
		}
		return out, nil
	}
	var asPairs [][]string
	if err := json.Unmarshal(raw, &asPairs); err != nil {
		return nil, fmt.Errorf("model.merges is neither a list of \"a b\" strings nor a list of [a, b] pairs: %w", err)
	}
	out := make([][2]string, len(asPairs))
	for i, p := range asPairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}

// tokenizerConfig is the part of tokenizer_config.json this package reads.
type tokenizerConfig struct {
	TokenizerClass string          `json:"tokenizer_class"`
	AddBOSToken    *bool           `json:"add_bos_token"`
	AddEOSToken    *bool           `json:"add_eos_token"`
	AddPrefixSpace *bool           `json:"add_prefix_space"`
	BOSToken       json.RawMessage `json:"bos_token"`
	EOSToken       json.RawMessage `json:"eos_token"`
	PadToken       json.RawMessage `json:"pad_token"`
	UnkToken       json.RawMessage `json:"unk_token"`
}

// tokenName reads a special token as tokenizer_config.json writes it: a string, an
// AddedToken object {"content": ...}, or null.
func tokenName(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("want a string or an object with \"content\", got %.60s", raw)
	}
	return obj.Content, nil
}

// modelConfig is the part of config.json (and generation_config.json) this package reads:
// the model's own BOS and EOS ids. eos_token_id may be one id or a list.
type modelConfig struct {
	BOSTokenID json.RawMessage `json:"bos_token_id"`
	EOSTokenID json.RawMessage `json:"eos_token_id"`
}

// idList reads an id field that is null, one integer or a list of integers.
func idList(raw json.RawMessage) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want an integer or a list of integers, got %.60s", raw)
	}
	return many, nil
}
