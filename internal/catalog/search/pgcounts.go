package search

import (
	"context"
	"strconv"
	"sync"

	"github.com/genesis-science/genesis/internal/store"
)

// classCountCache keeps each class's facet counts (search_class_facets)
// under the class's generation (search_class_gens, migration 0032). A
// browse reads the generations of the readable classes in its snapshot and
// re-reads the counts of only those whose generation differs from the
// cached one: a generation comes from a sequence and moves in every
// transaction that changes the class's counts, so equal generations mean
// equal counts. Memory: one entry per (class, facet value) with a
// non-zero count, as in the table.
type classCountCache struct {
	mu      sync.Mutex
	classes map[ClassID]*classCounts
	// sums holds the merged counts of recent sets of classes, keyed by
	// the classes and their generations (sumKey): a browse by a principal
	// whose readable classes and their counts have not changed adds a few
	// thousand merged values instead of every class's (at 10^6
	// documents, ~190 readable classes × ~3,000 keywords).
	sums map[string]*classCounts
}

// maxSums bounds classCountCache.sums.
const maxSums = 64

func sumKey(classes []ClassID, gens map[ClassID]int64) string {
	b := make([]byte, 0, 16*len(classes))
	for _, c := range uniq(classes) {
		b = strconv.AppendInt(b, int64(c), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, gens[c], 10)
		b = append(b, ',')
	}
	return string(b)
}

type classCounts struct {
	gen     int64
	total   int64
	entries []classCount
}

type classCount struct {
	facet, value string
	n            int64
}

// sum adds the counts of classes (as seen by tx) to fc and returns their
// number of documents.
func (cc *classCountCache) sum(ctx context.Context, tx store.Tx, classes []ClassID, fc facetCounter) (int, error) {
	gens := map[ClassID]int64{}
	rows, err := tx.Query(ctx, `SELECT class_id, gen FROM search_class_gens WHERE class_id IN (`+intList(classes)+`)`)
	if err != nil {
		return 0, err
	}
	err = rows.Each(func() error {
		var c ClassID
		var g int64
		err := rows.Scan(&c, &g)
		gens[c] = g
		return err
	})
	if err != nil {
		return 0, err
	}
	key := sumKey(classes, gens)
	cc.mu.Lock()
	if e := cc.sums[key]; e != nil {
		cc.mu.Unlock()
		for _, x := range e.entries {
			fc.add(x.facet, x.value, int(x.n))
		}
		return int(e.total), nil
	}
	cc.mu.Unlock()
	have := map[ClassID]*classCounts{}
	var stale []ClassID
	cc.mu.Lock()
	for c, g := range gens {
		if e := cc.classes[c]; e != nil && e.gen == g {
			have[c] = e
		} else {
			stale = append(stale, c)
		}
	}
	cc.mu.Unlock()
	if len(stale) > 0 {
		fresh := map[ClassID]*classCounts{}
		for _, c := range stale {
			fresh[c] = &classCounts{gen: gens[c]}
		}
		rows, err := tx.Query(ctx, `SELECT class_id, facet, value, n FROM search_class_facets WHERE class_id IN (`+intList(uniq(stale))+`) AND n <> 0`)
		if err != nil {
			return 0, err
		}
		err = rows.Each(func() error {
			var c ClassID
			var e classCount
			if err := rows.Scan(&c, &e.facet, &e.value, &e.n); err != nil {
				return err
			}
			if e.facet == "" {
				fresh[c].total += e.n
			} else {
				fresh[c].entries = append(fresh[c].entries, e)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		cc.mu.Lock()
		if cc.classes == nil {
			cc.classes = map[ClassID]*classCounts{}
		}
		for c, e := range fresh {
			cc.classes[c] = e
			have[c] = e
		}
		cc.mu.Unlock()
	}
	merged := map[[2]string]int64{}
	sum := &classCounts{}
	for _, e := range have {
		sum.total += e.total
		for _, x := range e.entries {
			merged[[2]string{x.facet, x.value}] += x.n
		}
	}
	for k, n := range merged {
		if n != 0 {
			sum.entries = append(sum.entries, classCount{facet: k[0], value: k[1], n: n})
		}
	}
	cc.mu.Lock()
	if cc.sums == nil {
		cc.sums = map[string]*classCounts{}
	}
	for k := range cc.sums {
		if len(cc.sums) < maxSums {
			break
		}
		delete(cc.sums, k)
	}
	cc.sums[key] = sum
	cc.mu.Unlock()
	for _, x := range sum.entries {
		fc.add(x.facet, x.value, int(x.n))
	}
	return int(sum.total), nil
}
