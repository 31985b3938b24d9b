package llama_test

import (
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
	"github.com/actadd-go/actadd/lm/lmtest"
)

// Every family and switch keeps the seam's contract (package lm): hook points, KV-cached
// decoding equal to the full pass (sliding window included), LogitsByToken, packed programs.
func TestLMContract(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			m, err := llama.New(testbackend.Get(t), v.name, v.cfg, llama.RandomTensors(v.cfg, 7))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Finalize()
			if info := m.Info(); info.Family != v.cfg.ModelType || info.PosEmbed {
				t.Errorf("info %+v", info)
			}
			lmtest.Check(t, m)
		})
	}
}
