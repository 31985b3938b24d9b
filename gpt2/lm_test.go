package gpt2_test

import (
	"testing"

	"github.com/actadd-go/actadd/lm/lmtest"
)

// GPT-2 keeps the seam's contract (package lm).
func TestLMContract(t *testing.T) {
	m, _ := newModel(t, testConfigs[0], 1)
	lmtest.Check(t, m)
}
