package cancel

import (
	"context"
	"testing"
)

func TestAfter(t *testing.T) {
	ctx := After(2)
	for i, want := range []error{nil, nil, context.Canceled, context.Canceled} {
		if err := ctx.Err(); err != want {
			t.Errorf("check %d: %v, want %v", i+1, err, want)
		}
	}
}
