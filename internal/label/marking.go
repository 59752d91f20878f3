package label

import (
	"fmt"
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
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("label: %q: %s", e.Token, e.Reason)
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

// Parse reads a marking; see the package doc for the grammar.
func Parse(s string) (Label, error) {
	if len(s) > MaxMarkingLen {
		return Label{}, &ParseError{Input: s[:64], Token: s[:64], Reason: "marking is too long"}
	}
	sections := strings.Split(s, "//")
	lv, err := ParseLevel(sections[0])
	if err != nil {
		return Label{}, &ParseError{Input: s, Token: sections[0], Reason: "unknown level (want OPEN, PROPRIETARY or NATIONAL-SECURITY)"}
	}
	l := Label{level: lv}
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
			return Label{}, &ParseError{Input: s, Token: sec, Reason: "empty section"}
		case stage == done:
			return Label{}, &ParseError{Input: s, Token: sec, Reason: "nothing may follow REL TO"}
		case strings.HasPrefix(u, "REL TO"):
			rest := strings.TrimSpace(t[len("REL TO"):])
			if rest == "" {
				return Label{}, &ParseError{Input: s, Token: sec, Reason: "REL TO needs nations or NONE"}
			}
			if strings.ToUpper(rest) == "NONE" {
				l.restricted, l.rel = true, bitset{}
			} else {
				if l.rel, err = nationSet(strings.Split(rest, ",")); err != nil {
					err.(*ParseError).Input = s
					return Label{}, err
				}
				l.restricted = true
			}
			stage = done
		case strings.HasPrefix(u, "AGR:"):
			if stage > wantAgrs {
				return Label{}, &ParseError{Input: s, Token: sec, Reason: "agreements must come before REL TO"}
			}
			if l.agrs, err = tokenSet(agrTab, strings.Split(t[len("AGR:"):], "/"), "agreement"); err != nil {
				err.(*ParseError).Input = s
				return Label{}, err
			}
			stage = wantRel
		default:
			if stage > wantComps {
				return Label{}, &ParseError{Input: s, Token: sec, Reason: "compartments must come right after the level, once"}
			}
			if l.comps, err = tokenSet(compTab, strings.Split(t, "/"), "compartment"); err != nil {
				err.(*ParseError).Input = s
				return Label{}, err
			}
			stage = wantAgrs
		}
	}
	return l, nil
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
