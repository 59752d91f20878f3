// Package journal is the durable action journal of the in-process drivers
// (lab/sim, lab/table): an append-only file of records, one per line, each
// written and fsynced before the call that made it returns.
//
// A line is "<crc32c in 8 hex digits> <JSON record>\n". After a crash the
// last line may be torn (cut anywhere, or not yet synced): Open drops it
// and truncates the file to the last whole line, so the next append starts
// clean. A damaged line that is not the last one is not a crash artefact:
// Open refuses the journal (errors.Internal) rather than silently forget an
// action that really ran.
package journal

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// FileName is the journal's name inside a driver's state directory (one
// directory, hence one journal, per instrument).
const FileName = "journal.log"

// MaxLine bounds one encoded record.
const MaxLine = 1 << 20

// Kind is what a record says happened.
type Kind string

const (
	Start Kind = "start" // an action was accepted (ID, Action, Params)
	Admin Kind = "admin" // an admin command was applied (Command)
)

// Record is one journal entry. Time is when it happened, in Unix
// nanoseconds of the wall clock.
type Record struct {
	Kind    Kind           `json:"k"`
	Time    int64          `json:"t"`
	ID      string         `json:"id,omitempty"`
	Action  string         `json:"a,omitempty"`
	Params  map[string]any `json:"p,omitempty"`
	Command string         `json:"c,omitempty"`
	// Outcome is what the run will do, decided when it was accepted
	// (start records only), so that a later change of the driver's
	// settings never changes a run already accepted.
	Outcome *Outcome `json:"o,omitempty"`
}

// Outcome is a run as decided when it was accepted. Durations are in
// nanoseconds.
type Outcome struct {
	// Exhausted names the consumable the run found short: it failed at
	// once and ran nothing.
	Exhausted string `json:"x,omitempty"`
	// Uses is how much of each consumable the run takes.
	Uses map[string]float64 `json:"u,omitempty"`
	// Duration is how long the run takes once it begins.
	Duration int64 `json:"d"`
	// FaultAfter, if set, is when into the run a fault ends it (with
	// Reason), leaving the instrument in error for Recovery.
	FaultAfter *int64 `json:"f,omitempty"`
	Reason     string `json:"r,omitempty"`
	Recovery   int64  `json:"rc,omitempty"`
	// Values are the measured outputs of a run that succeeds.
	Values map[string]float64 `json:"v,omitempty"`
}

// At returns the record's time.
func (r Record) At() time.Time { return time.Unix(0, r.Time) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeLine encodes r as one line, newline included. Params values must
// be strings or finite float64s.
func EncodeLine(r Record) ([]byte, error) {
	const op errors.Op = "journal.EncodeLine"
	if err := check(r); err != nil {
		return nil, errors.E(op, err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	line := make([]byte, 0, len(js)+10)
	line = hex.AppendEncode(line, crcBytes(js))
	line = append(line, ' ')
	line = append(line, js...)
	line = append(line, '\n')
	if len(line) > MaxLine {
		return nil, errors.E(op, errors.TooLarge, errors.Msg("journal record is too large"))
	}
	return line, nil
}

func crcBytes(b []byte) []byte {
	c := crc32.Checksum(b, castagnoli)
	return []byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
}

// DecodeLine decodes one line (with or without its newline). It checks
// the checksum and the record's shape.
func DecodeLine(line []byte) (Record, error) {
	const op errors.Op = "journal.DecodeLine"
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) < 10 || line[8] != ' ' {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed journal line"))
	}
	sum := make([]byte, 4)
	if n, err := hex.Decode(sum, line[:8]); err != nil || n != 4 {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed journal checksum"))
	}
	js := line[9:]
	if !bytes.Equal(sum, crcBytes(js)) {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("journal checksum mismatch"))
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed journal record"), err)
	}
	if dec.More() {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("trailing data in journal record"))
	}
	if err := check(r); err != nil {
		return Record{}, errors.E(op, err)
	}
	return r, nil
}

