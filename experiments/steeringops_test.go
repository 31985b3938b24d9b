package experiments_test

import (
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/experiments"
)

// SteeringOpsTime runs on any model and rejects shapes, layers and vectors it cannot time.
func TestSteeringOpsTime(t *testing.T) {
	m := tinyModel(t)
	add := actadd.Pair(" weddings", "", 4).AtLayer(m.Layers() - 1)
	v, err := m.Vector(add)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.SteeringOpsTime(m, add, 2, 8, 2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		add              actadd.Addition
		batch, seq, reps int
	}{
		{add, 0, 8, 2}, {add, 2, v.N - 1, 2}, {add.AtLayer(m.Layers()), 2, 8, 2}, {add.AtLayer(-1), 2, 8, 2},
		{add, 2, 8, 0}, {add, 2, m.Context() + 1, 2},
	} {
		if _, err := experiments.SteeringOpsTime(m, c.add, c.batch, c.seq, c.reps); err == nil {
			t.Errorf("SteeringOpsTime(%s, batch %d, seq %d, reps %d): no error", c.add, c.batch, c.seq, c.reps)
		}
	}
}
