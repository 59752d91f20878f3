// Package chunk splits byte streams into content-defined chunks (FastCDC
// with a gear hash and normalised chunking) and frames chunks for storage,
// optionally compressed with zstd.
//
// Params.Cut finds the next boundary. Guarantees: boundaries depend only on
// the content and the Params — Cut without the end of the stream in sight
// answers only what more input cannot change — so the same bytes always
// give the same chunks however they are read (package pack streams files
// through it); every chunk except the last of a stream is between Min and
// Max bytes and the last is between 1 and Max; a 0-byte stream gives no
// chunks. Inserting or changing bytes only moves the boundaries near the
// edit.
//
// Why hand-written FastCDC: no maintained FastCDC module is available to
// this project, and restic/chunker (Rabin) is several times slower than a
// gear hash, which would not reach the ≥1 GB/s chunk+hash budget on one
// core. The algorithm is Xia et al., "FastCDC" (USENIX ATC 2016), with
// normalisation level 2 and the cut-point skipping of the minimum size.
package chunk

import (
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// Params bound chunk sizes. Avg must be a power of two.
type Params struct {
	Min, Avg, Max int
}

// DefaultParams: average 1 MiB, minimum 256 KiB, maximum 4 MiB.
var DefaultParams = Params{Min: 256 << 10, Avg: 1 << 20, Max: 4 << 20}

// Validate checks that the parameters make sense.
func (p Params) Validate() error {
	const op errors.Op = "chunk.Params.Validate"
	switch {
	case p.Avg <= 0 || p.Avg&(p.Avg-1) != 0:
		return errors.E(op, errors.Invalid, errors.Msg("average chunk size must be a power of two"))
	case p.Min < 64 || p.Min > p.Avg || p.Avg > p.Max:
		return errors.E(op, errors.Invalid, errors.Msg("chunk sizes must satisfy 64 <= min <= avg <= max"))
	case p.Max > blob.MaxSize:
		return errors.E(op, errors.Invalid, errors.Msg("maximum chunk size exceeds the blob limit"))
	}
	return nil
}

// gear is the table of 256 pseudo-random 64-bit values that the rolling
// hash adds per byte. It is fixed forever: changing it changes every chunk
// boundary and so defeats deduplication against stored data.
var gear [256]uint64

func init() {
	// splitmix64 from a fixed seed: reproducible and well mixed.
	x := uint64(0x67656e6573697321) // "genesis!"
	for i := range gear {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		gear[i] = z ^ (z >> 31)
	}
}

// masks returns the strict (below average) and loose (above average) masks
// for normalisation level 2. They use the top bits of the gear hash, which
// depend on the last 64 bytes.
func masks(avg int) (small, large uint64) {
	bits := 0
	for 1<<bits < avg {
		bits++
	}
	return ^uint64(0) << (64 - (bits + 2)), ^uint64(0) << (64 - (bits - 2))
}

// Cut returns the length of the first chunk of data, which holds the
// stream's next bytes; eof says that no bytes follow data. When !eof and
// len(data) < p.Max, Cut may need more input and returns 0.
func (p Params) Cut(data []byte, eof bool) int {
	n := len(data)
	if n <= p.Min {
		if eof || n == p.Max {
			return n
		}
		return 0
	}
	if n > p.Max {
		n = p.Max
	} else if !eof && n < p.Max {
		// Not enough buffered to decide without possibly cutting early
		// differently than with more data: only the positions up to n
		// are decidable; if none cuts, we need more.
		if c := p.scan(data[:n]); c > 0 {
			return c
		}
		return 0
	}
	if c := p.scan(data[:n]); c > 0 {
		return c
	}
	return n
}

// scan looks for a cut point in data (len(data) <= Max); 0 if none.
func (p Params) scan(data []byte) int {
	small, large := masks(p.Avg)
	n := len(data)
	normal := p.Avg
	if normal > n {
		normal = n
	}
	var fp uint64
	if c, h := roll(data, p.Min, normal, fp, small); c > 0 {
		return c
	} else {
		fp = h
	}
	if c, _ := roll(data, normal, n, fp, large); c > 0 {
		return c
	}
	return 0
}

// roll runs the gear hash over data[from:to] starting from fp and returns
// the first cut point (the index after the byte where fp&mask == 0), or 0
// and the final fp. rollNaive is the same thing written plainly.
//
// Speed: the hash is a serial chain (fp = 2fp + g), two cycles per byte,
// about 1.7 GB/s. Four steps at once, fp4 = 16fp + (8g0 + 4g1 + 2g2 + g3), put
// two instructions per four bytes on the chain; the intermediate values
// that must also be tested hang off it.
func roll(data []byte, from, to int, fp, mask uint64) (int, uint64) {
	if from >= to {
		return 0, fp
	}
	d := data[from:to]
	i := 0
	for ; i+4 <= len(d); i += 4 {
		q := d[i : i+4 : i+4]
		s1 := gear[q[0]]
		s2 := 2*s1 + gear[q[1]]
		s3 := 2*s2 + gear[q[2]]
		s4 := 2*s3 + gear[q[3]]
		if (2*fp+s1)&mask == 0 {
			return from + i + 1, 2*fp + s1
		}
		if (4*fp+s2)&mask == 0 {
			return from + i + 2, 4*fp + s2
		}
		if (8*fp+s3)&mask == 0 {
			return from + i + 3, 8*fp + s3
		}
		fp = 16*fp + s4
		if fp&mask == 0 {
			return from + i + 4, fp
		}
	}
	for ; i < len(d); i++ {
		fp = (fp << 1) + gear[d[i]]
		if fp&mask == 0 {
			return from + i + 1, fp
		}
	}
	return 0, fp
}

func rollNaive(data []byte, from, to int, fp, mask uint64) (int, uint64) {
	for i := from; i < to; i++ {
		fp = (fp << 1) + gear[data[i]]
		if fp&mask == 0 {
			return i + 1, fp
		}
	}
	return 0, fp
}
