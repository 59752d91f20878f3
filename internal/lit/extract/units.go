package extract

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// A unit is read as a product of symbols with integer exponents ("cm2 V-1
// s-1", "cm²/(V·s)", "S/cm", "mAh g⁻¹"), and reduced to a dimension vector
// over the SI base units plus a few pseudo-dimensions that must not mix
// with plain numbers (percent, composition percent, "per square", angle).
// Two spellings of the same unit reduce to the same dimension and scale, so
// the tables below list symbols once, not every way of writing a compound.

const (
	dM    = iota // metre
	dKg          // kilogram
	dS           // second
	dK           // kelvin
	dA           // ampere
	dMol         // mole
	dPct         // percent (yield, efficiency): not a bare number
	dComp        // wt%, at%, mol%: composition, never a property value here
	dSq          // "per square" of sheet resistance
	dDeg         // angle in degrees
	nDims
)

type dims [nDims]int8

// symbol is one unit symbol: its dimension and the factor to SI (offset for
// the temperature scales, which are only valid alone).
type symbol struct {
	d      dims
	scale  float64
	offset float64
}

func dv(pairs ...int) dims {
	var d dims
	for i := 0; i+1 < len(pairs); i += 2 {
		d[pairs[i]] = int8(pairs[i+1])
	}
	return d
}

var (
	dimLength   = dv(dM, 1)
	dimMass     = dv(dKg, 1)
	dimTime     = dv(dS, 1)
	dimTemp     = dv(dK, 1)
	dimCurrent  = dv(dA, 1)
	dimAmount   = dv(dMol, 1)
	dimVoltage  = dv(dKg, 1, dM, 2, dS, -3, dA, -1)
	dimEnergy   = dv(dKg, 1, dM, 2, dS, -2)
	dimPower    = dv(dKg, 1, dM, 2, dS, -3)
	dimPressure = dv(dKg, 1, dM, -1, dS, -2)
	dimSiemens  = dv(dKg, -1, dM, -2, dS, 3, dA, 2)
	dimOhm      = dv(dKg, 1, dM, 2, dS, -3, dA, -2)
	dimCharge   = dv(dA, 1, dS, 1)
	dimFarad    = dv(dKg, -1, dM, -2, dS, 4, dA, 2)
	dimVolume   = dv(dM, 3)
	dimPct      = dv(dPct, 1)
	dimComp     = dv(dComp, 1)
	dimSq       = dv(dSq, 1)
	dimDeg      = dv(dDeg, 1)
)

const (
	eVJ  = 1.602176634e-19
	atm  = 101325.0
	torr = 101325.0 / 760
)

