package extract

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

func TestReadNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		rest string
	}{
		{"1.52 eV", 1.52, " eV"},
		{"1,520 m2/g", 1520, " m2/g"},
		{"15,000,000 cm", 15e6, " cm"},
		{"1.2 × 10⁻³ S/cm", 1.2e-3, " S/cm"},
		{"1.2x10^-3 S", 1.2e-3, " S"},
		{"1.2 x 10^-3", 1.2e-3, ""},
		{"2 × 10−4 S cm−1", 2e-4, " S cm−1"},
		{"5 × 10¹⁹ cm⁻³", 5e19, " cm⁻³"},
		{"1.1 × 10^10 cm−3", 1.1e10, " cm−3"},
		{"1.2e-3 S", 1.2e-3, " S"},
		{"2E+5", 2e5, ""},
		{"−0.5 V", -0.5, " V"},
		{"-1.1 V", -1.1, " V"},
		{"10⁻⁵ S/cm", 1e-5, " S/cm"},
		{"10^-6", 1e-6, ""},
		{"103 K", 103, " K"},
		{"1,5", 1, ",5"},
		{"3.0, 2.4", 3.0, ", 2.4"},
		{"12.", 12, "."},
	} {
		v, end, ok := readNumber(c.in, 0)
		if !ok || !relClose(v, c.want) || c.in[end:] != c.rest {
			t.Errorf("readNumber(%q) = %g, rest %q, %v; want %g, rest %q", c.in, v, c.in[end:], ok, c.want, c.rest)
		}
	}
}

// TestReadNumberModel: random numbers written in the styles papers use
// read back as the value strconv gives for the plain form.
func TestReadNumberModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sup := strings.NewReplacer("-", "⁻", "0", "⁰", "1", "¹", "2", "²", "3", "³", "4", "⁴", "5", "⁵", "6", "⁶", "7", "⁷", "8", "⁸", "9", "⁹")
	for i := 0; i < 3000; i++ {
		mant := float64(rng.IntN(100000)) / 1000 // 0.000–99.999
		exp := rng.IntN(30) - 15
		ms := strconv.FormatFloat(mant, 'f', -1, 64)
		want := mant * math.Pow(10, float64(exp))
		var s string
		switch rng.IntN(6) {
		case 0:
			s = fmt.Sprintf("%s × 10%s", ms, sup.Replace(strconv.Itoa(exp)))
		case 1:
			s = fmt.Sprintf("%sx10^%d", ms, exp)
		case 2:
			s = fmt.Sprintf("%se%d", ms, exp)
		case 3:
			s = fmt.Sprintf("%s × 10^%d", ms, exp)
		case 4: // thousands
			n := rng.IntN(1e9)
			s = fmt.Sprintf("%d,%03d,%03d", n/1e6+1, n/1e3%1000, n%1000)
			want = float64((n/1e6+1)*1e6 + n/1e3%1000*1e3 + n%1000)
		case 5:
			s = "−" + ms
			want = -mant
		}
		if exp == 0 && rng.IntN(2) == 0 {
			continue
		}
		s += " eV"
		v, end, ok := readNumber(s, 0)
		if !ok || !relClose(v, want) || s[end:] != " eV" {
			t.Fatalf("readNumber(%q) = %g (rest %q, %v), want %g", s, v, s[end:], ok, want)
		}
	}
}

func TestQuantities(t *testing.T) {
	for _, c := range []struct {
		in        string
		values    []float64
		low, high float64
		unit      string
		mid       float64
	}{
		{"of 1.5–1.7 eV here", []float64{1.5}, 1.5, 1.7, "eV", 1.6},
		{"from 72 to 95 % yield", []float64{72}, 72, 95, "%", 83.5},
		{"between 1.45 and 1.51 eV", []float64{1.45}, 1.45, 1.51, "eV", 1.48},
		{"was 1.62 ± 0.02 eV", []float64{1.62}, 1.6, 1.64, "eV", 1.62},
		{"are 3.0, 2.4 and 1.8 eV, respectively", []float64{3.0, 2.4, 1.8}, 0, 0, "eV", 3.0},
		{"of ~1 nm", []float64{1}, 0, 0, "nm", 1},
		{"≈ 2.4 eV", []float64{2.4}, 0, 0, "eV", 2.4},
	} {
		qs := scanQuantities(c.in, nil)
		if len(qs) != 1 {
			t.Errorf("%q: %d quantities", c.in, len(qs))
			continue
		}
		q := qs[0]
		if !reflect.DeepEqual(q.values, c.values) || !relClose(q.low, c.low) || !relClose(q.high, c.high) || strings.TrimSpace(q.u.text) != c.unit || !relClose(q.mid(0), c.mid) {
			t.Errorf("%q: values %v low %g high %g unit %q mid %g", c.in, q.values, q.low, q.high, q.u.text, q.mid(0))
		}
	}
	// labels and names are not numbers
	for _, s := range []string{"ZIF-8 and MCM-41", "compound 3a", "the 2D band", "Li7La3Zr2O12", "Pb 4f7/2"} {
		for _, q := range scanQuantities(s, Materials(s)) {
			if q.hasUnit {
				t.Errorf("%q: read a quantity %q with a unit", s, q.raw)
			}
		}
	}
}

