package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// printable reports whether s is 1 to max printable ASCII characters
// (no space): the reference model of an acceptable code.
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// FuzzOIDCCallback: the callback's query parser accepts exactly a
// provider error code, or one well-formed state with one printable code;
// what it accepts re-encodes to the same answer, and what it refuses is
// Invalid naming the parameter. Seeds: testdata/fuzz/FuzzOIDCCallback.
func FuzzOIDCCallback(f *testing.F) {
	f.Add("state="+randomSecret()+"&code=abc.DEF-123_~", "abc")
	f.Add("error=access_denied&state="+randomSecret(), "x")
	f.Fuzz(func(t *testing.T, raw, code string) {
		cq, err := parseCallback(raw)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" || errors.SafeMessage(err) == "" {
				t.Fatalf("%q: refusal %v is not Invalid with a field and message", raw, err)
			}
		} else {
			switch {
			case cq.Error != "":
				if cq.State != "" || cq.Code != "" || len(cq.Error) > 64 || strings.Trim(cq.Error, "abcdefghijklmnopqrstuvwxyz_") != "" {
					t.Fatalf("%q: accepted %+v", raw, cq)
				}
			case !validSecret(cq.State) || !printable(cq.Code, 2048):
				t.Fatalf("%q: accepted %+v", raw, cq)
			}
			// Re-encoded, it parses to the same answer.
			v := url.Values{}
			for k, s := range map[string]string{"error": cq.Error, "state": cq.State, "code": cq.Code} {
				if s != "" {
					v.Set(k, s)
				}
			}
			if again, err := parseCallback(v.Encode()); err != nil || again != cq {
				t.Fatalf("%q: %+v re-encodes to %+v %v", raw, cq, again, err)
			}
		}
		// The model: a fresh state with any printable code is accepted
		// as it is; any other code is refused naming "code".
		state := randomSecret()
		got, err := parseCallback(url.Values{"state": {state}, "code": {code}}.Encode())
		if printable(code, 2048) {
			if err != nil || got.State != state || got.Code != code {
				t.Fatalf("code %q refused: %+v %v", code, got, err)
			}
		} else if errors.FieldOf(err) != "code" {
			t.Fatalf("code %q: %+v %v", code, got, err)
		}
	})
}
