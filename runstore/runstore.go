// Package runstore records the units of work of a sweep (a document's log-probs, a completion,
// a LAMA item, a timing) on disk as each one finishes, keyed by everything that determines its
// result, so that a sweep can resume and grow:
//
//   - re-running an unchanged sweep reads every unit back and computes nothing;
//   - a sweep with one more setting (say one more layer) computes only that setting's units;
//   - a sweep killed at any point resumes where it stopped and loses no finished unit;
//   - a changed setting never reuses a stale result, because the setting is part of the Key.
//
// A sweep calls Do (or Get and Put) once per unit:
//
//	st, err := runstore.Open(dir, runstore.Options{})
//	defer st.Close()
//	c, err := runstore.Do(st, key, func() (Completion, error) { return generate(...) })
//	fmt.Println(st) // run store <dir>: 120 records, 84 KiB; this run: 40 reused, 8 computed
//
// # On disk
//
// A store is one folder holding records.log, an append-only log of records, and a lock file.
// Each record is a frame: the magic "ars1", the lengths of the key and the value (uint32,
// little-endian), a CRC-32C of lengths, key and value, then the key and the value, both JSON.
// A record is appended with one write under an exclusive lock and synced before Put returns,
// so a finished unit survives a kill or a power cut. Several processes may share a store.
//
// A damaged record is never read as data, and damage never costs a valid record:
//
//   - A kill in the middle of a write leaves a torn tail: a last frame cut short (or failing
//     its checksum), with no valid record after it. Open drops it with a warning and truncates
//     the log there, so that new records follow the last good one.
//   - Damage inside the log (a changed byte, a block lost on disk or in a copy) is corruption:
//     the damaged bytes are skipped with a warning that says where they are (offset and record
//     number), reading resumes at the next valid frame, and every valid record after them is
//     kept. The log is left as it is; the skipped units are computed again when asked for.
//
// A later record of a key supersedes an earlier one.
package runstore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/actadd-go/actadd/internal/watchdog"
	"github.com/gofrs/flock"
)

// Key names one unit of work by everything that determines its result. Two units with equal
// keys must have equal results; anything that can change a result belongs in the key.
type Key struct {
	// Kind is what the unit is, e.g. "e2/completion" or "e1/document-logprobs".
	Kind string
	// Code is the version of the code path that computes the unit, e.g. "e2/v1". Change it
	// whenever a change of that code changes its results: old records are then not reused.
	Code string
	// Model, Revision and Backend say what computed it: the model's name, its revision (a
	// commit, tiny-<hash>, a folder) and the backend ("go", "xla:cuda").
	Model, Revision, Backend string
	// Steering holds the steering settings (additions: prompts, layer, coefficient, position),
	// Sampler the sampler settings; nil for none. Any value encoding/json can encode.
	Steering, Sampler any
	// Data is a checksum of the input data (a dataset's sha256, a prompt list's hash); Seed is
	// the random seed.
	Data string
	Seed uint64
	// Unit says which unit of the job this is: a document index, a completion number, a LAMA
	// item id. Any value encoding/json can encode.
	Unit any
}

