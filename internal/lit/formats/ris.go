package formats

import (
	"regexp"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
)

var risLine = regexp.MustCompile(`^([A-Z][A-Z0-9])  ?-(?: (.*))?$`)

// ris reads RIS records (TY … ER). Lines that are not tags continue the
// previous tag's value. Text outside a record other than blank lines, a
// record without ER, and a tag before any TY are errors naming the line.
func (p *parser) ris(data []byte) ([]lit.Document, error) {
	s := strings.TrimPrefix(strings.ToValidUTF8(string(data), "\uFFFD"), "\uFEFF")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var docs []lit.Document
	var rec map[string][]string
	recLine, lastTag := 0, ""
	for i, raw := range lines {
		ln := i + 1
		line := strings.TrimRight(raw, " \t\r")
		m := risLine.FindStringSubmatch(line)
		if m == nil {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if rec == nil {
				return nil, p.errf(ln, "text outside a record (a record starts with \"TY  - \")")
			}
			if lastTag != "" {
				vals := rec[lastTag]
				vals[len(vals)-1] += " " + strings.TrimSpace(line)
			}
			continue
		}
		tag, val := m[1], strings.TrimSpace(m[2])
		switch {
		case tag == "TY":
			if rec != nil {
				return nil, p.errf(recLine, "the record starting here has no ER line before the next TY (line %d)", ln)
			}
			rec, recLine, lastTag = map[string][]string{"TY": {val}}, ln, ""
		case rec == nil:
			return nil, p.errf(ln, "tag %s before any TY line", tag)
		case tag == "ER":
			if err := p.more(); err != nil {
				return nil, err
			}
			docs = append(docs, risDoc(rec))
			rec, lastTag = nil, ""
		default:
			if len(rec[tag]) < MaxListItems {
				rec[tag] = append(rec[tag], val)
				lastTag = tag
			} else {
				lastTag = ""
			}
		}
	}
	if rec != nil {
		return nil, p.errf(recLine, "the record starting here has no ER line (the file ends inside it)")
	}
	return docs, nil
}

func risDoc(r map[string][]string) lit.Document {
	first := func(tags ...string) string {
		for _, t := range tags {
			for _, v := range r[t] {
				if strings.TrimSpace(v) != "" {
					return v
				}
			}
		}
		return ""
	}
	d := lit.Document{
		Title:    first("TI", "T1", "CT"),
		Abstract: first("AB", "N2"),
		DOI:      first("DO"),
		License:  first("LI"),
	}
	if d.Title == "" {
		d.Title = first("BT") // a whole book
	}
	d.Venue = first("JF", "JO", "T2", "JA", "J2", "J1", "BT", "PB")
	if d.Venue == d.Title {
		d.Venue = first("JF", "JO", "T2", "JA", "J2", "J1", "PB")
	}
	d.Year = year(first("PY", "Y1", "DA", "Y2"))
	for _, t := range []string{"AU", "A1"} {
		for _, a := range r[t] {
			d.Authors = append(d.Authors, personName(a))
		}
	}
	for _, k := range r["KW"] {
		// One keyword per KW line; some exporters put several, separated.
		d.Keywords = append(d.Keywords, strings.FieldsFunc(k, func(c rune) bool { return c == ';' })...)
	}
	for _, u := range append(append([]string(nil), r["UR"]...), r["L2"]...) {
		if d.DOI == "" {
			d.DOI = NormalizeDOI(u)
		}
		if d.ArXiv == "" {
			d.ArXiv = NormalizeArXiv(u)
		}
	}
	for _, c := range append(append([]string(nil), r["C2"]...), r["C7"]...) {
		if d.PMCID == "" && strings.HasPrefix(strings.ToUpper(c), "PMC") {
			d.PMCID = c
		}
	}
	for _, an := range r["AN"] {
		if d.PMID == "" && strings.Contains(strings.ToLower(first("DP", "DB")), "pubmed") {
			d.PMID = an
		}
	}
	return d
}
