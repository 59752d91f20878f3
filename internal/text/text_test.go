package text

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// The reference model, written independently of Forbidden: the characters
// the package doc promises to refuse.
func modelForbidden(r rune) bool {
	if unicode.IsControl(r) { // C0, DEL, C1
		return true
	}
	switch r {
	case '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069':
		return true
	}
	return false
}

// Legitimate characters: what people write in titles and descriptions.
var legit = []rune("abcXYZ019 .,;:!?'\"()[]{}<>/\\-_+=*&^%$#@~`|" +
	"éèçñøåßœÆÅÖÜ" + "中文日本語한국어" + "Ωπλ" + "עברית" + "العربية" + "\u200e\u200f\u00a0\u2014\u2028" + "😀🧪🚀👩‍🔬")

func randLegit(rng *rand.Rand, multiline bool) string {
	var b strings.Builder
	n := rng.IntN(40)
	for range n {
		if multiline && rng.IntN(10) == 0 {
			b.WriteString([]string{"\n", "\t", "\r\n"}[rng.IntN(3)])
			continue
		}
		b.WriteRune(legit[rng.IntN(len(legit))])
	}
	return b.String()
}

func randForbidden(rng *rand.Rand) rune {
	for {
		var r rune
		switch rng.IntN(4) {
		case 0:
			r = rune(rng.IntN(0x20))
		case 1:
			r = 0x7f + rune(rng.IntN(0x21))
		case 2:
			r = 0x202a + rune(rng.IntN(5))
		default:
			r = 0x2066 + rune(rng.IntN(4))
		}
		if modelForbidden(r) {
			return r
		}
	}
}

func TestLegitimateTextAccepted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		ml := rng.IntN(2) == 0
		s := randLegit(rng, ml)
		check := Line
		if ml {
			check = Block
		}
		if err := check("title", s, MaxLine); err != nil {
			t.Fatalf("multiline=%v: %q refused: %v", ml, s, err)
		}
		if got, changed := Sanitize(s, ml); changed || got != s {
			t.Fatalf("Sanitize(%q) = %q, %v", s, got, changed)
		}
	}
}

func TestForbiddenCharacterRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		ml := rng.IntN(2) == 0
		pre, post := randLegit(rng, ml), randLegit(rng, ml)
		r := randForbidden(rng)
		if ml && (r == '\t' || r == '\n') {
			continue // allowed in blocks
		}
		if ml && r == '\r' && strings.HasPrefix(post, "\n") {
			post = "x" + post
		}
		s := pre + string(r) + post
		check := Line
		if ml {
			check = Block
		}
		err := check("reason", s, MaxLine)
		if err == nil {
			t.Fatalf("multiline=%v: %q accepted (U+%04X)", ml, s, r)
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "reason" {
			t.Fatalf("%q: %v: want Invalid on field reason", s, err)
		}
		want := fmt.Sprintf("(U+%04X) at byte %d", r, len(pre))
		if msg := errors.SafeMessage(err); !strings.HasPrefix(msg, "reason: ") || !strings.HasSuffix(msg, want) {
			t.Fatalf("%q: message %q, want …%s", s, msg, want)
		}
		clean, changed := Sanitize(s, ml)
		if !changed || check("reason", clean, len(clean)) != nil {
			t.Fatalf("Sanitize(%q) = %q, %v: still refused", s, clean, changed)
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name, s   string
		multiline bool
		max       int
		want      string // "" = accepted
	}{
		{"nul", "a\x00b", false, 10, "title: contains a NUL character (U+0000) at byte 1"},
		{"esc", "red \x1b[31m", true, 100, "title: contains a terminal escape character (U+001B) at byte 4"},
		{"csi", "x\u009b31m", false, 100, "title: contains a terminal escape character (U+009B) at byte 1"},
		{"osc", "\x1b]8;;http://x\x07", false, 100, "title: contains a terminal escape character (U+001B) at byte 0"},
		{"rlo", "abc\u202egpj.exe", false, 100, "title: contains a bidirectional control character (U+202E) at byte 3"},
		{"newline in line", "a\nb", false, 100, "title: contains a control character (U+000A) at byte 1"},
		{"lone cr", "a\rb", true, 100, "title: contains a control character (U+000D) at byte 1"},
		{"bad utf8", "ab\xffc", false, 100, "title: is not valid UTF-8 at byte 2"},
		{"too long", strings.Repeat("a", 11), false, 10, "title: longer than 10 bytes"},
		{"crlf", "a\r\nb\tc", true, 100, ""},
		{"accents cjk emoji", "Études — 核融合 🚀", false, 100, ""},
		{"empty", "", false, 10, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			check := Line
			if c.multiline {
				check = Block
			}
			err := check("title", c.s, c.max)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := errors.SafeMessage(err); got != c.want || !errors.Is(errors.Invalid, err) {
				t.Fatalf("got %q (%v), want %q", got, err, c.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	for s, ok := range map[string]bool{"shots": true, "a.b-c_1": true, "Shots": false, "": false, "-x": false, "a\x1b": false, strings.Repeat("a", 64): false} {
		if err := Name("name", s); (err == nil) != ok {
			t.Errorf("Name(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

// FuzzCheck: whatever the input, the verdict matches the reference model,
// a refusal is Invalid, names the field and never echoes the input.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00", "\x1b[2J", "é\u202e", "\xff", "a\r\nb", "a\rb", "😀"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, ml bool) {
		check := Line
		if ml {
			check = Block
		}
		err := check("f", s, MaxMessage)
		want := utf8.ValidString(s) && len(s) <= MaxMessage
		for i, r := range s {
			if modelForbidden(r) && !(ml && (r == '\t' || r == '\n' || r == '\r' && i+1 < len(s) && s[i+1] == '\n')) {
				want = false
			}
		}
		if (err == nil) != want {
			t.Fatalf("%q multiline=%v: err=%v, model says ok=%v", s, ml, err, want)
		}
		if err != nil {
			msg := errors.SafeMessage(err)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "f" || len(msg) > 100 || !utf8.ValidString(msg) {
				t.Fatalf("%q: bad refusal %v", s, err)
			}
		}
		clean, _ := Sanitize(s, ml)
		if check("f", clean, len(clean)) != nil {
			t.Fatalf("Sanitize(%q) = %q is refused", s, clean)
		}
	})
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, ""}, {1e7, ""}, {12.5, ""},
		{1e300, "power_draw_kw: must be from 0 to 10000000, not 1e+300"},
		{-1, "power_draw_kw: must be from 0 to 10000000, not -1"},
		{math.NaN(), "power_draw_kw: must be a finite number from 0 to 10000000"},
		{math.Inf(1), "power_draw_kw: must be a finite number from 0 to 10000000"},
	} {
		err := Number("power_draw_kw", c.v, 0, 1e7)
		if got := errors.SafeMessage(err); got != c.want || (err != nil) != (c.want != "") || err != nil && (!errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "power_draw_kw") {
			t.Errorf("Number(%v) = %v, want %q", c.v, err, c.want)
		}
	}
	if err := Integer("nodes", 0, 1, 1e6); errors.SafeMessage(err) != "nodes: must be from 1 to 1000000, not 0" {
		t.Errorf("Integer: %v", err)
	}
}
