package console

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzLineageQuery: lineage.json's query parser accepts exactly dir in
// {up, down, both} and depth a plain whole number 1..maxLineageDepth, each
// at most once and nothing else; what it accepts encodes back to the same
// query; what it refuses is Invalid with a message that echoes nothing of
// the input (one of its own fixed sentences). Seeds: testdata/fuzz/FuzzLineageQuery.
func FuzzLineageQuery(f *testing.F) {
	for _, s := range []string{"", "dir=up", "dir=down&depth=3", "dir=both&depth=100", "depth=0", "depth=101", "depth=+3", "depth=03",
		"dir=UP", "dir=up&dir=down", "x=1", "depth=%E2%80%8B", "depth=1e2", "dir=&depth="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lq, err := parseLineageQuery(q)
		// The reference: what the parser should decide.
		ok := true
		for k, vs := range q {
			if (k != "dir" && k != "depth") || len(vs) != 1 {
				ok = false
			}
		}
		wantDir, wantDepth := dirBoth, defaultLineageDepth
		if vs, has := q["dir"]; ok && has {
			wantDir = vs[0]
			ok = wantDir == dirUp || wantDir == dirDown || wantDir == dirBoth
		}
		if vs, has := q["depth"]; ok && has {
			s := vs[0]
			plain := s != "" && strings.Trim(s, "0123456789") == "" && (s == "0" || s[0] != '0') && len(s) <= 4
			n, _ := strconv.Atoi(s)
			ok = plain && n >= 1 && n <= maxLineageDepth
			wantDepth = n
		}
		if ok != (err == nil) {
			t.Fatalf("query %q: parser says %v, reference says ok=%v", raw, err, ok)
		}
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("query %q: error %v is not Invalid", raw, err)
			}
			msg := errors.SafeMessage(err)
			if msg == "" || !utf8.ValidString(msg) {
				t.Fatalf("query %q: message %q", raw, msg)
			}
			// One of the parser's own sentences: nothing of the input.
			known := []string{"parameter dir is given more than once", "parameter depth is given more than once",
				"unknown query parameter: lineage.json takes dir and depth", "dir must be up, down or both",
				"depth must be a whole number from 1 to " + strconv.Itoa(maxLineageDepth)}
			if !slices.Contains(known, msg) {
				t.Fatalf("query %q: message %q", raw, msg)
			}
			return
		}
		if lq.Dir != wantDir || lq.Depth != wantDepth {
			t.Fatalf("query %q parsed to %+v, want %s/%d", raw, lq, wantDir, wantDepth)
		}
		back, err := url.ParseQuery(lq.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if again, err := parseLineageQuery(back); err != nil || again != lq {
			t.Fatalf("%+v encodes to %q, which parses to %+v, %v", lq, lq.Encode(), again, err)
		}
	})
}
