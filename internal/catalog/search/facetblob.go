package search

import (
	"sort"
	"strconv"
	"strings"
)

// A class's facet counts are stored as one text value, a line per facet
// value: "facet TAB value TAB count". Tabs, newlines and backslashes in
// values are escaped. Summing a few hundred of these in Go is an order of
// magnitude faster than stepping through a row per (class, value).

var (
	facetEscaper   = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	facetUnescaper = strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n")
)

func encodeFacetCounts(m map[[2]string]int64) string {
	keys := make([][2]string, 0, len(m))
	for k, n := range m {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k[0])
		b.WriteByte('\t')
		b.WriteString(facetEscaper.Replace(k[1]))
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(m[k], 10))
		b.WriteByte('\n')
	}
	return b.String()
}

func decodeFacetCounts(s string, fn func(facet, value string, n int64)) {
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		f, r, ok1 := strings.Cut(line, "\t")
		v, c, ok2 := strings.Cut(r, "\t")
		n, err := strconv.ParseInt(c, 10, 64)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		if strings.IndexByte(v, '\\') >= 0 {
			v = facetUnescaper.Replace(v)
		}
		fn(f, v, n)
	}
}
