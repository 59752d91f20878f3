package label

import (
	"syscall"
	"testing"
	"time"
)

// cpuNs reports CPU time per op besides wall time: on a shared machine
// wall time includes time other processes took.
func cpuNs(b *testing.B) func() {
	t0 := cpuTime()
	return func() {
		if d := cpuTime() - t0; d > 0 && b.N > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	benchA = MustParse("NATIONAL-SECURITY//BIO/FUSION/ITAR//AGR:CRADA-0042/DUA-7//REL TO USA, GBR, CAN")
	benchB = MustParse("PROPRIETARY//FUSION/QIS//AGR:CRADA-0042//REL TO USA, AUS, GBR")
	benchC = MustParse("PROPRIETARY//FUSION//AGR:CRADA-0042//REL TO USA, GBR, CAN, AUS")
	sinkB  bool
	sinkL  Label
)

func BenchmarkDominates(b *testing.B) {
	defer cpuNs(b)()
	for b.Loop() {
		sinkB = Dominates(benchA, benchC)
	}
}

func BenchmarkDominatesFalse(b *testing.B) {
	defer cpuNs(b)()
	for b.Loop() {
		sinkB = Dominates(benchA, benchB)
	}
}

// Join of two overlapping labels: new compartment and REL TO slices.
func BenchmarkJoin(b *testing.B) {
	x, y := benchA, benchB
	var l Label
	defer cpuNs(b)()
	for b.Loop() {
		l = Join(x, y)
	}
	sinkL = l
}

// Join with a dominated label (the common case in lineage): no allocation.
func BenchmarkJoinDominated(b *testing.B) {
	x, y := benchA, benchC
	var l Label
	defer cpuNs(b)()
	for b.Loop() {
		l = Join(x, y)
	}
	sinkL = l
}

func BenchmarkMayRead(b *testing.B) {
	c, _ := NewClearance(NationalSecurity, []string{"BIO", "FUSION", "ITAR", "QIS"}, "USA")
	c, _ = c.WithAgreements([]string{"CRADA-0042", "DUA-7"}, nil)
	defer cpuNs(b)()
	for b.Loop() {
		sinkB = c.MayRead(benchA)
	}
}

func BenchmarkParse(b *testing.B) {
	s := benchA.Format()
	defer cpuNs(b)()
	for b.Loop() {
		sinkL, _ = Parse(s)
	}
}

func BenchmarkFormat(b *testing.B) {
	defer cpuNs(b)()
	for b.Loop() {
		_ = benchA.Format()
	}
}

func BenchmarkHash(b *testing.B) {
	defer cpuNs(b)()
	for b.Loop() {
		_ = benchA.Hash()
	}
}

// BenchmarkJoinWide joins labels whose tokens were interned after hundreds
// of others (overflow words): the case of a long-running server that has
// seen more than 64 distinct compartments or agreements.
func BenchmarkJoinWide(b *testing.B) {
	x := MustParse("NATIONAL-SECURITY//BIO/HI-1//AGR:HIA-1//REL TO USA, ZZA")
	y := MustParse("PROPRIETARY//HI-2/FUSION//AGR:HIA-2/CRADA-0042//REL TO USA, ZZA, ZZB")
	var l Label
	defer cpuNs(b)()
	for b.Loop() {
		l = Join(x, y)
	}
	sinkL = l
}

func BenchmarkDominatesWide(b *testing.B) {
	x := MustParse("NATIONAL-SECURITY//BIO/HI-1/HI-2//AGR:HIA-1/HIA-2//REL TO USA")
	y := MustParse("PROPRIETARY//HI-2//AGR:HIA-2//REL TO USA, ZZA, ZZB")
	defer cpuNs(b)()
	for b.Loop() {
		sinkB = Dominates(x, y)
	}
}
