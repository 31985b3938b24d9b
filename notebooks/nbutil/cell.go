package nbutil

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"time"

	"github.com/actadd-go/actadd/backend"
	"github.com/janpfeifer/gonb/gonbui"
)

// inNotebook reports whether this program is a GoNB cell (tests replace it).
var inNotebook = gonbui.IsNotebook

func init() {
	if inNotebook {
		backend.SetOutput(Info())
	}
}

// Info is where the notebooks' informational lines go (the backend in use, notes on the scale,
// an experiment's header, the run store's report, progress lines): ordinary output (stdout) in
// a notebook, where stderr shows pink like an error; stderr in a console program, whose stdout
// holds its results. Errors go to stderr everywhere (Check).
func Info() io.Writer {
	if inNotebook {
		return os.Stdout
	}
	return os.Stderr
}

// setField sets the field name of *cfg to v when *cfg is a struct with such a field of a type
// v's type can be assigned to, and reports whether it did. (The experiments' configs share
// their Progress and Context fields by name, not through an interface.)
func setField(cfg any, name string, v any) bool {
	p := reflect.ValueOf(cfg)
	if p.Kind() != reflect.Pointer || p.Elem().Kind() != reflect.Struct {
		return false
	}
	f := p.Elem().FieldByName(name)
	if !f.IsValid() || !f.CanSet() || !reflect.TypeOf(v).AssignableTo(f.Type()) {
		return false
	}
	f.Set(reflect.ValueOf(v))
	return true
}

// killGrace is how long an interrupted experiment has to stop on its own before the cell ends
// it: GoNB kills a cell's program 5 s after the interrupt, and reports the kill as an error.
const killGrace = 4 * time.Second

// interrupt is the state of an interruptible experiment cell (Config sets it up).
var (
	interruptMu sync.Mutex
	cellCtx     context.Context // interruptContext's, once made
	runsOff     bool            // the cell records nothing: a rerun starts over
	endOnce     sync.Once       // the interrupt's report is printed once
)

// interruptContext returns a context that ends when the cell is interrupted (Jupyter's ■ sends
// SIGINT): the experiment given it stops at its next unit of work, and Check then reports the
// interrupt in one line instead of GoNB's "signal: interrupt" error. If the experiment does not
// return within killGrace, the cell reports and ends by itself (the run store keeps every
// finished unit; a unit cut short is dropped when the store is next opened).
func interruptContext(storeOff bool) context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt)
	interruptMu.Lock()
	runsOff, cellCtx = storeOff, ctx
	interruptMu.Unlock()
	go func() {
		<-ctx.Done()
		time.Sleep(killGrace)
		interruptMu.Lock()
		current := cellCtx == ctx
		interruptMu.Unlock()
		if current {
			endInterrupted()
		}
	}()
	return ctx
}

// wasInterrupted reports whether the cell's interrupt has ended interruptContext's context.
func wasInterrupted() bool {
	interruptMu.Lock()
	defer interruptMu.Unlock()
	return cellCtx != nil && cellCtx.Err() != nil
}

// endInterrupted prints InterruptedLine on stdout and ends the cell without an error.
func endInterrupted() {
	endOnce.Do(func() {
		fmt.Fprintln(os.Stdout, InterruptedLine())
		exit(0)
	})
}

// InterruptedLine says where an interrupted experiment stopped and what to do next, from the
// last progress it showed: "interrupted at 120 of 400 completions (E2 …); run the cell again to
// resume".
func InterruptedLine() string {
	lastMu.Lock()
	s := lastProgress
	lastMu.Unlock()
	interruptMu.Lock()
	off := runsOff
	interruptMu.Unlock()
	where := "interrupted before any progress was shown"
	if s != nil {
		where = fmt.Sprintf("interrupted at %d of %d %s (%s)", s.Done, s.Total, s.Unit, s.What)
	}
	if off {
		return where + "; nothing was recorded ($" + RunsEnv + "=off): run the cell again to start over"
	}
	return where + "; run the cell again to resume (every finished unit is in the run store)"
}
