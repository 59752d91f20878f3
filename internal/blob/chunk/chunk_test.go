package chunk

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/restic/chunker"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

var small = Params{Min: 64, Avg: 256, Max: 1024}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e37))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// reference chunks data held entirely in memory with Cut, the simplest
// possible use of the algorithm.
func reference(p Params, data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := p.Cut(data, true)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// TestCutBounds: the chunks reference cuts are within the size bounds and
// reassemble the input, on random and on low-entropy input (long runs force
// max-size cuts).
func TestCutBounds(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		data := randBytes(seed, r.IntN(40000))
		if seed%5 == 0 {
			for i := range data {
				data[i] = byte(i / 5000)
			}
		}
		got := reference(small, data)
		for i, c := range got {
			if len(c) > small.Max || len(c) == 0 || (i < len(got)-1 && len(c) < small.Min) {
				t.Fatalf("seed %d: chunk %d has size %d outside [%d,%d]", seed, i, len(c), small.Min, small.Max)
			}
		}
		if !bytes.Equal(bytes.Join(got, nil), data) {
			t.Fatalf("seed %d: chunks do not reassemble the input", seed)
		}
	}
	if n := DefaultParams.Cut(nil, true); n != 0 {
		t.Fatalf("a 0-byte stream: Cut = %d, want no chunk", n)
	}
}

// TestCutBeforeEOF: with only a prefix of the stream in hand, Cut either
// asks for more (0) or names the very boundary it names with all of it;
// with a maximal chunk in hand it always decides.
func TestCutBeforeEOF(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		data := randBytes(seed, 3*small.Max)
		if seed%5 == 0 {
			for i := range data {
				data[i] = byte(i / 700)
			}
		}
		want := small.Cut(data, true)
		for range 200 {
			l := r.IntN(len(data) + 1)
			got := small.Cut(data[:l], false)
			if got != 0 && got != want {
				t.Fatalf("seed %d: Cut of %d bytes = %d, of all = %d", seed, l, got, want)
			}
			if got == 0 && l >= small.Max {
				t.Fatalf("seed %d: Cut of %d ≥ Max bytes did not decide", seed, l)
			}
		}
	}
}

func TestAverageSize(t *testing.T) {
	data := randBytes(7, 1<<20)
	got := reference(small, data)
	avg := len(data) / len(got)
	// Normalised chunking centres the distribution near Avg (+Min skip).
	if avg < small.Avg/2 || avg > small.Avg*2 {
		t.Fatalf("average chunk %d bytes, want near %d", avg, small.Avg)
	}
}

func TestEditLocality(t *testing.T) {
	data := randBytes(3, 200000)
	before := reference(small, data)
	edited := bytes.Clone(data)
	edited[100000] ^= 0xff
	edited = append(edited[:150000], append([]byte("inserted bytes"), edited[150000:]...)...)
	after := reference(small, edited)
	old := map[blob.ID]bool{}
	for _, c := range before {
		old[blob.Sum(c)] = true
	}
	newChunks := 0
	for _, c := range after {
		if !old[blob.Sum(c)] {
			newChunks++
		}
	}
	if newChunks == 0 || newChunks > 8 {
		t.Fatalf("two small edits changed %d of %d chunks", newChunks, len(after))
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		p  Params
		ok bool
	}{
		{DefaultParams, true},
		{small, true},
		{Params{Min: 64, Avg: 300, Max: 1024}, false},
		{Params{Min: 512, Avg: 256, Max: 1024}, false},
		{Params{Min: 64, Avg: 256, Max: 128}, false},
		{Params{Min: 64, Avg: 1 << 20, Max: 32 << 20}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestFrame(t *testing.T) {
	const op errors.Op = "test"
	for _, tc := range []struct {
		name     string
		data     []byte
		compress Level
	}{
		{"empty", nil, Off},
		{"empty-compress", nil, Default},
		{"random-raw", randBytes(1, 5000), Off},
		{"random-compress", randBytes(1, 5000), Default}, // incompressible: stored raw
		{"text-compress", bytes.Repeat([]byte("genesis "), 4000), Default},
		{"text-compress-sampled", bytes.Repeat([]byte("genesis "), 40000), Fastest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := blob.Sum(tc.data)
			fr := Frame(tc.data, tc.compress)
			n, err := PlainSize(fr[:HeaderSize])
			if err != nil || n != int64(len(tc.data)) {
				t.Fatalf("PlainSize = %d, %v", n, err)
			}
			got, err := Unframe(op, id, fr)
			if err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("Unframe: %v", err)
			}
			if strings.HasPrefix(tc.name, "text-compress") && len(fr) > len(tc.data)/4 {
				t.Fatalf("compressible data framed to %d bytes", len(fr))
			}
			// Every single-byte change is detected, or (in a compressed
			// payload, where some bits do not affect the output) still
			// decodes to exactly the plaintext; every truncation is detected.
			for i := 0; i < len(fr); i += 1 + len(fr)/50 {
				bad := bytes.Clone(fr)
				bad[i] ^= 0x40
				got, err := Unframe(op, id, bad)
				switch {
				case err == nil && (fr[3] == codecRaw || i < HeaderSize || !bytes.Equal(got, tc.data)):
					t.Fatalf("flip at %d accepted", i)
				case err != nil && (!errors.Is(errors.Internal, err) || !errors.IsErr(err, blob.ErrCorrupt)):
					t.Fatalf("flip at %d: err = %v, want corrupt", i, err)
				}
				if _, err := Unframe(op, id, fr[:i]); !errors.Is(errors.Internal, err) {
					t.Fatalf("truncation to %d: err = %v, want corrupt", i, err)
				}
			}
		})
	}
}

func FuzzUnframe(f *testing.F) {
	f.Add(Frame([]byte("hello"), Off))
	f.Add(Frame(bytes.Repeat([]byte("abc"), 1000), Default))
	f.Add([]byte("GB\x01\x01\x00\x00\x00\x00\x00\x00\x00\x05junk"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := []byte("hello")
		got, err := Unframe("fuzz", blob.Sum(want), b)
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("accepted a frame that decodes to %q", got)
		}
		if err != nil && !errors.Is(errors.Internal, err) {
			t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
		}
	})
}