// encode returns the key's canonical JSON (encoding/json sorts map keys and keeps struct
// field order, so equal keys encode equally) and its id, the hex SHA-256 of that JSON.
func (k Key) encode() (data []byte, id string, err error) {
	switch {
	case k.Kind == "":
		return nil, "", errors.New("runstore: key has no Kind: say what the unit is, e.g. \"e2/completion\"")
	case k.Code == "":
		return nil, "", fmt.Errorf("runstore: key of kind %q has no Code version: give the version of the code path that computes it, e.g. \"v1\"", k.Kind)
	case k.Model == "" || k.Backend == "":
		return nil, "", fmt.Errorf("runstore: key of kind %q must name the Model and the Backend that compute it", k.Kind)
	case k.Unit == nil:
		return nil, "", fmt.Errorf("runstore: key of kind %q has no Unit: say which unit of the job it is", k.Kind)
	}
	data, err = json.Marshal(k)
	if err != nil {
		return nil, "", fmt.Errorf("runstore: key of kind %q cannot be encoded: %w", k.Kind, err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// Options configure Open.
type Options struct {
	// Fresh ignores the records already in the store: every unit is computed again (and its new
	// record supersedes the old one for later runs). Nothing is deleted.
	Fresh bool
	// Warn receives warnings (a torn tail dropped, damaged records skipped); nil means os.Stderr.
	Warn io.Writer
}

// Stats count a store's records and this Store's use of it.
type Stats struct {
	Records  int   // distinct keys readable in the store
	Bytes    int64 // size of the log on disk
	Reused   int   // units read back by Get or Do
	Computed int   // units written by Put or Do
}

const (
	logName  = "records.log"
	lockName = "records.lock"
	magic    = "ars1"
	header   = 16      // magic, key length, value length, CRC-32C
	maxPart  = 1 << 30 // a key or value above 1 GiB is damage, not data
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entry locates a record's key and value in the log.
type entry struct {
	off            int64 // the frame's offset
	keyLen, valLen uint32
}

// Store is an open run store. Its methods may be called from several goroutines. A nil *Store
// records nothing: Get finds no record, Put does nothing, Do always computes, so that code with
// an optional store needs no second path.
type Store struct {
	dir  string
	f    *os.File
	lock *flock.Flock
	warn io.Writer

	mu       sync.Mutex
	index    map[string]entry
	end      int64 // the log is scanned up to here
	frames   int   // valid frames in the log before end, superseded ones included
	from     int64 // records before this offset are ignored (Options.Fresh)
	reused   int
	computed int
}

// Open opens (creating it if needed) the store in folder dir.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("runstore: no folder given for the run store")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runstore: creating the store folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runstore: opening the store's log: %w", err)
	}
	s := &Store{dir: dir, f: f, lock: flock.New(filepath.Join(dir, lockName)), warn: opts.Warn, index: map[string]entry{}}
	if s.warn == nil {
		s.warn = os.Stderr
	}
	if err := s.lock.Lock(); err != nil {
		f.Close()
		return nil, fmt.Errorf("runstore: locking %s: %w", dir, err)
	}
	err = s.scan(true)
	if uerr := s.lock.Unlock(); err == nil && uerr != nil {
		err = fmt.Errorf("runstore: unlocking %s: %w", dir, uerr)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if opts.Fresh {
		s.index = map[string]entry{}
		s.from = s.end
	}
	return s, nil
}

// Dir is the store's folder ("" for a nil Store).
func (s *Store) Dir() string {
	if s == nil {
		return ""
	}
	return s.dir
}

// Close closes the store's log.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// scan indexes the records from s.end to the end of the log. Damaged bytes followed by a
// valid frame are skipped with a warning. A damaged tail (no valid frame after it) may be a
// record another process is writing: without repair scan stops before it; with repair (the
// caller holds the lock exclusively, so nobody is writing) it is dropped with a warning and the
// log truncated there.
func (s *Store) scan(repair bool) error {
	info, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("runstore: %w", err)
	}
	size := info.Size()
	reader := func(off int64) *bufio.Reader {
		// A buffer of at most 1 MiB, no larger than what is left to read (often nothing).
		return bufio.NewReaderSize(io.NewSectionReader(s.f, off, size-off), int(min(1<<20, max(16, size-off))))
	}
	r := reader(s.end)
	off := s.end
	for off < size {
		keyLen, valLen, body, problem, err := readFrame(r, off, size)
		if err != nil {
			return fmt.Errorf("runstore: reading %s: %w", s.f.Name(), err)
		}
		if problem == "" {
			sum := sha256.Sum256(body[:keyLen])
			s.index[hex.EncodeToString(sum[:])] = entry{off: off, keyLen: keyLen, valLen: valLen}
			s.frames++
			off += header + int64(keyLen) + int64(valLen)
			continue
		}
		next, err := s.nextFrame(off+1, size)
		if err != nil {
			return fmt.Errorf("runstore: reading %s: %w", s.f.Name(), err)
		}
		if next < 0 {
			if !repair {
				break // perhaps a record another process is writing: look again under the lock
			}
			cause := "a write cut short by a kill or a crash"
			if problem == "a record failing its checksum" || problem == "no record marker" {
				cause = "a write cut short by a crash, or bytes changed on disk"
			}
			fmt.Fprintf(s.warn, "runstore: %s: dropped a damaged tail of %d bytes at offset %d, record %d (%s: %s); the %d records before it are kept\n",
				s.f.Name(), size-off, off, s.frames+1, problem, cause, s.frames)
			if err := s.f.Truncate(off); err != nil {
				return fmt.Errorf("runstore: dropping the damaged tail of %s: %w", s.f.Name(), err)
			}
			if err := s.f.Sync(); err != nil {
				return fmt.Errorf("runstore: %w", err)
			}
			break
		}
		fmt.Fprintf(s.warn, "runstore: %s is corrupted: skipped %d damaged bytes at offset %d, record %d (%s); the valid records before and after them are kept, the units they held are computed again when asked for\n",
			s.f.Name(), next-off, off, s.frames+1, problem)
		off = next
		r = reader(off)
	}
	s.end = off
	return nil
}

// readFrame reads the frame at offset off of a log of size bytes from r. problem says why the
// bytes there are not a valid frame ("" when they are); err is a failure to read the file.
func readFrame(r io.Reader, off, size int64) (keyLen, valLen uint32, body []byte, problem string, err error) {
	var hdr [header]byte
	if off+header > size {
		return 0, 0, nil, "a record header cut short", nil
	}
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, "", err
	}
	if string(hdr[:4]) != magic {
		return 0, 0, nil, "no record marker", nil
	}
	keyLen, valLen = binary.LittleEndian.Uint32(hdr[4:]), binary.LittleEndian.Uint32(hdr[8:])
	if keyLen > maxPart || valLen > maxPart {
		return 0, 0, nil, "impossible record lengths", nil
	}
	if off+header+int64(keyLen)+int64(valLen) > size {
		return 0, 0, nil, "a record cut short", nil
	}
	body = make([]byte, int(keyLen)+int(valLen))
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, nil, "", err
	}
	if crc32.Checksum(append(hdr[4:12:12], body...), castagnoli) != binary.LittleEndian.Uint32(hdr[12:]) {
		return 0, 0, nil, "a record failing its checksum", nil
	}
	return keyLen, valLen, body, "", nil
}

