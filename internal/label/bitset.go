package label

import (
	"math/bits"
	"slices"
	"sync"
)

// Sets of tokens are bitsets over per-kind interned IDs, so that Dominates,
// Join, Meet and MayRead are a handful of word operations with no
// allocation in the common case (fewer than 64 distinct tokens of a kind in
// the process; beyond that, operations touch one more word per 64). Interning is process-wide and only grows; MaxDistinct bounds
// it so that hostile input cannot exhaust memory.

// MaxDistinct is the most distinct compartments (and, separately,
// agreements and nations) one process will intern; Parse and New fail
// beyond it.
const MaxDistinct = 1 << 16

type interner struct {
	mu    sync.RWMutex
	ids   map[string]uint32
	names []string
	cmp   func(a, b string) int // canonical order of the kind
}

var (
	compTab   = &interner{cmp: compareBytes}
	agrTab    = &interner{cmp: compareBytes}
	nationTab = &interner{cmp: compareNation}
)

func compareBytes(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// intern returns s's ID, adding it if new; ok is false when the table is full.
func (t *interner) intern(s string) (id uint32, ok bool) {
	t.mu.RLock()
	id, ok = t.ids[s]
	t.mu.RUnlock()
	if ok {
		return id, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok = t.ids[s]; ok {
		return id, true
	}
	if len(t.names) >= MaxDistinct {
		return 0, false
	}
	if t.ids == nil {
		t.ids = map[string]uint32{}
	}
	id = uint32(len(t.names))
	t.ids[s] = id
	t.names = append(t.names, s)
	return id, true
}

// lookup returns s's ID without interning it.
func (t *interner) lookup(s string) (uint32, bool) {
	t.mu.RLock()
	id, ok := t.ids[s]
	t.mu.RUnlock()
	return id, ok
}

// names returns the members of b in the kind's canonical order.
func (t *interner) sorted(b bitset) []string {
	n := b.count()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	t.mu.RLock()
	b.each(func(id uint32) { out = append(out, t.names[id]) })
	t.mu.RUnlock()
	slices.SortFunc(out, t.cmp)
	return out
}

// set builds a bitset from canonical tokens; false if the table is full.
func (t *interner) set(tokens []string) (bitset, bool) {
	b, _, ok := t.setAdmit(0, tokens, admitAll)
	return b, ok
}

// setAdmit builds a bitset from canonical tokens of kind, interning a new
// token only if admit (nil: nothing) says yes. When ok is false, bad is
// the first token refused, or "" if the table is full.
func (t *interner) setAdmit(kind TokenKind, tokens []string, admit func(TokenKind, string) bool) (b bitset, bad string, ok bool) {
	var hi []uint64
	for _, s := range tokens {
		id, ok := t.lookup(s)
		if !ok {
			if admit == nil || !admit(kind, s) {
				return bitset{}, s, false
			}
			if id, ok = t.intern(s); !ok {
				return bitset{}, "", false
			}
		}
		if id < 64 {
			b.w |= 1 << id
			continue
		}
		k := int(id/64) - 1
		for len(hi) <= k {
			hi = append(hi, 0)
		}
		hi[k] |= 1 << (id % 64)
	}
	b.hi = hi
	return b, "", true
}

// bitset is an immutable set of IDs: one inline word, then hi (no
// trailing zero words, nil when empty, never modified once built, so it
// may be shared).
type bitset struct {
	w  uint64
	hi []uint64
}

func (b bitset) has(id uint32) bool {
	if id < 64 {
		return b.w&(1<<id) != 0
	}
	k := int(id/64) - 1
	return k < len(b.hi) && b.hi[k]&(1<<(id%64)) != 0
}

// subsetOf reports b ⊆ o.
func (b bitset) subsetOf(o bitset) bool {
	if b.w&^o.w != 0 {
		return false
	}
	return hiSubset(b.hi, o.hi)
}

func hiSubset(a, b []uint64) bool {
	if len(a) > len(b) {
		return false // a has a bit in a word b lacks (no trailing zeros)
	}
	for i, x := range a {
		if x&^b[i] != 0 {
			return false
		}
	}
	return true
}

func (b bitset) equal(o bitset) bool { return b.w == o.w && slices.Equal(b.hi, o.hi) }

func (b bitset) empty() bool { return b.w == 0 && len(b.hi) == 0 }

func (b bitset) count() int {
	n := bits.OnesCount64(b.w)
	for _, x := range b.hi {
		n += bits.OnesCount64(x)
	}
	return n
}

func (b bitset) each(f func(uint32)) {
	for x := b.w; x != 0; x &= x - 1 {
		f(uint32(bits.TrailingZeros64(x)))
	}
	for wi, x := range b.hi {
		for x != 0 {
			f(uint32((wi+1)*64 + bits.TrailingZeros64(x)))
			x &= x - 1
		}
	}
}

func (b bitset) or(o bitset) bitset {
	if b.hi == nil && o.hi == nil { // inlined fast path
		return bitset{w: b.w | o.w}
	}
	return b.orSlow(o)
}

func (b bitset) orSlow(o bitset) bitset {
	r := bitset{w: b.w | o.w}
	switch {
	case hiSubset(o.hi, b.hi):
		r.hi = b.hi
	case hiSubset(b.hi, o.hi):
		r.hi = o.hi
	default:
		long, short := b.hi, o.hi
		if len(short) > len(long) {
			long, short = short, long
		}
		hi := slices.Clone(long)
		for i, x := range short {
			hi[i] |= x
		}
		r.hi = hi
	}
	return r
}

func (b bitset) and(o bitset) bitset {
	if b.hi == nil && o.hi == nil {
		return bitset{w: b.w & o.w}
	}
	return b.andSlow(o)
}

func (b bitset) andSlow(o bitset) bitset {
	r := bitset{w: b.w & o.w}
	switch {
	case hiSubset(b.hi, o.hi):
		r.hi = b.hi
	case hiSubset(o.hi, b.hi):
		r.hi = o.hi
	default:
		n := min(len(b.hi), len(o.hi))
		hi := make([]uint64, n)
		for i := range n {
			hi[i] = b.hi[i] & o.hi[i]
		}
		for len(hi) > 0 && hi[len(hi)-1] == 0 {
			hi = hi[:len(hi)-1]
		}
		if len(hi) == 0 {
			hi = nil
		}
		r.hi = hi
	}
	return r
}
