package litbench

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestLoadQueriesRejects(t *testing.T) {
	good := `{"id":"q1","query":"band gap","kind":"keyword","relevant":[{"doc":"doi:10.1/a","contains":"a band gap of 1.5 eV","grade":2}]}`
	if qs, err := LoadQueries(strings.NewReader("// comment\n\n" + good + "\n")); err != nil || len(qs) != 1 || qs[0].Relevant[0].Grade != 2 {
		t.Fatalf("good file: %v %v", qs, err)
	}
	for name, tc := range map[string]struct{ in, want string }{
		"empty":        {"", "no queries"},
		"bad json":     {"{", "line 1"},
		"unknown key":  {`{"id":"q","query":"x","kind":"keyword","relevent":[]}`, "unknown field"},
		"no id":        {`{"query":"x","kind":"keyword","relevant":[{"doc":"doi:a","contains":"long enough text","grade":1}]}`, "without an id"},
		"bad kind":     {`{"id":"q","query":"x","kind":"vibes","relevant":[{"doc":"doi:a","contains":"long enough text","grade":1}]}`, "kind"},
		"bad doc":      {`{"id":"q","query":"x","kind":"keyword","relevant":[{"doc":"10.1/a","contains":"long enough text","grade":1}]}`, "doc"},
		"short":        {`{"id":"q","query":"x","kind":"keyword","relevant":[{"doc":"doi:a","contains":"short","grade":1}]}`, "shorter"},
		"grade":        {`{"id":"q","query":"x","kind":"keyword","relevant":[{"doc":"doi:a","contains":"long enough text","grade":3}]}`, "grade 3"},
		"no relevant":  {`{"id":"q","query":"x","kind":"keyword","relevant":[{"doc":"doi:a","contains":"long enough text","grade":0}]}`, "no judged passage"},
		"duplicate id": {good + "\n" + good, "already used on line 1"},
		"bad utf8":     {"\xff\xfe", "UTF-8"},
		"long line":    {strings.Repeat("x", maxQueryLine+10), "too long"},
	} {
		_, err := LoadQueries(strings.NewReader(tc.in))
		if err == nil || !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want Invalid containing %q", name, err, tc.want)
		}
	}
}
