package experiments

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/controlvector"
)

// ChatSteer is the setup of ChatSteerAndExport (notebooks/06-chat-and-llama-cpp): a prompt pair
// and a prompt, each one user message (after an optional system message) rendered through the
// model's chat template, steered at Layer with Coeff, and the vector exported for llama.cpp.
type ChatSteer struct {
	Plus, Minus string // the pair's user messages
	Prompt      string // the user message to continue
	System      string // a system message before each of them ("": none)
	Layer       int
	Coeff       float64
	// UserContent takes and adds the vector from the first token of the user's content;
	// otherwise at the front of the rendered prompt (BOS and the template's header first).
	UserContent bool
	N, Tokens   int    // completions per column, new tokens each
	Seed        uint64 // the sampler's seed (the paper's sampler)
	// Export is the control vector file to write ("": none).
	Export string
}

// ChatSteerResult is what ChatSteerAndExport did.
type ChatSteerResult struct {
	Comparison *actadd.Comparison
	Addition   actadd.Addition
	Vector     *actadd.Vector
	// Rendered is the prompt as the template renders it, and Covered the tokens of it the
	// vector is added to, decoded.
	Rendered, Covered string
	Start             int // the first position the vector is added at
	// Block is llama.cpp's block whose output the exported direction is added to; Command is
	// the llama.cpp command line that applies it.
	Block   int
	Command string
	Export  string
}

// ChatSteerAndExport steers a chat turn of m through its chat template (actadd.CompareChat with
// an actadd.ChatPair addition) and, with cfg.Export set, writes the vector as a llama.cpp
// control vector (controlvector.Export, the last position's direction, as repeng reads its
// pairs: a chat vector's first positions are the template's header, where the pair's streams
// agree) and gives the llama.cpp command line that applies it.
func ChatSteerAndExport(m *actadd.Model, cfg ChatSteer) (*ChatSteerResult, error) {
	if m == nil {
		return nil, errors.New("experiments: ChatSteerAndExport: nil model: load one with actadd.Load")
	}
	msgs := func(user string) []chat.Message {
		var out []chat.Message
		if cfg.System != "" {
			out = append(out, chat.Message{Role: "system", Content: cfg.System})
		}
		return append(out, chat.Message{Role: "user", Content: user})
	}
	a := actadd.ChatPair(msgs(cfg.Plus), msgs(cfg.Minus), cfg.Coeff).AtLayer(cfg.Layer)
	if cfg.UserContent {
		a = a.AtUserContent()
	}
	prompt := msgs(cfg.Prompt)
	rendered, err := m.ChatPrompt(prompt)
	if err != nil {
		return nil, err
	}
	v, err := m.Vector(a)
	if err != nil {
		return nil, err
	}
	start, err := rendered.Start(a.Chat.Where, prompt)
	if err != nil {
		return nil, fmt.Errorf("experiments: %w", err)
	}
	if start+v.N > len(rendered.IDs) {
		return nil, fmt.Errorf("experiments: the rendered prompt has %d tokens, but the vector covers %d from position %d: lengthen the prompt or shorten the pair", len(rendered.IDs), v.N, start)
	}
	covered, err := m.Tok.Decode(rendered.IDs[start : start+v.N])
	if err != nil {
		return nil, err
	}
	opts := actadd.GenerateOptions{MaxNewTokens: cfg.Tokens, Sampling: actadd.PaperSampling}
	opts.Sampling.Seed = cfg.Seed
	cmp, err := m.CompareChat(prompt, cfg.N, opts, a)
	if err != nil {
		return nil, err
	}
	res := &ChatSteerResult{Comparison: cmp, Addition: a, Vector: v, Rendered: rendered.Text, Covered: covered, Start: start, Export: cfg.Export}
	if cfg.Export == "" {
		return res, nil
	}
	if res.Block, err = controlvector.Block(v.Layer, v.Point); err != nil {
		return nil, err
	}
	if err := controlvector.Export(cfg.Export, v, controlvector.ExportOptions{Coeff: cfg.Coeff, Reduction: controlvector.Last, ModelHint: m.Family()}); err != nil {
		return nil, err
	}
	// The GGUF conversion of the model, named after its repository (a placeholder for others).
	gguf := "MODEL-f16.gguf"
	if base := filepath.Base(m.Name); !strings.ContainsAny(base, " ()") {
		gguf = base + "-f16.gguf"
	}
	res.Command = fmt.Sprintf("llama-cli -m %s -cnv --control-vector-scaled %s 1 --control-vector-layer-range %d %d", gguf, cfg.Export, res.Block, res.Block)
	return res, nil
}

// Summary says what ran, where the vector went and what its export keeps and loses.
func (r *ChatSteerResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "addition: %s\n", r.Addition)
	fmt.Fprintf(&b, "the prompt, rendered through the model's chat template:\n%s\n", r.Rendered)
	fmt.Fprintf(&b, "the vector (%d positions) is added at positions %d…%d, the tokens %q\n", r.Vector.N, r.Start, r.Start+r.Vector.N-1, r.Covered)
	if r.Export == "" {
		return b.String()
	}
	fmt.Fprintf(&b, "\nexported for llama.cpp: %s (direction.%d: the output of block %d, which is %s here)\n", r.Export, r.Block, r.Block, fmt.Sprintf("blocks.%d.hook_resid_pre", r.Block+1))
	b.WriteString("llama.cpp adds it at every position, prompt and generated tokens alike, as one direction (the vector's last position, scaled by the coefficient):\n" +
		"ActAdd adds it once, position by position, to the prompt's positions above. Convert the model with llama.cpp's convert_hf_to_gguf.py, then:\n")
	b.WriteString("  " + r.Command + "\n")
	return b.String()
}
