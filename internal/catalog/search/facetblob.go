package search

import (
	"sort"
	"strconv"
	"strings"
	"sync"
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

// facetBlobCache keeps each class's decoded facet counts with the text they
// came from: a browse still reads every readable class's text (so counts
// are always those of its snapshot) but decodes only what changed, and
// sums small arrays instead of string maps.
type facetBlobCache struct {
	mu      sync.Mutex
	byClass map[ClassID]*decodedFacets
	pairs   [][2]string // facet, value
	ids     map[[2]string]int32
}

type decodedFacets struct {
	text   string
	ids    []int32
	counts []int64
}

// sum adds the counts encoded in texts (one per class) to fc.
func (c *facetBlobCache) sum(fc facetCounter, classes []ClassID, texts []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byClass == nil {
		c.byClass = map[ClassID]*decodedFacets{}
		c.ids = map[[2]string]int32{}
	}
	var total []int64
	for i, class := range classes {
		d := c.byClass[class]
		if d == nil || d.text != texts[i] {
			d = &decodedFacets{text: texts[i]}
			decodeFacetCounts(texts[i], func(f, v string, n int64) {
				k := [2]string{f, v}
				id, ok := c.ids[k]
				if !ok {
					id = int32(len(c.pairs))
					c.pairs = append(c.pairs, k)
					c.ids[k] = id
				}
				d.ids = append(d.ids, id)
				d.counts = append(d.counts, n)
			})
			c.byClass[class] = d
		}
		if len(total) < len(c.pairs) {
			total = append(total, make([]int64, len(c.pairs)-len(total))...)
		}
		for j, id := range d.ids {
			total[id] += d.counts[j]
		}
	}
	for id, n := range total {
		if n != 0 {
			fc.add(c.pairs[id][0], c.pairs[id][1], int(n))
		}
	}
}
