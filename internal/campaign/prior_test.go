package campaign

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

// writePrior writes points and values of s as a CSV file: columns in a
// random order, an extra column, renamed columns where rename says.
func writePrior(s *Spec, pts []bo.Point, vals [][]float64, rename map[string]string, rng *rand.Rand) []byte {
	names := []string{"note"}
	for _, p := range s.Params {
		names = append(names, p.Name)
	}
	q := quantityNames(s)
	names = append(names, q...)
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	col := func(n string) string {
		if r, ok := rename[n]; ok {
			return r
		}
		return n
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := make([]string, len(names))
	for i, n := range names {
		header[i] = col(n)
	}
	w.Write(header)
	for r, p := range pts {
		m := s.FromPoint(p)
		rec := make([]string, len(names))
		for i, n := range names {
			switch v := m[n].(type) {
			case string:
				rec[i] = v
			case float64:
				rec[i] = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				if n == "note" {
					rec[i] = "free, text"
				}
				for k, qn := range q {
					if qn == n {
						rec[i] = strconv.FormatFloat(vals[r][k], 'g', -1, 64)
					}
				}
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// observe checks that the optimizer takes what ReadPrior accepted.
func observe(t testing.TB, s *Spec, pts []bo.Point, vals [][]float64) {
	t.Helper()
	cfg, err := s.OptimizerConfig()
	if err != nil {
		t.Fatal(err)
	}
	o, err := bo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Observe(pts, vals); err != nil {
		t.Fatalf("bo.Observe refused prior data ReadPrior accepted: %v", err)
	}
}

// TestReadPriorSimplex: compositions off the simplex by more than the
// optimizer's tolerance are refused; within it, accepted and observable.
func TestReadPriorSimplex(t *testing.T) {
	b, err := os.ReadFile("../../examples/campaigns/thin-film.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	head := "fraction_a,fraction_b,fraction_c,anneal_temperature,conductivity,band_gap\n"
	pts, vals, err := ReadPrior(s, strings.NewReader(head+"0.45,0.35,0.2,420,118,1.8\n0.5,0.25,0.25000000001,300,40,2.1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	observe(t, s, pts, vals)
	for _, off := range []string{"0.2000005", "0.19", "0.2001"} {
		_, _, err := ReadPrior(s, strings.NewReader(head+"0.45,0.35,"+off+",420,118,1.8\n"), nil)
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "line 2") {
			t.Errorf("fraction_c %s: %v, want Invalid naming line 2", off, err)
		}
	}
}

func quantityNames(s *Spec) []string {
	var q []string
	for _, o := range s.Objectives {
		q = append(q, o.Name)
	}
	for _, c := range s.OutcomeConstraints {
		q = append(q, c.Name)
	}
	return q
}

// TestReadPriorRoundTrip: observations written as CSV (any column order,
// extra columns, renamed columns) read back as the same points and values.
func TestReadPriorRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100; i++ {
		s := genSpec(rng)
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		pts := designPoints(t, s, 1+rng.IntN(20))
		vals := make([][]float64, len(pts))
		for r := range vals {
			for range quantityNames(s) {
				vals[r] = append(vals[r], rng.NormFloat64()*100)
			}
		}
		rename := map[string]string{}
		if rng.IntN(2) == 0 {
			rename[s.Params[0].Name] = "Column " + s.Params[0].Name
			rename[s.Objectives[0].Name] = "Measured " + s.Objectives[0].Name
		}
		data := writePrior(s, pts, vals, rename, rng)
		gotP, gotV, err := ReadPrior(s, bytes.NewReader(data), rename)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, data)
		}
		if !cmp.Equal(gotP, pts) || !cmp.Equal(gotV, vals) {
			t.Fatalf("case %d: read %v %v, wrote %v %v\n%s", i, gotP, gotV, pts, vals, data)
		}
		observe(t, s, gotP, gotV)
	}
}

// TestReadPriorArylation reads the published direct-arylation table (a
// UTF-8 byte order mark, 1728 rows, extra columns) with the table-replay
// example's campaign.
func TestReadPriorArylation(t *testing.T) {
	b, err := os.ReadFile("../../examples/campaigns/table-replay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../bench/testdata/direct_arylation/data.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pts, vals, err := ReadPrior(s, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1728 || len(vals) != 1728 {
		t.Fatalf("%d points, %d values; want 1728", len(pts), len(vals))
	}
	seen := map[string]bool{}
	best, nBest := -1.0, 0
	for i, p := range pts {
		seen[fmt.Sprint(p)] = true
		switch y := vals[i][0]; {
		case y > best:
			best, nBest = y, 1
		case y == best:
			nBest++
		}
	}
	// The table's README: a full factorial, best yield 100 in two rows.
	if len(seen) != 1728 || best != 100 || nBest != 2 {
		t.Errorf("%d distinct points, best %v in %d rows; want 1728, 100, 2", len(seen), best, nBest)
	}
}

func TestReadPriorRefusals(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	head := "temperature,time,stirs,catalyst,yield,impurity\n"
	good := "40,2,3,Pd-A,50,1\n"
	for _, c := range []struct {
		name, data string
		columns    map[string]string
		kind       errors.Kind
		msg        string
	}{
		{"empty", "", nil, errors.Invalid, "empty file"},
		{"missing param column", "temperature,time,stirs,yield,impurity\n40,2,3,50,1\n", nil, errors.Invalid, `no column "catalyst"`},
		{"missing objective column", "temperature,time,stirs,catalyst,impurity\n40,2,3,Pd-A,1\n", nil, errors.Invalid, `no column "yield"`},
		{"renamed column absent", head + good, map[string]string{"yield": "Yield"}, errors.Invalid, `no column "Yield"`},
		{"duplicate column", "temperature,time,stirs,catalyst,yield,impurity,yield\n40,2,3,Pd-A,50,1,2\n", nil, errors.Invalid, "more than once"},
		{"out of bounds", head + good + "400,2,3,Pd-A,50,1\n", nil, errors.Invalid, "line 3: params.temperature: 400 is outside the bounds [30, 150]"},
		{"unknown category", head + good + good + "40,2,3,Fe,50,1\n", nil, errors.Invalid, "line 4:"},
		{"not a number", head + "40,2,3,Pd-A,lots,1\n", nil, errors.Invalid, `line 2: yield "lots" is not a finite number`},
		{"nan value", head + "40,2,3,Pd-A,NaN,1\n", nil, errors.Invalid, "line 2: yield"},
		{"inf param", head + "+Inf,2,3,Pd-A,5,1\n", nil, errors.Invalid, "line 2:"},
		{"empty cell", head + "40,,3,Pd-A,5,1\n", nil, errors.Invalid, "line 2:"},
		{"ragged", head + "40,2,3,Pd-A,5\n", nil, errors.Invalid, "line 2 has 5 fields"},
		{"bad quote", head + "40,2,3,\"Pd-A,5,1\n", nil, errors.Invalid, "line"},
		{"constraint", head + "150,2,10,Pd-A,5,1\n", nil, errors.Invalid, "constraints[0]"},
	} {
		_, _, err := ReadPrior(s, strings.NewReader(c.data), c.columns)
		if !errors.Is(c.kind, err) || !strings.Contains(errors.SafeMessage(err), c.msg) {
			t.Errorf("%s: got %v (message %q), want %v containing %q", c.name, err, errors.SafeMessage(err), c.kind, c.msg)
		}
	}
}

func TestReadPriorLimits(t *testing.T) {
	t.Parallel() // CPU-bound and shares nothing: runs beside the other slow ones
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("temperature,time,stirs,catalyst,yield,impurity\n")
	for i := 0; i < MaxPriorRows; i++ {
		b.WriteString("40,2,3,Pd-A,50,1\n")
	}
	pts, _, err := ReadPrior(s, strings.NewReader(b.String()), nil)
	if err != nil || len(pts) != MaxPriorRows {
		t.Fatalf("%d rows: %v", len(pts), err)
	}
	b.WriteString("40,2,3,Pd-A,50,1\n")
	if _, _, err := ReadPrior(s, strings.NewReader(b.String()), nil); !errors.Is(errors.TooLarge, err) {
		t.Errorf("%d rows: %v, want TooLarge", MaxPriorRows+1, err)
	}
	// A file over MaxPriorBytes (rows of 1 KiB, fewer than MaxPriorRows)
	// is refused, not silently truncated.
	r := &endlessRows{head: "temperature,time,stirs,catalyst,yield,impurity,note\n", row: "40,2,3,Pd-A,50,1," + strings.Repeat("x", 1006) + "\n"}
	if _, _, err := ReadPrior(s, r, nil); !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "bytes") {
		t.Errorf("endless rows: %v, want TooLarge naming the bytes", err)
	}
	if r.n < MaxPriorBytes || r.n > MaxPriorBytes+64<<10 {
		t.Errorf("read %d bytes before refusing, want just over %d", r.n, MaxPriorBytes)
	}
}

// endlessRows is a CSV file that never ends: a header, then row forever.
type endlessRows struct {
	head, row string
	off, n    int
}

func (e *endlessRows) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		src := e.row
		if e.n+n < len(e.head) {
			src = e.head
		}
		k := copy(p[n:], src[e.off:])
		n += k
		e.off += k
		if e.off == len(src) {
			e.off = 0
		}
	}
	e.n += n
	return n, nil
}
