package experiments

import (
	"context"
	"fmt"
	"io"

	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/actadd-go/actadd/internal/watchdog"
	"github.com/actadd-go/actadd/runstore"
)

// RunStore says where an experiment records its units of work as they finish (package
// runstore), so that it resumes and grows: run again with one more layer, it computes that
// layer only; unchanged, it computes nothing and re-plots at once; killed at any point, it
// resumes where it stopped. Every config has one (its Runs field); the zero value records
// nothing and computes everything, so that a library call writes no file unless asked. The
// notebooks and make targets set Dir from $ACTADD_RUNS (default .cache/runs in the
// repository) and Fresh from the --fresh flag.
type RunStore struct {
	// Dir is the store's folder (created when missing); "" means no store.
	Dir string
	// Fresh computes every unit again, ignoring the records already in Dir (the new records
	// supersede them for later runs).
	Fresh bool
}

// Code versions of the units the experiments record themselves (runstore.Key.Code); E1 and
// E2 record sweep's units (sweep.ScoreCode, sweep.GenerateCode). A record is reused only under
// the same version: bump a version whenever a change of the code that computes its unit (here,
// in package actadd or gpt2) changes what the unit holds.
const (
	conceptNetCode = "experiments.conceptnet/1" // E3: the label ranks of a batch of LAMA probes
	overheadCode   = "experiments.overhead/1"   // E4: one (shape, seed) timing; one shape's steering ops
)

// open opens the store (nil without a Dir) and says so on progress.
func (r RunStore) open(progress io.Writer) (*runstore.Store, error) {
	if r.Dir == "" {
		return nil, nil
	}
	st, err := runstore.Open(r.Dir, runstore.Options{Fresh: r.Fresh, Warn: progress})
	if err != nil {
		return nil, fmt.Errorf("experiments: the run store (RunStore.Dir): %w", err)
	}
	fresh := ""
	if r.Fresh {
		fresh = " (fresh: its records are not reused)"
	}
	s := st.Stats()
	fmt.Fprintf(progress, "run store %s: %d records%s\n", repopath.Display(r.Dir), s.Records, fresh)
	return st, nil
}

// StoreUse is what a run did with its run store: the folder (repopath.Display), the store's
// records and size after the run, and the units this run reused and computed.
type StoreUse struct {
	Dir string
	runstore.Stats
	Fresh bool
}

// String is the use as one line, e.g. "run store .cache/runs: 120 records, 84 KiB; this run:
// 40 units reused, 8 computed".
func (u StoreUse) String() string {
	fresh := ""
	if u.Fresh {
		fresh = " (fresh)"
	}
	st := u.Stats
	return fmt.Sprintf("run store %s: %d records, %s; this run%s: %d units reused, %d computed", u.Dir, st.Records, watchdog.Bytes(st.Bytes), fresh, st.Reused, st.Computed)
}

// closeStore records the store's use in the run's info and closes it.
func (r *RunInfo) closeStore(st *runstore.Store, cfg RunStore) error {
	if st == nil {
		return nil
	}
	r.Store = &StoreUse{Dir: repopath.Display(st.Dir()), Stats: st.Stats(), Fresh: cfg.Fresh}
	return st.Close()
}

// storeLine is the summary's line about the run store ("" without one).
func (r RunInfo) storeLine() string {
	if r.Store == nil {
		return ""
	}
	return r.Store.String() + "\n"
}

// storeNote is the sidecar's note about the run store ("" without one): how much of the
// result earlier runs computed, which WallSeconds does not include.
func (r RunInfo) storeNote() string {
	if r.Store == nil {
		return ""
	}
	return fmt.Sprintf("run store: %d of %d units read back from records of earlier runs with the same key (model, revision, backend numerics, settings, data, seed, code version); wall time counts this run only",
		r.Store.Reused, r.Store.Reused+r.Store.Computed)
}

// contextErr is ctx's error, nil for a nil or live context.
func contextErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}
