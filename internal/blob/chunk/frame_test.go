package chunk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// Data kinds for the property tests: what science data looks like.
var kinds = []string{"random", "zeros", "text", "csv", "floats-smooth", "floats-random", "ints", "half-random"}

// genData returns n bytes of the given kind from r.
func genData(r *rand.Rand, kind string, n int) []byte {
	b := make([]byte, 0, n+64)
	switch kind {
	case "random":
		b = b[:n]
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	case "zeros":
		b = b[:n]
	case "text":
		words := []string{"the", "sample", "was", "measured", "at", "kelvin", "under", "argon", "and", "spectra", "show", "peaks"}
		for len(b) < n {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
	case "csv":
		for i := 0; len(b) < n; i++ {
			b = fmt.Appendf(b, "S%06d,%.4f,%.2f,%d,%s\n", i, 273.15+r.Float64()*50, 1e5+r.NormFloat64()*300, r.IntN(1000), []string{"ok", "check", "fail"}[r.IntN(3)])
		}
	case "floats-smooth":
		x := 0.0
		for len(b) < n {
			x += r.NormFloat64() * 0.01
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(math.Round(x*1e4)/1e4))
		}
	case "floats-random":
		for len(b) < n {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Float64()))
		}
	case "ints":
		for len(b) < n {
			b = binary.LittleEndian.AppendUint32(b, uint32(r.IntN(4096)))
		}
	case "half-random":
		b = append(b, genData(r, "random", n/2)...)
		b = append(b, genData(r, "csv", n-n/2)...)
	}
	return b[:n]
}

// TestFrameRoundTripProperty: at every level, for every kind of data and
// size, Frame then Unframe gives back exactly the plaintext, the header
// states its length, the stored form never exceeds raw framing, WriteFrame
// writes the same bytes, Off always stores raw, and data that compresses
// well (zeros, text, CSV) is stored compressed once it is large enough.
func TestFrameRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 7))
	sizes := []int{0, 1, minCompress - 1, minCompress, 4096, sampleMin - 1, sampleMin, sampleMin + 1, 1 << 20, 4 << 20}
	trials := 200
	if testing.Short() {
		trials = 60
	}
	for trial := 0; trial < trials; trial++ {
		kind := kinds[r.IntN(len(kinds))]
		n := sizes[r.IntN(len(sizes))]
		if r.IntN(2) == 0 {
			n = int(math.Exp(r.Float64() * math.Log(2<<20)))
		}
		level := Level(r.IntN(int(Best) + 1))
		if level >= Better && n > 256<<10 {
			n = 256 << 10 // the slow levels on small chunks only: the test must stay quick
		}
		data := genData(r, kind, n)
		id := blob.Sum(data)
		fr := Frame(data, level)
		size, raw, err := ParseHeader(fr)
		if err != nil || size != int64(n) {
			t.Fatalf("%s/%d/%v: header size %d, %v", kind, n, level, size, err)
		}
		if len(fr) > HeaderSize+n {
			t.Fatalf("%s/%d/%v: stored %d bytes, more than raw", kind, n, level, len(fr))
		}
		if raw != (len(fr) == HeaderSize+n) {
			t.Fatalf("%s/%d/%v: raw=%v but stored %d bytes", kind, n, level, raw, len(fr))
		}
		if level == Off && !raw {
			t.Fatalf("%s/%d: compressed at level off", kind, n)
		}
		compressible := kind == "zeros" || kind == "text" || kind == "csv"
		if level != Off && compressible && n >= 4096 && raw {
			t.Fatalf("%s/%d/%v: compressible data stored raw", kind, n, level)
		}
		if kind == "random" && !raw {
			t.Fatalf("random/%d/%v: stored compressed (%d bytes)", n, level, len(fr))
		}
		got, err := Unframe("test", id, fr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s/%d/%v: Unframe: %v (equal=%v)", kind, n, level, err, bytes.Equal(got, data))
		}
		var w bytes.Buffer
		if err := WriteFrame(&w, data, level); err != nil || !bytes.Equal(w.Bytes(), fr) {
			t.Fatalf("%s/%d/%v: WriteFrame differs from Frame (%v)", kind, n, level, err)
		}
	}
}

