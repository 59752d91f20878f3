package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // term keys
	}{
		{"", nil},
		{"  plasma  ", []string{"plasma"}},
		{"Plasma TOKAMAK plasma", []string{"plasma", "tokamak"}},
		{`"edge turbulence" tok*`, []string{"edge turbulence", "tok*"}},
		{`"unterminated phrase`, []string{"unterminated phrase"}},
		{`a*`, []string{"a"}}, // one-letter prefixes are words
		{`CRADA-0042`, []string{"crada 0042"}},
		{`"x*"`, []string{"x"}},
		{`NEAR(a b) OR c`, []string{"near a", "b", "or", "c"}},
		{`'; DROP TABLE x; --`, []string{"drop", "table", "x"}},
		{`Müller Ångström`, []string{"muller", "angstrom"}},
		{`***`, nil},
		{`tok**`, []string{"tok*"}},
	} {
		terms, err := parseQuery("test", tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		var got []string
		for _, tm := range terms {
			got = append(got, tm.key())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := parseQuery("test", strings.Repeat("x", MaxQueryBytes+1)); !errors.Is(errors.TooLarge, err) {
		t.Errorf("long query: %v", err)
	}
}

func TestCursor(t *testing.T) {
	for _, off := range []int{1, 20, 123456} {
		_, got, err := page("test", Query{Cursor: cursorAt(off)})
		if err != nil || got != off {
			t.Errorf("cursor %d: %d %v", off, got, err)
		}
	}
	for _, c := range []string{"x", "AAAA", cursorAt(0), cursorAt(-3), "b246"} {
		if _, _, err := page("test", Query{Cursor: c}); !errors.Is(errors.Invalid, err) {
			t.Errorf("cursor %q accepted", c)
		}
	}
}

// FuzzParseQuery checks that every input parses into terms made only of
// folded letters and digits, so that the engine syntax built from them is
// always well formed, and that snippets stay inside their text.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "plasma", `"a b" c*`, `"`, `NEAR(a b)`, `a OR b`, `'; --`, "\x00", "\xff", "Ǆ ǅ ǆ", "x\u0301y", "東京*", "ﬁ", "İstanbul"} {
		f.Add(s, "Some text with plasma and \"quotes\" and İstanbul")
	}
	f.Fuzz(func(t *testing.T, q, text string) {
		terms, err := parseQuery("fuzz", q)
		if err != nil {
			if len(q) <= MaxQueryBytes {
				t.Fatalf("%q: %v", q, err)
			}
			return
		}
		for _, tm := range terms {
			if len(tm.words) == 0 {
				t.Fatalf("%q: empty term", q)
			}
			for _, w := range tm.words {
				if w == "" || !utf8.ValidString(w) || strings.ContainsFunc(w, func(r rune) bool { return !isWordRune(r) }) {
					t.Fatalf("%q: bad word %q", q, w)
				}
			}
		}
		m, ts := ftsMatch(terms), tsQuery(terms)
		if strings.Count(m, `"`)%2 != 0 || strings.Count(ts, "'")%2 != 0 {
			t.Fatalf("%q: unbalanced quoting %q %q", q, m, ts)
		}
		sn, hl := snippet(terms, text)
		if !strings.Contains(text, sn) && utf8.ValidString(text) {
			t.Fatalf("snippet %q not from %q", sn, text)
		}
		for _, h := range hl {
			if h.Start < 0 || h.End > len(sn) || h.Start >= h.End {
				t.Fatalf("highlight %v outside %q", h, sn)
			}
		}
	})
}

func TestFacetCountsEncoding(t *testing.T) {
	in := map[[2]string]int64{
		{FacetKeyword, "plain"}: 3, {FacetKeyword, "tab\there"}: 1, {FacetOrg, "new\nline"}: 2,
		{FacetDomain, `back\slash\t`}: 5, {FacetKind, "dataset"}: 7, {FacetKind, "zero"}: 0, {FacetKeyword, ""}: 4,
	}
	got := map[[2]string]int64{}
	decodeFacetCounts(encodeFacetCounts(in), func(f, v string, n int64) { got[[2]string{f, v}] += n })
	delete(in, [2]string{FacetKind, "zero"})
	if len(got) != len(in) {
		t.Fatalf("got %v, want %v", got, in)
	}
	for k, n := range in {
		if got[k] != n {
			t.Errorf("%q: got %d want %d", k, got[k], n)
		}
	}
}

