package actadd

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkHostSampler times the host sampler on one step of a batch of 32 rows of GPT-2's
// vocabulary (random logits, N(0, 2²)), with the paper's sampler and greedy, rows in parallel
// as generation runs them.
func BenchmarkHostSampler(b *testing.B) {
	const rows, vocab = 32, 50257
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, rows*vocab)
	for i := range logits {
		logits[i] = float32(2 * r.NormFloat64())
	}
	for _, c := range []struct {
		name string
		s    Sampling
	}{{"paper", PaperSampling}, {"greedy", Greedy}} {
		b.Run(c.name, func(b *testing.B) {
			samplers := make([]*sampler, rows)
			for i := range samplers {
				samplers[i] = newSampler(c.s, []int{50256, 40, 1816, 510, 284, 616, 1545, 290, 531})
			}
			for range b.N {
				parallelRows(rows, func(i int) {
					if _, err := samplers[i].next(logits[i*vocab:(i+1)*vocab], 0.5); err != nil {
						b.Error(err)
					}
				})
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/step")
		})
	}
}
