package label

import (
	"fmt"
	"slices"
	"strings"
)

// MaxMarkingLen bounds the input Parse accepts.
const MaxMarkingLen = 16 << 10

// ParseError reports a marking or label that cannot be parsed. Token is the
// offending token as it appeared in the input.
type ParseError struct {
	Input  string // the whole input, if any
	Token  string // the offending token
	Reason string
	// Hint, if not empty, is a corrected marking or token that is probably
	// what was meant ("PROPRIETARY//FUSION" for "PROPRIETARY/FUSION").
	Hint string
	// Unknown, if not zero, is the kind of Token when the marking is well
	// formed but names a token ParseAdmit did not admit.
	Unknown TokenKind
}

// maxEcho bounds how much of the input an error message repeats.
const maxEcho = 64

func (e *ParseError) Error() string { return "label: " + e.Message() }

// Message is Error without the "label: " prefix, for callers that name the
// field themselves: the offending token (quoted, at most 64 bytes), the
// reason, and the hint if any.
func (e *ParseError) Message() string {
	msg := fmt.Sprintf("%q: %s", clip(e.Token), e.Reason)
	if e.Hint != "" {
		msg += fmt.Sprintf("; did you mean %q?", clip(e.Hint))
	}
	return msg
}

// Message returns the user-facing text of a label error: Message for a
// *ParseError, else err.Error().
func Message(err error) string {
	if pe, ok := err.(*ParseError); ok {
		return pe.Message()
	}
	return err.Error()
}

// clip returns at most maxEcho bytes of s, valid UTF-8 (Error quotes it, so
// control characters are escaped, never sent to a terminal).
func clip(s string) string {
	if len(s) > maxEcho {
		s = s[:maxEcho] + "…"
	}
	return strings.ToValidUTF8(s, "\ufffd")
}

// Format returns the canonical marking of l; see the package doc.
func (l Label) Format() string {
	if l.comps.empty() && l.agrs.empty() && !l.restricted {
		return l.level.String()
	}
	var b strings.Builder
	b.WriteString(l.level.String())
	if comps := l.Compartments(); len(comps) > 0 {
		b.WriteString("//")
		b.WriteString(strings.Join(comps, "/"))
	}
	if agrs := l.Agreements(); len(agrs) > 0 {
		b.WriteString("//AGR:")
		b.WriteString(strings.Join(agrs, "/"))
	}
	if rel, ok := l.ReleasableTo(); ok {
		b.WriteString("//REL TO ")
		if len(rel) == 0 {
			b.WriteString("NONE")
		} else {
			b.WriteString(strings.Join(rel, ", "))
		}
	}
	return b.String()
}

// String is Format.
func (l Label) String() string { return l.Format() }

// Parse reads a marking; see the package doc for the grammar. When a likely
// correction of a bad marking parses, the error's Hint holds it. Parse
// interns every token it sees: use it for markings this deployment wrote
// (stored labels, constants); for text from users or from outside, use
// ParseAdmit, which interns nothing unknown.
func Parse(s string) (Label, error) { return ParseAdmit(s, admitAll) }

// TokenKind names a kind of interned token.
type TokenKind uint8

const (
	Compartment TokenKind = iota + 1
	Agreement
	Nation
)

func (k TokenKind) String() string {
	switch k {
	case Compartment:
		return "compartment"
	case Agreement:
		return "agreement"
	case Nation:
		return "nation"
	}
	return "token"
}

// Interned returns how many distinct tokens of kind this process has
// interned (tests use it to show untrusted input interns nothing).
func Interned(kind TokenKind) int {
	t := table(kind)
	if t == nil {
		return 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.names)
}

// IsInterned reports whether token (canonical) of kind is interned.
func IsInterned(kind TokenKind, token string) bool {
	t := table(kind)
	if t == nil {
		return false
	}
	_, ok := t.lookup(token)
	return ok
}

func table(kind TokenKind) *interner {
	switch kind {
	case Compartment:
		return compTab
	case Agreement:
		return agrTab
	case Nation:
		return nationTab
	}
	return nil
}

// admitAll is the admit function of Parse.
func admitAll(TokenKind, string) bool { return true }

// Reasons given for tokens ParseAdmit does not admit (the compartment one is
// also Check's, so that both refusals read the same).
const (
	unknownCompartment = "unknown compartment (an administrator registers compartments; agreements grant them)"
	unknownAgreement   = "unknown agreement (an administrator records agreements)"
	unknownNation      = "unknown nation (want an ISO 3166-1 alpha-3 code)"
)