// TestOldFrames: frames written before compression was the default (raw,
// codec 0) and by the first compressing version stay readable.
func TestOldFrames(t *testing.T) {
	plain, err := os.ReadFile("testdata/frames/plain.csv")
	if err != nil {
		t.Fatal(err)
	}
	id := blob.Sum(plain)
	for _, name := range []string{"raw.frame", "zstd.frame"} {
		fr, err := os.ReadFile(filepath.Join("testdata/frames", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unframe("test", id, fr)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %v", name, err)
		}
		if _, raw, _ := ParseHeader(fr); raw != (name == "raw.frame") {
			t.Fatalf("%s: raw = %v", name, raw)
		}
	}
}

// zstdStream compresses data as a streaming writer does: no content size
// in the frame header.
func zstdStream(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func frameOf(n int, payload []byte) []byte {
	fr := make([]byte, HeaderSize, HeaderSize+len(payload))
	putHeader(fr, codecZstd, n)
	return append(fr, payload...)
}

// TestUnframeRefusesBombs: compressed payloads that would decode to more
// than the header says (or than any chunk may hold) are integrity errors,
// refused before allocating their claimed size.
func TestUnframeRefusesBombs(t *testing.T) {
	small := []byte("hello, hello, hello, hello")
	big := make([]byte, blob.MaxSize) // zeros: compresses to a few hundred bytes
	bigFrame := encoder(Fastest).EncodeAll(big, nil)
	over := encoder(Fastest).EncodeAll(make([]byte, blob.MaxSize+1), nil)
	for _, tc := range []struct {
		name  string
		fr    []byte
		id    blob.ID
		alloc uint64 // bytes the attempt may allocate at most
	}{
		{"claims 16 MiB, header 26 bytes", frameOf(len(small), bigFrame), blob.Sum(small), 1 << 20},
		{"claims over the limit", frameOf(len(small), over), blob.Sum(small), 1 << 20},
		{"header over the limit", frameOf(blob.MaxSize+1, over), blob.Sum(small), 1 << 20},
		{"no content size", frameOf(len(small), zstdStream(t, small)), blob.Sum(small), 1 << 20},
		{"two frames", frameOf(blob.MaxSize, append(bytes.Clone(bigFrame), bigFrame...)), blob.Sum(big), 3 * blob.MaxSize},
		{"skippable frame", frameOf(len(small), []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}), blob.Sum(small), 1 << 20},
		{"truncated", frameOf(blob.MaxSize, bigFrame[:len(bigFrame)/2]), blob.Sum(big), 3 * blob.MaxSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			got, err := Unframe("test", tc.id, tc.fr)
			runtime.ReadMemStats(&after)
			if err == nil || !errors.Is(errors.Internal, err) || !errors.IsErr(err, blob.ErrCorrupt) {
				t.Fatalf("got %d bytes, err %v; want a corrupt-chunk error", len(got), err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > tc.alloc {
				t.Fatalf("allocated %d bytes refusing it (bound %d)", d, tc.alloc)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for l := Off; l <= Best; l++ {
		got, err := ParseLevel(l.String())
		if err != nil || got != l || !l.Valid() {
			t.Fatalf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	for _, s := range []string{"", "zstd", "3", "Default", "fast"} {
		if _, err := ParseLevel(s); !errors.Is(errors.Invalid, err) {
			t.Fatalf("ParseLevel(%q): %v, want invalid", s, err)
		}
	}
	if Level(9).Valid() || Level(-1).Valid() {
		t.Fatal("out-of-range level valid")
	}
}

// FuzzUnframeGolden decodes arbitrary bytes against the golden plaintext's
// id (seeds: the golden frames): either the result is exactly that
// plaintext, or the error is a corrupt-chunk error; never a panic.
func FuzzUnframeGolden(f *testing.F) {
	plain, err := os.ReadFile("testdata/frames/plain.csv")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"raw.frame", "zstd.frame"} {
		fr, err := os.ReadFile(filepath.Join("testdata/frames", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fr)
	}
	f.Add(frameOf(len(plain), zstdStream(f, plain)))
	id := blob.Sum(plain)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Unframe("fuzz", id, b)
		if err == nil {
			if !bytes.Equal(got, plain) {
				t.Fatalf("accepted a frame that decodes to %d other bytes", len(got))
			}
			if n, _, herr := ParseHeader(b); herr != nil || n != int64(len(plain)) {
				t.Fatalf("accepted a frame whose header says %d, %v", n, herr)
			}
			return
		}
		if !errors.Is(errors.Internal, err) || !errors.IsErr(err, blob.ErrCorrupt) {
			t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
		}
	})
}

// BenchmarkWriteFrameRandom: the CPU cost of storing an incompressible
// 1 MiB chunk (write to io.Discard) with compression off and at each
// level; the incompressibility test keeps the levels close to off.
func BenchmarkWriteFrameRandom(b *testing.B) {
	data := randBytes(3, 1<<20)
	for _, l := range []Level{Off, Fastest, Default, Better} {
		b.Run(l.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				WriteFrame(io.Discard, data, l)
			}
		})
	}
}

// BenchmarkFrameCSV: compressing a 1 MiB CSV chunk at each level.
func BenchmarkFrameCSV(b *testing.B) {
	data := genData(rand.New(rand.NewPCG(1, 1)), "csv", 1<<20)
	for _, l := range []Level{Fastest, Default, Better} {
		b.Run(l.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var n int
			for b.Loop() {
				n = len(Frame(data, l))
			}
			b.ReportMetric(float64(n)/float64(len(data)), "ratio")
		})
	}
}
