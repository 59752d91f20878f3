package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseSeeds are the example files, the base file and broken variants.
func parseSeeds(f *testing.F) {
	files, _ := filepath.Glob("../../examples/campaigns/*.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(bytes.Replace(b, []byte("high:"), []byte("hihg:"), 1))
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(base))
	b, _ := json.Marshal(mustParse(f, base))
	f.Add(b)
	for _, edit := range [][2]string{
		{"low: 30", "low: 300"},
		{"${temperature}", "${nope}"},
		{"goal: max", "goal: sideways"},
		{"batch: 2", "batch: 2\nmax_in_flight: 1"},
		{"rhs: 160", "rhs: -5"},
		{"kind: integer", "kind: categorical"},
		{"label: OPEN", "label: SECRET//X"},
		{"workcell: demo-cell", "job: {output: o.json, spec: {executable: x, arguments: ['${stirs}'], attributes: {duration: 1m}}}"},
	} {
		f.Add([]byte(strings.Replace(base, edit[0], edit[1], 1)))
	}
	f.Add([]byte(strings.Replace(base, "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, stirs: 3, catalyst: Pd-A}\n  - {temperature: 41, time: 2, stirs: 3, catalyst: Ni-C}", 1)))
	f.Add([]byte(base + "---\nname: other\n"))
	f.Add([]byte("%YAML 1.2\n---\n" + base + "...\n"))
	f.Add([]byte(`{"name": "j", "objectives": [{"name": "y", "goal": "min", "target": -1e308}], "params": [{"name": "x", "kind": "integer", "low": -3, "high": 3}], "budget": {"wall_time": "1h30m"}, "executor": {"job": {"output": "o.json", "spec": {"executable": "a", "arguments": ["${x}"], "environment": {"X": "${x}"}, "attributes": {"duration": "1m"}}}}}`))
	f.Add([]byte("name: &a x\n"))
	f.Add([]byte("{}"))
}

func mustParse(t testing.TB, doc string) *Spec {
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzParse: Parse never panics; a refusal is Invalid (or TooLarge) with a
// one-line message; an accepted file re-encodes as JSON and parses to an
// equal Spec; its optimizer configuration is accepted by bo.New; and a
// point the optimizer suggests survives FromPoint/ToPoint.
func FuzzParse(f *testing.F) {
	parseSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("kind %v: %v", k, err)
			}
			if msg := errors.SafeMessage(err); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("message %q", msg)
			}
			return
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		s2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(s2)
		if !bytes.Equal(b, b2) || !cmp.Equal(s, s2, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Executor{}, "Job"), cmpopts.IgnoreFields(Spec{}, "Pool")) {
			t.Fatalf("JSON round trip changed the spec:\n%s\n%s", b, b2)
		}
		cfg, err := s.OptimizerConfig()
		if err != nil {
			t.Fatalf("OptimizerConfig: %v", err)
		}
		cfg.RawSamples, cfg.InitialPoints = 16, 1 // keep each input fast
		o, err := bo.New(cfg)
		if err != nil {
			t.Fatalf("bo.New refused an accepted spec: %v\n%s", err, b)
		}
		ps, err := o.Suggest(context.Background(), 1)
		if err != nil {
			return // e.g. an integer space whose lattice misses an equality
		}
		roundTrip(t, s, ps[0])
		// A random point of the box (constraints aside).
		rng := rand.New(rand.NewPCG(uint64(len(data)), 1))
		p := make(bo.Point, len(s.Params))
		for i, prm := range s.Params {
			switch bo.Kind(prm.Kind) {
			case bo.Categorical:
				p[i] = float64(rng.IntN(len(prm.Categories)))
			case bo.Integer:
				p[i] = math.Round(*prm.Low + rng.Float64()*(*prm.High-*prm.Low))
			default:
				p[i] = *prm.Low + rng.Float64()*(*prm.High-*prm.Low)
			}
		}
		if cfg.Space.Contains(p) {
			roundTrip(t, s, p)
		}
	})
}

func roundTrip(t *testing.T, s *Spec, p bo.Point) {
	t.Helper()
	m := s.FromPoint(p)
	q, err := s.ToPoint(m)
	if err != nil {
		t.Fatalf("ToPoint(FromPoint(%v) = %v): %v", p, m, err)
	}
	if !cmp.Equal(p, q) {
		t.Fatalf("round trip %v → %v → %v", p, m, q)
	}
}

