package label

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Small universes make collisions (equal, overlapping sets) common.
var (
	testComps   = []string{"FUSION", "ITAR", "BIO", "QIS", "EXPORT-CONTROLLED", "HI-1", "HI-2"}
	testAgrs    = []string{"CRADA-0042", "DUA-7", "NDA-1", "UFA-9", "HIA-1", "HIA-2"}
	testNations = []string{"USA", "GBR", "CAN", "AUS", "FRA", "ZZA", "ZZB"}
)

// init interns part of each universe first (inline bitset words) and the
// HI tokens after hundreds of fillers, so that the property tests cover
// sets spread over the inline words and one or two overflow words.
func init() {
	filler := func(n, from int) {
		for i := range n {
			c := fmt.Sprintf("FILL-%d", from+i)
			nat := string([]byte{'A' + byte((from+i)/676%26), 'A' + byte((from+i)/26%26), 'A' + byte((from+i)%26)})
			if _, err := New(Open, []string{c}, []string{c}); err != nil {
				panic(err)
			}
			if _, err := (Label{}).WithReleasableTo(nat); err != nil {
				panic(err)
			}
		}
	}
	mark := func(comps, agrs, nats []string) {
		l, err := New(Open, comps, agrs)
		if err != nil {
			panic(err)
		}
		if _, err := l.WithReleasableTo(nats...); err != nil {
			panic(err)
		}
	}
	mark(testComps[:3], testAgrs[:2], testNations[:3])
	filler(150, 0)
	mark(testComps[3:6], testAgrs[2:5], testNations[3:6])
	filler(100, 150)
	mark(testComps[6:], testAgrs[5:], testNations[6:])
}

func pick(r *rand.Rand, from []string) []string {
	var out []string
	for _, s := range from {
		if r.IntN(3) == 0 {
			out = append(out, s)
		}
	}
	return out
}

func randLabel(r *rand.Rand) Label {
	l, err := New(Level(r.IntN(3)), pick(r, testComps), pick(r, testAgrs))
	if err != nil {
		panic(err)
	}
	if r.IntN(2) == 0 {
		if l, err = l.WithReleasableTo(pick(r, testNations)...); err != nil {
			panic(err)
		}
	}
	return l
}

const propN = 20000

func forTriples(t *testing.T, f func(a, b, c Label)) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	n := propN
	if testing.Short() {
		n = 2000
	}
	for range n {
		f(randLabel(r), randLabel(r), randLabel(r))
	}
}

func TestJoinLaws(t *testing.T) {
	forTriples(t, func(a, b, c Label) {
		if !Equal(Join(a, b), Join(b, a)) {
			t.Fatalf("join not commutative: %v, %v", a, b)
		}
		if !Equal(Join(Join(a, b), c), Join(a, Join(b, c))) {
			t.Fatalf("join not associative: %v, %v, %v", a, b, c)
		}
		if !Equal(Join(a, a), a) {
			t.Fatalf("join not idempotent: %v", a)
		}
		j := Join(a, b)
		if !Dominates(j, a) || !Dominates(j, b) {
			t.Fatalf("join %v not an upper bound of %v, %v", j, a, b)
		}
		if Dominates(c, a) && Dominates(c, b) && !Dominates(c, j) {
			t.Fatalf("join %v of %v, %v not least: %v is a smaller upper bound", j, a, b, c)
		}
		// Absorption ties join and meet together.
		if !Equal(Join(a, Meet(a, b)), a) || !Equal(Meet(a, Join(a, b)), a) {
			t.Fatalf("absorption fails for %v, %v", a, b)
		}
	})
}

func TestMeetLaws(t *testing.T) {
	forTriples(t, func(a, b, c Label) {
		if !Equal(Meet(a, b), Meet(b, a)) {
			t.Fatalf("meet not commutative: %v, %v", a, b)
		}
		if !Equal(Meet(Meet(a, b), c), Meet(a, Meet(b, c))) {
			t.Fatalf("meet not associative: %v, %v, %v", a, b, c)
		}
		if !Equal(Meet(a, a), a) {
			t.Fatalf("meet not idempotent: %v", a)
		}
		m := Meet(a, b)
		if !Dominates(a, m) || !Dominates(b, m) {
			t.Fatalf("meet %v not a lower bound of %v, %v", m, a, b)
		}
		if Dominates(a, c) && Dominates(b, c) && !Dominates(m, c) {
			t.Fatalf("meet %v of %v, %v not greatest: %v", m, a, b, c)
		}
	})
}

