package agent

import (
	"github.com/genesis-science/genesis/internal/lit/extract"
	"strings"
	"unicode"
)

// concepts returns the distinct concept terms of a text: its words (see
// words) and the one-token concepts internal/lit/extract finds — normalised
// formulas of named materials, canonical property names (band_gap),
// methods — so that passages naming one thing differently meet. (Its
// multi-word noun phrases are left out: as C terms they are mostly noise,
// and their words are here already.) Every passage and the topic go
// through this one function.
func concepts(s string) []string {
	out := words(s)
	seen := map[string]bool{}
	for _, w := range out {
		seen[w] = true
	}
	for _, c := range extract.Concepts(s) {
		if !strings.ContainsRune(c, ' ') && !seen[c] && len(c) >= 2 {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// words returns the distinct lower-cased words of a text of at least three
// letters that are not stop words or numbers, in order of appearance.
func words(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	}) {
		w = strings.Trim(strings.ToLower(w), "-")
		if len([]rune(w)) < 3 || stopWords[w] || seen[w] {
			continue
		}
		letters := false
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters = true
				break
			}
		}
		if !letters {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`about above after again against all also although among and any are
	around as at be because been before being below between both but by can could did does doing done down
	due during each either else even ever every few for from further had has have having her here hers him
	his how however into its itself just may might more most much must near neither nor not now off often
	once one only onto other others our ours out over own per rather same several shall she should since
	some such than that the their theirs them then there these they this those though through thus too
	towards under until upon use used using very via was were what when where whether which while who whom
	whose why will with within without would yet you your yours show shows shown showed study studies
	result results paper report reports reported new based high low two three first second well observed
	found find also obtained measured effect effects increase increased different various large small
	min mins sec secs hrs hour hours minute minutes second seconds day days week weeks year years
	nm µm mm cm mol mmol µmol wt vol ppm ppb rpm kev mev gev ghz mhz khz kpa mpa gpa atm bar torr
	kelvin celsius degree degrees percent ratio value values sample samples total respectively`) {
		m[w] = true
	}
	return m
}()
