package bo

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// joeKuo holds Sobol direction-number parameters "s a m_1 … m_s" for
// dimensions 2–32 from S. Joe and F. Y. Kuo, "Constructing Sobol sequences
// with better two-dimensional projections", SIAM J. Sci. Comput. 30, 2635–2654
// (2008), file new-joe-kuo-6.21201 (https://web.maths.unsw.edu.au/~fkuo/sobol/).
var joeKuo = []string{
	"1 0 1", "2 1 1 3", "3 1 1 3 1", "3 2 1 1 1", "4 1 1 1 3 3", "4 4 1 3 5 13",
	"5 2 1 1 5 5 17", "5 4 1 1 5 5 5", "5 7 1 1 7 11 19", "5 11 1 1 5 1 1",
	"5 13 1 1 1 3 11", "5 14 1 3 5 5 31", "6 1 1 3 3 9 7 49", "6 13 1 1 1 15 21 21",
	"6 16 1 3 1 13 27 49", "6 19 1 1 1 15 7 5", "6 22 1 3 1 15 13 25", "6 25 1 1 5 5 19 61",
	"7 1 1 3 7 11 23 15 103", "7 4 1 3 7 13 13 15 69", "7 7 1 1 3 13 7 35 63",
	"7 8 1 3 5 9 1 25 53", "7 14 1 3 1 13 9 35 107", "7 19 1 3 1 5 27 61 31",
	"7 21 1 1 5 11 19 41 61", "7 28 1 3 5 3 3 13 69", "7 31 1 1 7 13 1 19 1",
	"7 32 1 3 7 5 13 19 59", "7 37 1 1 3 9 25 29 41", "7 41 1 3 5 13 23 1 55",
}

// MaxSobolDim is the largest dimension the Sobol generator supports.
var MaxSobolDim = len(joeKuo) + 1

// directions returns the 32 direction numbers of dimension j (0-based).
func directions(j int) [33]uint32 {
	var v [33]uint32
	if j == 0 {
		for i := 1; i <= 32; i++ {
			v[i] = 1 << (32 - i)
		}
		return v
	}
	f := strings.Fields(joeKuo[j-1])
	s, _ := strconv.Atoi(f[0])
	a, _ := strconv.Atoi(f[1])
	for i := 1; i <= s; i++ {
		m, _ := strconv.Atoi(f[1+i])
		v[i] = uint32(m) << (32 - i)
	}
	for i := s + 1; i <= 32; i++ {
		v[i] = v[i-s] ^ (v[i-s] >> s)
		for k := 1; k < s; k++ {
			if (a>>(s-1-k))&1 == 1 {
				v[i] ^= v[i-k]
			}
		}
	}
	return v
}

// sobol returns n points of the d-dimensional Sobol sequence (Gray-code
// order), randomised by a digital shift drawn from seed. Like halton it is
// prefix-consistent. d must not exceed MaxSobolDim.
func sobol(n, d int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x736f626f6c))
	dirs := make([][33]uint32, d)
	shift := make([]uint32, d)
	for j := range dirs {
		dirs[j] = directions(j)
		shift[j] = rng.Uint32()
	}
	out := make([][]float64, n)
	x := make([]uint32, d)
	for i := 0; i < n; i++ {
		if i > 0 {
			// c is the 1-based index of the lowest zero bit of i−1.
			c, v := 1, i-1
			for v&1 == 1 {
				v >>= 1
				c++
			}
			for j := range x {
				x[j] ^= dirs[j][c]
			}
		}
		p := make([]float64, d)
		for j := range p {
			p[j] = float64(x[j]^shift[j]) / (1 << 32)
		}
		out[i] = p
	}
	return out
}
