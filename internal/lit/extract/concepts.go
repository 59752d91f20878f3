package extract

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Concepts returns normalised key terms of a text for literature-based
// discovery: materials (the normalised formula, else the name), canonical
// property names, method names, and multi-word noun phrases (two to four
// words between stop words and punctuation, the last word singular). The
// result is deterministic, lower-case, deduplicated and sorted.
func Concepts(textIn string) []string {
	lower := lowerASCII(textIn)
	seen := map[string]bool{}
	add := func(c string) {
		c = strings.ToLower(strings.TrimSpace(clean(c)))
		if c != "" && c != ignore {
			seen[c] = true
		}
	}
	for _, sp := range sentences(textIn) {
		for _, w := range windows(textIn, sp) {
			s, ls := textIn[w.start:w.end], lower[w.start:w.end]
			ms := phrases.findAll(s, ls)
			for _, p := range ms[kindProperty] {
				add(p.e.value)
			}
			mats := materials(s, ms)
			for _, m := range mats {
				if m.Formula != "" {
					add(m.Formula)
				} else {
					add(m.Text)
				}
			}
			for _, m := range ms[kindMethod] {
				add(m.e.value)
			}
			for _, np := range nounPhrases(s, mats) {
				add(np)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// nounPhrases chunks a sentence at stop words, punctuation, numbers and
// material mentions, and keeps runs of two to four content words (the last
// four of a longer run).
func nounPhrases(s string, mats []Mention) []string {
	var out []string
	var run []string
	flush := func() {
		if len(run) > 4 {
			run = run[len(run)-4:]
		}
		if len(run) >= 2 {
			words := append([]string(nil), run...)
			words[len(words)-1] = singular(words[len(words)-1])
			out = append(out, strings.Join(words, " "))
		}
		run = run[:0]
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			if !(r == ' ' || r == '-' && len(run) > 0) {
				flush()
			}
			i += n
			continue
		}
		k := i
		hasDigit := false
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if unicode.IsDigit(r) {
				hasDigit = true
			} else if !unicode.IsLetter(r) && !(r == '-' && k+n < len(s) && isWordRune(rune(s[k+n]))) {
				break
			}
			k += n
		}
		w := strings.ToLower(s[i:k])
		switch {
		case hasDigit || insideMention(i, mats) || stopWords[w] || utf8.RuneCountInString(w) < 3:
			flush()
		default:
			run = append(run, w)
		}
		i = k
	}
	flush()
	return out
}

// singular strips a regular English plural.
func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && len(w) > 3 && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above across after again against all almost along also although always
		am among an and another any are around as at be became because become becomes been before being below
		between both but by can cannot could did do does doing done down due during each either enough even
		ever every few for from further had has have having he her here hers herself him himself his how however
		i if in into is it its itself just least less like made make makes many may me might more most much
		must my near nearly neither no nor not now of off often on once one only onto or other others our ours
		out over own per perhaps quite rather same several shall she should since so some still such than that
		the their theirs them themselves then there therefore these they this those though through thus to
		too toward towards under until up upon us used using very via was we well were what when where whereas
		whether which while who whom whose why will with within without would yet you your
		show shows showed shown exhibit exhibits exhibited exhibiting reach reached reaches obtain obtained
		obtains observe observed observes report reported reports found find finds measure measured measures
		give gave given gives yield yielded yields lead leads led result resulted results indicate indicates
		indicated suggest suggests suggested reveal reveals revealed demonstrate demonstrates demonstrated
		increase increased increases decrease decreased decreases remain remained remains retain retained
		compared respectively approximately about roughly typically significantly highly relatively respectively
		high higher highest low lower lowest large larger small smaller good better best new novel different
		various similar first second third two three four five six seven eight nine ten fig figure figures
		table tables ref refs et al eq ie eg see here present presented work study studies paper
		herein based determined estimated calculated prepared synthesized synthesised fabricated deposited
		grown annealed treated achieved enabled allowing allows allowed consisting consists contain contains
		containing considered known called termed named whose while`) {
		m[w] = true
	}
	return m
}()
