package extract

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// quantity is a number (or a range, a list, a value ± uncertainty) with the
// unit written after it.
type quantity struct {
	start, end int // the number and its unit, in the sentence
	values     []float64
	low, high  float64 // a range, or value ± uncertainty, when high > low
	hasUnit    bool
	u          unit
	raw        string
	paren      bool // "(30 nm)": the quantity is the whole parenthesis
}

// readNumber reads a number at i: an optional sign (ASCII or Unicode
// minus), digits with "," thousands groups, a decimal part, an exponent
// ("e-3", "× 10⁻³", "x10^-3"), or a bare power of ten ("10⁻⁵"). It
// returns the value and the end, or ok false.
func readNumber(s string, i int) (float64, int, bool) {
	var b strings.Builder
	j := i
	if j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if r == '-' || r == '−' {
			b.WriteByte('-')
			j += n
		}
	}
	digitsStart := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		b.WriteByte(s[j])
		j++
		// thousands: ",ddd" followed by a non-digit
		if j < len(s) && s[j] == ',' && j+4 <= len(s) && allDigits(s[j+1:j+4]) && (j+4 == len(s) || !(s[j+4] >= '0' && s[j+4] <= '9')) && j-digitsStart <= 3 {
			b.WriteString(s[j+1 : j+4])
			j += 4
			for j < len(s) && s[j] == ',' && j+4 <= len(s) && allDigits(s[j+1:j+4]) && (j+4 == len(s) || !(s[j+4] >= '0' && s[j+4] <= '9')) {
				b.WriteString(s[j+1 : j+4])
				j += 4
			}
			break
		}
	}
	if j == digitsStart {
		return 0, i, false
	}
	if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
		b.WriteByte('.')
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			b.WriteByte(s[j])
			j++
		}
	}
	mant := b.String()
	v, err := strconv.ParseFloat(mant, 64)
	if err != nil {
		return 0, i, false
	}
	// "1.2e-3"
	if j+1 < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if s[k] == '-' || s[k] == '+' {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			e := 0
			for k < len(s) && s[k] >= '0' && s[k] <= '9' && e < 1000 {
				e = e*10 + int(s[k]-'0')
				k++
			}
			if s[j+1] == '-' {
				e = -e
			}
			if boundaryAfter(s, k) {
				return v * math.Pow(10, float64(e)), k, true
			}
		}
	}
	// "10⁻⁵", "10^-5": a bare power of ten
	if mant == "10" || mant == "-10" {
		// "10-20 nm" is a range, not 10⁻²⁰: an ASCII hyphen is not a
		// minus here
		if e, k, ok := readPower(s, j); ok && !(j < len(s) && s[j] == '-') {
			sign := 1.0
			if mant[0] == '-' {
				sign = -1
			}
			return sign * math.Pow(10, float64(e)), k, true
		}
	}
	// "× 10⁻³", "x10^-3", "·10−3"
	k := j
	for k < len(s) && s[k] == ' ' {
		k++
	}
	if k < len(s) {
		r, n := utf8.DecodeRuneInString(s[k:])
		if r == '×' || r == 'x' || r == 'X' || r == '*' || r == '·' {
			k += n
			for k < len(s) && s[k] == ' ' {
				k++
			}
			if strings.HasPrefix(s[k:], "10") {
				if e, k2, ok := readPower(s, k+2); ok {
					return v * math.Pow(10, float64(e)), k2, true
				}
			}
		}
	}
	return v, j, true
}

// readPower reads the exponent of a power of ten right after "10":
// "^-3", "⁻³", "−3", "-3", "^10".
func readPower(s string, i int) (int, int, bool) {
	j := i
	caret := false
	if j < len(s) && s[j] == '^' {
		j++
		caret = true
	}
	neg := false
	if j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		switch r {
		case '-', '−', '⁻':
			neg = true
			j += n
		case '+', '⁺':
			j += n
		}
	}
	e, digits := 0, 0
	super := false
	for j < len(s) && digits < 3 {
		r, n := utf8.DecodeRuneInString(s[j:])
		if r >= '0' && r <= '9' {
			e = e*10 + int(r-'0')
		} else if d, ok := superDigit(r); ok {
			e = e*10 + int(d-'0')
			super = true
		} else {
			break
		}
		digits++
		j += n
	}
	if digits == 0 {
		return 0, i, false
	}
	// plain digits after "10" need a sign or a caret: "10−3" yes, "103" no
	if !super && !caret && !neg {
		return 0, i, false
	}
	if neg {
		e = -e
	}
	return e, j, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// numberStart reports whether a number may start at i: a digit, or a minus