// nextFrame returns the offset of the first valid frame at or after from in a log of size
// bytes, or -1 when there is none. A false match needs the magic, two lengths that fit and a
// CRC-32C that matches by chance; inside a record it is all but impossible, since the key and
// the value are JSON, which holds no zero bytes while a length under 16 MiB holds one.
func (s *Store) nextFrame(from, size int64) (int64, error) {
	const chunk = 1 << 16
	buf := make([]byte, chunk+len(magic)-1)
	for at := from; at < size; at += chunk {
		n, err := s.f.ReadAt(buf[:min(int64(len(buf)), size-at)], at)
		if err != nil && !(errors.Is(err, io.EOF) && at+int64(n) == size) {
			return -1, err
		}
		for i := 0; ; {
			k := bytes.Index(buf[i:n], []byte(magic))
			if k < 0 || i+k >= chunk {
				break
			}
			cand := at + int64(i+k)
			_, _, _, problem, err := readFrame(io.NewSectionReader(s.f, cand, size-cand), cand, size)
			if err != nil {
				return -1, err
			}
			if problem == "" {
				return cand, nil
			}
			i += k + 1
		}
	}
	return -1, nil
}

// Get reads the value recorded for k into v (a pointer, as for json.Unmarshal) and reports
// whether there was one.
func (s *Store) Get(k Key, v any) (bool, error) {
	key, id, err := k.encode()
	if err != nil || s == nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok, err := s.lookup(id, "Get")
	if err != nil || !ok {
		return false, err
	}
	buf := make([]byte, int(e.keyLen)+int(e.valLen))
	if _, err := s.f.ReadAt(buf, e.off+header); err != nil {
		return false, fmt.Errorf("runstore: reading a record of %s: %w", s.f.Name(), err)
	}
	if !bytes.Equal(buf[:e.keyLen], key) {
		return false, fmt.Errorf("runstore: %s: the record at offset %d has another key with the same SHA-256 as %s", s.f.Name(), e.off, key)
	}
	if err := json.Unmarshal(buf[e.keyLen:], v); err != nil {
		return false, fmt.Errorf("runstore: the value recorded for %s does not decode into %T: %w (change the key's Code version when the value's type changes)", key, v, err)
	}
	s.reused++
	return true, nil
}

