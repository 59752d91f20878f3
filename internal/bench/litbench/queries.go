package litbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// Query kinds: how a query is phrased relative to the passages it should
// find.
const (
	KindKeyword    = "keyword"    // terse terms, as typed into a search box
	KindNatural    = "natural"    // a question or request in plain language
	KindParaphrase = "paraphrase" // synonyms and rewording: few words shared with the passage
)

// Query is one judged query of the set.
type Query struct {
	ID       string   `json:"id"`
	Query    string   `json:"query"`
	Kind     string   `json:"kind"`
	Relevant []Judged `json:"relevant"`
	Note     string   `json:"note,omitempty"`
}

// Limits of a query file.
const (
	maxQueryLine = 64 << 10
	maxQueries   = 10000
	minContains  = 12 // bytes: shorter substrings are not distinctive
)

// LoadQueries reads a query set in JSON Lines, one Query per line (blank
// lines and lines starting with "//" are skipped). Every query must have
// an ID (unique), a text, a known kind, and at least one judged passage of
// grade ≥ 1; every judgement a "scheme:identifier" document, a substring
// of at least 12 bytes and a grade in 0..2. Errors name the line.
func LoadQueries(r io.Reader) ([]Query, error) {
	const op errors.Op = "litbench.LoadQueries"
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxQueryLine)
	var qs []Query
	seen := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || bytes.HasPrefix(b, []byte("//")) {
			continue
		}
		if !utf8.Valid(b) {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("line %d: not valid UTF-8", line)))
		}
		if len(qs) == maxQueries {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("more than %d queries", maxQueries)))
		}
		var q Query
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("line %d: %v", line, err)))
		}
		if err := checkQuery(&q); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("line %d: %v", line, err)))
		}
		if prev, ok := seen[q.ID]; ok {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("line %d: query id %q already used on line %d", line, q.ID, prev)))
		}
		seen[q.ID] = line
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("line %d: %v", line+1, err)))
	}
	if len(qs) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("no queries"))
	}
	return qs, nil
}

func checkQuery(q *Query) error {
	switch {
	case strings.TrimSpace(q.ID) == "":
		return fmt.Errorf("query without an id")
	case strings.TrimSpace(q.Query) == "":
		return fmt.Errorf("query %s: empty text", q.ID)
	}
	switch q.Kind {
	case KindKeyword, KindNatural, KindParaphrase:
	default:
		return fmt.Errorf("query %s: kind %q is not keyword, natural or paraphrase", q.ID, q.Kind)
	}
	rel := 0
	for i, j := range q.Relevant {
		scheme, id, ok := strings.Cut(j.Doc, ":")
		switch {
		case !ok || id == "" || (scheme != "doi" && scheme != "arxiv" && scheme != "pmid" && scheme != "pmcid" && scheme != "sha256"):
			return fmt.Errorf("query %s: judgement %d: doc %q is not doi:…, arxiv:…, pmid:…, pmcid:… or sha256:…", q.ID, i, j.Doc)
		case len(Normalize(j.Contains)) < minContains:
			return fmt.Errorf("query %s: judgement %d: contains %q is shorter than %d bytes", q.ID, i, j.Contains, minContains)
		case j.Grade < 0 || j.Grade > 2:
			return fmt.Errorf("query %s: judgement %d: grade %d is not 0, 1 or 2", q.ID, i, j.Grade)
		}
		if j.Grade > 0 {
			rel++
		}
	}
	if rel == 0 {
		return fmt.Errorf("query %s: no judged passage of grade 1 or 2", q.ID)
	}
	return nil
}