func TestDominatesPartialOrder(t *testing.T) {
	forTriples(t, func(a, b, c Label) {
		if !Dominates(a, a) {
			t.Fatalf("not reflexive: %v", a)
		}
		if Dominates(a, b) && Dominates(b, a) && !Equal(a, b) {
			t.Fatalf("not antisymmetric: %v, %v", a, b)
		}
		if Dominates(a, b) && Dominates(b, c) && !Dominates(a, c) {
			t.Fatalf("not transitive: %v, %v, %v", a, b, c)
		}
		// Dominance is the order the join induces.
		if Dominates(a, b) != Equal(Join(a, b), a) {
			t.Fatalf("Dominates(%v, %v) disagrees with Join", a, b)
		}
		if !Dominates(a, Label{}) {
			t.Fatalf("zero label is not bottom under %v", a)
		}
	})
}

// refDominates is the definition, written with maps.
func refDominates(a, b Label) bool {
	has := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ac, aa := has(a.Compartments()), has(a.Agreements())
	for _, c := range b.Compartments() {
		if !ac[c] {
			return false
		}
	}
	for _, g := range b.Agreements() {
		if !aa[g] {
			return false
		}
	}
	arel, ar := a.ReleasableTo()
	brel, br := b.ReleasableTo()
	if br {
		if !ar {
			return false
		}
		bm := has(brel)
		for _, n := range arel {
			if !bm[n] {
				return false
			}
		}
	}
	return a.Level() >= b.Level()
}

func TestDominatesMatchesDefinition(t *testing.T) {
	forTriples(t, func(a, b, _ Label) {
		if got, want := Dominates(a, b), refDominates(a, b); got != want {
			t.Fatalf("Dominates(%v, %v) = %v, want %v", a, b, got, want)
		}
	})
}

func TestRoundTrips(t *testing.T) {
	forTriples(t, func(a, _, _ Label) {
		s := a.Format()
		p, err := Parse(s)
		if err != nil || !Equal(p, a) {
			t.Fatalf("Parse(%q) = %v, %v; want %v", s, p, err, a)
		}
		enc, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var d Label
		if err := d.UnmarshalBinary(enc); err != nil || !Equal(d, a) {
			t.Fatalf("binary round trip of %v: %v, %v", a, d, err)
		}
		// Lower case and shuffled input parses to the same label.
		if q, err := Parse(strings.ToLower(s)); err != nil || !Equal(q, a) {
			t.Fatalf("Parse(lower %q) = %v, %v", s, q, err)
		}
	})
}

func TestEncodingInjective(t *testing.T) {
	forTriples(t, func(a, b, _ Label) {
		ea, _ := a.MarshalBinary()
		eb, _ := b.MarshalBinary()
		if bytes.Equal(ea, eb) != Equal(a, b) {
			t.Fatalf("encodings of %v and %v: equal=%v", a, b, bytes.Equal(ea, eb))
		}
		if (a.Hash() == b.Hash()) != Equal(a, b) {
			t.Fatalf("hash of %v and %v", a, b)
		}
	})
}