// Has reports whether the store holds a record of k (which Get would read), without reading it.
func (s *Store) Has(k Key) (bool, error) {
	_, id, err := k.encode()
	if err != nil || s == nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok, err := s.lookup(id, "Has")
	return ok, err
}

// lookup finds the record of the key with id id, indexing first what other processes
// appended when it is not indexed yet; records before s.from (Options.Fresh) do not count. The
// caller (method op) holds s.mu.
func (s *Store) lookup(id, op string) (entry, bool, error) {
	if s.f == nil {
		return entry{}, false, fmt.Errorf("runstore: %s on a closed store", op)
	}
	e, ok := s.index[id]
	if !ok {
		if err := s.scan(false); err != nil {
			return entry{}, false, err
		}
		e, ok = s.index[id]
	}
	return e, ok && e.off >= s.from, nil
}

// Put records v as the value of k, synced to disk before it returns.
func (s *Store) Put(k Key, v any) error {
	key, id, err := k.encode()
	if err != nil {
		return err
	}
	val, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("runstore: the value for a unit of kind %q cannot be recorded: %w", k.Kind, err)
	}
	if len(val) > maxPart || len(key) > maxPart {
		return fmt.Errorf("runstore: a record of kind %q is over 1 GiB: record smaller units", k.Kind)
	}
	if s == nil {
		return nil
	}
	frame := make([]byte, header, header+len(key)+len(val))
	copy(frame, magic)
	binary.LittleEndian.PutUint32(frame[4:], uint32(len(key)))
	binary.LittleEndian.PutUint32(frame[8:], uint32(len(val)))
	frame = append(append(frame, key...), val...)
	binary.LittleEndian.PutUint32(frame[12:], crc32.Checksum(append(frame[4:12:12], frame[header:]...), castagnoli))

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("runstore: Put on a closed store")
	}
	if err := s.lock.Lock(); err != nil {
		return fmt.Errorf("runstore: locking %s: %w", s.dir, err)
	}
	defer s.lock.Unlock()
	// Index what other processes appended, so that this frame goes at the true end.
	if err := s.scan(true); err != nil {
		return err
	}
	if _, err := s.f.WriteAt(frame, s.end); err != nil {
		return fmt.Errorf("runstore: writing a record to %s: %w", s.f.Name(), err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("runstore: syncing %s: %w", s.f.Name(), err)
	}
	s.index[id] = entry{off: s.end, keyLen: uint32(len(key)), valLen: uint32(len(val))}
	s.frames++
	s.end += int64(len(frame))
	s.computed++
	return nil
}

// Do returns the value recorded for k, or computes it, records it and returns it.
func Do[T any](s *Store, k Key, compute func() (T, error)) (T, error) {
	var v T
	if ok, err := s.Get(k, &v); err != nil || ok {
		return v, err
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	return v, s.Put(k, v)
}

// Stats returns the store's size and this Store's counts of reused and computed units.
func (s *Store) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Records: len(s.index), Bytes: s.end, Reused: s.reused, Computed: s.computed}
}

// String reports the store's folder and size, and what this run reused and computed.
func (s *Store) String() string {
	if s == nil {
		return "no run store"
	}
	st := s.Stats()
	return fmt.Sprintf("run store %s: %d records, %s; this run: %d reused, %d computed", s.dir, st.Records, watchdog.Bytes(st.Bytes), st.Reused, st.Computed)
}
