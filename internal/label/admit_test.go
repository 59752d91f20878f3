package label

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// snapshot returns the interned tokens of each kind.
func snapshot() map[TokenKind][]string {
	out := map[TokenKind][]string{}
	for _, k := range []TokenKind{Compartment, Agreement, Nation} {
		t := table(k)
		t.mu.RLock()
		out[k] = slices.Clone(t.names)
		t.mu.RUnlock()
	}
	return out
}

// randMarking builds a marking from random tokens of pool: some admitted,
// some not, some pre-interned, in random case and order.
func randMarking(r *rand.Rand, comps, agrs, nations []string) string {
	pick := func(pool []string, n int) []string {
		var out []string
		for range n {
			t := pool[r.IntN(len(pool))]
			if r.IntN(3) == 0 {
				t = strings.ToLower(t)
			}
			out = append(out, t)
		}
		return out
	}
	var b strings.Builder
	b.WriteString([]string{"OPEN", "proprietary", "NATIONAL-SECURITY"}[r.IntN(3)])
	if n := r.IntN(4); n > 0 {
		b.WriteString("//" + strings.Join(pick(comps, n), "/"))
	}
	if n := r.IntN(3); n > 0 {
		b.WriteString("//AGR:" + strings.Join(pick(agrs, n), "/"))
	}
	if n := r.IntN(3); n > 0 {
		b.WriteString("//REL TO " + strings.Join(pick(nations, n), ", "))
	}
	if r.IntN(10) == 0 {
		b.WriteString("//") // a syntax error now and then
	}
	return b.String()
}

// TestParseAdmitInternsOnlyAdmitted checks ParseAdmit against a reference:
// after any sequence of calls, the tables hold only what they held before
// plus admitted tokens; a call succeeds exactly when every token is
// admitted or was interned; and then its result equals Parse's.
func TestParseAdmitInternsOnlyAdmitted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	run := fmt.Sprintf("R%d", rand.Uint64()%1e9) // tokens no earlier test interned
	MustParse("PROPRIETARY//PRE-" + run + "//AGR:PRE-" + run + "//REL TO USA")
	admitted := map[string]bool{}
	var comps, agrs, nations []string
	for i := range 12 {
		c, a := fmt.Sprintf("C%d-%s", i, run), fmt.Sprintf("A%d-%s", i, run)
		comps, agrs = append(comps, c), append(agrs, a)
		if i%2 == 0 {
			admitted[c], admitted[a] = true, true
		}
	}
	comps, agrs = append(comps, "PRE-"+run), append(agrs, "PRE-"+run)
	nations = []string{"USA", "QQA", "QQB", "QQC"} // QQx: user-assigned codes
	admitted["QQA"] = true
	before := snapshot()
	calls := map[string]int{}
	admit := func(k TokenKind, tok string) bool {
		calls[tok]++
		return admitted[tok]
	}
	known := func(k TokenKind, tok string) bool {
		return admitted[tok] || slices.Contains(before[k], tok)
	}
	for range 2000 {
		s := randMarking(r, comps, agrs, nations)
		_, synErr := Canonical(s)
		l, err := ParseAdmit(s, admit)
		// Reference: the marking parses iff it is well formed and every
		// token is admitted or was interned before.
		want := synErr == nil
		var unknown []string
		if synErr == nil {
			rw, _ := parseRaw(s)
			for _, x := range []struct {
				k TokenKind
				t []string
			}{{Compartment, rw.comps}, {Agreement, rw.agrs}, {Nation, rw.rel}} {
				for _, tok := range x.t {
					if !known(x.k, tok) {
						want = false
						unknown = append(unknown, tok)
					}
				}
			}
		}
		if (err == nil) != want {
			t.Fatalf("ParseAdmit(%q) = %v, want success %v", s, err, want)
		}
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("ParseAdmit(%q): error %T, want *ParseError", s, err)
			}
			if synErr == nil && (pe.Unknown == 0 || !slices.Contains(unknown, pe.Token)) {
				t.Fatalf("ParseAdmit(%q): %+v, want an unknown token among %v", s, pe, unknown)
			}
			continue
		}
		p := MustParse(s) // interns nothing new: every token is known
		if !Equal(l, p) || l.Format() != p.Format() {
			t.Fatalf("ParseAdmit(%q) = %v, Parse = %v", s, l, p)
		}
	}
	after := snapshot()
	for k, names := range after {
		for _, n := range names[len(before[k]):] {
			if !admitted[n] {
				t.Errorf("%v %q interned but never admitted", k, n)
			}
		}
		if !slices.Equal(names[:len(before[k])], before[k]) {
			t.Errorf("%v table rewritten", k)
		}
	}
	for tok, n := range calls {
		if admitted[tok] && n > 1 {
			t.Errorf("admit asked about %q %d times; once interned it should not be asked again", tok, n)
		}
	}
	// Nil admit admits nothing new.
	if _, err := ParseAdmit("PROPRIETARY//NEVER-"+run, nil); err == nil {
		t.Error("nil admit admitted a new compartment")
	}
}