// FuzzReadPrior: ReadPrior never panics; a refusal is Invalid or TooLarge;
// accepted rows lie in the space with finite values, and written back as
// CSV they read back the same.
func FuzzReadPrior(f *testing.F) {
	s := mustParse(f, base)
	head := "temperature,time,stirs,catalyst,yield,impurity\n"
	for _, seed := range []string{
		head + "40,2,3,Pd-A,50,1\n45.5,29,1,Ni-C,-3,1e-3\n",
		"\ufeff" + head + "40,2,3,Pd-A,50,1\n",
		"catalyst,yield,impurity,temperature,time,stirs,x\nPd-B,1,2,31,1,2,\"a,b\"\n",
		head + "400,2,3,Pd-A,50,1\n",
		head + "40,2,3,Pd-A,NaN,1\n",
		head + "40,2,3,\"Pd-A\n",
		head,
		"",
	} {
		f.Add([]byte(seed))
	}
	cfg, err := s.OptimizerConfig()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, vals, err := ReadPrior(s, bytes.NewReader(data), nil)
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("kind %v: %v", k, err)
			}
			if errors.SafeMessage(err) == "" {
				t.Fatalf("no message: %v", err)
			}
			return
		}
		if len(pts) != len(vals) {
			t.Fatalf("%d points, %d rows of values", len(pts), len(vals))
		}
		for i, p := range pts {
			if !cfg.Space.Contains(p) {
				t.Fatalf("point %v is outside the space", p)
			}
			if len(vals[i]) != 2 || !finite(vals[i][0]) || !finite(vals[i][1]) {
				t.Fatalf("values %v", vals[i])
			}
		}
		if len(pts) > 0 {
			o, err := bo.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Observe(pts, vals); err != nil {
				t.Fatalf("bo.Observe refused what ReadPrior accepted: %v", err)
			}
		}
		out := writePrior(s, pts, vals, nil, rand.New(rand.NewPCG(1, 1)))
		p2, v2, err := ReadPrior(s, bytes.NewReader(out), nil)
		if err != nil || !cmp.Equal(pts, p2, cmpopts.EquateEmpty()) || !cmp.Equal(vals, v2, cmpopts.EquateEmpty()) {
			t.Fatalf("rewritten prior reads differently: %v\n%s", err, out)
		}
	})
}

// FuzzDuration: a duration that reads back writes as one that reads back
// the same.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"90s"`, `"1d12h"`, `"2d"`, `'1h'`, `3h`, `"-5m"`, `"1.5h"`, `""`, `"9999d"`, `"1d1d"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Duration
		if d.UnmarshalYAML(b) != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var d2 Duration
		if err := json.Unmarshal(out, &d2); err != nil || d2 != d {
			t.Fatalf("%q → %v → %s → %v, %v", b, d, out, d2, err)
		}
	})
}

// FuzzPriorRef: an accepted dataset reference is NAME or NAME@N with a
// valid name and N ≥ 1; printed canonically it reads back the same, and
// it differs from what was written only in leading zeros ("x@03").
func FuzzPriorRef(f *testing.F) {
	for _, s := range []string{"shots", "shots@3", "shots@0", "shots@+3", "a@b@c", "Shots@1", "x@9223372036854775807", "x@9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, v, err := Prior{Dataset: s}.Ref()
		if err != nil {
			if name != "" || v != 0 {
				t.Fatalf("error with a result: %q %d", name, v)
			}
			return
		}
		if !genesis.ValidName(name) || v < 0 {
			t.Fatalf("%q → %q %d", s, name, v)
		}
		back := name
		if v > 0 {
			back += "@" + strconv.FormatInt(v, 10)
		}
		n2, v2, err := Prior{Dataset: back}.Ref()
		if err != nil || n2 != name || v2 != v {
			t.Fatalf("%q → %q %d → %q → %q %d %v", s, name, v, back, n2, v2, err)
		}
		if back != s && strings.Replace(s, "@0", "@", 1) == s {
			t.Fatalf("%q → %q %d → %q", s, name, v, back)
		}
	})
}