// BenchmarkChunkHash is the ≥1 GB/s target: FastCDC + BLAKE3 of every chunk,
// one goroutine, data already in memory.
func BenchmarkChunkHash(b *testing.B) {
	data := randBytes(42, 256<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		for d := data; len(d) > 0; {
			n := DefaultParams.Cut(d, true)
			_ = blob.Sum(d[:n])
			d = d[n:]
		}
	}
}

// BenchmarkChunkHashAvg is BenchmarkChunkHash at smaller average chunk
// sizes (min = avg/4, max = 4·avg, as the defaults): what a smaller average
// (better deduplication of scattered edits) costs in throughput.
func BenchmarkChunkHashAvg(b *testing.B) {
	data := randBytes(42, 256<<20)
	for _, avg := range []int{32 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20} {
		p := Params{Min: avg / 4, Avg: avg, Max: 4 * avg}
		b.Run(fmt.Sprintf("avg=%dKiB", avg>>10), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for d := data; len(d) > 0; {
					n := p.Cut(d, true)
					_ = blob.Sum(d[:n])
					d = d[n:]
				}
			}
		})
	}
}

// BenchmarkChunkOnly is FastCDC alone.
func BenchmarkChunkOnly(b *testing.B) {
	data := randBytes(42, 256<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		for d := data; len(d) > 0; {
			d = d[DefaultParams.Cut(d, true):]
		}
	}
}

// BenchmarkRabinChunkOnly is restic/chunker with the same average, for the
// choice of algorithm.
func BenchmarkRabinChunkOnly(b *testing.B) {
	data := randBytes(42, 64<<20)
	buf := make([]byte, 8<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		c := chunker.NewWithBoundaries(bytes.NewReader(data), chunker.Pol(0x3DA3358B4DC173), 256<<10, 4<<20)
		for {
			if _, err := c.Next(buf); err != nil {
				break
			}
		}
	}
}

func BenchmarkBLAKE3(b *testing.B) {
	data := randBytes(1, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		blob.Sum(data)
	}
}

func BenchmarkSHA256(b *testing.B) {
	data := randBytes(1, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sha256.Sum256(data)
	}
}

func BenchmarkFrameZstd(b *testing.B) {
	data := bytes.Repeat([]byte("genesis science data 0123456789 "), 32<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Frame(data, Default)
	}
}

func TestRollMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 2000; trial++ {
		data := randBytes(uint64(trial), 1+r.IntN(3000))
		from := r.IntN(len(data))
		to := from + r.IntN(len(data)-from+1)
		fp := r.Uint64()
		mask := ^uint64(0) << (64 - (1 + r.IntN(12)))
		c1, h1 := roll(data, from, to, fp, mask)
		c2, h2 := rollNaive(data, from, to, fp, mask)
		if c1 != c2 || h1 != h2 {
			t.Fatalf("trial %d: roll = (%d,%x), naive = (%d,%x)", trial, c1, h1, c2, h2)
		}
	}
}

func TestWriteFrameMatchesFrame(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("x"), randBytes(5, 10000), bytes.Repeat([]byte("ab"), 5000)} {
		for _, compress := range []Level{Off, Fastest, Default, Best} {
			var b bytes.Buffer
			if err := WriteFrame(&b, data, compress); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), Frame(data, compress)) {
				t.Fatalf("WriteFrame(%d bytes, %v) differs from Frame", len(data), compress)
			}
		}
	}
}
