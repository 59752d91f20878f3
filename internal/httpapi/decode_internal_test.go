package httpapi

import (
	"strings"
	"testing"
)

// refMediaType is a simple reference for the media type of a Content-Type:
// the part before any ';', trimmed and lower-cased.
func refMediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// FuzzAcceptsMedia: the body reader never takes a body whose media type is
// not JSON (or, where accepted, YAML) by the reference's reading, whatever
// the parameters; and it takes every JSON type with a well-formed charset.
func FuzzAcceptsMedia(f *testing.F) {
	for _, s := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json",
		"APPLICATION/JSON", "application/json;;", "application/yaml", "text/yaml", "application/x-www-form-urlencoded", "", "json", "application/jsonx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		ref := refMediaType(ct)
		if acceptsMedia(ct, []string{mediaJSON}) && ref != "application/json" && !strings.HasSuffix(ref, "+json") {
			t.Fatalf("%q taken as JSON (media type %q)", ct, ref)
		}
		yaml := ref == "application/yaml" || ref == "application/x-yaml" || ref == "text/yaml" || ref == "text/x-yaml"
		if acceptsMedia(ct, []string{mediaYAML}) && !yaml {
			t.Fatalf("%q taken as YAML (media type %q)", ct, ref)
		}
		// A well-formed media type with a charset is judged by its type alone.
		if !isToken(ct) {
			return
		}
		for _, sub := range []string{"json", ct + "+json"} {
			full := "application/" + sub + "; charset=utf-8"
			if !acceptsMedia(full, []string{mediaJSON}) {
				t.Fatalf("%q refused as JSON", full)
			}
		}
		if acceptsMedia("application/"+ct+"; charset=utf-8", []string{mediaJSON}) != (strings.ToLower(ct) == "json" || strings.HasSuffix(strings.ToLower(ct), "+json")) {
			t.Fatalf("application/%s judged wrongly", ct)
		}
	})
}

// isToken reports whether s is a non-empty RFC 9110 token of letters,
// digits and the punctuation a media subtype may hold.
func isToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$&^_.+-", c)) {
			return false
		}
	}
	return s != ""
}