// before a digit, not glued to a word ("Li7", "ZIF-8", "4f7/2").
func numberStart(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == '-' || r == '−' {
		if i+n >= len(s) || s[i+n] < '0' || s[i+n] > '9' {
			return false
		}
		if i == 0 {
			return true
		}
		p, _ := utf8.DecodeLastRuneInString(s[:i])
		return p == ' ' || p == '(' || p == '=' || p == '~' || p == '≈' || p == '['
	}
	if r < '0' || r > '9' {
		return false
	}
	if i == 0 {
		return true
	}
	p, pn := utf8.DecodeLastRuneInString(s[:i])
	if isWordRune(p) || p == '.' || p == '_' || p == ',' && i >= 2 && s[i-2] >= '0' && s[i-2] <= '9' {
		return false
	}
	if p == '-' || p == '–' || p == '−' {
		// "ZIF-8", "MCM-41", "1–5" (a range is read from its first number)
		if i-pn == 0 {
			return true
		}
		pp, _ := utf8.DecodeLastRuneInString(s[:i-pn])
		return !isWordRune(pp)
	}
	if _, ok := superDigit(p); ok {
		return false
	}
	return true
}

func skipSpaces(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != ' ' && r != '\u00a0' && r != '\u2009' && r != '\u202f' {
			break
		}
		i += n
	}
	return i
}

// readUnitAfter reads a unit after a number, allowing one space, or a
// hyphen in a compound adjective ("a 1.73-eV gap", "10-nm-thick").
func readUnitAfter(s string, i int) (unit, int, bool) {
	j := skipSpaces(s, i)
	if j-i > 3 {
		return unit{}, i, false
	}
	if j == i && j+1 < len(s) && s[j] == '-' && (s[j+1] >= 'a' && s[j+1] <= 'z' || s[j+1] >= 'A' && s[j+1] <= 'Z' || s[j+1] >= 0x80) {
		if u, end, ok := parseUnit(s, j+1); ok {
			return u, end, true
		}
		return unit{}, i, false
	}
	// "° C"
	u, end, ok := parseUnit(s, j)
	if !ok {
		return unit{}, i, false
	}
	return u, end, true
}

// scanQuantities finds the quantities of a sentence, skipping numbers
// inside material mentions.
func scanQuantities(s string, skip []Mention) []quantity {
	var out []quantity
	for i := 0; i < len(s); {
		if !numberStart(s, i) || insideMention(i, skip) {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		q, end, ok := readQuantity(s, i)
		if !ok {
			for end = i; end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '-'); end++ {
			}
			if end == i {
				end++
			}
			i = end
			continue
		}
		out = append(out, q)
		i = end
	}
	return out
}

func insideMention(i int, ms []Mention) bool {
	for _, m := range ms {
		if i >= m.Start && i < m.End {
			return true
		}
	}
	return false
}

var rangeWords = []string{" to ", " and "}

// maxList bounds a list of values sharing one unit ("3.0, 2.4 and 1.8 eV").
const maxList = 16

