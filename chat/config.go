package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Config is what a checkpoint says about its chat format: the chat template(s) and the special
// tokens that Hugging Face's apply_chat_template passes to the template.
type Config struct {
	// Template is the default chat template ("" when the checkpoint has none, as base models).
	Template string
	// Named holds every template of a checkpoint that lists several ({"name", "template"}
	// pairs, e.g. "default" and "tool_use"); nil when it has a single one.
	Named map[string]string
	// SpecialTokens maps bos_token, eos_token, unk_token, sep_token, pad_token, cls_token and
	// mask_token to their text, for those the file sets (Hugging Face's special_tokens_map).
	SpecialTokens map[string]string
	// AdditionalSpecialTokens is additional_special_tokens, in the file's order.
	AdditionalSpecialTokens []string
	// AddBOS is add_bos_token where the file sets it. It says whether the tokenizer adds BOS to
	// plain text; templates write BOS themselves (bos_token), so rendered chats are encoded
	// without adding special tokens, as apply_chat_template does.
	AddBOS *bool
	// Source names the file the template came from.
	Source string
}

// specialTokenNames are the keys of Hugging Face's SPECIAL_TOKENS_ATTRIBUTES that are single
// tokens; additional_special_tokens is a list and kept apart.
var specialTokenNames = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}

// LoadConfig reads the chat template and special tokens of the checkpoint in dir. The template
// is taken, as recent versions of transformers do, from chat_template.jinja when it exists,
// else from chat_template.json's "chat_template", else from tokenizer_config.json's
// "chat_template". tokenizer_config.json must exist (it holds the special tokens).
func LoadConfig(dir string) (*Config, error) {
	tcPath := filepath.Join(dir, "tokenizer_config.json")
	data, err := os.ReadFile(tcPath)
	if err != nil {
		return nil, fmt.Errorf("chat: reading the checkpoint's tokenizer config: %w (a Hugging Face checkpoint folder holds tokenizer_config.json)", err)
	}
	cfg, err := ParseTokenizerConfig(data)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: %w", tcPath, err)
	}
	if cfg.Template != "" || cfg.Named != nil {
		cfg.Source = tcPath
	}
	if p := filepath.Join(dir, "chat_template.json"); fileExists(p) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		var v struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("chat: %s is not valid JSON: %w", p, err)
		}
		if len(v.ChatTemplate) > 0 {
			def, named, err := parseTemplateField(v.ChatTemplate)
			if err != nil {
				return nil, fmt.Errorf("chat: %s: %w", p, err)
			}
			cfg.Template, cfg.Named, cfg.Source = def, named, p
		}
	}
	if p := filepath.Join(dir, "chat_template.jinja"); fileExists(p) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		cfg.Template, cfg.Named, cfg.Source = string(b), nil, p
	}
	return cfg, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// ParseTokenizerConfig reads the chat template and special tokens from the contents of a
// tokenizer_config.json. Special tokens may be strings or AddedToken objects
// ({"content": "<s>", ...}); chat_template may be a string or a list of {"name", "template"}.
func ParseTokenizerConfig(data []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	cfg := &Config{SpecialTokens: map[string]string{}}
	for _, name := range specialTokenNames {
		v, ok := raw[name]
		if !ok {
			continue
		}
		s, set, err := tokenText(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// special_tokens_map leaves out tokens that are unset or empty.
		if set && s != "" {
			cfg.SpecialTokens[name] = s
		}
	}
	if v, ok := raw["additional_special_tokens"]; ok && string(v) != "null" {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, fmt.Errorf("additional_special_tokens is not a list: %w", err)
		}
		for i, item := range list {
			s, set, err := tokenText(item)
			if err != nil || !set {
				return nil, fmt.Errorf("additional_special_tokens[%d] is not a token: %s", i, item)
			}
			cfg.AdditionalSpecialTokens = append(cfg.AdditionalSpecialTokens, s)
		}
	}
	if v, ok := raw["add_bos_token"]; ok && string(v) != "null" {
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("add_bos_token is not a boolean: %s", v)
		}
		cfg.AddBOS = &b
	}
	if v, ok := raw["chat_template"]; ok {
		def, named, err := parseTemplateField(v)
		if err != nil {
			return nil, err
		}
		cfg.Template, cfg.Named = def, named
	}
	return cfg, nil
}

// tokenText reads a special token written as a string, an AddedToken object or null.
func tokenText(v json.RawMessage) (text string, set bool, err error) {
	if string(v) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(v, &text); err == nil {
		return text, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return "", false, fmt.Errorf("want a string or an object with \"content\", got %s", v)
	}
	return *obj.Content, true, nil
}

// parseTemplateField reads chat_template: a string, or a list of {"name", "template"} whose
// "default" entry is the default template (as transformers picks it when no tools are given).
func parseTemplateField(v json.RawMessage) (def string, named map[string]string, err error) {
	if string(v) == "null" {
		return "", nil, nil
	}
	if err := json.Unmarshal(v, &def); err == nil {
		return def, nil, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return "", nil, errors.New("chat_template is neither a string nor a list of {\"name\", \"template\"}")
	}
	named = map[string]string{}
	for _, e := range list {
		named[e.Name] = e.Template
	}
	// No "default" entry: Template stays empty and the caller picks from Named.
	def = named["default"]
	return def, named, nil
}
