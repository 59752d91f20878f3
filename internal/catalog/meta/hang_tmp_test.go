package meta

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestHangHunt(t *testing.T) {
	if os.Getenv("HANG") == "" {
		t.Skip()
	}
	files, _ := filepath.Glob("testdata/*")
	var seeds [][]byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		seeds = append(seeds, b)
	}
	r := rand.New(rand.NewPCG(9, 9))
	deadline := time.Now().Add(20 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		d := append([]byte{}, seeds[r.IntN(len(seeds))]...)
		for range 1 + r.IntN(5) {
			if len(d) == 0 {
				break
			}
			i := r.IntN(len(d))
			switch r.IntN(3) {
			case 0:
				d[i] = byte(r.IntN(256))
			case 1:
				d = append(d[:i], d[min(len(d), i+1+r.IntN(20)):]...)
			case 2:
				d = append(d[:i], append([]byte{byte(r.IntN(256))}, d[i:]...)...)
			}
		}
		for _, f := range []Format{Auto, CSV, DataCite, DCATUS, CKAN, SchemaOrg} {
			done := make(chan bool)
			go func() {
				select {
				case <-done:
				case <-time.After(3 * time.Second):
					buf := make([]byte, 1<<20)
					buf = buf[:runtime.Stack(buf, true)]
					os.WriteFile("/tmp/hang-input", d, 0o644)
					panic(string(buf))
				}
			}()
			ImportWith(bytes.NewReader(d), f, Options{MaxBytes: 1 << 20, MaxRecords: 10000})
			close(done)
		}
		n++
	}
	t.Log(n, "inputs")
}