// ParseAdmit is Parse for untrusted text: the same grammar and result, but
// a token this process has not interned yet is interned only if admit
// (called with its kind and canonical, upper-case text) says yes. Otherwise
// the result is a *ParseError whose Unknown names the kind, and the token
// is not interned. A nil admit admits nothing new. Interning is
// process-wide and only grows, so this is what keeps hostile markings from
// filling the tables (and locking new compartments out) until a restart.
// Admit is called without locks held and may be slow (a database lookup);
// it is called at most once per unknown token per call.
func ParseAdmit(s string, admit func(kind TokenKind, token string) bool) (Label, error) {
	r, err := parseRaw(s)
	if err != nil {
		return Label{}, withHint(s, err)
	}
	return r.build(s, admit)
}

// ParseChecked is ParseAdmit and Check in one, with the rules checked
// before anything is interned, against what the reader of the error may
// know: known(Compartment) (called only when the marking names compartments
// on a level above OPEN) lists the compartments, and known(Agreement)
// (called only when it names agreements) the agreements, that count as
// known; a compartment or agreement not listed is refused as unknown,
// whether or not it exists, so the answer reveals nothing beyond the lists.
// An error from known is returned as is.
func ParseChecked(s string, known func(kind TokenKind) ([]string, error), admit func(kind TokenKind, token string) bool) (Label, error) {
	r, err := parseRaw(s)
	if err != nil {
		return Label{}, withHint(s, err)
	}
	if len(r.comps) > 0 {
		var k []string
		if r.level != Open {
			if k, err = known(Compartment); err != nil {
				return Label{}, err
			}
		}
		if err := r.check(k); err != nil {
			return Label{}, err
		}
	}
	if len(r.agrs) > 0 {
		k, err := known(Agreement)
		if err != nil {
			return Label{}, err
		}
		if err := r.checkAgreements(k); err != nil {
			return Label{}, err
		}
	}
	return r.build(s, admit)
}

// checkAgreements refuses an agreement not in known, with a did-you-mean
// hint among known.
func (r raw) checkAgreements(known []string) error {
	for i, a := range r.agrs {
		if slices.Contains(known, a) {
			continue
		}
		e := &ParseError{Input: r.format(), Token: a, Reason: unknownAgreement, Unknown: Agreement}
		if s := Suggest(a, known); s != "" {
			fixed := append(append(append([]string(nil), r.agrs[:i]...), s), r.agrs[i+1:]...)
			if fa, err := canonTokens(fixed, "agreement"); err == nil {
				h := r
				h.agrs = fa
				e.Hint = h.format()
			}
		}
		return e
	}
	return nil
}

// Canonical returns the canonical marking of s (Format of Parse) without
// interning anything, for comparing a filter with stored markings.
func Canonical(s string) (string, error) {
	r, err := parseRaw(s)
	if err != nil {
		return "", withHint(s, err)
	}
	return r.format(), nil
}

func withHint(s string, err error) error {
	if pe, ok := err.(*ParseError); ok && pe.Hint == "" {
		pe.Hint = hint(s)
	}
	return err
}

// raw is a parsed marking before interning: canonical token lists.
type raw struct {
	level      Level
	comps      []string // sorted, deduplicated
	agrs       []string
	restricted bool
	rel        []string // in nation order
}

func rawOf(l Label) raw {
	rel, restricted := l.ReleasableTo()
	return raw{level: l.level, comps: l.Compartments(), agrs: l.Agreements(), restricted: restricted, rel: rel}
}

// build interns r's tokens (those not yet interned only if admit says so).
func (r raw) build(input string, admit func(TokenKind, string) bool) (Label, error) {
	l := Label{level: r.level, restricted: r.restricted}
	var ok bool
	for _, x := range []struct {
		kind TokenKind
		toks []string
		dst  *bitset
	}{{Compartment, r.comps, &l.comps}, {Agreement, r.agrs, &l.agrs}, {Nation, r.rel, &l.rel}} {
		var bad string
		if *x.dst, bad, ok = table(x.kind).setAdmit(x.kind, x.toks, admit); !ok {
			if bad == "" {
				return Label{}, &ParseError{Input: input, Token: x.toks[0], Reason: "too many distinct " + x.kind.String() + "s in this process"}
			}
			reason := map[TokenKind]string{Compartment: unknownCompartment, Agreement: unknownAgreement, Nation: unknownNation}[x.kind]
			return Label{}, &ParseError{Input: input, Token: bad, Reason: reason, Unknown: x.kind}
		}
	}
	return l, nil
}

// format is Format of the label r builds.
func (r raw) format() string {
	var b strings.Builder
	b.WriteString(r.level.String())
	if len(r.comps) > 0 {
		b.WriteString("//")
		b.WriteString(strings.Join(r.comps, "/"))
	}
	if len(r.agrs) > 0 {
		b.WriteString("//AGR:")
		b.WriteString(strings.Join(r.agrs, "/"))
	}
	if r.restricted {
		b.WriteString("//REL TO ")
		if len(r.rel) == 0 {
			b.WriteString("NONE")
		} else {
			b.WriteString(strings.Join(r.rel, ", "))
		}
	}
	return b.String()
}

