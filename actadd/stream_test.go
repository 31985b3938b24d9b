package actadd_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
)

// TestStreamReportsEveryStep checks that Stream sees each row after every step, its tokens
// growing by one, ending at the returned completion, with and without the KV cache.
func TestStreamReportsEveryStep(t *testing.T) {
	m, _ := models(t)
	rows := []actadd.Row{{Prompt: "I went up to my friend and said"}, {Prompt: "I went up to my friend and said", Adds: []actadd.Addition{actadd.Pair(" weddings", "", 4).AtLayer(1)}}}
	for _, c := range []struct {
		noCache bool
		sampler actadd.SamplerPlace
	}{{false, actadd.SamplerHost}, {true, actadd.SamplerHost}, {false, actadd.SamplerDevice}, {true, actadd.SamplerDevice}} {
		noCache := c.noCache
		seen := map[int][]actadd.Completion{}
		opts := actadd.GenerateOptions{MaxNewTokens: 5, Sampling: actadd.PaperSampling, NoCache: noCache, Sampler: c.sampler,
			Stream: func(i int, c actadd.Completion) { seen[i] = append(seen[i], c) }}
		out, err := m.GenerateRows(rows, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			got := seen[i]
			if len(got) != opts.MaxNewTokens {
				t.Fatalf("noCache=%v row %d: streamed %d times, want once per step (%d)", noCache, i, len(got), opts.MaxNewTokens)
			}
			for s, c := range got {
				if len(c.Generated()) != s+1 || !slices.Equal(c.Tokens, out[i].Tokens[:len(c.Tokens)]) || !strings.HasPrefix(out[i].Text, c.Text) {
					t.Errorf("noCache=%v row %d step %d: streamed %v (%q), not a prefix of the result %v (%q)", noCache, i, s, c.Generated(), c.Text, out[i].Generated(), out[i].Text)
				}
			}
			if last := got[len(got)-1]; last.Text != out[i].Text {
				t.Errorf("noCache=%v row %d: last streamed text %q, result %q", noCache, i, last.Text, out[i].Text)
			}
		}
	}
}

// TestContextCancelsGeneration cancels after the second step: generation stops there with the
// context's error, whichever the sampler.
func TestContextCancelsGeneration(t *testing.T) {
	for _, sampler := range []actadd.SamplerPlace{actadd.SamplerHost, actadd.SamplerDevice} {
		t.Run(string(sampler), func(t *testing.T) { contextCancels(t, sampler) })
	}
}

func contextCancels(t *testing.T, sampler actadd.SamplerPlace) {
	m, _ := models(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	opts := actadd.GenerateOptions{MaxNewTokens: 20, Sampling: actadd.PaperSampling, Context: ctx, Sampler: sampler,
		Stream: func(i int, c actadd.Completion) {
			if steps = len(c.Generated()); steps == 2 {
				cancel()
			}
		}}
	_, err := m.Generate([]string{"I went up to my friend and said"}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if steps != 2 {
		t.Errorf("generation ran %d steps after a cancel at step 2", steps)
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	opts.Context, opts.Stream = done, nil
	if _, err := m.Generate([]string{"I went up to my friend and said"}, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("a context cancelled before the call: err = %v, want context.Canceled", err)
	}
}