// symbols lists every unit symbol the reader knows. Keys are as written;
// lookups try the longest key first.
var symbols = map[string]symbol{
	// length
	"m": {dimLength, 1, 0}, "km": {dimLength, 1e3, 0}, "cm": {dimLength, 1e-2, 0}, "mm": {dimLength, 1e-3, 0},
	"µm": {dimLength, 1e-6, 0}, "μm": {dimLength, 1e-6, 0}, "um": {dimLength, 1e-6, 0},
	"nm": {dimLength, 1e-9, 0}, "pm": {dimLength, 1e-12, 0}, "\u00c5": {dimLength, 1e-10, 0}, "\u212b": {dimLength, 1e-10, 0},
	// mass
	"g": {dimMass, 1e-3, 0}, "kg": {dimMass, 1, 0}, "mg": {dimMass, 1e-6, 0}, "µg": {dimMass, 1e-9, 0}, "μg": {dimMass, 1e-9, 0},
	// time
	"s": {dimTime, 1, 0}, "sec": {dimTime, 1, 0}, "ms": {dimTime, 1e-3, 0}, "µs": {dimTime, 1e-6, 0}, "μs": {dimTime, 1e-6, 0},
	"ns": {dimTime, 1e-9, 0}, "ps": {dimTime, 1e-12, 0}, "fs": {dimTime, 1e-15, 0},
	"min": {dimTime, 60, 0}, "mins": {dimTime, 60, 0}, "minute": {dimTime, 60, 0}, "minutes": {dimTime, 60, 0},
	"seconds": {dimTime, 1, 0}, "second": {dimTime, 1, 0},
	"h": {dimTime, 3600, 0}, "hr": {dimTime, 3600, 0}, "hrs": {dimTime, 3600, 0}, "hour": {dimTime, 3600, 0}, "hours": {dimTime, 3600, 0},
	"d": {dimTime, 86400, 0}, "day": {dimTime, 86400, 0}, "days": {dimTime, 86400, 0},
	// temperature (offset scales are refused inside compounds)
	"K": {dimTemp, 1, 0}, "°C": {dimTemp, 1, 273.15}, "ºC": {dimTemp, 1, 273.15}, "℃": {dimTemp, 1, 273.15},
	"°F": {dimTemp, 5.0 / 9, 273.15 - 32*5.0/9},
	// current, amount
	"A": {dimCurrent, 1, 0}, "mA": {dimCurrent, 1e-3, 0}, "µA": {dimCurrent, 1e-6, 0}, "μA": {dimCurrent, 1e-6, 0}, "nA": {dimCurrent, 1e-9, 0},
	"mol": {dimAmount, 1, 0}, "mmol": {dimAmount, 1e-3, 0}, "µmol": {dimAmount, 1e-6, 0}, "μmol": {dimAmount, 1e-6, 0},
	// electrical
	"V": {dimVoltage, 1, 0}, "mV": {dimVoltage, 1e-3, 0}, "kV": {dimVoltage, 1e3, 0}, "µV": {dimVoltage, 1e-6, 0}, "μV": {dimVoltage, 1e-6, 0},
	"S": {dimSiemens, 1, 0}, "mS": {dimSiemens, 1e-3, 0}, "µS": {dimSiemens, 1e-6, 0}, "μS": {dimSiemens, 1e-6, 0},
	"\u03a9": {dimOhm, 1, 0}, "\u2126": {dimOhm, 1, 0}, "mΩ": {dimOhm, 1e-3, 0}, "µΩ": {dimOhm, 1e-6, 0}, "μΩ": {dimOhm, 1e-6, 0},
	"kΩ": {dimOhm, 1e3, 0}, "MΩ": {dimOhm, 1e6, 0}, "ohm": {dimOhm, 1, 0}, "ohms": {dimOhm, 1, 0},
	"F": {dimFarad, 1, 0}, "mF": {dimFarad, 1e-3, 0}, "µF": {dimFarad, 1e-6, 0}, "μF": {dimFarad, 1e-6, 0},
	"C":   {dimCharge, 1, 0},
	"mAh": {dimCharge, 3.6, 0}, "Ah": {dimCharge, 3600, 0},
	// energy, power
	"eV": {dimEnergy, eVJ, 0}, "meV": {dimEnergy, 1e-3 * eVJ, 0}, "keV": {dimEnergy, 1e3 * eVJ, 0},
	"J": {dimEnergy, 1, 0}, "kJ": {dimEnergy, 1e3, 0}, "mJ": {dimEnergy, 1e-3, 0},
	"Wh": {dimEnergy, 3600, 0}, "mWh": {dimEnergy, 3.6, 0}, "kWh": {dimEnergy, 3.6e6, 0},
	"W": {dimPower, 1, 0}, "mW": {dimPower, 1e-3, 0}, "kW": {dimPower, 1e3, 0},
	// pressure
	"Pa": {dimPressure, 1, 0}, "kPa": {dimPressure, 1e3, 0}, "MPa": {dimPressure, 1e6, 0}, "GPa": {dimPressure, 1e9, 0},
	"TPa": {dimPressure, 1e12, 0}, "bar": {dimPressure, 1e5, 0}, "mbar": {dimPressure, 100, 0}, "kbar": {dimPressure, 1e8, 0},
	"atm": {dimPressure, atm, 0}, "Torr": {dimPressure, torr, 0}, "torr": {dimPressure, torr, 0}, "mTorr": {dimPressure, torr / 1000, 0},
	"psi": {dimPressure, 6894.757293168, 0},
	// volume
	"L": {dimVolume, 1e-3, 0}, "mL": {dimVolume, 1e-6, 0}, "µL": {dimVolume, 1e-9, 0}, "μL": {dimVolume, 1e-9, 0},
	// pseudo-dimensions
	"%": {dimPct, 1, 0}, "percent": {dimPct, 1, 0}, "per cent": {dimPct, 1, 0},
	"wt%": {dimComp, 1, 0}, "wt.%": {dimComp, 1, 0}, "at%": {dimComp, 1, 0}, "at.%": {dimComp, 1, 0}, "mol%": {dimComp, 1, 0}, "vol%": {dimComp, 1, 0},
	"sq": {dimSq, 1, 0}, "□": {dimSq, 1, 0},
	"°": {dimDeg, 1, 0}, "deg": {dimDeg, 1, 0},
}