func parseRaw(s string) (raw, error) {
	if len(s) > MaxMarkingLen {
		return raw{}, &ParseError{Input: s[:64], Token: s[:64], Reason: "marking is too long"}
	}
	sections := strings.Split(s, "//")
	lv, err := ParseLevel(sections[0])
	if err != nil {
		return raw{}, &ParseError{Input: s, Token: sections[0], Reason: "unknown level (want OPEN, PROPRIETARY or NATIONAL-SECURITY)"}
	}
	l := raw{level: lv}
	const (
		wantComps = iota
		wantAgrs
		wantRel
		done
	)
	stage := wantComps
	for _, sec := range sections[1:] {
		t := strings.TrimSpace(sec)
		u := strings.ToUpper(t)
		switch {
		case t == "":
			return raw{}, &ParseError{Input: s, Token: sec, Reason: "empty section"}
		case stage == done:
			return raw{}, &ParseError{Input: s, Token: sec, Reason: "nothing may follow REL TO"}
		case strings.HasPrefix(u, "REL TO"):
			rest := strings.TrimSpace(t[len("REL TO"):])
			if rest == "" {
				return raw{}, &ParseError{Input: s, Token: sec, Reason: "REL TO needs nations or NONE"}
			}
			if strings.ToUpper(rest) != "NONE" {
				if l.rel, err = canonNations(strings.Split(rest, ",")); err != nil {
					err.(*ParseError).Input = s
					return raw{}, err
				}
			}
			l.restricted = true
			stage = done
		case strings.HasPrefix(u, "AGR:"):
			if stage > wantAgrs {
				return raw{}, &ParseError{Input: s, Token: sec, Reason: "agreements must come before REL TO"}
			}
			if l.agrs, err = canonTokens(strings.Split(t[len("AGR:"):], "/"), "agreement"); err != nil {
				err.(*ParseError).Input = s
				return raw{}, err
			}
			stage = wantRel
		default:
			if stage > wantComps {
				return raw{}, &ParseError{Input: s, Token: sec, Reason: "compartments must come right after the level, once"}
			}
			if l.comps, err = canonTokens(strings.Split(t, "/"), "compartment"); err != nil {
				err.(*ParseError).Input = s
				return raw{}, err
			}
			stage = wantAgrs
		}
	}
	return l, nil
}

// maxHinted bounds the markings Parse tries to correct.
const maxHinted = 256

// hint returns the canonical form of the first cheap correction of s that
// parses, or "": a single "/" where the grammar wants "//" (after the level,
// before AGR: and REL TO), and a misspelled level.
func hint(s string) string {
	if len(s) > maxHinted {
		return ""
	}
	h := s
	// The level: "PROPRIETARY/FUSION", "PROPRIETRY//FUSION".
	lvl, rest, _ := strings.Cut(h, "//")
	if _, err := ParseLevel(lvl); err != nil {
		if l, r, ok := strings.Cut(lvl, "/"); ok {
			lvl, rest = l, r+sep(rest)
		}
		if _, err := ParseLevel(lvl); err != nil {
			if c := Suggest(strings.ToUpper(strings.TrimSpace(lvl)), levelNames[:]); c != "" {
				lvl = c
			}
		}
		h = lvl + sep(rest)
	}
	// "FUSION/AGR:X", "AGR:X/REL TO USA": a section keyword after one "/".
	for _, kw := range []string{"AGR:", "REL TO"} {
		var b strings.Builder
		last := 0
		for i := 1; i+len(kw) <= len(h); i++ {
			if strings.EqualFold(h[i:i+len(kw)], kw) && h[i-1] == '/' && (i < 2 || h[i-2] != '/') {
				b.WriteString(h[last:i])
				b.WriteString("/")
				last = i
			}
		}
		b.WriteString(h[last:])
		h = b.String()
	}
	if h == s {
		return ""
	}
	r, err := parseRaw(h)
	if err != nil {
		return ""
	}
	return r.format()
}

func sep(rest string) string {
	if rest == "" {
		return ""
	}
	return "//" + rest
}

// Suggest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo (at most 1 edit for short words, 2 for
// longer), else "". Ties go to the earlier candidate.
func Suggest(s string, candidates []string) string {
	if s == "" || len(s) > MaxTokenLen {
		return ""
	}
	limit := 1
	if len(s) > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == s || len(c) > MaxTokenLen {
			continue
		}
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance over bytes (tokens are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// MarshalText encodes l as its canonical marking (so labels are JSON strings).
func (l Label) MarshalText() ([]byte, error) { return []byte(l.Format()), nil }

// UnmarshalText parses a marking.
func (l *Label) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*l = p
	return nil
}
