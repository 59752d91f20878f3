package llm

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Terms are folded in the spirit of the catalog's full-text search (Unicode
// NFKD — so that CsPbI₃ is cspbi3 — combining marks dropped, lower case, split on anything that is not a
// letter or a number), then the local embedders drop stop-words, one-letter
// words, pure numbers and words longer than maxTermBytes, and strip plural
// endings (the S-stemmer of Harman, 1991: "ies"→"y", "es"→"e", "s"→"").

const maxTermBytes = 40

// Terms returns the index terms of s in order.
func Terms(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		w := b.String()
		b.Reset()
		if t, ok := term(w); ok {
			out = append(out, t)
		}
	}
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

func term(w string) (string, bool) {
	if len(w) > maxTermBytes {
		return "", false
	}
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters == 0 || len([]rune(w)) < 2 || stopWords[w] {
		return "", false
	}
	w = stem(w)
	return w, !stopWords[w]
}

// stem is the S-stemmer.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:n-3] + "y"
	case n > 3 && strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "aes") && !strings.HasSuffix(w, "ees") && !strings.HasSuffix(w, "oes"):
		return w[:n-1]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "ss"):
		return w[:n-1]
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all also am an and any are
	as at be because been before being below between both but by can could did do does doing
	down during each et al few for from further had has have having he her here hers herself him
	himself his how however i if in into is it its itself just may me might more most must my
	myself no nor not now of off on once only or other our ours ourselves out over own same she
	should so some such than that the their theirs them themselves then there these they this
	those through thus to too under until up upon us use used using very via was we were what
	when where which while who whom why will with within without would you your yours yourself
	yourselves fig figure table ref eq shown show shows based respectively however therefore
	whereas whether both either neither one two three can cannot also well`) {
		m[w] = true
	}
	return m
}()