func check(r Record) error {
	switch r.Kind {
	case Start:
		if r.ID == "" || r.Action == "" || r.Command != "" {
			return errors.E(errors.Invalid, errors.Msg("start record needs an id and an action, and no command"))
		}
	case Admin:
		if r.Command == "" || r.ID != "" || r.Action != "" || r.Params != nil {
			return errors.E(errors.Invalid, errors.Msg("admin record needs a command and nothing else"))
		}
	default:
		return errors.E(errors.Invalid, errors.Msg("unknown journal record kind"))
	}
	if o := r.Outcome; o != nil {
		bad := func(msg string) error { return errors.E(errors.Invalid, errors.Msg("journal outcome: "+msg)) }
		switch {
		case r.Kind != Start:
			return bad("only a start record has one")
		case o.Duration < 0 || o.Recovery < 0:
			return bad("negative duration")
		case o.FaultAfter != nil && (*o.FaultAfter < 0 || *o.FaultAfter > o.Duration):
			return bad("fault outside the run")
		case (o.FaultAfter != nil) != (o.Reason != ""):
			return bad("a fault needs a reason, and a reason a fault")
		}
		for _, m := range []map[string]float64{o.Uses, o.Values} {
			for _, v := range m {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return bad("value is not finite")
				}
			}
		}
		for _, v := range o.Uses {
			if v < 0 {
				return bad("negative use")
			}
		}
	}
	for _, v := range r.Params {
		switch v := v.(type) {
		case string:
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.E(errors.Invalid, errors.Msg("journal parameter is not finite"))
			}
		default:
			return errors.E(errors.Invalid, errors.Msg("journal parameter is neither a number nor a string"))
		}
	}
	return nil
}

// Journal is an open journal. Its methods are safe for concurrent use.
type Journal struct {
	mu   sync.Mutex
	f    *os.File // nil: in memory
	path string
	mem  []Record
}

// Open opens (creating if need be) the journal in dir and returns it with
// the records it holds. With dir "", the journal lives in memory only. A
// journal open elsewhere (another process, or another Open in this one)
// is errors.Conflict.
func Open(dir string) (*Journal, []Record, error) {
	const op errors.Op = "journal.Open"
	if dir == "" {
		return &Journal{}, nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	// One driver at a time: a second writer would keep its own view of
	// what ran. Closing the file (or the process dying) releases the lock.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, nil, errors.E(op, errors.Conflict, errors.Msg("the instrument's journal is in use by another driver"), err)
		}
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	recs, good, err := read(f)
	if err != nil {
		f.Close()
		return nil, nil, errors.E(op, err)
	}
	// Drop a torn tail so the next record starts on a line of its own.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, nil, errors.E(op, errors.Internal, err)
	}
	syncDir(dir)
	return &Journal{f: f, path: path}, recs, nil
}

// read decodes the records of r and returns the offset just after the
// last whole, valid line.
func read(r io.Reader) ([]Record, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var recs []Record
	var good int64
	var pendingErr error
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if pendingErr != nil {
				// A bad line followed by more lines: damage, not a torn tail.
				return nil, 0, pendingErr
			}
			if line[len(line)-1] != '\n' {
				break // torn: never fsynced whole
			}
			rec, derr := DecodeLine(line)
			if derr != nil {
				pendingErr = errors.E(errors.Internal, errors.Msg("the instrument's journal is damaged"), derr)
			} else {
				recs = append(recs, rec)
				good += int64(len(line))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, errors.E(errors.Internal, err)
		}
	}
	return recs, good, nil
}

// Append writes r and makes it durable before returning.
func (j *Journal) Append(r Record) error {
	const op errors.Op = "journal.Append"
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		if j.path != "" {
			return errors.E(op, errors.Unavailable, errors.Msg("journal is closed"))
		}
		if err := check(r); err != nil {
			return errors.E(op, err)
		}
		j.mem = append(j.mem, r)
		return nil
	}
	line, err := EncodeLine(r)
	if err != nil {
		return errors.E(op, err)
	}
	if _, err := j.f.Write(line); err != nil {
		return errors.E(op, errors.Transient, errors.Msg("cannot write the instrument's journal"), err)
	}
	if err := j.f.Sync(); err != nil {
		return errors.E(op, errors.Transient, errors.Msg("cannot sync the instrument's journal"), err)
	}
	return nil
}

// Records returns the records of an in-memory journal (nil for a file).
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Record(nil), j.mem...)
}

// Close closes the journal file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Read returns the records of the journal in dir without opening it for
// writing (a torn tail is ignored).
func Read(dir string) ([]Record, error) {
	const op errors.Op = "journal.Read"
	f, err := os.Open(filepath.Join(dir, FileName))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	defer f.Close()
	recs, _, err := read(f)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return recs, nil
}

// Runs counts the start records per action ID: how many times each ID was
// started. Exactly-once means every count is 1.
func Runs(recs []Record) map[string]int {
	n := map[string]int{}
	for _, r := range recs {
		if r.Kind == Start {
			n[r.ID]++
		}
	}
	return n
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
