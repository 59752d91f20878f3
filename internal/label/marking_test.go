package label

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkingTable(t *testing.T) {
	f, err := os.Open("testdata/markings.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" && !strings.Contains(text, "\t") {
			continue
		}
		in, want, ok := strings.Cut(text, "\t")
		if !ok {
			t.Fatalf("markings.txt:%d: no tab", line)
		}
		n++
		l, err := Parse(in)
		if want == "ERROR" {
			if err == nil {
				t.Errorf("markings.txt:%d: Parse(%q) = %v, want error", line, in, l)
			}
			continue
		}
		if err != nil {
			t.Errorf("markings.txt:%d: Parse(%q): %v", line, in, err)
			continue
		}
		if got := l.Format(); got != want {
			t.Errorf("markings.txt:%d: Format(Parse(%q)) = %q, want %q", line, in, got, want)
		}
	}
	if n < 20 {
		t.Fatalf("only %d cases read", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"OPEN", "PROPRIETARY//AGR:CRADA-0042", "NATIONAL-SECURITY//FUSION/ITAR//REL TO USA, GBR",
		"open//a/b//agr:x/y//rel to gbr, usa", "OPEN//REL TO NONE", "OPEN////", "OPEN//REL TO",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %T", s, err)
			}
			return
		}
		canon := l.Format()
		l2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(Format(Parse(%q))) = %q: %v", s, canon, err)
		}
		if !Equal(l, l2) || l2.Format() != canon {
			t.Fatalf("not a fixed point: %q -> %q -> %q", s, canon, l2.Format())
		}
		enc, _ := l.MarshalBinary()
		var d Label
		if err := d.UnmarshalBinary(enc); err != nil || !Equal(d, l) {
			t.Fatalf("binary round trip of %q: %v", canon, err)
		}
	})
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range []string{"OPEN", "NATIONAL-SECURITY//FUSION/ITAR//AGR:A//REL TO USA, GBR", "OPEN//REL TO NONE"} {
		b, _ := MustParse(s).MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Label
		if err := l.UnmarshalBinary(b); err != nil {
			return
		}
		enc, _ := l.MarshalBinary()
		if string(enc) != string(b) {
			t.Fatalf("accepted non-canonical encoding %x (canonical %x)", b, enc)
		}
	})
}

func TestParseHints(t *testing.T) {
	for _, c := range []struct{ in, hint string }{
		{"PROPRIETARY/FUSION", "PROPRIETARY//FUSION"},
		{"proprietary/fusion//agr:crada-0042", "PROPRIETARY//FUSION//AGR:CRADA-0042"},
		{"PROPRIETARY//FUSION/AGR:CRADA-0042", "PROPRIETARY//FUSION//AGR:CRADA-0042"},
		{"PROPRIETARY//AGR:X/REL TO USA", "PROPRIETARY//AGR:X//REL TO USA"},
		{"PROPRIETRY//FUSION", "PROPRIETARY//FUSION"},
		{"OPN", "OPEN"},
		{"SECRET//NOFORN", ""},
		{"PROPRIETARY//FU SION", ""},
	} {
		_, err := Parse(c.in)
		pe, ok := err.(*ParseError)
		if !ok {
			t.Fatalf("Parse(%q) = %v, want a *ParseError", c.in, err)
		}
		if pe.Hint != c.hint {
			t.Errorf("Parse(%q): hint %q, want %q", c.in, pe.Hint, c.hint)
		}
		if c.hint != "" && !strings.Contains(pe.Error(), `did you mean "`+c.hint+`"?`) {
			t.Errorf("Parse(%q): %q does not show the hint", c.in, pe.Error())
		}
	}
}

func TestCheck(t *testing.T) {
	known := []string{"FUSION", "ITAR", "BIO"}
	for _, c := range []struct{ in, reason, hint string }{
		{"OPEN", "", ""},
		{"OPEN//AGR:X//REL TO USA", "", ""},
		{"PROPRIETARY//FUSION/ITAR//AGR:X", "", ""},
		{"OPEN//FUSION", "OPEN carries no compartments", "PROPRIETARY//FUSION"},
		{"PROPRIETARY//FUSON", "unknown compartment", "PROPRIETARY//FUSION"},
		{"PROPRIETARY//FUSON//AGR:X//REL TO GBR", "unknown compartment", "PROPRIETARY//FUSION//AGR:X//REL TO GBR"},
		{"PROPRIETARY//ZZZZZZZZ", "unknown compartment", ""},
	} {
		err := Check(MustParse(c.in), known)
		if c.reason == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v", c.in, err)
			}
			continue
		}
		pe, ok := err.(*ParseError)
		if !ok || !strings.Contains(pe.Reason, c.reason) || pe.Hint != c.hint {
			t.Errorf("Check(%q) = %#v, want reason %q hint %q", c.in, err, c.reason, c.hint)
		}
	}
}

// FuzzParseErrors: a refused marking's error never echoes more than a
// bounded, escaped slice of the input, and a hint always parses.
func FuzzParseErrors(f *testing.F) {
	for _, s := range []string{"PROPRIETARY/FUSION", "OPN", "PROPRIETARY//A/AGR:B", "\x1b[31mOPEN", strings.Repeat("/", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := Parse(s)
		if err == nil {
			return
		}
		pe := err.(*ParseError)
		msg := pe.Error()
		if len(msg) > 3*maxEcho+len(pe.Reason)+64 || strings.ContainsAny(msg, "\x00\x1b\n") || !utf8.ValidString(msg) {
			t.Fatalf("Parse(%q): message %q", s, msg)
		}
		if pe.Hint != "" {
			if _, err := Parse(pe.Hint); err != nil {
				t.Fatalf("Parse(%q): hint %q does not parse: %v", s, pe.Hint, err)
			}
		}
	})
}

// FuzzCheck: Check never panics; it refuses exactly OPEN with compartments
// and compartments outside known (the reference model), and its hint
// passes Check.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"OPEN//FUSION", "PROPRIETARY//FUSON", "NATIONAL-SECURITY//ITAR/FUSON//AGR:X//REL TO GBR", "PROPRIETARY"} {
		f.Add(s)
	}
	known := []string{"FUSION", "ITAR", "BIO"}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		want := true
		for _, c := range l.Compartments() {
			if l.Level() == Open || !slices.Contains(known, c) {
				want = false
			}
		}
		err = Check(l, known)
		if (err == nil) != want {
			t.Fatalf("Check(%q) = %v, model says ok=%v", l, err, want)
		}
		if pe, ok := err.(*ParseError); ok && pe.Hint != "" {
			h, perr := Parse(pe.Hint)
			if perr != nil || h.Level() == Open && len(h.Compartments()) > 0 {
				t.Fatalf("Check(%q): bad hint %q", l, pe.Hint)
			}
		}
	})
}
