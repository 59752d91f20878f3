package blob

import (
	"sync"

	"lukechampine.com/blake3/guts"
)

// Hashing.
//
// IDs are plain BLAKE3-256. lukechampine.com/blake3 hashes 16 BLAKE3
// chunks (16 KiB) at once with AVX-512, but its Hasher starts a goroutine
// per 16 KiB group of every large Write to use more cores; here both
// cores are already busy (chunking, uploads, the other side's hashing),
// and those goroutines, whose large frames grow a fresh stack each time,
// cost a tenth more CPU than the hashing. So Hasher drives the same
// primitives (its guts package) on the calling goroutine: whole 16 KiB
// groups go straight from the caller's bytes to CompressBuffer, their
// chaining values onto the usual stack of subtree roots. TestHasher*
// checks it against lukechampine.com/blake3 itself.

const group = guts.MaxSIMD * guts.ChunkSize

// Hasher computes an ID incrementally: the same value Sum gives for the
// concatenation of everything written. Its zero value is ready to use.
type Hasher struct {
	stack   [64][8]uint32 // roots of complete subtrees, one per height
	counter uint64        // BLAKE3 chunks in the stack; bit i set: stack[i] holds a subtree of 2^i
	buf     [group]byte   // bytes not yet hashed: the last, never empty once anything was written
	buflen  int
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return new(Hasher) }

// push adds the root of a complete group (height 4: 16 chunks), merging
// equal-height subtrees as it goes.
func (h *Hasher) push(cv [8]uint32) {
	i := 4
	for ; h.counter&(1<<i) != 0; i++ {
		cv = guts.ChainingValue(guts.ParentNode(h.stack[i], cv, &guts.IV, 0))
	}
	h.stack[i] = cv
	h.counter += group / guts.ChunkSize
}

// Write adds p; it never fails. A group is hashed only once more bytes
// follow it: the last one's root is special (see Sum).
func (h *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if h.buflen == group {
			h.push(guts.ChainingValue(guts.CompressBuffer(&h.buf, group, &guts.IV, h.counter, 0)))
			h.buflen = 0
		}
		if h.buflen == 0 && len(p) > group {
			h.push(guts.ChainingValue(guts.CompressBuffer((*[group]byte)(p), group, &guts.IV, h.counter, 0)))
			p = p[group:]
			continue
		}
		k := copy(h.buf[h.buflen:], p)
		h.buflen += k
		p = p[k:]
	}
	return n, nil
}

// Sum returns the ID of what was written so far (it does not change h).
func (h *Hasher) Sum() ID {
	n := guts.CompressBuffer(&h.buf, h.buflen, &guts.IV, h.counter, 0)
	for i := 4; i < 64; i++ {
		if h.counter&(1<<i) != 0 {
			n = guts.ParentNode(h.stack[i], guts.ChainingValue(n), &guts.IV, 0)
		}
	}
	n.Flags |= guts.FlagRoot
	out := guts.WordsToBytes(guts.CompressNode(n))
	return ID(out[:32])
}

func (h *Hasher) reset() { h.counter, h.buflen = 0, 0 }

var hashers = sync.Pool{New: func() any { return new(Hasher) }}

// Sum returns the ID of p.
func Sum(p []byte) ID {
	h := hashers.Get().(*Hasher)
	h.Write(p)
	id := h.Sum()
	h.reset()
	hashers.Put(h)
	return id
}
