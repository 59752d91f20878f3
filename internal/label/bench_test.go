package label

import "testing"

var (
	benchA = MustParse("NATIONAL-SECURITY//BIO/FUSION/ITAR//AGR:CRADA-0042/DUA-7//REL TO USA, GBR, CAN")
	benchB = MustParse("PROPRIETARY//FUSION/QIS//AGR:CRADA-0042//REL TO USA, AUS, GBR")
	benchC = MustParse("PROPRIETARY//FUSION//AGR:CRADA-0042//REL TO USA, GBR, CAN, AUS")
	sinkB  bool
	sinkL  Label
)

func BenchmarkDominates(b *testing.B) {
	for b.Loop() {
		sinkB = Dominates(benchA, benchC)
	}
}

func BenchmarkDominatesFalse(b *testing.B) {
	for b.Loop() {
		sinkB = Dominates(benchA, benchB)
	}
}

// Join of two overlapping labels: new compartment and REL TO slices.
func BenchmarkJoin(b *testing.B) {
	for b.Loop() {
		sinkL = Join(benchA, benchB)
	}
}

// Join with a dominated label (the common case in lineage): no allocation.
func BenchmarkJoinDominated(b *testing.B) {
	for b.Loop() {
		sinkL = Join(benchA, benchC)
	}
}

func BenchmarkMayRead(b *testing.B) {
	c, _ := NewClearance(NationalSecurity, []string{"BIO", "FUSION", "ITAR", "QIS"}, "USA")
	c, _ = c.WithAgreements([]string{"CRADA-0042", "DUA-7"}, nil)
	for b.Loop() {
		sinkB = c.MayRead(benchA)
	}
}

func BenchmarkParse(b *testing.B) {
	s := benchA.Format()
	for b.Loop() {
		sinkL, _ = Parse(s)
	}
}

func BenchmarkFormat(b *testing.B) {
	for b.Loop() {
		_ = benchA.Format()
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		_ = benchA.Hash()
	}
}