// compound symbols written without a separator.
var glued = map[string][]string{
	"Vs": {"V", "s"}, // cm2/Vs
	"mK": {"m", "K"}, // W/mK (millikelvin is not a unit of this domain)
}

var maxSymbolLen = func() int {
	n := 0
	for k := range symbols {
		n = max(n, len(k))
	}
	return n
}()

// unit is a parsed unit: its dimension, the factor and offset that take a
// value in it to SI, and the text it was read from.
type unit struct {
	d      dims
	scale  float64
	offset float64
	text   string
}

func (u unit) dimensionless() bool { return u.d == dims{} }

// toSI converts v in u to SI base units.
func (u unit) toSI(v float64) float64 { return v*u.scale + u.offset }

// fromSI converts v in SI base units to u.
func (u unit) fromSI(v float64) float64 { return (v - u.offset) / u.scale }

// superscript digits and signs, and the ASCII they stand for.
func superDigit(r rune) (byte, bool) {
	switch r {
	case '⁰':
		return '0', true
	case '¹':
		return '1', true
	case '²':
		return '2', true
	case '³':
		return '3', true
	case '⁴':
		return '4', true
	case '⁵':
		return '5', true
	case '⁶':
		return '6', true
	case '⁷':
		return '7', true
	case '⁸':
		return '8', true
	case '⁹':
		return '9', true
	}
	return 0, false
}

func isMinus(r rune) bool { return r == '-' || r == '−' || r == '⁻' || r == '–' }

// readExponent reads an exponent right after a symbol: "2", "-1", "−1",
// "^2", "^-1", "²", "⁻¹". It returns 1 and i when there is none.
func readExponent(s string, i int) (int, int, bool) {
	j := i
	if j < len(s) && s[j] == '^' {
		j++
	}
	neg := false
	r, n := utf8.DecodeRuneInString(s[j:])
	if j < len(s) && isMinus(r) {
		if r == '–' {
			// an en dash stands for a minus in text from PDFs ("S cm–1"),
			// but only before a lone small digit: "eV–1.7" is a range
			d := j + n
			digitAt := func(k int) bool { return k < len(s) && s[k] >= '0' && s[k] <= '9' }
			if d >= len(s) || s[d] < '1' || s[d] > '4' || digitAt(d+1) || d+1 < len(s) && (s[d+1] == '.' || s[d+1] == ',') && digitAt(d+2) {
				return 1, i, false
			}
		}
		neg = true
		j += n
	}
	val, digits := 0, 0
	for j < len(s) && digits < 2 {
		r, n := utf8.DecodeRuneInString(s[j:])
		var d byte
		if r >= '0' && r <= '9' {
			d = byte(r)
		} else if sd, ok := superDigit(r); ok {
			d = sd
		} else {
			break
		}
		val = val*10 + int(d-'0')
		digits++
		j += n
	}
	if digits == 0 || val == 0 {
		return 1, i, false
	}
	// An exponent must not run on into a number: "cm2" yes, "cm25" no.
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); r >= '0' && r <= '9' {
			return 1, i, false
		}
	}
	if neg {
		val = -val
	}
	return val, j, true
}

