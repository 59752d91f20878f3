package extract

import (
	"strings"
	"unicode/utf8"
)

// elements is the periodic table (1–118).
var elements = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni
		Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm
		Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu
		Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og`) {
		elements[e] = true
	}
}

// organic cation abbreviations inside formulas, and what they stand for.
var formulaAbbrev = map[string]string{"MA": "CH3NH3", "FA": "HC(NH2)2"}

// Elements written alone that are materials in this domain ("Si wafer",
// "Au electrode"). Others alone are English words or units ("In", "He",
// "No", "As", "At", "Be", "Pa") or too rare to tell.
var lonelyElements = map[string]bool{}

// Elements with a subscript alone that are substances ("N2 atmosphere").
var lonelyMolecules = map[string]bool{}

// Digitless all-capital formulas that are substances, not acronyms.
var capitalFormulas = map[string]bool{"CO": true, "BN": true, "KI": true, "KF": true, "HF": true, "HI": true}

func init() {
	for _, e := range strings.Fields("Si Ge Cu Au Ag Pt Pd Ni Fe Al Ti Zn Sn Pb Mo Co Cr Mn Mg Ga Bi Se Te Ru Rh Ir Ta Nb Zr Hf Li Na Cd Sb") {
		lonelyElements[e] = true
	}
	for _, e := range strings.Fields("H2 N2 O2 O3 F2 Cl2 Br2 I2 S8 P4 C60 C70") {
		lonelyMolecules[e] = true
	}
}

// formulaInfo is what a parsed formula token says.
type formulaInfo struct {
	norm      string // normalised: ASCII digits, abbreviations expanded, charge as ^n±
	atoms     int    // element symbols read (abbreviations count 2)
	digits    bool   // any stoichiometric count
	charge    bool
	lowercase bool // any two-letter symbol
}

type formulaParser struct {
	s       string
	i       int
	b       strings.Builder
	atoms   int
	digits  bool
	lower   bool
	abbrevs int
}

// parseFormula parses a whole token as a chemical formula. It accepts
// elements and MA/FA with counts (integers, decimals, x/y/z/δ, "1-x"),
// parentheses and brackets with counts, alloy lists "(In,Ga)", hydrates
// "·5H2O", a non-stoichiometry suffix "-δ", and a trailing charge.
func parseFormula(tok string) (formulaInfo, bool) {
	p := &formulaParser{s: tok}
	if !p.sequence(0) {
		return formulaInfo{}, false
	}
	// hydrate
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if r != '·' && r != '•' && r != '⋅' {
			break
		}
		save, saveLen := p.i, p.b.Len()
		p.i += n
		p.b.WriteString("·")
		p.count()
		if !p.sequence(0) {
			p.i = save
			str := p.b.String()[:saveLen]
			p.b.Reset()
			p.b.WriteString(str)
			break
		}
	}
	// non-stoichiometry suffix: "-δ", "−x", "+δ"
	if p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if r == '-' || r == '−' || r == '+' {
			r2, n2 := utf8.DecodeRuneInString(p.s[p.i+n:])
			if r2 == 'δ' || r2 == 'x' || r2 == 'y' {
				if r == '+' {
					p.b.WriteString("+")
				} else {
					p.b.WriteString("-")
				}
				p.b.WriteRune(r2)
				p.i += n + n2
			}
		}
	}
	charge := false
	if p.i < len(p.s) {
		c, ok := p.readCharge()
		if !ok {
			return formulaInfo{}, false
		}
		charge = true
		// "Sn2+": the digit before the sign was the charge, not a count
		p.b.WriteString(c)
	}
	if p.i != len(p.s) || p.atoms == 0 {
		return formulaInfo{}, false
	}
	norm := p.b.String()
	if charge {
		norm = fixCharge(norm)
	}
	return formulaInfo{norm: norm, atoms: p.atoms, digits: p.digits, charge: charge, lowercase: p.lower}, true
}

// fixCharge rewrites "Sn2^+" (a count read before a bare sign) as "Sn^2+".
func fixCharge(norm string) string {
	k := strings.IndexByte(norm, '^')
	if k < 0 || k+1 >= len(norm) {
		return norm
	}
	rest := norm[k+1:]
	if rest == "+" || rest == "-" {
		j := k
		for j > 0 && norm[j-1] >= '0' && norm[j-1] <= '9' {
			j--
		}
		if j < k && j > 0 && !(norm[j-1] == ')' || norm[j-1] == ']') {
			return norm[:j] + "^" + norm[j:k] + rest
		}
	}
	return norm
}

func (p *formulaParser) readCharge() (string, bool) {
	// superscripts "²⁺", "⁻", "3+", "2−", "+", "-"
	num := ""
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if d, ok := superDigit(r); ok {
			num += string(d)
			p.i += n
			continue
		}
		break
	}
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	sign := ""
	switch r {
	case '+', '⁺':
		sign = "+"
	case '-', '−', '⁻':
		sign = "-"
	default:
		return "", false
	}
	p.i += n
	if num == "1" {
		num = ""
	}
	return "^" + num + sign, true
}

// sequence reads groups until something else; it reports whether at least
// one group was read.
func (p *formulaParser) sequence(depth int) bool {
	n := 0
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c >= 'A' && c <= 'Z':
			if !p.element() {
				return n > 0
			}
		case (c == '(' || c == '[') && depth < 3:
			save, saveLen := p.i, p.b.Len()
			closer := byte(')')
			if c == '[' {
				closer = ']'
			}
			p.i++
			p.b.WriteByte(c)
			if !p.alloy(depth+1) || p.i >= len(p.s) || p.s[p.i] != closer {
				p.i = save
				str := p.b.String()[:saveLen]
				p.b.Reset()
				p.b.WriteString(str)
				return n > 0
			}
			p.i++
			p.b.WriteByte(closer)
		default:
			return n > 0
		}
		p.count()
		n++
	}
	return n > 0
}

// alloy reads "In,Ga" or a plain sequence inside parentheses.
func (p *formulaParser) alloy(depth int) bool {
	if !p.sequence(depth) {
		return false
	}
	for p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		p.b.WriteByte(',')
		if !p.sequence(depth) {
			return false
		}
	}
	return true
}

func (p *formulaParser) element() bool {
	s := p.s[p.i:]
	if len(s) >= 2 && s[1] >= 'a' && s[1] <= 'z' && elements[s[:2]] {
		p.b.WriteString(s[:2])
		p.i += 2
		p.atoms++
		p.lower = true
		return true
	}
	if len(s) >= 2 {
		if exp, ok := formulaAbbrev[s[:2]]; ok && (len(s) == 2 || !(s[2] >= 'a' && s[2] <= 'z') || isVariable(s[2])) {
			p.b.WriteString(exp)
			p.i += 2
			p.atoms += 2
			p.abbrevs++
			p.lower = true
			return true
		}
	}
	if elements[s[:1]] && (len(s) == 1 || !(s[1] >= 'a' && s[1] <= 'z') || isVariable(s[1])) {
		p.b.WriteString(s[:1])
		p.i++
		p.atoms++
		return true
	}
	return false
}

// count reads an optional count: "3", "0.8", "₂", "x", "1-x", "3−δ".
func (p *formulaParser) count() {
	start := p.i
	wrote := false
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		switch {
		case r >= '0' && r <= '9':
			p.b.WriteRune(r)
		case r >= '₀' && r <= '₉':
			p.b.WriteByte(byte('0' + r - '₀'))
		case r == '.' && p.i > start && p.i+1 < len(p.s) && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9':
			p.b.WriteByte('.')
		default:
			goto variable
		}
		wrote = true
		p.i += n
	}
variable:
	if p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if (r == 'x' || r == 'y' || r == 'z' || r == 'δ') && !p.nextIsLower(p.i+n) {
			p.b.WriteRune(r)
			p.i += n
			wrote = true
		} else if wrote && (r == '-' || r == '−') {
			r2, n2 := utf8.DecodeRuneInString(p.s[p.i+n:])
			if (r2 == 'x' || r2 == 'y' || r2 == 'δ') && !p.nextIsLower(p.i+n+n2) {
				p.b.WriteByte('-')
				p.b.WriteRune(r2)
				p.i += n + n2
			}
		}
	}
	if wrote {
		p.digits = true
	}
}

// isVariable reports whether c is a stoichiometry variable ("LixCoO2").
func isVariable(c byte) bool { return c == 'x' || c == 'y' || c == 'z' }

func (p *formulaParser) nextIsLower(i int) bool {
	return i < len(p.s) && p.s[i] >= 'a' && p.s[i] <= 'z'
}

// plausibleFormula decides whether a parsed token is a material and not an
// English word, an acronym or a unit.
func plausibleFormula(tok string, f formulaInfo) bool {
	if f.charge {
		return true
	}
	if !f.digits {
		if f.atoms == 1 {
			return lonelyElements[tok]
		}
		if !f.lowercase {
			return capitalFormulas[tok]
		}
		return f.atoms >= 2
	}
	if f.atoms == 1 {
		return lonelyMolecules[f.norm]
	}
	return true
}

// acronyms that parse as formulas but are not materials.
var notFormula = map[string]bool{
	"PCE": true, "IPCE": true, "HOMO": true, "LUMO": true, "UV": true, "CB": true, "VB": true, "NHE": true,
	"SHE": true, "HER": true, "OER": true, "ICP": true, "FF": true, "PL": true, "CV": true, "NIR": true,
	"SCN": false, "BHJ": true, "PV": true, "NPs": true, "CNT": true, "CNTs": true, "LiB": true, "LIB": true, "LIBs": true,
}
