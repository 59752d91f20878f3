package formats

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/lit"
)

// The reference model of a bibliographic record, and random records:
// words with accented letters, authors, a year, a DOI, keywords.
type modelRecord struct {
	title    []string // words
	authors  [][2]string
	year     int
	doi      string
	keywords []string
}

// Accented letters and the ways LaTeX writes them.
var accents = map[string][]string{
	"é": {`\'e`, `\'{e}`, `{\'e}`},
	"ö": {`\"o`, `\"{o}`, `{\"o}`},
	"ç": {`\c{c}`, `{\c c}`},
	"ñ": {`\~n`, `\~{n}`},
	"ø": {`{\o}`, `\o{}`},
	"ß": {`{\ss}`},
	"Å": {`{\AA}`, `\AA{}`},
	"š": {`\v{s}`, `{\v s}`},
}

var plainWords = []string{"band", "gap", "CsPbI3", "perovskite", "films", "of", "DFT", "thermal", "X-ray", "2D", "oxide", "Ni", "catalysis", "on", "the", "LiFePO4"}

func randWord(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		keys := []string{"é", "ö", "ç", "ñ", "ø", "ß", "Å", "š"}
		return "M" + keys[rng.IntN(len(keys))] + "ller"
	}
	return plainWords[rng.IntN(len(plainWords))]
}

func randRecord(rng *rand.Rand) modelRecord {
	var r modelRecord
	for range 1 + rng.IntN(8) {
		r.title = append(r.title, randWord(rng))
	}
	for range rng.IntN(4) {
		r.authors = append(r.authors, [2]string{randWord(rng), randWord(rng)})
	}
	if rng.IntN(4) > 0 {
		r.year = 1900 + rng.IntN(130)
	}
	if rng.IntN(3) > 0 {
		r.doi = fmt.Sprintf("10.%d/ABC.%d-x", 1000+rng.IntN(9000), rng.IntN(100000))
	}
	for range rng.IntN(3) {
		r.keywords = append(r.keywords, plainWords[rng.IntN(len(plainWords))]+fmt.Sprint(rng.IntN(10)))
	}
	return r
}

// want is what any reader must make of r.
func (r modelRecord) want(f lit.Format) lit.Document {
	d := lit.Document{Format: f, Title: strings.Join(r.title, " "), Year: r.year, DOI: strings.ToLower(r.doi)}
	for _, a := range r.authors {
		d.Authors = append(d.Authors, a[0]+" "+a[1])
	}
	seen := map[string]bool{}
	for _, k := range r.keywords {
		if !seen[strings.ToLower(k)] {
			d.Keywords = append(d.Keywords, k)
			seen[strings.ToLower(k)] = true
		}
	}
	return d
}

// latexWord writes a word with its accents in one of LaTeX's spellings,
// or as UTF-8.
func latexWord(rng *rand.Rand, w string) string {
	for u, forms := range accents {
		if strings.Contains(w, u) && rng.IntN(3) > 0 {
			w = strings.ReplaceAll(w, u, forms[rng.IntN(len(forms))])
		}
	}
	return w
}

func bibValue(rng *rand.Rand, s string) string {
	switch rng.IntN(3) {
	case 0:
		return "{" + s + "}"
	case 1:
		return `"` + s + `"`
	default:
		// Concatenation of a quoted and a braced half.
		if i := lastTopSpace(s); i > 0 {
			return `"` + s[:i] + `" # { ` + s[i+1:] + "}"
		}
		return "{" + s + "}"
	}
}

// lastTopSpace is the last space outside braces, or -1.
func lastTopSpace(s string) int {
	depth, at := 0, -1
	for i, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ' ':
			if depth == 0 {
				at = i
			}
		}
	}
	return at
}

