package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// A template can loop without end or grow a string exponentially ({% set a = a + a %} in a
// row), and a macro that calls itself without end overflows Go's stack, which no recover
// catches. So FuzzTemplate parses in the test process (parsing is bounded by the source's
// length) but renders in a child process that is killed after childTimeout and stops itself
// past childMemory bytes of heap. FuzzMessages renders in process: its templates are fixed,
// and real chat templates loop only over the messages.
const (
	childEnv     = "ACTADD_CHAT_FUZZ_CHILD"
	childTimeout = 5 * time.Second
	childMemory  = 128 << 20
	exitMemory   = 3
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(renderChild())
	}
	os.Exit(m.Run())
}

type childRequest struct {
	Template string    `json:"template"`
	Messages []Message `json:"messages"`
	Gen      bool      `json:"gen"`
}

type childResult struct {
	Text  string `json:"text"`
	Error string `json:"error"`
}

// renderChild renders the request on its standard input and writes the result.
func renderChild() int {
	// Overflow a runaway recursion at 64 MiB of stack rather than Go's 1 GiB.
	debug.SetMaxStack(64 << 20)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			if sample[0].Value.Uint64() > childMemory {
				fmt.Fprintf(os.Stderr, "heap over %d bytes\n", childMemory)
				os.Exit(exitMemory)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var req childRequest
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var res childResult
	tmpl, err := New(req.Template, map[string]string{"bos_token": "<s>", "eos_token": "</s>"}, nil)
	if err == nil {
		res.Text, err = tmpl.Render(req.Messages, Options{AddGenerationPrompt: req.Gen, Now: fixedNow})
	}
	if err != nil {
		res.Error = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 2
	}
	return 0
}

func fixedNow() time.Time { return time.Date(2024, time.July, 26, 12, 0, 0, 0, time.UTC) }

// renderBounded renders in a child process; ok is false when the child ran out of time or
// memory or overflowed its stack.
func renderBounded(t *testing.T, req childRequest) (res childResult, ok bool) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GOTRACEBACK=single")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, false
	case errors.As(err, &exit) && exit.ExitCode() == exitMemory:
		return res, false
	case err != nil && strings.Contains(stderr.String(), "stack overflow"):
		return res, false
	case err != nil:
		t.Fatalf("the render process failed: %v\n%s", err, tail(stderr.String(), 3000))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("reading the render process's output: %v\n%s", err, stdout.String())
	}
	return res, true
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// seedTemplates are this package's test templates, and the real templates of the reference
// folder when an earlier run of the comparison tests left it there (no network here).
func seedTemplates(f *testing.F) []string {
	src, err := os.ReadFile(filepath.Join("testdata", "turns.jinja"))
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := LoadConfig("testdata")
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{string(src), cfg.Template}
	if dir, err := referenceDir(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, completeMarker)); err == nil {
			if real, err := loadReferenceTemplates(dir); err == nil {
				for _, rt := range real {
					seeds = append(seeds, rt.tmpl.Source())
				}
			}
		}
	}
	return seeds
}

func FuzzTemplate(f *testing.F) {
	for _, s := range seedTemplates(f) {
		f.Add(s, "I went up to my friend and said", true)
	}
	f.Add(`{% for c in messages[0].content %}{{ c }}{% endfor %}`, "abc", false)
	f.Add(`{% macro m(n) %}{{ n }}{% if n < 3 %}{{ m(n + 1) }}{% endif %}{% endmacro %}{{ m(0) }}`, "", false)
	f.Fuzz(func(t *testing.T, src, content string, gen bool) {
		if len(src) > 32<<10 || len(content) > 1<<10 {
			t.Skip("larger than any chat template or message here")
		}
		_, err := New(src, nil, nil)
		if errors.Is(err, errEnginePanic) {
			t.Fatalf("parsing panicked: %v", err)
		}
		if err != nil {
			return
		}
		msgs := []Message{{"system", "Be brief."}, {"user", content}, {"assistant", "Hi"}, {"user", content}}
		res, ok := renderBounded(t, childRequest{src, msgs, gen})
		if !ok {
			return // ran past the time or memory bound, or recursed without end
		}
		if strings.Contains(res.Error, errEnginePanic.Error()) {
			t.Fatalf("rendering panicked: %s", res.Error)
		}
	})
}

func FuzzMessages(f *testing.F) {
	seeds := seedTemplates(f)
	tmpls := make([]*Template, len(seeds))
	for i, s := range seeds {
		var err error
		if tmpls[i], err = New(s, map[string]string{"bos_token": "<s>", "eos_token": "</s>"}, nil); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(uint8(0), "system", "Be brief.", "I went up to my friend and said", "Hello!", true)
	f.Add(uint8(1), "user", "  Love \n", "", "<think>a</think>b", false)
	f.Add(uint8(2), "assistant", "", "\t", " ", true)
	f.Fuzz(func(t *testing.T, which uint8, role0, content0, user, reply string, gen bool) {
		if len(content0)+len(user)+len(reply) > 4<<10 {
			t.Skip("longer than the cases of interest")
		}
		tmpl := tmpls[int(which)%len(tmpls)]
		msgs := []Message{{role0, content0}, {"user", user}, {"assistant", reply}, {"user", user}}
		opt := Options{AddGenerationPrompt: gen, Now: fixedNow}
		text, err := tmpl.Render(msgs, opt)
		if errors.Is(err, errEnginePanic) {
			t.Fatalf("rendering panicked: %v", err)
		}
		if err != nil {
			return // the template's raise_exception
		}
		again, err := tmpl.Render(msgs, opt)
		if err != nil || again != text {
			t.Fatalf("a second rendering differs: %q, %v", again, err)
		}
		located, spans, err := tmpl.Locate(msgs, opt)
		if err != nil {
			return // refused: a content the template tests or writes twice
		}
		if located != text {
			t.Fatalf("Locate's text differs from Render's")
		}
		prev := 0
		for _, s := range spans {
			if s.TextStart < prev || s.TextEnd < s.TextStart || s.TextEnd > len(text) {
				t.Fatalf("span %+v out of order or bounds (text %d bytes, previous end %d)", s, len(text), prev)
			}
			got, content := text[s.TextStart:s.TextEnd], msgs[s.Message].Content
			if !strings.Contains(content, got) {
				t.Fatalf("message %d's span %q is not part of its content %q", s.Message, got, content)
			}
			prev = s.TextEnd
		}
	})
}

// TestRenderBoundedStopsRunaways checks the fuzz target's bound on templates that never end.
func TestRenderBoundedStopsRunaways(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts child processes")
	}
	msgs := []Message{{"user", "x"}}
	for name, src := range map[string]string{
		"recursion without end": `{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`,
		"exponential growth":    `{% set a = 'ab' %}` + strings.Repeat(`{% set a = a + a %}`, 40) + `{{ a | length }}`,
	} {
		if res, ok := renderBounded(t, childRequest{src, msgs, false}); ok {
			t.Errorf("%s: want the bound to stop it, got %+v", name, res)
		}
	}
	res, ok := renderBounded(t, childRequest{`{{ messages[0].content }}{{ raise_exception('no') if add_generation_prompt }}`, msgs, true})
	if !ok || res.Error == "" || !strings.Contains(res.Error, "no") {
		t.Errorf("a template that raises: got %+v, %v", res, ok)
	}
}
