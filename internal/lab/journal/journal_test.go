package journal

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func randomRecord(rng *rand.Rand, i int) Record {
	if rng.IntN(4) == 0 {
		return Record{Kind: Admin, Time: rng.Int64(), Command: []string{"safety_stop", "reset", "pause"}[rng.IntN(3)]}
	}
	r := Record{Kind: Start, Time: rng.Int64(), ID: fmt.Sprintf("id-%d", i), Action: "run"}
	switch rng.IntN(4) {
	case 1:
		r.Outcome = &Outcome{Exhausted: "substrate"}
	case 2:
		after := rng.Int64N(1000)
		r.Outcome = &Outcome{Duration: 1000, FaultAfter: &after, Reason: "fault", Recovery: 5, Uses: map[string]float64{"substrate": 5}}
	case 3:
		r.Outcome = &Outcome{Duration: rng.Int64N(1e12), Values: map[string]float64{"yield": rng.NormFloat64(), "impurity": 1e-300}}
	}
	if n := rng.IntN(4); n > 0 {
		r.Params = map[string]any{}
		for k := 0; k < n; k++ {
			if rng.IntN(2) == 0 {
				r.Params[fmt.Sprintf("p%d", k)] = rng.NormFloat64() * 1e3
			} else {
				r.Params[fmt.Sprintf("p%d", k)] = fmt.Sprintf("v\"%d\n", rng.IntN(100))
			}
		}
	}
	return r
}

// Records written are the records read back, in order, through reopens.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var want []Record
	for round := 0; round < 3; round++ {
		j, got, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: read %d records, want %d (or they differ)", round, len(got), len(want))
		}
		for i := 0; i < 50; i++ {
			r := randomRecord(rng, len(want))
			if err := j.Append(r); err != nil {
				t.Fatal(err)
			}
			want = append(want, r)
		}
		j.Close()
	}
	runs := Runs(want)
	got, err := Read(dir)
	if err != nil || !reflect.DeepEqual(Runs(got), runs) {
		t.Fatalf("Read: %v, runs differ", err)
	}
}

// A journal cut at any byte (a crash mid-write) opens with every whole
// record before the cut, and the next append is readable.
func TestTornTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var full []byte
	var recs []Record
	var ends []int
	for i := 0; i < 4; i++ {
		r := randomRecord(rng, i)
		line, err := EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, line...)
		recs = append(recs, r)
		ends = append(ends, len(full))
	}
	for cut := 0; cut <= len(full); cut++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		j, got, err := Open(dir)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if len(got) != whole || (whole > 0 && !reflect.DeepEqual(got, recs[:whole])) {
			t.Fatalf("cut %d: got %d records, want %d", cut, len(got), whole)
		}
		extra := Record{Kind: Admin, Time: 7, Command: "reset"}
		if err := j.Append(extra); err != nil {
			t.Fatal(err)
		}
		j.Close()
		got, err = Read(dir)
		if err != nil || len(got) != whole+1 || !reflect.DeepEqual(got[whole], extra) {
			t.Fatalf("cut %d: after append: %v, %d records", cut, err, len(got))
		}
	}
}

// A damaged line followed by more lines is refused, not skipped.
func TestDamagedMiddle(t *testing.T) {
	dir := t.TempDir()
	j, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := j.Append(Record{Kind: Start, Time: int64(i), ID: fmt.Sprint("a", i), Action: "run"}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	path := filepath.Join(dir, FileName)
	data, _ := os.ReadFile(path)
	i := bytes.IndexByte(data, '\n')
	data[i-3] ^= 0x01 // flip a bit inside the first record
	os.WriteFile(path, data, 0o600)
	if _, _, err := Open(dir); !errors.Is(errors.Internal, err) {
		t.Fatalf("Open of a damaged journal: %v, want Internal", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, r := range []Record{
		{Kind: "x", ID: "a", Action: "b"},
		{Kind: Start, Action: "b"},
		{Kind: Start, ID: "a"},
		{Kind: Admin},
		{Kind: Admin, Command: "reset", ID: "a"},
		{Kind: Start, ID: "a", Action: "b", Params: map[string]any{"x": []int{1}}},
		{Kind: Admin, Command: "reset", Outcome: &Outcome{}},
		{Kind: Start, ID: "a", Action: "b", Outcome: &Outcome{Duration: -1}},
		{Kind: Start, ID: "a", Action: "b", Outcome: &Outcome{Duration: 5, FaultAfter: new(int64(6)), Reason: "x"}},
		{Kind: Start, ID: "a", Action: "b", Outcome: &Outcome{Duration: 5, FaultAfter: new(int64(1))}},
		{Kind: Start, ID: "a", Action: "b", Outcome: &Outcome{Duration: 5, Values: map[string]float64{"y": math.Inf(1)}}},
		{Kind: Start, ID: "a", Action: "b", Outcome: &Outcome{Duration: 5, Uses: map[string]float64{"y": -1}}},
	} {
		if _, err := EncodeLine(r); !errors.Is(errors.Invalid, err) {
			t.Errorf("EncodeLine(%+v) = %v, want Invalid", r, err)
		}
	}
}

// FuzzDecodeLine: whatever the bytes, DecodeLine does not panic; a line it
// accepts re-encodes to a line that decodes to the same record; a line
// with any byte changed is refused or decodes to a record of the same
// encoding (the checksum catches damage).
func FuzzDecodeLine(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 6; i++ {
		line, _ := EncodeLine(randomRecord(rng, i))
		f.Add(line)
	}
	f.Add([]byte("00000000 {}\n"))
	f.Add([]byte("zzzzzzzz {\"k\":\"start\"}"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := DecodeLine(line)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("DecodeLine error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		enc, err := EncodeLine(r)
		if err != nil {
			t.Fatalf("accepted record does not re-encode: %v", err)
		}
		r2, err := DecodeLine(enc)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("re-encoded record decodes to %+v, %v; want %+v", r2, err, r)
		}
		// Damage to any one byte is caught, or changes nothing (the
		// checksum's hex digits in another case).
		for i := 0; i < len(enc)-1; i++ {
			bad := append([]byte(nil), enc...)
			bad[i] ^= byte(1 + len(line)%255)
			if r3, err := DecodeLine(bad); err == nil && !reflect.DeepEqual(r3, r) {
				t.Fatalf("byte %d damaged, the line still decodes, to %+v (was %+v)", i, r3, r)
			}
		}
	})
}

// Two writers on one journal would each believe their own view of what
// ran: the second Open is refused until the first closes.
func TestOneWriter(t *testing.T) {
	dir := t.TempDir()
	j, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(dir); !errors.Is(errors.Conflict, err) {
		t.Fatalf("second Open: %v, want Conflict", err)
	}
	j.Close()
	j, _, err = Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	j.Close()
}