// readQuantity reads a number at i with what may follow it: "± u", a range
// ("1.5–1.7", "1.5 to 1.7", "between 1.5 and 1.7"), a list ("3.0, 2.4 and
// 1.8"), and the unit.
func readQuantity(s string, i int) (quantity, int, bool) {
	v, j, ok := readNumber(s, i)
	if !ok {
		return quantity{}, i, false
	}
	q := quantity{start: i, values: []float64{v}, u: unit{scale: 1}}
	// a number glued to letters that are not a unit is a label: "3a", "2D"
	if j < len(s) {
		r, _ := utf8.DecodeRuneInString(s[j:])
		if isWordRune(r) {
			if _, _, ok := parseUnit(s, j); !ok {
				return quantity{}, j, false
			}
		}
	}
	// ± uncertainty
	k := skipSpaces(s, j)
	if strings.HasPrefix(s[k:], "±") || strings.HasPrefix(s[k:], "+/-") {
		if strings.HasPrefix(s[k:], "±") {
			k += len("±")
		} else {
			k += 3
		}
		k = skipSpaces(s, k)
		if d, k2, ok := readNumber(s, k); ok && d >= 0 {
			q.low, q.high = v-d, v+d
			j = k2
		}
	} else if u, k2, ok := readUnitAfter(s, j); ok {
		q.hasUnit, q.u = true, u
		j = k2
		// "1.5 eV–1.7 eV", "1.5 eV to 1.7 eV": a range with the unit twice
		k := j
		if r, n := utf8.DecodeRuneInString(s[k:]); r == '–' || r == '—' || r == '-' {
			k += n
		} else if strings.HasPrefix(s[k:], " to ") || strings.HasPrefix(s[k:], " – ") {
			k += len(" to ")
			if s[k-4] != ' ' || s[k-3] != 't' {
				k = j + len(" – ")
			}
		} else {
			k = -1
		}
		if k > 0 && k < len(s) && s[k] >= '0' && s[k] <= '9' {
			if v2, k3, ok := readNumber(s, k); ok && v2 > v {
				if u2, k4, ok := readUnitAfter(s, k3); ok && u2.d == u.d && u2.scale == u.scale && u2.offset == u.offset {
					q.low, q.high = v, v2
					j = k4
				}
			}
		}
	} else {
		// range
		k = j
		r, n := utf8.DecodeRuneInString(s[k:])
		rangeEnd := -1
		if k < len(s) && (r == '–' || r == '—' || r == '-' || r == '−' || r == '~') {
			k2 := skipSpaces(s, k+n)
			if k2 < len(s) && s[k2] >= '0' && s[k2] <= '9' {
				rangeEnd = k2
			}
		} else {
			for _, w := range rangeWords {
				if strings.HasPrefix(s[k:], w) {
					k2 := k + len(w)
					if k2 < len(s) && s[k2] >= '0' && s[k2] <= '9' {
						if w == " and " && !precededBy(s, i, "between") {
							break
						}
						rangeEnd = k2
					}
				}
			}
		}
		if rangeEnd >= 0 {
			if v2, k3, ok := readNumber(s, rangeEnd); ok && v2 >= v {
				q.low, q.high = v, v2
				j = k3
			}
		}
		// a list: "3.0, 2.4 and 1.8 eV"
		if q.high <= q.low {
			for len(q.values) < maxList {
				k := j
				switch {
				case strings.HasPrefix(s[k:], ", and "):
					k += 6
				case strings.HasPrefix(s[k:], ", "):
					k += 2
				case strings.HasPrefix(s[k:], " and "):
					k += 5
				default:
					k = -1
				}
				if k < 0 || k >= len(s) || s[k] < '0' || s[k] > '9' {
					break
				}
				v2, k2, ok := readNumber(s, k)
				if !ok {
					break
				}
				q.values = append(q.values, v2)
				j = k2
				if _, _, ok := readUnitAfter(s, j); ok {
					break
				}
			}
		}
		if u, k2, ok := readUnitAfter(s, j); ok {
			q.hasUnit, q.u = true, u
			j = k2
		} else if len(q.values) > 1 {
			// a list of plain numbers ("Samples 1, 2 and 3") is one plain
			// number; its other members are not read again one by one
			q.values = q.values[:1]
		}
	}
	// "1.62 ± 0.02 eV"
	if !q.hasUnit && q.high > q.low {
		if u, k2, ok := readUnitAfter(s, j); ok {
			q.hasUnit, q.u = true, u
			j = k2
		}
	}
	q.end = j
	q.raw = s[i:j]
	if i > 0 && s[i-1] == '(' && j < len(s) && s[j] == ')' {
		q.paren = true
	}
	return q, j, true
}

func precededBy(s string, i int, word string) bool {
	t := strings.TrimRight(s[:i], " ")
	return strings.HasSuffix(strings.ToLower(t), word)
}

// mid is a quantity's value: the midpoint of a range, else the value.
func (q *quantity) mid(k int) float64 {
	if len(q.values) == 1 && q.high > q.low && !q.plusMinus() {
		return (q.low + q.high) / 2
	}
	return q.values[k]
}

// plusMinus reports whether low/high came from "±".
func (q *quantity) plusMinus() bool {
	v := q.values[0]
	return q.high > q.low && math.Abs((q.low+q.high)/2-v) <= 1e-12*math.Max(1, math.Abs(v)) && v != q.low
}