func renderBibTeX(rng *rand.Rand, recs []modelRecord) string {
	var b strings.Builder
	b.WriteString("% generated\n@string{ yr = \"x\" }\n")
	for i, r := range recs {
		if rng.IntN(3) == 0 {
			b.WriteString("@comment{ skipped {nested} }\n")
		}
		open, close := "{", "}"
		if rng.IntN(4) == 0 {
			open, close = "(", ")"
		}
		fmt.Fprintf(&b, "@%s%skey%d,\n", []string{"article", "ARTICLE", "InProceedings", "misc"}[rng.IntN(4)], open, i)
		var fields []string
		var words []string
		for _, w := range r.title {
			words = append(words, latexWord(rng, w))
		}
		fields = append(fields, fmt.Sprintf("%s = %s", []string{"title", "Title", "TITLE"}[rng.IntN(3)], bibValue(rng, strings.Join(words, " "))))
		if len(r.authors) > 0 {
			var names []string
			for _, a := range r.authors {
				if rng.IntN(2) == 0 {
					names = append(names, latexWord(rng, a[1])+", "+latexWord(rng, a[0]))
				} else {
					names = append(names, latexWord(rng, a[0])+" "+latexWord(rng, a[1]))
				}
			}
			fields = append(fields, "author = "+bibValue(rng, strings.Join(names, " and ")))
		}
		if r.year != 0 {
			if rng.IntN(2) == 0 {
				fields = append(fields, fmt.Sprintf("year = %d", r.year))
			} else {
				fields = append(fields, fmt.Sprintf("year = {%d}", r.year))
			}
		}
		if r.doi != "" {
			prefix := []string{"", "https://doi.org/", "doi:"}[rng.IntN(3)]
			fields = append(fields, "doi = {"+prefix+r.doi+"}")
		}
		if len(r.keywords) > 0 {
			fields = append(fields, "keywords = {"+strings.Join(r.keywords, []string{", ", "; "}[rng.IntN(2)])+"}")
		}
		rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		b.WriteString("  " + strings.Join(fields, ",\n  "))
		if rng.IntN(2) == 0 {
			b.WriteString(",") // a trailing comma is allowed
		}
		b.WriteString("\n" + close + "\n\n")
	}
	return b.String()
}

func renderRIS(rng *rand.Rand, recs []modelRecord) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString("TY  - JOUR\n")
		title := strings.Join(r.title, " ")
		if i := strings.IndexByte(title, ' '); i > 0 && rng.IntN(3) == 0 {
			// A long value continued on the next line.
			fmt.Fprintf(&b, "%s  - %s\n   %s\n", []string{"TI", "T1"}[rng.IntN(2)], title[:i], title[i+1:])
		} else {
			fmt.Fprintf(&b, "%s  - %s\n", []string{"TI", "T1"}[rng.IntN(2)], title)
		}
		for _, a := range r.authors {
			fmt.Fprintf(&b, "AU  - %s, %s\n", a[1], a[0])
		}
		if r.year != 0 {
			fmt.Fprintf(&b, "PY  - %d%s\n", r.year, []string{"", "/05/06/", "///"}[rng.IntN(3)])
		}
		if r.doi != "" {
			fmt.Fprintf(&b, "DO  - %s\n", []string{"", "https://doi.org/"}[rng.IntN(2)]+r.doi)
		}
		for _, k := range r.keywords {
			fmt.Fprintf(&b, "KW  - %s\n", k)
		}
		b.WriteString("ER  - \n")
		b.WriteString([]string{"", "\n", "\r\n\n"}[rng.IntN(3)])
	}
	return b.String()
}

// Random libraries written as BibTeX and RIS, in the many ways those
// formats allow, read back as the model says.
func TestBibliographyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for iter := range 400 {
		recs := make([]modelRecord, 1+rng.IntN(5))
		var want []lit.Document
		for i := range recs {
			recs[i] = randRecord(rng)
		}
		for _, tc := range []struct {
			format lit.Format
			render func(*rand.Rand, []modelRecord) string
		}{{lit.FormatBibTeX, renderBibTeX}, {lit.FormatRIS, renderRIS}} {
			want = want[:0]
			for _, r := range recs {
				want = append(want, r.want(tc.format))
			}
			src := tc.render(rng, recs)
			got, err := Parse(context.Background(), "lib", strings.NewReader(src), "")
			if err != nil {
				t.Fatalf("iteration %d, %s:\n%s\n%v", iter, tc.format, src, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("iteration %d, %s:\n%s\n(-want +got):\n%s", iter, tc.format, src, diff)
			}
		}
	}
}

