package litbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoadQueries: LoadQueries never panics; what it accepts satisfies
// every rule it promises (unique IDs, known kinds, a relevant judgement
// per query, grades 0..2, doc schemes, substrings of at least 12 bytes,
// valid UTF-8), and writing the accepted queries back out and loading
// them again gives the same queries.
func FuzzLoadQueries(f *testing.F) {
	if b, err := os.ReadFile(queriesPath); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, maxQueryLine)
		for i := 0; sc.Scan() && i < 8; i++ {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		f.Add(b[:min(len(b), 4000)])
	}
	f.Add([]byte(`{"id":"a","query":"q","kind":"natural","relevant":[{"doc":"arxiv:2101.00001","contains":"twelve bytes!","grade":1}]}` + "\n// c\n\n"))
	f.Add([]byte(`{"id":"a","query":"q","kind":"natural","relevant":[{"doc":"doi:x","contains":"  spaced    out  text ","grade":2},{"doc":"pmid:1","contains":"x","grade":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, err := LoadQueries(bytes.NewReader(data))
		if err != nil {
			if qs != nil {
				t.Fatal("queries returned with an error")
			}
			return
		}
		ids := map[string]bool{}
		for _, q := range qs {
			if ids[q.ID] || strings.TrimSpace(q.ID) == "" || strings.TrimSpace(q.Query) == "" {
				t.Fatalf("bad id or text accepted: %+v", q)
			}
			ids[q.ID] = true
			if q.Kind != KindKeyword && q.Kind != KindNatural && q.Kind != KindParaphrase {
				t.Fatalf("kind %q accepted", q.Kind)
			}
			rel := false
			for _, j := range q.Relevant {
				scheme, _, _ := strings.Cut(j.Doc, ":")
				if j.Grade < 0 || j.Grade > 2 || len(Normalize(j.Contains)) < minContains ||
					!strings.Contains(" doi arxiv pmid pmcid sha256 ", " "+scheme+" ") {
					t.Fatalf("judgement accepted: %+v", j)
				}
				rel = rel || j.Grade > 0
			}
			if !rel || !utf8.ValidString(q.Query+q.ID) {
				t.Fatalf("query accepted: %+v", q)
			}
		}
		var b bytes.Buffer
		for _, q := range qs {
			line, err := json.Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		again, err := LoadQueries(&b)
		if err != nil || !reflect.DeepEqual(again, qs) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, qs, again)
		}
	})
}
