package llama_test

import (
	"fmt"
	"log"
	"os"

	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/llama"
	. "github.com/gomlx/gomlx/core/graph"
)

// Write a tiny random Qwen3-layout checkpoint, load it, and read the residual stream entering
// block 1 next to the logits. With a Hugging Face repo id ("Qwen/Qwen3-0.6B") instead of the
// folder, Load takes the checkpoint from the Hugging Face cache or downloads it.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "tiny-qwen3")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := llama.Config{ModelType: "qwen3", VocabSize: 100, HiddenSize: 32, IntermediateSize: 64, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 2, HeadDim: 16, MaxPositionEmbeddings: 128, RMSNormEps: 1e-6, RopeTheta: 1e6}
	if err := llama.WriteRandom(dir, cfg, llama.RandomOptions{Seed: 1, DType: "BF16"}); err != nil {
		log.Fatal(err)
	}
	b, _, err := backend.New()
	if err != nil {
		log.Fatal(err)
	}
	m, err := llama.Load(b, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Finalize()
	out, err := m.Run([][]int{{1, 2, 3, 4}}, llama.ResidPre(1))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Logits.Shape(), out.Activations[llama.ResidPre(1)].Shape())
	// Output: (Float32)[1, 4, 100] (Float32)[1, 4, 32]
}

// Steer as ActAdd does: a hook adds a vector to blocks.{l}.hook_resid_pre at the first
// positions of every row; the rest of the model is unchanged.
func ExampleModel_NewProgram() {
	cfg := llama.Config{ModelType: "llama", VocabSize: 100, HiddenSize: 32, IntermediateSize: 64, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumKeyValueHeads: 1, HeadDim: 8, MaxPositionEmbeddings: 128, RMSNormEps: 1e-5, RopeTheta: 1e4,
		TieWordEmbeddings: true}
	b, _, err := backend.New()
	if err != nil {
		log.Fatal(err)
	}
	m, err := llama.New(b, "random llama", cfg, llama.RandomTensors(cfg, 1))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Finalize()
	steer := func(point string, x *Node) *Node {
		if point != llama.ResidPre(1) {
			return x
		}
		// x is [batch, seq, d_model]; add 0.5 to the first two positions.
		front := Concatenate([]*Node{OnesLike(SliceAxis(x, 1, AxisRange(0, 2))), ZerosLike(SliceAxis(x, 1, AxisRangeToEnd(2)))}, 1)
		return Add(x, MulScalar(front, 0.5))
	}
	prog, err := m.NewProgram("steered", func(w *llama.Weights, in []*Node) []*Node {
		return []*Node{w.Logits(w.Forward(in[0], in[1], steer))}
	})
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := m.TokensTensor([][]int{{5, 6, 7, 8, 9}})
	if err != nil {
		log.Fatal(err)
	}
	out, err := prog.Call(tokens, llama.PositionsTensor(1, 5, 0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Shape())
	// Output: (Float32)[1, 5, 100]
}
