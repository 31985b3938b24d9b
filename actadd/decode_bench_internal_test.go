package actadd

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actadd-go/actadd/checkpoint"
)

// decodeArm is one configuration of BenchmarkDecodeAB.
type decodeArm struct {
	name     string
	sampling Sampling
	sampler  SamplerPlace
	tuning   decodeTuning
}

var decodeArms = []decodeArm{
	{"greedy/device", Greedy, SamplerDevice, decodeTuning{}},
	{"greedy/host", Greedy, SamplerHost, decodeTuning{}},
	{"greedy/device/unpacked", Greedy, SamplerDevice, decodeTuning{unpackedStep: true}},
	{"greedy/device/capacity32", Greedy, SamplerDevice, decodeTuning{capacityRound: 32}},
	{"greedy/device/narrowtail", Greedy, SamplerDevice, decodeTuning{layout: ptr(narrowTail)}},
	{"greedy/device/evensplit", Greedy, SamplerDevice, decodeTuning{layout: ptr(evenSplit)}},
	{"greedy/host/unpacked", Greedy, SamplerHost, decodeTuning{unpackedStep: true}},
	{"greedy/host/capacity32", Greedy, SamplerHost, decodeTuning{capacityRound: 32}},
	{"greedy/host/narrowtail", Greedy, SamplerHost, decodeTuning{layout: ptr(narrowTail)}},
	// The decoding of bbf680a: host greedy, weights passed on every step, a cache of a multiple
	// of 32 positions, full batches, one at a time (the sampler's code is today's).
	{"greedy/before", Greedy, SamplerHost, decodeTuning{unpackedStep: true, capacityRound: 32, inFlight: 1, noSharedPrefill: true}},
	{"greedy/device/inflight1", Greedy, SamplerDevice, decodeTuning{inFlight: 1}},
	{"greedy/device/unshared", Greedy, SamplerDevice, decodeTuning{noSharedPrefill: true}},
	{"greedy/device/inflight3", Greedy, SamplerDevice, decodeTuning{inFlight: 3}},
	{"greedy/device/inflight4", Greedy, SamplerDevice, decodeTuning{inFlight: 4}},
	{"greedy/device/inflight7", Greedy, SamplerDevice, decodeTuning{inFlight: 7}},
	{"paper/host", PaperSampling, SamplerHost, decodeTuning{}},
	{"paper/device", PaperSampling, SamplerDevice, decodeTuning{}},
	{"paper/before", PaperSampling, SamplerHost, decodeTuning{unpackedStep: true, capacityRound: 32, inFlight: 1, noSharedPrefill: true}},
}

func ptr[T any](v T) *T { return &v }

// BenchmarkDecodeAB times the CPU decoding workload (unsteered completions × 40 new tokens of the
// 9-token E2 prompt, batches of 32, gpt2-small shape with random weights) in several
// configurations, interleaved in one process so that every arm sees the same machine load:
// each of b.N rounds runs every arm once, in an order that alternates. It prints each arm's
// tokens per second (median and range over the rounds). $DECODE_ARMS (comma-separated names)
// selects arms; $DECODE_ROWS sets the completions per arm and round (200; fewer rounds of
// shorter runs follow the load of a busy machine more closely). Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./actadd -run '^$' -bench DecodeAB -benchtime 5x
func BenchmarkDecodeAB(b *testing.B) {
	arms := slices.Clone(decodeArms)
	if sel := os.Getenv("DECODE_ARMS"); sel != "" {
		arms = nil
		for _, a := range decodeArms {
			if slices.Contains(strings.Split(sel, ","), a.name) {
				arms = append(arms, a)
			}
		}
	}
	cfg, _ := checkpoint.KnownConfig("gpt2")
	m, _ := randomModel(b, "random weights, gpt2 shape", cfg, 1)
	for i := range arms {
		arms[i].tuning.packedSteps = len(arms)
	}
	rows := 200
	if r, err := strconv.Atoi(os.Getenv("DECODE_ROWS")); err == nil && r > 0 {
		rows = r
	}
	prompts := slices.Repeat([]string{"I went up to my friend and said"}, rows)
	// run returns the tokens per second of wall time and the process's CPU seconds per 1,000
	// tokens (less sensitive to other processes than wall time, but blind to idle cores).
	run := func(a decodeArm, rows, tokens int) (float64, float64, error) {
		m.tuning = a.tuning
		cpu0 := cpuSeconds()
		start := time.Now()
		opts := GenerateOptions{MaxNewTokens: tokens, Sampling: a.sampling, Sampler: a.sampler, BatchSize: 32}
		out, err := m.Generate(prompts[:rows], opts)
		if err != nil {
			return 0, 0, err
		}
		n := 0
		for _, c := range out {
			n += len(c.Generated())
		}
		return float64(n) / time.Since(start).Seconds(), (cpuSeconds() - cpu0) / float64(n) * 1000, nil
	}
	for _, a := range arms { // compile, pack
		if _, _, err := run(a, 32, 40); err != nil {
			b.Fatal(err)
		}
	}
	rates := make([][]float64, len(arms))
	cpus := make([][]float64, len(arms))
	b.ResetTimer()
	for i := range b.N {
		for k := range arms {
			j := k
			if i%2 == 1 {
				j = len(arms) - 1 - k
			}
			r, c, err := run(arms[j], rows, 40)
			if err != nil {
				b.Fatal(err)
			}
			rates[j] = append(rates[j], r)
			cpus[j] = append(cpus[j], c)
		}
	}
	for j, a := range arms {
		r, c := slices.Clone(rates[j]), slices.Clone(cpus[j])
		slices.Sort(r)
		slices.Sort(c)
		fmt.Printf("%-34s %6.1f tok/s (range %.1f–%.1f), %.2f CPU s per 1,000 tokens (range %.2f–%.2f), %d rounds\n",
			a.name, r[len(r)/2], r[0], r[len(r)-1], c[len(c)/2], c[0], c[len(c)-1], len(r))
	}
}

// cpuSeconds is the CPU time (user and system) this process has used.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()).Seconds()
}
