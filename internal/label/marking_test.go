package label

import (
	"bufio"
	"os"
	"strings"
	"testing"
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