func TestUnmarshalBinaryRejectsNonCanonical(t *testing.T) {
	good, _ := MustParse("NATIONAL-SECURITY//FUSION/ITAR//AGR:A/B//REL TO USA, GBR").MarshalBinary()
	for i := range good {
		var l Label
		if err := l.UnmarshalBinary(good[:i]); err == nil {
			t.Errorf("truncated at %d accepted", i)
		}
	}
	var l Label
	if err := l.UnmarshalBinary(append(good, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	for _, bad := range [][]byte{
		{1, 0, 2, 1, 'B', 1, 'A', 0, 0},                  // unsorted
		{1, 0, 2, 1, 'A', 1, 'A', 0, 0},                  // duplicate
		{1, 0, 1, 1, 'a', 0, 0},                          // lower case
		{1, 0, 0, 0, 1, 2, 'G', 'B', 'R', 'U', 'S', 'A'}, // USA not first
		{1, 3, 0, 0, 0},                                  // bad level
		{2, 0, 0, 0, 0},                                  // bad version
		{1, 0, 0, 0, 2},                                  // bad flag
	} {
		if err := l.UnmarshalBinary(bad); err == nil {
			t.Errorf("non-canonical %v accepted", bad)
		}
	}
	if err := l.UnmarshalBinary([]byte{1, 0, 0, 0, 0}); err != nil || !Equal(l, Label{}) {
		t.Errorf("zero label encoding: %v %v", l, err)
	}
	for i := range good {
		flipped := slices.Clone(good)
		flipped[i] ^= 0x40
		var m Label
		if err := m.UnmarshalBinary(flipped); err == nil {
			if e2, _ := m.MarshalBinary(); !bytes.Equal(e2, flipped) {
				t.Errorf("flip at %d decoded to a label with a different encoding", i)
			}
		}
	}
}

func TestClearanceMayRead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := propN
	if testing.Short() {
		n = 2000
	}
	for range n {
		l := randLabel(r)
		nat := ""
		if r.IntN(6) > 0 {
			nat = testNations[r.IntN(len(testNations))]
		}
		c, err := NewClearance(Level(r.IntN(3)), pick(r, testComps), nat)
		if err != nil {
			t.Fatal(err)
		}
		held, granted := pick(r, testAgrs), pick(r, testComps)
		c, err = c.WithAgreements(held, granted)
		if err != nil {
			t.Fatal(err)
		}
		// Reference: the reader, seen as a label restricted to its own
		// nationality, must dominate l.
		reader, _ := New(c.Level(), c.Compartments(), c.Agreements())
		want := reader.Level() >= l.Level()
		want = want && refDominates(reader, l.Unrestricted())
		if rel, ok := l.ReleasableTo(); ok {
			want = want && nat != "" && slices.Contains(rel, nat)
		}
		if got := c.MayRead(l); got != want {
			t.Fatalf("clearance %v/%v/%v/%q MayRead(%v) = %v, want %v", c.Level(), c.Compartments(), c.Agreements(), nat, l, got, want)
		}
	}
}

func TestClearanceValidation(t *testing.T) {
	if _, err := NewClearance(Level(7), nil, "USA"); err == nil {
		t.Error("bad level accepted")
	}
	if _, err := NewClearance(Open, nil, "US"); err == nil {
		t.Error("bad nationality accepted")
	}
	if _, err := NewClearance(Open, []string{"a b"}, "USA"); err == nil {
		t.Error("bad compartment accepted")
	}
	c, err := NewClearance(Proprietary, []string{"fusion"}, "gbr")
	if err != nil || c.Nationality() != "GBR" || !slices.Equal(c.Compartments(), []string{"FUSION"}) {
		t.Errorf("NewClearance canonicalised to %v %v %v", c.Compartments(), c.Nationality(), err)
	}
	if c.MayRead(Label{level: Level(9)}) {
		t.Error("invalid level readable")
	}
}

func TestImmutable(t *testing.T) {
	l := MustParse("OPEN//A/B//AGR:X//REL TO USA")
	l.Compartments()[0] = "Z"
	l.Agreements()[0] = "Z"
	rel, _ := l.ReleasableTo()
	rel[0] = "ZZZ"
	if l.Format() != "OPEN//A/B//AGR:X//REL TO USA" {
		t.Fatalf("label changed through accessors: %v", l)
	}
	j := Join(l, MustParse("OPEN//A"))
	j2 := Join(j, MustParse("OPEN//C"))
	if l.Format() != "OPEN//A/B//AGR:X//REL TO USA" || j2.Format() != "OPEN//A/B/C//AGR:X//REL TO USA" {
		t.Fatalf("join changed operands: %v %v", l, j2)
	}
}

func TestParseErrorsNameToken(t *testing.T) {
	for _, tc := range []struct{ in, token string }{
		{"SECRET", "SECRET"},
		{"", ""},
		{"OPEN//", ""},
		{"OPEN//FU SION", "FU SION"},
		{"OPEN//AGR:CRADA 1", "CRADA 1"},
		{"OPEN//REL TO US", "US"},
		{"OPEN//REL TO USA, GB", " GB"},
		{"OPEN//REL TO", "REL TO"},
		{"OPEN//REL TO USA//X", "X"},
		{"OPEN//AGR:X//FUSION", "FUSION"},
		{"OPEN//A//B", "B"},
		{"OPEN//-A", "-A"},
		{"OPEN//" + strings.Repeat("A", 65), strings.Repeat("A", 65)},
	} {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want *ParseError", tc.in, err)
			continue
		}
		if pe.Token != tc.token {
			t.Errorf("Parse(%q) token = %q, want %q (%v)", tc.in, pe.Token, tc.token, err)
		}
	}
}

func TestUniverseSpansOverflowWords(t *testing.T) {
	for _, c := range []struct {
		t   *interner
		tok string
	}{{compTab, "HI-2"}, {agrTab, "HIA-2"}, {nationTab, "ZZB"}} {
		id, ok := c.t.lookup(c.tok)
		if !ok || id < 192 {
			t.Errorf("%s interned as %d, want ≥ 192 (third overflow word)", c.tok, id)
		}
	}
}

// Interning is process-wide; concurrent Parse, Format and lattice use must
// be race-free (run with -race).
func TestConcurrentUse(t *testing.T) {
	done := make(chan bool)
	for g := range 4 {
		go func() {
			defer func() { done <- true }()
			for i := range 300 {
				s := fmt.Sprintf("PROPRIETARY//CONC-%d-%d/FUSION//AGR:X-%d//REL TO USA", g, i, i%7)
				l, err := Parse(s)
				if err != nil {
					t.Error(err)
					return
				}
				if l.Format() != s || !Dominates(Join(l, benchA), l) {
					t.Errorf("%s -> %s", s, l.Format())
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func TestAppendKeyInjective(t *testing.T) {
	forTriples(t, func(a, b, _ Label) {
		ka, kb := a.AppendKey(nil), b.AppendKey(nil)
		if bytes.Equal(ka, kb) != Equal(a, b) {
			t.Fatalf("keys of %v and %v: equal=%v", a, b, bytes.Equal(ka, kb))
		}
	})
}
