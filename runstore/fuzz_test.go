package runstore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/actadd-go/actadd/internal/fuzzcheck"
	"github.com/actadd-go/actadd/runstore"
)

// fuzzValue is a recorded value: any bytes (JSON carries []byte exactly, as base64).
type fuzzValue struct {
	B []byte
	N int
}

func fuzzKey(unit int) runstore.Key {
	return runstore.Key{Kind: "fuzz/unit", Code: "v1", Model: "m", Backend: "go", Unit: unit}
}

// Ways the log is damaged after the records are written.
const (
	damageNone     = iota
	damageFlip     // one byte changed
	damageTruncate // the log cut short
	damageAppend   // bytes appended after the last record
	damageModes
)

// openQuiet opens the store in dir, collecting its warnings.
func openQuiet(t *testing.T, dir string) (*runstore.Store, *bytes.Buffer) {
	t.Helper()
	var warn bytes.Buffer
	st, err := runstore.Open(dir, runstore.Options{Warn: &warn})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	return st, &warn
}

// splitValues cuts data into at most max values at each 0xff byte.
func splitValues(data []byte, max int) [][]byte {
	parts := bytes.SplitN(data, []byte{0xff}, max)
	if len(data) == 0 {
		return nil
	}
	return parts
}

// FuzzRunStoreLog writes records, damages the log (one byte changed, the log cut short, or
// garbage appended), and opens it again. Every record written reads back equal when the log is
// undamaged; a damaged record never reads as data (not found, never another value); every
// record wholly before the damage reads back equal; damage is reported as a warning; and after
// the repair a new record is written and read back, with every record still readable equal
// (records after the damage may be kept or dropped; damage left inside the log may be reported
// again, but an intact log never is).
func FuzzRunStoreLog(f *testing.F) {
	f.Add([]byte("first\xffsecond\xff\xff{\"json\": true}"), uint8(damageNone), uint32(0), uint8(0))
	f.Add([]byte("first\xffsecond\xffthird"), uint8(damageFlip), uint32(40), uint8(0x20))
	f.Add([]byte("first\xffsecond\xffthird"), uint8(damageFlip), uint32(2), uint8(1))
	f.Add([]byte("first\xffsecond\xffthird"), uint8(damageTruncate), uint32(100), uint8(0))
	f.Add([]byte("first\xffsecond"), uint8(damageAppend), uint32(3), uint8('a'))
	f.Add([]byte("ars1"), uint8(damageAppend), uint32(20), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, at uint32, b uint8) {
		dir := t.TempDir()
		values := splitValues(data, 6)
		st, _ := openQuiet(t, dir)
		var ends []int64 // the log's size after each record
		log := filepath.Join(dir, "records.log")
		for i, v := range values {
			if err := st.Put(fuzzKey(i), fuzzValue{B: v, N: i}); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(log)
			if err != nil {
				t.Fatal(err)
			}
			ends = append(ends, fi.Size())
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		size := int64(len(raw))
		// damaged is the first byte offset that is not as written; intact reports that a
		// record ending at end is unharmed.
		damaged := size
		mode %= damageModes
		switch {
		case mode == damageFlip && size > 0:
			damaged = int64(at) % size
			raw[damaged] ^= max(b, 1)
		case mode == damageTruncate && size > 0:
			damaged = int64(at) % size
			raw = raw[:damaged]
		case mode == damageAppend:
			raw = append(raw, bytes.Repeat([]byte{b}, int(at%64)+1)...)
		default:
			mode = damageNone
		}
		if err := os.WriteFile(log, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		atBoundary := damaged == 0 && mode == damageTruncate
		for _, e := range ends {
			atBoundary = atBoundary || (mode == damageTruncate && e == damaged)
		}

		var warn *bytes.Buffer
		fuzzcheck.Bounded(t, len(raw), 64, func() { st, warn = openQuiet(t, dir) })
		readable := map[int]bool{}
		for i, v := range values {
			var got fuzzValue
			ok, err := st.Get(fuzzKey(i), &got)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			start := int64(0)
			if i > 0 {
				start = ends[i-1]
			}
			switch {
			case ok && !reflect.DeepEqual(got, fuzzValue{B: v, N: i}) && !(len(v) == 0 && got.B == nil && got.N == i):
				t.Fatalf("record %d of %q read back as %q", i, v, got.B)
			case !ok && ends[i] <= damaged:
				t.Fatalf("record %d [%d, %d) lies before the damage at %d (mode %d) but was lost; warning: %s", i, start, ends[i], damaged, mode, warn)
			case ok && start <= damaged && damaged < ends[i]:
				t.Fatalf("record %d [%d, %d) was damaged at %d (mode %d) but reads as data", i, start, ends[i], damaged, mode)
			}
			readable[i] = ok
		}
		reported := warn.Len() > 0
		switch {
		case mode != damageNone && !atBoundary && !reported:
			t.Fatalf("damage at %d (mode %d) not reported", damaged, mode)
		case (mode == damageNone || atBoundary) && reported:
			t.Fatalf("an intact log reported as damaged: %s", warn)
		}

		// The repaired store takes new records, and keeps what it read.
		extra := fuzzValue{B: []byte("after the repair"), N: -1}
		if err := st.Put(fuzzKey(1000), extra); err != nil {
			t.Fatalf("writing after the repair: %v", err)
		}
		st.Close()
		st, warn = openQuiet(t, dir)
		defer st.Close()
		// Damage inside the log may stay there, skipped and reported again; none may appear.
		if warn.Len() > 0 && !reported {
			t.Fatalf("an intact log reported as damaged after a record was added: %s", warn)
		}
		var got fuzzValue
		if ok, err := st.Get(fuzzKey(1000), &got); !ok || err != nil || !reflect.DeepEqual(got, extra) {
			t.Fatalf("record written after the repair read back as %+v, %v, %v", got, ok, err)
		}
		for i := range values {
			ok, err := st.Has(fuzzKey(i))
			if err != nil || ok != readable[i] {
				t.Fatalf("record %d: readable %v before a new record, %v (%v) after", i, readable[i], ok, err)
			}
		}
	})
}

// FuzzRunStoreOpen opens a store whose log holds arbitrary bytes (seeded with real logs, whole
// and damaged). Opening stays within fuzzcheck's bounds (a frame claiming a gigabyte is never
// allocated); a log opened without a warning is kept whole; and the store then takes a new
// record that reads back equal, also after opening it again.
func FuzzRunStoreOpen(f *testing.F) {
	dir := f.TempDir()
	st, err := runstore.Open(dir, runstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for i, v := range []string{"one", "two", "three"} {
		if err := st.Put(fuzzKey(i), fuzzValue{B: []byte(v), N: i}); err != nil {
			f.Fatal(err)
		}
	}
	st.Close()
	real, err := os.ReadFile(filepath.Join(dir, "records.log"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(real[:len(real)-5])
	f.Add(append(append([]byte(nil), real...), "ars1\xff\xff\xff\x3f\x00\x00\x00\x00"...))
	f.Add([]byte("ars1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		log := filepath.Join(dir, "records.log")
		if err := os.WriteFile(log, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var st *runstore.Store
		var warn bytes.Buffer
		var err error
		fuzzcheck.Bounded(t, len(data), 64, func() { st, err = runstore.Open(dir, runstore.Options{Warn: &warn}) })
		if err != nil {
			return // refusing a damaged log outright is allowed; reading it as data is not
		}
		fi, err := os.Stat(log)
		if err != nil {
			t.Fatal(err)
		}
		if warn.Len() == 0 && fi.Size() != int64(len(data)) {
			t.Fatalf("a log of %d bytes became %d bytes without a warning", len(data), fi.Size())
		}
		if fi.Size() > int64(len(data)) {
			t.Fatalf("opening a log of %d bytes grew it to %d", len(data), fi.Size())
		}
		v := fuzzValue{B: []byte("new"), N: 7}
		if err := st.Put(fuzzKey(1000), v); err != nil {
			t.Fatalf("writing a record: %v", err)
		}
		st.Close()
		st, again := openQuiet(t, dir)
		defer st.Close()
		if again.Len() > 0 && warn.Len() == 0 {
			t.Fatalf("a log opened without a warning is reported as damaged after a record was added: %s", again)
		}
		var got fuzzValue
		if ok, err := st.Get(fuzzKey(1000), &got); !ok || err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("the record read back as %+v, %v, %v", got, ok, err)
		}
	})
}