func TestTerms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"band gap of CsPbI3", []string{"band", "gap", "of", "cspbi3"}},
		{`"band gap" perov*`, []string{`"band gap"`, "perov*"}},
		{"gap gap  GAP", []string{"gap"}},
		{"", nil},
		{"(a) OR b; DROP TABLE", []string{"a", "or", "b", "drop", "table"}},
	} {
		got, err := Terms(c.in)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Terms(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		// Each term parses back to itself.
		for _, q := range got {
			again, err := Terms(q)
			if err != nil || len(again) != 1 || again[0] != q {
				t.Errorf("Terms(%q) = %q", q, again)
			}
		}
	}
}

// A snippet cut out of a long field starts and ends on word boundaries and
// holds the first match.
func TestSnippetWordBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	vocab := []string{"formamidinium-caesium", "lead", "iodide", "absorbers", "band", "gap", "théorie", "naïve", "x", "1.55"}
	for i := 0; i < 500; i++ {
		var words []string
		for j := rng.IntN(120) + 1; j > 0; j-- {
			words = append(words, vocab[rng.IntN(len(vocab))])
		}
		text := strings.Join(words, " ")
		terms, err := parseQuery("test", "gap")
		if err != nil {
			t.Fatal(err)
		}
		sn, hl := snippet(terms, text)
		if !strings.Contains(text, "gap") {
			continue
		}
		at := strings.Index(text, sn)
		if at < 0 || len(hl) == 0 {
			t.Fatalf("%q: snippet %q, highlights %v", text, sn, hl)
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:at]); at > 0 && isWordRune(r) && isWordRune([]rune(sn)[0]) {
			t.Fatalf("snippet %q starts inside a word of %q", sn, text)
		}
		if e := at + len(sn); e < len(text) {
			r, _ := utf8.DecodeRuneInString(text[e:])
			l, _ := utf8.DecodeLastRuneInString(sn)
			if isWordRune(r) && isWordRune(l) {
				t.Fatalf("snippet %q ends inside a word of %q", sn, text)
			}
		}
		if first := strings.Index(text, "gap"); first < at || first+3 > at+len(sn) {
			t.Fatalf("snippet %q misses the first match at %d in %q", sn, first, text)
		}
	}
}

// TestTopFacets checks the bounded selection against the reference: sort
// every positive count by count then value and keep k.
func TestTopFacets(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 500 {
		m := map[string]int{}
		for range rng.IntN(300) {
			m[fmt.Sprintf("v%d", rng.IntN(400))] = rng.IntN(6) - 1 // ties and non-positive counts
		}
		k := rng.IntN(25)
		want := []Facet{}
		for v, n := range m {
			if n > 0 {
				want = append(want, Facet{Value: v, Count: n})
			}
		}
		sort.Slice(want, func(i, j int) bool {
			if want[i].Count != want[j].Count {
				return want[i].Count > want[j].Count
			}
			return want[i].Value < want[j].Value
		})
		if len(want) > k {
			want = want[:k]
		}
		got := topFacets(m, k)
		if len(got) != len(want) {
			t.Fatalf("round %d k %d: %d facets, want %d", round, k, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d k %d: %v, want %v", round, k, got, want)
			}
		}
	}
}

// TestAddTopFacets: adding only the values that can make the top gives
// the same facets as adding every value.
func TestAddTopFacets(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for round := range 500 {
		n := rng.IntN(3 * MaxFacetValues)
		strs := make([]string, n)
		counts := make([]int, n)
		for i := range strs {
			strs[i] = fmt.Sprintf("v%03d", rng.IntN(1000))
			counts[i] = rng.IntN(5) - 1
		}
		// Distinct values, as interned strings are.
		seen := map[string]bool{}
		for i, s := range strs {
			if seen[s] {
				counts[i] = 0
			}
			seen[s] = true
		}
		all, top := facetCounter{}, facetCounter{}
		for i, s := range strs {
			all.add(FacetKeyword, s, counts[i])
		}
		addTop(top, FacetKeyword, strs, counts)
		if got, want := top.result(), all.result(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: %v, want %v", round, got, want)
		}
	}
}
