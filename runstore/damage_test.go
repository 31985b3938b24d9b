package runstore_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/runstore"
)

// twelve is a job of 12 units, the size of the log in which one flipped byte once cost 8 records.
var twelve = job{layers: []int{0, 1, 2}, n: 4, coeff: 1}

// damageFixture writes twelve's records into a fresh store and returns the log's bytes and
// the offset at which each record's frame starts (plus the log's size, last).
func damageFixture(t *testing.T) (data []byte, starts []int64) {
	t.Helper()
	dir := t.TempDir()
	st := open(t, dir, runstore.Options{})
	for _, l := range twelve.layers {
		for c := range twelve.n {
			if err := st.Put(twelve.key(l, c), twelve.compute(l, c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	data, err := os.ReadFile(filepath.Join(dir, "records.log"))
	if err != nil {
		t.Fatal(err)
	}
	// The frame layout of the package documentation: magic, key length, value length, CRC.
	for off := int64(0); off < int64(len(data)); {
		starts = append(starts, off)
		off += 16 + int64(binary.LittleEndian.Uint32(data[off+4:])) + int64(binary.LittleEndian.Uint32(data[off+8:]))
	}
	if len(starts) != 12 {
		t.Fatalf("the fixture log holds %d frames, want 12", len(starts))
	}
	return data, append(starts, int64(len(data)))
}

// openDamaged writes data as the log of the store in dir (emptied first), opens it and returns
// the store, its warnings and the log's size after Open.
func openDamaged(t *testing.T, dir string, data []byte) (*runstore.Store, string, int64) {
	t.Helper()
	path := filepath.Join(dir, "records.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var warn strings.Builder
	st, err := runstore.Open(dir, runstore.Options{Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st, warn.String(), info.Size()
}

// checkKept checks that st holds exactly the records of twelve not in lost (indices in Put
// order), each with its true value, and that a lost one reads as absent, never as data. It
// reports problems prefixed with what, and whether there were none.
func checkKept(t *testing.T, what string, st *runstore.Store, lost map[int]bool) bool {
	t.Helper()
	good := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(what+": "+format, args...)
		good = false
	}
	if got, want := st.Stats().Records, 12-len(lost); got != want {
		fail("%d records kept, want %d", got, want)
	}
	i := 0
	for _, l := range twelve.layers {
		for c := range twelve.n {
			var u unit
			ok, err := st.Get(twelve.key(l, c), &u)
			switch {
			case err != nil:
				fail("record %d: %v", i+1, err)
			case ok == lost[i]:
				fail("record %d: found = %v, want %v", i+1, ok, !lost[i])
			case ok && u != twelve.compute(l, c):
				fail("record %d reads %+v, want %+v", i+1, u, twelve.compute(l, c))
			}
			i++
		}
	}
	return good
}

// A byte changed anywhere in the log costs exactly the record that holds it: a damaged record
// inside the log is skipped with a warning naming its offset and number, every valid record
// after it is kept and the log is left as it is; a damaged last record is a tail, dropped and
// truncated. Every offset of the log, with a whole byte and a single bit flipped.
func TestFlippedByteAnywhere(t *testing.T) {
	data, starts := damageFixture(t)
	last := len(starts) - 2
	dir := t.TempDir()
	rec := 0
	for off := range int64(len(data)) {
		for starts[rec+1] <= off {
			rec++
		}
		for _, flip := range []byte{0xff, 0x01} {
			what := fmt.Sprintf("byte %d (record %d) xor %#x", off, rec+1, flip)
			damaged := append([]byte(nil), data...)
			damaged[off] ^= flip
			st, warn, size := openDamaged(t, dir, damaged)
			good := checkKept(t, what, st, map[int]bool{rec: true})
			st.Close()
			where := fmt.Sprintf("at offset %d, record %d ", starts[rec], rec+1)
			switch {
			case !strings.Contains(warn, where):
				t.Errorf("%s: the warning does not say %q: %q", what, where, warn)
			case rec == last && (!strings.Contains(warn, "dropped a damaged tail") || size != starts[rec]):
				t.Errorf("%s: log of %d bytes, want the damaged last record truncated (%d); warning %q", what, size, starts[rec], warn)
			case rec != last && (!strings.Contains(warn, "is corrupted: skipped") || strings.Contains(warn, "kill") || size != int64(len(data))):
				t.Errorf("%s: log of %d bytes, want all %d kept; warning %q", what, size, len(data), warn)
			default:
				continue
			}
			good = false
			if !good {
				t.FailNow() // one offset's report says it; thousands would drown it
			}
		}
	}
}

// Damage spanning several records (a zeroed block) costs those records only; a new record
// after it is kept and read back by the next Open, which warns of the corruption again.
func TestDamagedBlock(t *testing.T) {
	data, starts := damageFixture(t)
	damaged := append([]byte(nil), data...)
	from, to := starts[3]+20, starts[6]-5 // the end of record 4 to the end of record 6
	clear(damaged[from:to])
	dir := t.TempDir()
	st, warn, _ := openDamaged(t, dir, damaged)
	checkKept(t, "zeroed block", st, map[int]bool{3: true, 4: true, 5: true})
	if want := fmt.Sprintf("skipped %d damaged bytes at offset %d, record 4 ", starts[6]-starts[3], starts[3]); !strings.Contains(warn, want) {
		t.Errorf("the warning does not say %q: %q", want, warn)
	}
	if err := st.Put(twelve.key(0, 3), twelve.compute(0, 3)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var again strings.Builder
	st = open(t, dir, runstore.Options{Warn: &again})
	checkKept(t, "reopened", st, map[int]bool{4: true, 5: true})
	if !strings.Contains(again.String(), "is corrupted") {
		t.Errorf("reopened: no warning of the corruption: %q", again.String())
	}
}

// A log cut at any length (a kill during a write) keeps every complete record, drops the
// incomplete one, is truncated to the last complete record and then opens without warning.
func TestCutAnywhere(t *testing.T) {
	data, starts := damageFixture(t)
	dir := t.TempDir()
	complete := 0
	for n := range int64(len(data)) {
		for starts[complete+1] <= n {
			complete++
		}
		what := fmt.Sprintf("cut at %d", n)
		st, warn, size := openDamaged(t, dir, data[:n])
		lost := map[int]bool{}
		for i := complete; i < 12; i++ {
			lost[i] = true
		}
		good := checkKept(t, what, st, lost)
		st.Close()
		if torn := n != starts[complete]; torn != (warn != "") || size != starts[complete] {
			t.Errorf("%s: log of %d bytes after Open, want %d; warning %q", what, size, starts[complete], warn)
			good = false
		}
		if !good {
			t.FailNow()
		}
	}
}
