package authz

import (
	"context"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/label"
)

// benchSetup is a realistic decision: a partner scientist whose
// organisation holds two agreements, reading and writing a compartmented,
// agreement-bound, REL TO dataset in its project under the default policy.
func benchSetup(b *testing.B) (*Authorizer, Principal, Resource) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	facts := StaticFacts{"acme": {
		{ID: "CRADA-0042", Type: CRADA, Parties: []string{"acme", "doe-lab"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), Compartments: []string{"FUSION"}},
		{ID: "DUA-7", Type: DataUse, Parties: []string{"acme"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)},
		{ID: "NDA-1", Type: NDA, Parties: []string{"acme"}, NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)},
	}}
	a, err := New(facts, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	c, err := label.NewClearance(label.NationalSecurity, []string{"BIO", "ITAR"}, "USA")
	if err != nil {
		b.Fatal(err)
	}
	p := Principal{ID: "alice", Kind: User, Org: "acme", Roles: []Role{Viewer},
		ProjectRoles: map[string][]Role{"fusion": {Contributor}, "other": {Steward}}, Clearance: c}
	r := Resource{Type: Dataset, ID: "plasma-42", Project: "fusion", Owner: "bob",
		Label: label.MustParse("PROPRIETARY//FUSION/ITAR//AGR:CRADA-0042/DUA-7//REL TO USA, GBR")}
	if err := a.Can(context.Background(), p, Write, r); err != nil {
		b.Fatal(err)
	}
	return a, p, r
}

// BenchmarkCan measures one full decision (Facts lookup, agreements,
// lattice, two Cedar evaluations: read, then write) and reports the
// latency distribution. Run with -benchtime=200000x or more for stable
// percentiles.
func BenchmarkCan(b *testing.B) {
	a, p, r := benchSetup(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		err := a.Can(ctx, p, Write, r)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if i < cap(lat) {
			lat = append(lat, d)
		} else {
			lat[i%cap(lat)] = d // keep the most recent window
		}
		i++
	}
	reportCPU(b, cpu0)
	reportPercentiles(b, lat)
}

// BenchmarkCanRead is the read-only decision (one Cedar evaluation).
func BenchmarkCanRead(b *testing.B) {
	a, p, r := benchSetup(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, 1<<16)
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		err := a.Can(ctx, p, Read, r)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if i < cap(lat) {
			lat = append(lat, d)
		} else {
			lat[i%cap(lat)] = d
		}
		i++
	}
	reportCPU(b, cpu0)
	reportPercentiles(b, lat)
}

// BenchmarkCanParallel is decisions/s with every core busy.
func BenchmarkCanParallel(b *testing.B) {
	a, p, r := benchSetup(b)
	ctx := context.Background()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := a.Can(ctx, p, Write, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	reportCPU(b, cpu0)
}

// BenchmarkReadable100 filters a page of 100 search hits.
func BenchmarkReadable100(b *testing.B) {
	a, p, r := benchSetup(b)
	rs := make([]Resource, 100)
	for i := range rs {
		rs[i] = r
		rs[i].ID = r.ID + string(rune('a'+i%26))
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := a.Readable(ctx, p, rs); err != nil {
			b.Fatal(err)
		}
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	pct := func(q float64) float64 { return float64(s[int(q*float64(len(s)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}

// cpuTime is the process's user+system CPU time. On a shared machine the
// wall-clock ns/op includes time other processes took from us; CPU time
// per decision (cpu-ns/op, including GC) does not, and 1e9/cpu-ns/op is the
// decisions per second one core sustains.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	if d := cpuTime() - since; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/d.Seconds(), "decisions/cpu-s")
	}
}

// BenchmarkCanCold is BenchmarkCan with a different resource every time,
// so the resource entity is always rebuilt (no memo hit): the worst case,
// e.g. a first look at each search hit.
func BenchmarkCanCold(b *testing.B) {
	a, p, r := benchSetup(b)
	ctx := context.Background()
	ids := make([]string, 1<<14)
	for i := range ids {
		ids[i] = "plasma-" + strconv.Itoa(i)
	}
	lat := make([]time.Duration, 0, 1<<16)
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		r.ID = ids[i%len(ids)]
		t0 := time.Now()
		err := a.Can(ctx, p, Write, r)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if i < cap(lat) {
			lat = append(lat, d)
		} else {
			lat[i%cap(lat)] = d
		}
		i++
	}
	reportCPU(b, cpu0)
	reportPercentiles(b, lat)
}
