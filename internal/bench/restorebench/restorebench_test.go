package restorebench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{2, 2, 9, 1, 2}, 2},
	} {
		in := append([]float64(nil), tc.in...)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("Median reordered its argument: %v", in)
			}
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

// SmallTree is what both benchmarks compare: the same n files of 1 KiB
// in 100 directories every time, which CountFiles counts.
func TestSmallTree(t *testing.T) {
	a, b := SmallTree(t, t.TempDir(), 250), SmallTree(t, t.TempDir(), 250)
	if n := CountFiles(t, a); n != 250 {
		t.Fatalf("CountFiles = %d, want 250", n)
	}
	dirs, err := os.ReadDir(a)
	if err != nil || len(dirs) != 100 {
		t.Fatalf("%d directories (%v), want 100", len(dirs), err)
	}
	for _, name := range []string{"d00/f000000", "d49/f000149", "d99/f000199"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(x) != 1024 || !bytes.Equal(x, y) {
			t.Errorf("%s: %d bytes, same in both trees: %v", name, len(x), bytes.Equal(x, y))
		}
	}
}
