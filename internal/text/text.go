// Package text checks what people type into Genesis — names, titles,
// descriptions, messages, reasons, numbers — before it is stored and later printed on
// someone else's terminal or page.
//
// Free text must be valid UTF-8 and may not contain control characters (C0,
// DEL, C1: among them NUL and the ESC and CSI that begin terminal escape
// sequences) or the bidirectional embedding, override and isolate characters
// (U+202A–U+202E, U+2066–U+2069) that make text display differently from how
// it reads. A multi-line field (Block) also admits tab, line feed, and
// carriage return before a line feed. Everything else a person writes —
// accents, CJK, emoji, right-to-left scripts with their marks — passes.
//
// Every refusal is an errors.Invalid naming the field, with a message such as
// `title: contains a control character (U+001B) at byte 12`. Messages never
// repeat the offending input.
package text

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
)

// Length limits, in bytes, shared by the services so the same kind of field
// has the same bound everywhere.
const (
	MaxName        = 63       // handles: genesis.ValidName
	MaxLine        = 512      // titles, display names, reasons
	MaxMessage     = 4096     // version messages
	MaxDescription = 64 << 10 // descriptions, justifications
	MaxTerms       = 64 << 10 // agreement IP terms
	MaxDocument    = 1 << 20  // model cards and other documents
)

// Forbidden reports whether r may not appear in any free text: a C0 or C1
// control character, DEL, or a bidirectional embedding, override or isolate.
// Block additionally admits tab and newlines.
func Forbidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Line checks a one-line field: at most max bytes, and no forbidden
// character (tab and newlines included).
func Line(field, s string, max int) error { return check(field, s, max, false) }

// Block checks a multi-line field: as Line, but tab, line feed and CR LF are
// allowed.
func Block(field, s string, max int) error { return check(field, s, max, true) }

// Name checks a handle (principal, organisation, project, asset, site…):
// genesis.ValidName.
func Name(field, s string) error {
	if genesis.ValidName(s) {
		return nil
	}
	if err := Line(field, s, MaxName); err != nil {
		return err
	}
	return invalid(field, "must be 1-63 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
}

func invalid(field, msg string) error {
	return errors.E(errors.Op("text.Check"), errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
}

func check(field, s string, max int, multiline bool) error {
	if len(s) > max {
		return invalid(field, fmt.Sprintf("longer than %d bytes", max))
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return invalid(field, fmt.Sprintf("is not valid UTF-8 at byte %d", i))
		}
		if Forbidden(r) && !(multiline && allowedInBlock(s, i, r)) {
			return invalid(field, describe(r)+fmt.Sprintf(" at byte %d", i))
		}
		i += n
	}
	return nil
}

func allowedInBlock(s string, i int, r rune) bool {
	switch r {
	case '\t', '\n':
		return true
	case '\r':
		return i+1 < len(s) && s[i+1] == '\n'
	}
	return false
}

func describe(r rune) string {
	switch {
	case r == 0:
		return "contains a NUL character (U+0000)"
	case r == 0x1b || r == 0x9b:
		return fmt.Sprintf("contains a terminal escape character (U+%04X)", r)
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return fmt.Sprintf("contains a bidirectional control character (U+%04X)", r)
	}
	return fmt.Sprintf("contains a control character (U+%04X)", r)
}

// Sanitize returns s with invalid UTF-8 and forbidden characters replaced by
// U+FFFD (tab and newlines kept when multiline), and whether it changed
// anything. Importers of external documents use it: they keep the record and
// note the replacement rather than refuse someone else's metadata.
func Sanitize(s string, multiline bool) (string, bool) {
	if check("", s, len(s), multiline) == nil {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case Forbidden(r) && !(multiline && allowedInBlock(s, i, r)):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String(), true
}

// First returns the first non-nil error, so that a list of checks reports
// one field.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
