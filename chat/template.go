// Package chat renders the Jinja chat templates of instruction-tuned checkpoints in Go, as
// Hugging Face's apply_chat_template does, and finds where each message's content lands in the
// rendered text and its tokens, so that ActAdd can take and add a steering vector at the
// positions of a user message rather than at the template's header tokens.
//
// Templates run on github.com/ardanlabs/jinja, a Jinja engine written for chat templates: it
// applies Hugging Face's environment settings (trim_blocks, lstrip_blocks), knows
// raise_exception, namespace, loop, Python string methods, slicing and tojson. Its output was
// checked against @huggingface/jinja, the JavaScript engine of transformers.js, and against
// Python's Jinja2 set up as transformers sets it up, for the templates of Llama 2 and 3.x,
// Mistral, Qwen2.5, Qwen3, SmolLM2, Gemma 2 and 3 (TestMatchesHuggingFaceJinja;
// docs/chat-templates.md says where it differs).
//
// The template sees what apply_chat_template passes with tools and documents left out:
// messages, add_generation_prompt, tools = none, documents = none, the special tokens
// (bos_token, eos_token, ...; additional_special_tokens) and any extra keyword arguments
// (Options.Vars, e.g. enable_thinking for Qwen3 or date_string for Llama 3.1).
package chat

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user" or "assistant" (some templates accept others)
	Content string
}

// Template is a compiled chat template together with the special tokens it is rendered with.
// A Template is safe for concurrent use.
type Template struct {
	source  string
	tmpl    *jinja.Template
	special map[string]string
	extra   []string
}

// MaxTemplateBytes bounds the size of a template source New accepts; real chat templates are
// a few KiB (the largest of today's families about 20 KiB).
const MaxTemplateBytes = 1 << 20

// New compiles a chat template. special holds the special tokens by name (bos_token,
// eos_token, ...) as Config.SpecialTokens does; additional is additional_special_tokens.
func New(source string, special map[string]string, additional []string) (*Template, error) {
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("chat: the chat template is empty (base checkpoints have none: render prompts as plain text)")
	}
	if len(source) > MaxTemplateBytes {
		return nil, fmt.Errorf("chat: the chat template is %d bytes, over the %d this package accepts", len(source), MaxTemplateBytes)
	}
	t, err := compile(source)
	if err != nil {
		return nil, fmt.Errorf("chat: the chat template does not parse: %w", err)
	}
	return &Template{source: source, tmpl: t, special: maps.Clone(special), extra: append([]string(nil), additional...)}, nil
}

// Compile compiles the config's default chat template with its special tokens.
func (c *Config) Compile() (*Template, error) {
	if c.Template == "" {
		if len(c.Named) > 0 {
			names := slices.Sorted(maps.Keys(c.Named))
			return nil, fmt.Errorf("chat: the checkpoint lists chat templates %q but none named \"default\"; compile one with chat.New(cfg.Named[name], ...)", names)
		}
		return nil, errors.New("chat: the checkpoint has no chat template (a base model?): render prompts as plain text")
	}
	return New(c.Template, c.SpecialTokens, c.AdditionalSpecialTokens)
}

// Source returns the template's Jinja source.
func (t *Template) Source() string { return t.source }

// SpecialToken returns the text of a special token by name ("bos_token", ...) and whether the
// checkpoint sets it.
func (t *Template) SpecialToken(name string) (string, bool) {
	s, ok := t.special[name]
	return s, ok
}

// Options are the arguments of a rendering besides the messages.
type Options struct {
	// AddGenerationPrompt appends the header of the assistant's turn (add_generation_prompt).
	AddGenerationPrompt bool
	// Vars are extra template variables, as keyword arguments to apply_chat_template
	// (enable_thinking, date_string, ...). They may override the special tokens but not
	// messages, add_generation_prompt, tools or documents.
	Vars map[string]any
	// Now is the clock of strftime_now (Llama 3.1 and later print today's date into the
	// system turn); nil means time.Now, as in transformers. Set it, or Vars["date_string"],
	// for renderings that must not depend on the day they run.
	Now func() time.Time
}

// reserved are the variables Render sets itself.
var reserved = []string{"messages", "add_generation_prompt", "tools", "documents"}

// Render renders the conversation through the template and returns the text, as
// apply_chat_template(messages, tokenize=False, add_generation_prompt=...) does.
// A template's raise_exception (e.g. "Conversation roles must alternate") is returned as an
// error.
func (t *Template) Render(messages []Message, opt Options) (string, error) {
	data, err := t.data(messages, opt)
	if err != nil {
		return "", err
	}
	out, err := execute(t.tmpl, data)
	if err != nil {
		return "", fmt.Errorf("chat: rendering the chat template: %w", err)
	}
	return out, nil
}

func (t *Template) data(messages []Message, opt Options) (map[string]jinja.Value, error) {
	for _, k := range reserved {
		if _, ok := opt.Vars[k]; ok {
			return nil, fmt.Errorf("chat: Options.Vars may not set %q; it is set from the arguments", k)
		}
	}
	data := make(map[string]jinja.Value, len(t.special)+len(opt.Vars)+6)
	for k, v := range t.special {
		data[k] = jinja.NewString(v)
	}
	if t.extra != nil {
		items := make([]jinja.Value, len(t.extra))
		for i, s := range t.extra {
			items[i] = jinja.NewString(s)
		}
		data["additional_special_tokens"] = jinja.NewList(items)
	}
	for k, v := range opt.Vars {
		data[k] = jinja.FromGoValue(v)
	}
	msgs := make([]jinja.Value, len(messages))
	for i, m := range messages {
		d := jinja.NewDict()
		// Keys in the order Python's dict literal {"role": ..., "content": ...} keeps them,
		// which matters to templates that iterate a message's items.
		d.AsDict().Set("role", jinja.NewString(m.Role))
		d.AsDict().Set("content", jinja.NewString(m.Content))
		msgs[i] = d
	}
	data["messages"] = jinja.NewList(msgs)
	data["add_generation_prompt"] = jinja.NewBool(opt.AddGenerationPrompt)
	data["tools"] = jinja.None()
	data["documents"] = jinja.None()
	if opt.Now != nil {
		data["strftime_now"] = jinja.NewCallable("strftime_now", strftimeNow(opt.Now))
	}
	return data, nil
}

// errEnginePanic marks a panic inside the Jinja engine, returned as an error.
var errEnginePanic = errors.New("the Jinja engine panicked (a bug in github.com/ardanlabs/jinja: report the template)")

// compile and execute turn a panic of the Jinja engine into an error, so that a template read
// from a checkpoint cannot take the program down that way. (A macro that calls itself without
// end still can: the engine has no recursion limit, and Go's stack overflow cannot be
// recovered; see docs/chat-templates.md.)
func compile(source string) (t *jinja.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: %v", errEnginePanic, r)
		}
	}()
	return jinja.Compile(source)
}

func execute(t *jinja.Template, data map[string]jinja.Value) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: %v", errEnginePanic, r)
		}
	}()
	return t.RenderValues(data)
}