func renderCrossref(rng *rand.Rand, recs []modelRecord) string {
	var items []map[string]any
	for _, r := range recs {
		w := map[string]any{"title": []string{strings.Join(r.title, " ")}, "type": "journal-article"}
		if r.doi != "" {
			w["DOI"] = r.doi
		}
		var authors []map[string]any
		for _, a := range r.authors {
			authors = append(authors, map[string]any{"given": a[0], "family": a[1], "sequence": "additional"})
		}
		if authors != nil || rng.IntN(2) == 0 {
			w["author"] = authors
		}
		if r.year != 0 {
			key := []string{"issued", "published-print", "created"}[rng.IntN(3)]
			parts := []any{r.year}
			if rng.IntN(2) == 0 {
				parts = append(parts, 1+rng.IntN(12))
			}
			if rng.IntN(3) == 0 {
				parts[0] = fmt.Sprint(r.year) // some records have strings
			}
			w[key] = map[string]any{"date-parts": [][]any{parts}}
			if key != "issued" && rng.IntN(2) == 0 {
				w["issued"] = map[string]any{"date-parts": [][]any{{nil}}}
			}
		}
		if r.keywords != nil {
			w["subject"] = r.keywords
		}
		items = append(items, w)
	}
	var v any
	switch {
	case len(items) == 1 && rng.IntN(3) == 0:
		v = map[string]any{"status": "ok", "message-type": "work", "message": items[0]}
	case len(items) == 1 && rng.IntN(2) == 0:
		v = items[0]
	case rng.IntN(3) == 0:
		v = items
	default:
		v = map[string]any{"status": "ok", "message-type": "work-list", "message": map[string]any{"items": items, "total-results": len(items)}}
	}
	b, _ := json.MarshalIndent(v, "", strings.Repeat(" ", rng.IntN(3)))
	return string(b)
}

func renderDataCite(rng *rand.Rand, recs []modelRecord) string {
	var records []map[string]any
	for _, r := range recs {
		a := map[string]any{"titles": []map[string]any{{"title": strings.Join(r.title, " ")}}}
		if r.doi != "" {
			a["doi"] = r.doi
		}
		var creators []map[string]any
		for _, au := range r.authors {
			if rng.IntN(2) == 0 {
				creators = append(creators, map[string]any{"name": au[1] + ", " + au[0], "givenName": au[0], "familyName": au[1], "nameType": "Personal"})
			} else {
				creators = append(creators, map[string]any{"name": au[1] + ", " + au[0]})
			}
		}
		a["creators"] = creators
		if r.year != 0 {
			if rng.IntN(2) == 0 {
				a["publicationYear"] = r.year
			} else {
				a["publicationYear"] = fmt.Sprint(r.year)
			}
		}
		var subjects []map[string]any
		for _, k := range r.keywords {
			subjects = append(subjects, map[string]any{"subject": k})
		}
		if subjects != nil {
			a["subjects"] = subjects
		}
		if rng.IntN(2) == 0 {
			records = append(records, a) // plain metadata JSON
		} else {
			records = append(records, map[string]any{"id": strings.ToLower(r.doi), "type": "dois", "attributes": a})
		}
	}
	var v any
	switch {
	case len(records) == 1 && rng.IntN(2) == 0:
		v = records[0]
		if _, ok := records[0]["attributes"]; ok {
			v = map[string]any{"data": records[0]}
		}
	case rng.IntN(2) == 0:
		v = map[string]any{"data": records, "meta": map[string]any{"total": len(records)}}
	default:
		v = records
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Random works written as Crossref and DataCite JSON, in every envelope
// those APIs use, read back as the model says.
func TestJSONRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	for iter := range 400 {
		recs := make([]modelRecord, 1+rng.IntN(4))
		for i := range recs {
			recs[i] = randRecord(rng)
		}
		for _, tc := range []struct {
			format lit.Format
			render func(*rand.Rand, []modelRecord) string
		}{{lit.FormatCrossref, renderCrossref}, {lit.FormatDataCite, renderDataCite}} {
			var want []lit.Document
			for _, r := range recs {
				want = append(want, r.want(tc.format))
			}
			src := tc.render(rng, recs)
			got, err := Parse(context.Background(), "works.json", strings.NewReader(src), tc.format)
			if err != nil {
				t.Fatalf("iteration %d, %s:\n%s\n%v", iter, tc.format, src, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("iteration %d, %s:\n%s\n(-want +got):\n%s", iter, tc.format, src, diff)
			}
			// Detect agrees with the format for anything but a bare array
			// of DataCite metadata without identifying keys in its head.
			if f := Detect("works.json", []byte(src)); f != tc.format && f != "" {
				t.Fatalf("iteration %d: Detect says %s for %s:\n%s", iter, f, tc.format, src)
			}
		}
	}
}