func TestParseCheckedRevealsNothingBeyondKnown(t *testing.T) {
	run := fmt.Sprintf("K%d", rand.Uint64()%1e9)
	exists := "EXISTS-" + run
	admit := func(k TokenKind, tok string) bool { return tok == exists || k == Nation }
	none := func(TokenKind) ([]string, error) { return nil, nil }
	// To a reader who knows no compartment, an existing compartment and a
	// made-up one get the same answer.
	for _, pair := range [][2]string{
		{"PROPRIETARY//" + exists, "PROPRIETARY//MADEUP-" + run},
		{"OPEN//" + exists, "OPEN//MADEUP-" + run},
		{"PROPRIETARY//" + exists + "/ZZ-" + run, "PROPRIETARY//MADEUP-" + run + "/ZZ-" + run},
		{"PROPRIETARY//AGR:" + exists, "PROPRIETARY//AGR:MADEUP-" + run},
	} {
		_, e1 := ParseChecked(pair[0], none, admit)
		_, e2 := ParseChecked(pair[1], none, admit)
		if e1 == nil || e2 == nil {
			t.Fatalf("%q: %v, %q: %v; want both refused", pair[0], e1, pair[1], e2)
		}
		m1 := strings.ReplaceAll(Message(e1), exists, "X")
		m2 := strings.ReplaceAll(Message(e2), "MADEUP-"+run, "X")
		if m1 != m2 {
			t.Errorf("answers differ:\n%s\n%s", m1, m2)
		}
	}
	n := Interned(Compartment)
	if _, err := ParseChecked("PROPRIETARY//MADEUP-"+run, func(TokenKind) ([]string, error) { return []string{"MADEUP-" + run}, nil }, admit); err == nil {
		t.Error("a compartment known() lists but admit refuses was accepted")
	}
	if Interned(Compartment) != n {
		t.Error("ParseChecked interned a refused compartment")
	}
	if l, err := ParseChecked("PROPRIETARY//"+strings.ToLower(exists), func(TokenKind) ([]string, error) { return []string{exists}, nil }, admit); err != nil || !l.HasCompartment(exists) {
		t.Errorf("known compartment: %v, %v", l, err)
	}
}

func TestNewClearanceAdmit(t *testing.T) {
	run := fmt.Sprintf("N%d", rand.Uint64()%1e9)
	n := Interned(Compartment)
	if _, err := NewClearanceAdmit(Proprietary, []string{"MADEUP-" + run}, "USA", nil); err == nil {
		t.Error("admitted an unknown compartment")
	}
	if Interned(Compartment) != n {
		t.Error("interned a refused compartment")
	}
	c, err := NewClearanceAdmit(Proprietary, []string{"OK-" + run}, "gbr", func(TokenKind, string) bool { return true })
	if err != nil || c.Nationality() != "GBR" || !c.MayRead(MustParse("PROPRIETARY//OK-"+run+"//REL TO GBR")) {
		t.Errorf("NewClearanceAdmit: %+v, %v", c, err)
	}
}

// FuzzParseAdmit checks, for any input, that ParseAdmit with an admit that
// refuses everything interns nothing, agrees with Canonical about syntax,
// and, when it succeeds, equals Parse.
func FuzzParseAdmit(f *testing.F) {
	for _, s := range []string{"OPEN", "PROPRIETARY//FUSION", "NATIONAL-SECURITY//A/B//AGR:X//REL TO USA, GBR", "PROPRIETARY/FUSION", "OPEN//REL TO NONE", "proprietary // fuzz-new // agr:fuzz-agr"} {
		f.Add(s)
	}
	MustParse("PROPRIETARY//FUSION//AGR:X//REL TO USA, GBR")
	f.Fuzz(func(t *testing.T, s string) {
		before := snapshot()
		l, err := ParseAdmit(s, nil)
		canon, synErr := Canonical(s)
		// ParseChecked knowing FUSION and X (already interned) agrees
		// with ParseAdmit then Check.
		known := func(k TokenKind) ([]string, error) {
			return map[TokenKind][]string{Compartment: {"FUSION"}, Agreement: {"X"}}[k], nil
		}
		lc, errc := ParseChecked(s, known, nil)
		if errc == nil {
			if err != nil || !Equal(lc, l) || Check(l, []string{"FUSION"}) != nil {
				t.Fatalf("ParseChecked(%q) = %v; ParseAdmit = %v, %v", s, lc, l, err)
			}
			for _, a := range l.Agreements() {
				if a != "X" {
					t.Fatalf("ParseChecked(%q) accepted agreement %q", s, a)
				}
			}
		} else if err == nil && Check(l, []string{"FUSION"}) == nil && len(l.Agreements()) == 0 {
			t.Fatalf("ParseChecked(%q) refused what ParseAdmit and Check accept: %v", s, errc)
		}
		if after := snapshot(); !mapsEqual(before, after) {
			t.Fatalf("ParseAdmit(%q, nil) interned something", s)
		}
		if synErr != nil && err == nil {
			t.Fatalf("ParseAdmit(%q) accepted what Canonical refuses: %v", s, synErr)
		}
		if err != nil {
			if pe, ok := err.(*ParseError); !ok || (synErr == nil) != (pe.Unknown != 0) {
				t.Fatalf("ParseAdmit(%q): %#v (syntax error %v)", s, err, synErr)
			}
			return
		}
		if l.Format() != canon {
			t.Fatalf("ParseAdmit(%q) = %q, Canonical = %q", s, l.Format(), canon)
		}
		if p, err := Parse(s); err != nil || !Equal(p, l) {
			t.Fatalf("Parse(%q) = %v, %v; ParseAdmit = %v", s, p, err, l)
		}
	})
}

func mapsEqual(a, b map[TokenKind][]string) bool {
	for k := range a {
		if !slices.Equal(a[k], b[k]) {
			return false
		}
	}
	return len(a) == len(b)
}