func TestFormulas(t *testing.T) {
	good := map[string]string{
		"CsPbI3": "CsPbI3", "MAPbI3": "CH3NH3PbI3", "(FA)0.8Cs0.2PbI3": "(HC(NH2)2)0.8Cs0.2PbI3",
		"TiO2": "TiO2", "Li7La3Zr2O12": "Li7La3Zr2O12", "GaAs": "GaAs", "H2O": "H2O", "MoS₂": "MoS2",
		"CO": "CO", "Cu(In,Ga)Se2": "Cu(In,Ga)Se2", "Pb²⁺": "Pb^2+", "Sn2+": "Sn^2+", "Li+": "Li^+",
		"I⁻": "I^-", "BaTiO3−δ": "BaTiO3-δ", "CuSO4·5H2O": "CuSO4·5H2O", "Cs1-xFAxPbI3": "Cs1-xHC(NH2)2xPbI3",
		"Si": "Si", "N2": "N2", "C60": "C60", "NaCl": "NaCl", "Ba0.5Sr0.5Co0.8Fe0.2O3−δ": "Ba0.5Sr0.5Co0.8Fe0.2O3-δ",
	}
	for in, want := range good {
		ms := Materials("the " + in + " sample")
		if len(ms) != 1 || ms[0].Formula != want || ms[0].Text != in {
			t.Errorf("%q: %+v, want formula %q", in, ms, want)
		}
	}
	// English words, acronyms, units and labels are not formulas.
	for _, s := range []string{"In The", "I think", "He said", "No peaks", "As shown", "At 5 K", "Be that",
		"PCE", "HOMO", "LUMO", "UV light", "XRD", "DFT", "FF", "S1", "Table S2", "Fig. 2", "C", "V", "K", "Pa",
		"ICP", "SHE", "NHE", "HER", "Am I", "Es", "Pt(111)x", "The", "Since", "Figure", "Scherrer"} {
		for _, m := range Materials(s) {
			t.Errorf("%q: found material %+v", s, m)
		}
	}
}

