package blob_test

import (
	"lukechampine.com/blake3"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

func TestParseID(t *testing.T) {
	good := blob.Sum([]byte("x"))
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good.String(), true},
		{strings.Repeat("0", 64), true},
		{strings.ToUpper(good.String()), false},
		{good.String()[:63], false},
		{good.String() + "0", false},
		{"", false},
		{strings.Repeat("g", 64), false},
	} {
		id, err := blob.ParseID(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseID(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(errors.Invalid, err) {
			t.Errorf("ParseID(%q) err kind %v, want invalid", tc.in, errors.KindOf(err))
		}
		if err == nil && id.String() != tc.in {
			t.Errorf("ParseID(%q).String() = %q", tc.in, id.String())
		}
	}
}

func TestSumIsBLAKE3(t *testing.T) {
	// Known answer: BLAKE3("") from the reference test vectors.
	if got := blob.Sum(nil).String(); got != "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" {
		t.Fatalf("Sum(\"\") = %s", got)
	}
}

// TestHasherMatchesReference: Sum, and a Hasher written in any pieces,
// give lukechampine.com/blake3's BLAKE3-256 of the whole, at the sizes
// where the tree changes shape (one BLAKE3 chunk, one 16-chunk group,
// powers of two of groups, and off by one around each) and at random ones.
func TestHasherMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sizes := []int{0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 16<<10 - 1, 16 << 10, 16<<10 + 1, 1 << 20, 3<<20 + 77}
	for k := 1; k <= 64; k *= 2 {
		sizes = append(sizes, k*16<<10-1, k*16<<10, k*16<<10+1, k*16<<10+1024)
	}
	for range 40 {
		sizes = append(sizes, r.IntN(600<<10))
	}
	for _, n := range sizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		want := blob.ID(blake3.Sum256(data))
		if got := blob.Sum(data); got != want {
			t.Fatalf("%d bytes: Sum %s, BLAKE3 %s", n, got, want)
		}
		h := blob.NewHasher()
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(70000))
			if r.IntN(3) == 0 {
				k = min(len(rest), 1+r.IntN(100))
			}
			h.Write(rest[:k])
			rest = rest[k:]
		}
		if got := h.Sum(); got != want {
			t.Fatalf("%d bytes: Hasher %s, BLAKE3 %s", n, got, want)
		}
		if got := h.Sum(); got != want {
			t.Fatalf("%d bytes: a second Sum changed", n)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(blob.Sum(nil).String())
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := blob.ParseID(s)
		if err == nil && id.String() != s {
			t.Fatalf("ParseID(%q) accepted a non-canonical form", s)
		}
	})
}

func BenchmarkSum1MiB(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		blob.Sum(data)
	}
}

func BenchmarkReferenceSum1MiB(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		blake3.Sum256(data)
	}
}

func BenchmarkSumParallel1MiB(b *testing.B) {
	b.SetBytes(1 << 20)
	b.RunParallel(func(pb *testing.PB) {
		data := make([]byte, 1<<20)
		for pb.Next() {
			blob.Sum(data)
		}
	})
}

func BenchmarkReferenceSumParallel1MiB(b *testing.B) {
	b.SetBytes(1 << 20)
	b.RunParallel(func(pb *testing.PB) {
		data := make([]byte, 1<<20)
		for pb.Next() {
			blake3.Sum256(data)
		}
	})
}