// readSymbol reads the longest known symbol at i that ends at a boundary
// (not followed by a letter; exponent digits may follow).
func readSymbol(s string, i int) (string, []symbol, int, bool) {
	end := i + maxSymbolLen
	if end > len(s) {
		end = len(s)
	}
	for j := end; j > i; j-- {
		if j < len(s) {
			if !utf8.RuneStart(s[j]) {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsLetter(r) {
				continue
			}
		}
		key := s[i:j]
		if parts, ok := glued[key]; ok {
			syms := make([]symbol, len(parts))
			for k, p := range parts {
				syms[k] = symbols[p]
			}
			return key, syms, j, true
		}
		if sym, ok := symbols[key]; ok {
			return key, []symbol{sym}, j, true
		}
	}
	return "", nil, i, false
}

// spaceJoins reports whether a space may join prev and next within one unit
// without an exponent on next: "Ω cm", "mA h", "V s".
func spaceJoins(prev, next string) bool {
	switch prev {
	case "\u03a9", "\u2126", "mΩ", "µΩ", "μΩ", "ohm", "mA", "A", "V", "W", "S", "mS":
		switch next {
		case "cm", "m", "h", "s":
			return true
		}
	}
	return false
}

// parseUnit reads a unit starting at s[i] (no leading space). It returns the
// unit and the end of its text; ok is false when no unit starts at i. After
// a "/", every later factor divides ("cm2/V·s", "W/m·K"); "/(…)" divides by
// the group.
func parseUnit(s string, i int) (unit, int, bool) {
	u := unit{scale: 1}
	start, end := i, i
	n := 0          // factors read
	neg := false    // factors now divide
	depth := 0      // open parentheses
	prev := ""      // previous symbol
	var last symbol // the only symbol, when n == 1
	for i < len(s) {
		j := i
		spaced := false
		if n > 0 {
			r, size := utf8.DecodeRuneInString(s[j:])
			switch {
			case r == '/':
				if neg && depth == 0 {
					goto done
				}
				neg = true
				j += size
				if j < len(s) && s[j] == '(' {
					depth++
					j++
				}
			case r == '·' || r == '⋅' || r == '•' || r == '*':
				j += size
			case r == ' ':
				j++
				spaced = true
			case r == ')' && depth > 0:
				depth--
				i = j + 1
				end = i
				continue
			default:
				goto done
			}
		}
		key, syms, k, ok := readSymbol(s, j)
		if !ok {
			goto done
		}
		exp, k2, hasExp := readExponent(s, k)
		if spaced && depth == 0 && !hasExp && !spaceJoins(prev, key) {
			goto done
		}
		if neg {
			exp = -exp
		}
		for _, sym := range syms {
			for d := range u.d {
				u.d[d] += sym.d[d] * int8(exp)
			}
			u.scale *= math.Pow(sym.scale, float64(exp))
			last = sym
		}
		n += len(syms)
		prev = key
		i = k2
		if depth == 0 {
			end = i
		}
	}
done:
	if n == 0 || depth > 0 {
		return unit{}, start, false
	}
	if n == 1 && last.offset != 0 && u.d == dimTemp {
		u.offset = last.offset // a temperature scale, alone
	}
	u.text = s[start:end]
	return u, end, true
}

// lookupUnit parses a whole unit string (a canonical unit, or a unit given
// to Normalize). "" is the unit of a plain number.
func lookupUnit(s string) (unit, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return unit{scale: 1}, true
	}
	u, end, ok := parseUnit(s, 0)
	if !ok || end != len(s) {
		return unit{}, false
	}
	return u, true
}

// Normalize converts v in unit to the canonical unit of property (a
// property or condition name: band_gap, temperature, pressure, time, …)
// and returns the converted value and the canonical unit. An unknown
// property, an unknown unit, a unit of the wrong dimension ("eV" for a
// conductivity) or a value that is not finite is Invalid.
func Normalize(property string, v float64, unitText string) (float64, string, error) {
	const op = errors.Op("extract.Normalize")
	p, ok := properties[property]
	if !ok {
		return 0, "", errors.E(op, errors.Invalid, errors.Field("property"), errors.Msg("unknown property "+quote(property)))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "", errors.E(op, errors.Invalid, errors.Field("value"), errors.Msg("value must be a finite number"))
	}
	u, ok := lookupUnit(unitText)
	if !ok {
		return 0, "", errors.E(op, errors.Invalid, errors.Field("unit"), errors.Msg("unknown unit "+quote(unitText)))
	}
	out, ok := p.convert(v, u)
	if !ok {
		return 0, "", errors.E(op, errors.Invalid, errors.Field("unit"),
			errors.Msg("unit "+quote(unitText)+" is not a unit of "+property+" (canonical "+quote(p.unit)+")"))
	}
	if math.IsNaN(out) || math.IsInf(out, 0) {
		return 0, "", errors.E(op, errors.Invalid, errors.Field("value"), errors.Msg("value out of range after conversion"))
	}
	return out, p.unit, nil
}

// quote shows a short, sanitised rendering of user text in a message.
func quote(s string) string {
	s = clean(s)
	if len(s) > 40 {
		s = truncate(s, 40) + "…"
	}
	return `"` + s + `"`
}