// TestFormulaModel: random formulas built from real elements and counts,
// written with ASCII or subscript digits, are read back as the ASCII form.
func TestFormulaModel(t *testing.T) {
	var els []string
	for e := range elements {
		els = append(els, e)
	}
	sortStrings(els)
	rng := rand.New(rand.NewPCG(7, 8))
	sub := strings.NewReplacer("0", "₀", "1", "₁", "2", "₂", "3", "₃", "4", "₄", "5", "₅", "6", "₆", "7", "₇", "8", "₈", "9", "₉")
	for i := 0; i < 3000; i++ {
		var ascii strings.Builder
		n := 2 + rng.IntN(4)
		for k := 0; k < n; k++ {
			ascii.WriteString(els[rng.IntN(len(els))])
			if c := rng.IntN(13); c >= 2 {
				ascii.WriteString(strconv.Itoa(c))
			}
		}
		a := ascii.String()
		written := a
		if rng.IntN(2) == 0 {
			written = sub.Replace(a)
		}
		f, ok := parseFormula(written)
		if !ok || f.norm != a {
			t.Fatalf("parseFormula(%q) = %q, %v; want %q", written, f.norm, ok, a)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j-1] > s[j]; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

func TestSentences(t *testing.T) {
	in := "Samples, e.g. CsPbI3, were measured (Fig. 2a). The gap is 1.5 eV. He et al. reported 1.6 eV! " +
		"Was it 1.7? Yes. See Ref. 12 for details.\n\nNew paragraph without a period"
	var got []string
	for _, sp := range sentences(in) {
		got = append(got, in[sp.start:sp.end])
	}
	want := []string{
		"Samples, e.g. CsPbI3, were measured (Fig. 2a).",
		"The gap is 1.5 eV.",
		"He et al. reported 1.6 eV!",
		"Was it 1.7?",
		"Yes.",
		"See Ref. 12 for details.",
		"New paragraph without a period",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sentences:\n got %q\nwant %q", got, want)
	}
}

func TestExtractExamples(t *testing.T) {
	as := Extract("Intro text. The band gap of CsPbI3 is 1.73 eV at 300 K. The yield was 87%.")
	if len(as) != 2 {
		t.Fatalf("got %d assertions: %+v", len(as), as)
	}
	a := as[0]
	if a.Formula != "CsPbI3" || a.Property != "band_gap" || a.Value.Value != 1.73 || a.Value.Unit != "eV" ||
		len(a.Conditions) != 1 || a.Conditions[0].Name != "temperature" || a.Conditions[0].Value.Value != 300 {
		t.Errorf("first: %+v", a)
	}
	if got := "Intro text. The band gap of CsPbI3 is 1.73 eV at 300 K. The yield was 87%."[a.Start:a.End]; got != "The band gap of CsPbI3 is 1.73 eV at 300 K." {
		t.Errorf("statement span %q", got)
	}
	if as[1].Property != "yield" || as[1].Value.Value != 87 || as[1].Value.Unit != "%" || as[1].Material != "" {
		t.Errorf("second: %+v", as[1])
	}
	r := Extract("The band gap can be tuned from 1.5 to 2.3 eV.")
	if len(r) != 1 || !relClose(r[0].Value.Value, 1.9) || r[0].Value.Low != 1.5 || r[0].Value.High != 2.3 || r[0].Value.Raw != "1.5 to 2.3 eV" {
		t.Errorf("range: %+v", r)
	}
	for _, c := range []struct {
		in        string
		prop      string
		v, lo, hi float64
		unit      string
	}{
		{"The particles were 10-20 nm in diameter.", "particle_size", 15, 10, 20, "nm"}, // not 10⁻²⁰
		{"a 1.73-eV band gap of CsPbI3", "band_gap", 1.73, 0, 0, "eV"},
		{"The conductivity was 3 mS cm–1.", "conductivity", 0.003, 0, 0, "S/cm"}, // en dash from a PDF
		{"The band gap ranges from 1.5 eV–1.7 eV.", "band_gap", 1.6, 1.5, 1.7, "eV"},
		{"A 10-nm-thick layer.", "thickness", 10, 0, 0, "nm"},
		{"The mobility is 2 × 10−3 m2 V−1 s−1.", "mobility", 20, 0, 0, "cm2/(V s)"},
		{"The Li+ diffusion coefficient is 3.1 × 10−12 cm2 s−1.", "diffusion_coefficient", 3.1e-12, 0, 0, "cm2/s"},
	} {
		as := Extract(c.in)
		if len(as) != 1 || as[0].Property != c.prop || as[0].Value.Value != c.v || as[0].Value.Low != c.lo ||
			as[0].Value.High != c.hi || as[0].Value.Unit != c.unit {
			t.Errorf("%q: %+v", c.in, as)
		}
	}
	if got := Extract("Doping lowers the formation energy by 0.2 eV."); len(got) != 0 {
		t.Errorf("a change 'by 0.2 eV' read as a value: %+v", got)
	}
	if got := Extract("All-inorganic CsPbI3 perovskite has a bandgap of 1.7 eV."); len(got) != 1 || got[0].Formula != "CsPbI3" {
		t.Errorf("'CsPbI3 perovskite' is CsPbI3: %+v", got)
	}
	resp := Extract("The band gaps are 3.28, 3.30 and 3.31 eV for 100, 200 and 300 °C, respectively.")
	if len(resp) != 3 {
		t.Fatalf("respectively: %+v", resp)
	}
	for k, want := range []float64{373.15, 473.15, 573.15} {
		if len(resp[k].Conditions) != 1 || resp[k].Conditions[0].Value.Value != want {
			t.Errorf("respectively: value %d has conditions %+v, want %g K", k, resp[k].Conditions, want)
		}
	}
	after := Extract("The band gaps are 2.3 and 3.0 eV for CsPbBr3 and CsPbCl3, respectively.")
	if len(after) != 2 || after[0].Formula != "CsPbBr3" || after[1].Formula != "CsPbCl3" {
		t.Errorf("respectively, materials after: %+v", after)
	}
	for in, want := range map[string]string{
		"Aryl bromides gave lower yields (45–60%).":                            "yield 52.5 ",
		"The Pt/C catalyst showed an overpotential of 35 mV.":                  "overpotential 0.035 Pt/C",
		"The faradaic efficiency for CO reached 92 % on the Au nanoparticles.": "faradaic_efficiency 92 Au",
		"The Hall mobility of the In2O3:H films was 120 cm2/Vs.":               "mobility 120 In2O3:H",
		"The refractive index of MAPbI3 at 600 nm is 2.6.":                     "refractive_index 2.6 CH3NH3PbI3",
		"With a bandgap of 1.25 eV, the Sn–Pb mixed perovskite is suitable.":   "band_gap 1.25 ",
		"The LiFePO4 cathode delivers 160 mAh g−1 at 0.1 C.":                   "capacity 160 LiFePO4",
		"The capacity of LiFePO4 faded by 20 mAh/g.":                           "",
		"The Voc deficit of the kesterite cell remains above 0.5 V.":           "",
	} {
		got := Extract(in)
		if want == "" && len(got) == 0 {
			continue
		}
		if len(got) != 1 || fmt.Sprintf("%s %g %s", got[0].Property, got[0].Value.Value, got[0].Formula) != want {
			t.Errorf("%q: %+v, want %s", in, got, want)
		}
	}
	if got := Extract("Mp 132–134 °C."); len(got) != 1 || got[0].Property != "melting_point" || got[0].Value.Value != 406.15 {
		t.Errorf("Mp: %+v", got)
	}
	mix := Extract("The films annealed in N2/Ar had a conductivity of 5 S/cm.")
	if len(mix) != 1 || len(mix[0].Conditions) != 1 || mix[0].Conditions[0].Value.Raw != "N2/Ar" {
		t.Errorf("mixture: %+v", mix)
	}
	c := Extract("The conductivity was 1.2 × 10⁻³ S/cm in N2 atmosphere at room temperature.")
	if len(c) != 1 || !relClose(c[0].Value.Value, 1.2e-3) || len(c[0].Conditions) != 2 {
		t.Fatalf("conductivity: %+v", c)
	}
}

// checkAssertions checks the invariants every result of Extract keeps.
func checkAssertions(t *testing.T, in string, as []lit.Assertion) {
	t.Helper()
	last := 0
	// rune boundaries as decoding sees them (an invalid byte is one rune)
	boundary := map[int]bool{len(in): true}
	for i := range in {
		boundary[i] = true
	}
	for _, a := range as {
		if a.Start < 0 || a.End > len(in) || a.Start >= a.End {
			t.Fatalf("span [%d,%d) out of range (len %d)", a.Start, a.End, len(in))
		}
		if !boundary[a.Start] || !boundary[a.End] {
			t.Fatalf("span [%d,%d) not on rune boundaries", a.Start, a.End)
		}
		if a.Start < last {
			t.Fatalf("assertions not in order of Start")
		}
		last = a.Start
		p, ok := properties[a.Property]
		if !ok || conditionNames[a.Property] {
			t.Fatalf("unknown property %q", a.Property)
		}
		if a.Value.Unit != p.unit || !finite(a.Value.Value) || !finite(a.Value.Low) || !finite(a.Value.High) {
			t.Fatalf("bad value %+v for %s", a.Value, a.Property)
		}
		if a.Value.High != 0 || a.Value.Low != 0 {
			if !(a.Value.High > a.Value.Low) {
				t.Fatalf("range %+v not low < high", a.Value)
			}
		}
		for _, s := range append([]string{a.Material, a.Formula, a.Value.Raw}, a.Methods...) {
			if err := text.Line("s", s, 1<<20); err != nil {
				t.Fatalf("unsafe string %q: %v", s, err)
			}
		}
		for _, c := range a.Conditions {
			if err := text.Line("c", c.Value.Raw, 1<<20); err != nil || !finite(c.Value.Value) {
				t.Fatalf("bad condition %+v", c)
			}
		}
	}
}

// TestExtractProperties: on random mixtures of gold sentences, noise,
// control characters and invalid UTF-8, Extract keeps its invariants, is
// deterministic, and reads a sentence the same wherever it stands: the
// assertions of a text after a prefix are those of the text, shifted.
func TestExtractProperties(t *testing.T) {
	gold := Gold()
	rng := rand.New(rand.NewPCG(9, 10))
	noise := []string{"\x00", "\xff\xfe", "\x1b[31m", "…", "  ", "\n\n", "(", ")", "1.5", "eV", "×10", "−", "%", "CsPb", "Fig. ", "é", "\u202e"}
	for i := 0; i < 400; i++ {
		var b strings.Builder
		for k := 0; k < 1+rng.IntN(6); k++ {
			if rng.IntN(3) == 0 {
				b.WriteString(noise[rng.IntN(len(noise))])
			} else {
				b.WriteString(gold[rng.IntN(len(gold))].Text)
			}
			b.WriteString(" ")
		}
		in := b.String()
		as := Extract(in)
		checkAssertions(t, in, as)
		if again := Extract(in); !reflect.DeepEqual(as, again) {
			t.Fatalf("not deterministic on %q", in)
		}
	}
	for i := 0; i < 300; i++ {
		g := gold[rng.IntN(len(gold))].Text
		prefix := gold[rng.IntN(len(gold))].Text + " "
		alone := Extract(g)
		shifted := Extract(prefix + g)
		tail := shifted[:0:0]
		for _, a := range shifted {
			if a.Start >= len(prefix) {
				a.Start -= len(prefix)
				a.End -= len(prefix)
				tail = append(tail, a)
			}
		}
		if len(alone) == 0 && len(tail) == 0 {
			continue
		}
		if !reflect.DeepEqual(alone, tail) {
			t.Fatalf("%q after %q:\n alone  %+v\n after  %+v", g, prefix, alone, tail)
		}
	}
}

func TestExtractLongInput(t *testing.T) {
	// a megabyte without a sentence end is read in bounded windows
	in := strings.Repeat("CsPbI3 band gap 1.73 eV and ", 40000)
	as := Extract(in)
	checkAssertions(t, in, as)
	if len(as) == 0 {
		t.Fatal("nothing read from a long run-on text")
	}
}

func TestConcepts(t *testing.T) {
	in := "Perovskite solar cells based on MAPbI3 reached a power conversion efficiency of 21%. " +
		"The TiO2 electron transport layers were annealed and characterised by XRD."
	got := Concepts(in)
	for _, want := range []string{"ch3nh3pbi3", "tio2", "efficiency", "xrd", "annealing", "solar cell", "electron transport layer", "perovskite"} {
		if !contains(got, want) {
			t.Errorf("Concepts missing %q: %q", want, got)
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	gold := Gold()
	for i := 0; i < 200; i++ {
		s := gold[rng.IntN(len(gold))].Text + " " + gold[rng.IntN(len(gold))].Text
		cs := Concepts(s)
		if !reflect.DeepEqual(cs, Concepts(s)) {
			t.Fatal("not deterministic")
		}
		for k, c := range cs {
			if c != strings.ToLower(c) || c == "" || k > 0 && cs[k-1] >= c {
				t.Fatalf("concepts not lower-case, sorted and unique: %q", cs)
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func FuzzExtract(f *testing.F) {
	for _, g := range Gold() {
		f.Add(g.Text)
	}
	f.Add("\xff\xfe 1.2 × 10⁻³ S/cm")
	f.Add("(((((((FA)))))))0.8")
	f.Add("10^999 eV 1e999 K 1,000,000,000,000,000,000,000,000 °C")
	f.Fuzz(func(t *testing.T, in string) {
		as := Extract(in)
		checkAssertions(t, in, as)
		if !reflect.DeepEqual(as, Extract(in)) {
			t.Fatal("not deterministic")
		}
		for _, m := range Materials(in) {
			if m.Start < 0 || m.End > len(in) || m.Start >= m.End || in[m.Start:m.End] != m.Text {
				t.Fatalf("mention %+v does not span its text", m)
			}
		}
		for _, c := range Concepts(in) {
			if !utf8.ValidString(c) || c != strings.ToLower(c) {
				t.Fatalf("concept %q", c)
			}
		}
	})
}

// BenchmarkExtract reads paragraphs made of the gold sentences.
func BenchmarkExtract(b *testing.B) {
	var sb strings.Builder
	for _, g := range Gold() {
		sb.WriteString(g.Text)
		sb.WriteString(" ")
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		Extract(in)
	}
}

// TestExtractConcurrent runs Extract from several goroutines (for -race).
func TestExtractConcurrent(t *testing.T) {
	gold := Gold()
	want := make([][]lit.Assertion, len(gold))
	for i, g := range gold {
		want[i] = Extract(g.Text)
	}
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i, g := range gold {
				if got := Extract(g.Text); !reflect.DeepEqual(got, want[i]) {
					done <- fmt.Errorf("%s: concurrent result differs", g.ID)
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
