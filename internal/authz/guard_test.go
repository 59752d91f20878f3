package authz

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// TestParsePolicyBoundsShape: sources that once crashed the process (a Go
// stack overflow in the Cedar parser) or cost seconds and gigabytes are
// refused before parsing, cheaply. Allocation, not time, is the measure:
// each refusal must allocate little more than the source itself.
func TestParsePolicyBoundsShape(t *testing.T) {
	stmt := func(cond string) string { return "permit(principal, action, resource) when { " + cond + " };" }
	for _, tc := range []struct{ name, src string }{
		{"500,000 nested (", stmt(strings.Repeat("(", 500_000) + "true" + strings.Repeat(")", 500_000))},
		{"999,000 !", stmt(strings.Repeat("!", 999_000) + "true")},
		{"100,000 nested [", stmt(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + ` == []`)},
		{"2,000 nested records", stmt(strings.Repeat("{a:", 2000) + "1" + strings.Repeat("}", 2000) + " == 1")},
		{"a chain of 150,000 +", stmt(strings.Repeat("1+", 150_000) + "1 == 2")},
		{"20,000 statements", strings.Repeat(stmt("true")+"\n", 20_000)},
		{"1,000 alternating !(", stmt(strings.Repeat("!(", 1000) + "true" + strings.Repeat(")", 1000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ParsePolicy([]byte(tc.src))
			runtime.ReadMemStats(&after)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "policy" || !strings.Contains(errors.SafeMessage(err), "policy line") {
				t.Fatalf("ParsePolicy = %v (kind %v), want Invalid naming the line", err, errors.KindOf(err))
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
				t.Errorf("refusing a %d-byte source allocated %d MiB", len(tc.src), got>>20)
			}
		})
	}
}

// TestRealPoliciesFitTheBounds: the built-in policy and every test policy
// pass the shape check with room to spare.
func TestRealPoliciesFitTheBounds(t *testing.T) {
	srcs := map[string][]byte{"default.cedar": DefaultPolicy()}
	files, _ := filepath.Glob("testdata/*.cedar")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = b
	}
	for name, src := range srcs {
		m := shapeRef(src)
		if m.depth*4 > MaxPolicyNesting || m.unary*4 > MaxPolicyUnaryRun || m.statements*4 > MaxPolicyStatements || m.tokens*4 > MaxStatementTokens {
			t.Errorf("%s is within a factor 4 of a bound: %+v", name, m)
		}
		if err := CheckPolicyShape(src); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// shape is what the reference model measures.
type shape struct{ depth, unary, statements, tokens int }

var refToken = regexp.MustCompile(`"(?:\\[\s\S]|[^"\\])*\\?"?|//[^\n]*|[A-Za-z0-9_]+|[^\x00-\x7f]+|[ \t\r\n]+|[\s\S]`)

// shapeRef is the reference model of CheckPolicyShape: tokenize with a
// regular expression, then take the maxima over the token list.
func shapeRef(src []byte) shape {
	var max, cur shape
	toks := refToken.FindAll(src, -1)
	// Word runs of ASCII and non-ASCII characters are one token.
	var merged [][]byte
	isWord := func(b []byte) bool {
		return len(b) > 0 && (b[0] == '_' || b[0] >= '0' && b[0] <= '9' || b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] >= 0x80)
	}
	for _, tk := range toks {
		if n := len(merged); n > 0 && isWord(tk) && isWord(merged[n-1]) {
			merged[n-1] = append(append([]byte{}, merged[n-1]...), tk...)
			continue
		}
		merged = append(merged, tk)
	}
	for _, tk := range merged {
		switch {
		case tk[0] == ' ' || tk[0] == '\t' || tk[0] == '\r' || tk[0] == '\n' || strings.HasPrefix(string(tk), "//"):
			continue
		case len(tk) == 1 && (tk[0] == '!' || tk[0] == '-'):
			cur.unary++
		default:
			cur.unary = 0
		}
		cur.tokens++
		switch string(tk) {
		case "(", "[", "{":
			cur.depth++
		case ")", "]", "}":
			cur.depth = maxInt(cur.depth-1, 0)
		case ";":
			if cur.depth == 0 {
				cur.statements++
				cur.tokens = 0
			}
		}
		max.depth, max.unary, max.statements, max.tokens = maxInt(max.depth, cur.depth), maxInt(max.unary, cur.unary), maxInt(max.statements, cur.statements), maxInt(max.tokens, cur.tokens)
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (m shape) ok() bool {
	return m.depth <= MaxPolicyNesting && m.unary <= MaxPolicyUnaryRun && m.statements <= MaxPolicyStatements && m.tokens <= MaxStatementTokens
}

// FuzzCheckPolicyShape holds the guard to the reference model, and
// checks that whatever the guard lets through the parser survives, and
// that one more level of nesting than allowed is always refused.
func FuzzCheckPolicyShape(f *testing.F) {
	f.Add(DefaultPolicy())
	for _, s := range []string{
		"", `permit(principal, action, resource) when { "((((" };`, "// ((((((\npermit(principal, action, resource);",
		strings.Repeat("(", 65), strings.Repeat("!", 17), strings.Repeat("-", 16) + "1", `"\"(((`, `"` + strings.Repeat("(", 100),
		"a - -b", "x.y(!-!-a)", strings.Repeat("permit(principal,action,resource);", 3), "\xff\xfe((", "é(((",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		err := CheckPolicyShape(src)
		if len(src) > MaxPolicySize {
			if !errors.Is(errors.TooLarge, err) {
				t.Fatalf("oversized source: %v", err)
			}
			return
		}
		want := shapeRef(src)
		if (err == nil) != want.ok() {
			t.Fatalf("guard says %v; reference measures %+v", err, want)
		}
		if err != nil && (!errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "policy" || errors.SafeMessage(err) == "") {
			t.Fatalf("refusal is not a user-facing Invalid: %v", err)
		}
		if err == nil {
			ParsePolicy(src) // must return, whatever it says
		}
		deeper := append([]byte(strings.Repeat("(", MaxPolicyNesting+1)), src...)
		if len(deeper) <= MaxPolicySize && CheckPolicyShape(deeper) == nil {
			t.Fatal("one level of nesting more than allowed was let through")
		}
	})
}
