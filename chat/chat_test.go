package chat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadTurns(t testing.TB) *Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "turns.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := New(string(src), map[string]string{"bos_token": "<|bos|>", "eos_token": "<|end|>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func conversation(system bool) []Message {
	var m []Message
	if system {
		m = append(m, Message{"system", "  Be brief.\n"})
	}
	return append(m,
		Message{"user", " I went up to my friend and said "},
		Message{"assistant", "Hello!\n"},
		Message{"user", "Tell me about weddings."})
}

// The expected texts below are written from reading turns.jinja, not from running it.
func TestRenderTurns(t *testing.T) {
	tmpl := loadTurns(t)
	const body = "<|turn|>user\nI went up to my friend and said<|end|>\n" +
		"<|turn|>assistant\nHello!<|end|>\n" +
		"<|turn|>user\nTell me about weddings.<|end|>\n"
	const bodySys = "<|turn|>user\n[Be brief.]\nI went up to my friend and said<|end|>\n" +
		"<|turn|>assistant\nHello!<|end|>\n" +
		"<|turn|>user\nTell me about weddings.<|end|>\n"
	for _, c := range []struct {
		name      string
		system    bool
		gen       bool
		want      string
		wantError string
	}{
		{"plain", false, false, "<|bos|>" + body, ""},
		{"generation prompt", false, true, "<|bos|>" + body + "<|turn|>assistant\n", ""},
		{"system", true, false, "<|bos|>" + bodySys, ""},
		{"system and generation prompt", true, true, "<|bos|>" + bodySys + "<|turn|>assistant\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := tmpl.Render(conversation(c.system), Options{AddGenerationPrompt: c.gen})
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
	got, err := tmpl.Render([]Message{{"user", "/raw  keep  "}}, Options{})
	if err != nil || got != "<|bos|><|turn|>user\n keep  <|end|>\n" {
		t.Errorf("startswith and slicing: got %q, %v", got, err)
	}
}

func TestRenderRaisesTemplateErrors(t *testing.T) {
	tmpl := loadTurns(t)
	_, err := tmpl.Render([]Message{{"user", "a"}, {"user", "b"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "Conversation roles must alternate") {
		t.Errorf("two user turns in a row: want the template's raise_exception, got %v", err)
	}
	_, err = tmpl.Render([]Message{{"system", "s"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "no user message") {
		t.Errorf("no user message: want the template's raise_exception, got %v", err)
	}
	if _, err := tmpl.Render(conversation(false), Options{Vars: map[string]any{"messages": nil}}); err == nil {
		t.Error("Vars overriding messages: want an error")
	}
	if _, err := New("{% for %}", nil, nil); err == nil {
		t.Error("a template that does not parse: want an error")
	}
	if _, err := New("  ", nil, nil); err == nil {
		t.Error("an empty template: want an error")
	}
}

func TestRenderVarsAndClock(t *testing.T) {
	tmpl, err := New(`{{ strftime_now("%d %b %Y") }}|{{ date_string }}|{{ enable_thinking }}|{{ bos_token }}`,
		map[string]string{"bos_token": "<s>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2024, time.July, 5, 10, 0, 0, 0, time.UTC) }
	got, err := tmpl.Render(nil, Options{Now: now, Vars: map[string]any{"date_string": "26 Jul 2024", "enable_thinking": false, "bos_token": "<B>"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "05 Jul 2024|26 Jul 2024|False|<B>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := strftime(now(), "%Y-%m-%d %H:%M %A %j %% %q"); got != "2024-07-05 10:00 Friday 187 % %q" {
		t.Errorf("strftime: got %q", got)
	}
}

func TestParseTokenizerConfig(t *testing.T) {
	cfg, err := LoadConfig("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SpecialTokens["bos_token"] != "<|bos|>" || cfg.SpecialTokens["eos_token"] != "<|end|>" ||
		cfg.SpecialTokens["unk_token"] != "<|unk|>" {
		t.Errorf("special tokens: %v", cfg.SpecialTokens)
	}
	if _, ok := cfg.SpecialTokens["pad_token"]; ok {
		t.Error("pad_token null must be left out, as special_tokens_map does")
	}
	if cfg.AddBOS == nil || *cfg.AddBOS {
		t.Errorf("add_bos_token: %v", cfg.AddBOS)
	}
	if len(cfg.AdditionalSpecialTokens) != 1 || cfg.AdditionalSpecialTokens[0] != "<|turn|>" {
		t.Errorf("additional_special_tokens: %v", cfg.AdditionalSpecialTokens)
	}
	tmpl, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render([]Message{{"user", "Hi"}}, Options{AddGenerationPrompt: true})
	if want := "<|bos|><|turn|>user\nHi<|end|>\n<|turn|>assistant\n"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}

	named, err := ParseTokenizerConfig([]byte(`{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}`))
	if err != nil || named.Template != "D" || named.Named["tool_use"] != "T" {
		t.Errorf("a list of templates: %+v, %v", named, err)
	}
	noDefault, err := ParseTokenizerConfig([]byte(`{"chat_template": [{"name": "rag", "template": "R"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noDefault.Compile(); err == nil || !strings.Contains(err.Error(), "rag") {
		t.Errorf("no default template: want an error naming the templates, got %v", err)
	}
	base, err := ParseTokenizerConfig([]byte(`{"bos_token": "<s>", "eos_token": "", "additional_special_tokens": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := base.SpecialTokens["eos_token"]; ok || base.AdditionalSpecialTokens != nil {
		t.Errorf("an empty eos_token and an empty list must be left out, as special_tokens_map does: %+v", base)
	}
	if _, err := base.Compile(); err == nil {
		t.Error("no template: want an error")
	}
	for _, bad := range []string{`[]`, `{"bos_token": 3}`, `{"chat_template": 3}`, `{"additional_special_tokens": "x"}`} {
		if _, err := ParseTokenizerConfig([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tokenizer_config.json", `{"eos_token": "</s>", "chat_template": "from tokenizer_config"}`)
	check := func(want, file string) {
		t.Helper()
		cfg, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Template != want || filepath.Base(cfg.Source) != file || cfg.SpecialTokens["eos_token"] != "</s>" {
			t.Errorf("got template %q from %s, want %q from %s", cfg.Template, cfg.Source, want, file)
		}
	}
	check("from tokenizer_config", "tokenizer_config.json")
	write("chat_template.json", `{"chat_template": "from chat_template.json"}`)
	check("from chat_template.json", "chat_template.json")
	write("chat_template.jinja", "from chat_template.jinja")
	check("from chat_template.jinja", "chat_template.jinja")
	if _, err := LoadConfig(t.TempDir()); err == nil {
		t.Error("a folder without tokenizer_config.json: want an error")
	}
}

func TestRenderConcurrently(t *testing.T) {
	tmpl := loadTurns(t)
	want, err := tmpl.Render(conversation(true), Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for range 20 {
				got, err := tmpl.Render(conversation(true), Options{AddGenerationPrompt: true})
				if err != nil || got != want {
					errs <- fmt.Sprintf("got %q, %v", got, err)
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
