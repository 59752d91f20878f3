package audit

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"golang.org/x/mod/sumdb/note"
)

// buildLogFS writes an n-entry log with a real Log and loads every file of
// it into memory.
func buildLogFS(t testing.TB, n int) (fstest.MapFS, note.Verifier) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	for i := 0; i < n; i++ {
		// A few synchronous appends so that checkpoint.prev is a real,
		// smaller checkpoint.
		var err error
		if i == n/2 {
			_, err = l.AppendSync(ctx, testRecord(i))
		} else {
			_, err = l.Append(ctx, testRecord(i))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b, Mode: 0o600}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, v
}

// with returns a copy of m in which file name has contents data.
func with(m fstest.MapFS, name string, data []byte) fstest.MapFS {
	c := make(fstest.MapFS, len(m))
	for k, f := range m {
		c[k] = f
	}
	c[name] = &fstest.MapFile{Data: data, Mode: 0o600}
	return c
}

type mutation struct {
	desc string
	fsys fstest.MapFS
}

// expectDetected verifies every mutated log (in parallel) and fails for
// each one Verify accepts.
func expectDetected(t *testing.T, v note.Verifier, muts <-chan mutation) int {
	t.Helper()
	var wg sync.WaitGroup
	var count, missed atomic.Int64
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range muts {
				if c := count.Add(1); c%20000 == 0 {
					t.Logf("%d mutations checked, %d undetected", c, missed.Load())
				}
				rep, err := VerifyFS(context.Background(), m.fsys, v, VerifyOptions{})
				if err == nil || rep.Intact() {
					if missed.Add(1) <= 20 {
						t.Errorf("undetected: %s", m.desc)
					}
				}
			}
		}()
	}
	wg.Wait()
	if missed.Load() > 0 {
		t.Errorf("%d of %d mutations undetected", missed.Load(), count.Load())
	}
	return int(count.Load())
}

// tamperPositions returns the byte positions of file name to alter: all of
// them when full is set or the file is small (the checkpoints); otherwise
// the structural positions — for the entries file both bytes of every
// lenStride-th length prefix and the first and last byte of every
// stride-th entry, for a
// tile the first byte of every stride-th hash — plus sample random ones.
func tamperPositions(name string, data []byte, full bool, rng *rand.Rand, lenStride, stride, sample int) []int {
	if full || len(data) <= 1024 {
		pos := make([]int, len(data))
		for i := range pos {
			pos[i] = i
		}
		return pos
	}
	set := map[int]bool{}
	if name == entriesFile {
		for i, p := 0, 0; p+2 <= len(data); i++ {
			k := int(data[p])<<8 | int(data[p+1])
			if i%lenStride == 0 {
				set[p], set[p+1] = true, true
			}
			if k > 0 && i%stride == 0 {
				set[p+2], set[p+2+k-1] = true, true
			}
			p += 2 + k
		}
	} else {
		for p := 0; p < len(data); p += 32 * stride {
			set[p] = true
		}
		set[len(data)-1] = true
	}
	for i := 0; i < sample; i++ {
		set[rng.IntN(len(data))] = true
	}
	pos := make([]int, 0, len(set))
	for p := range set {
		pos = append(pos, p)
	}
	sort.Ints(pos)
	return pos
}

// TestTamper: flipping any byte of any file, truncating any file, or
// reordering entries or tiles is detected; the intact log verifies.
// By default it alters every byte of the checkpoints, both bytes of every
// 2nd entry's length prefix, the first and last byte of every 20th entry,
// the first byte of every 20th tile hash and 300 random positions per large
// file, truncates at about a quarter as many positions, and swaps every 4th
// pair of adjacent entries plus random pairs (fewer of each under -race).
// GENESIS_AUDIT_TAMPER_FULL=1 alters every byte of every file and
// truncates every file at every length (≈240,000 of each; 32 min here).
func TestTamper(t *testing.T) {
	const n = 1000
	m, v := buildLogFS(t, n)
	rep, err := VerifyFS(context.Background(), m, v, VerifyOptions{})
	if err != nil {
		t.Fatalf("intact log does not verify: %v %v", err, rep.Problems)
	}
	if rep.Entries != n || rep.Checkpoint.Size != n || rep.Previous == nil || rep.Previous.Size == n || rep.Tiles != 3 {
		t.Fatalf("unexpected report for the intact log: %+v", rep)
	}
	full := os.Getenv("GENESIS_AUDIT_TAMPER_FULL") != ""
	lenStride, stride, sample := 2, 20, 300
	if raceEnabled {
		// The race detector slows Verify ~10×; it adds nothing to this
		// single-goroutine check, so keep the race run short.
		lenStride, stride, sample = 25, 100, 50
	}
	rng := rand.New(rand.NewPCG(1, 2))
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)

	t.Run("flip", func(t *testing.T) {
		muts := make(chan mutation, 64)
		go func() {
			defer close(muts)
			for _, name := range names {
				data := m[name].Data
				for _, p := range tamperPositions(name, data, full, rng, lenStride, stride, sample) {
					d := append([]byte(nil), data...)
					d[p] ^= byte(1 + rng.IntN(255))
					muts <- mutation{desc: name + " byte " + itoa(p), fsys: with(m, name, d)}
				}
			}
		}()
		count := expectDetected(t, v, muts)
		t.Logf("%d single-byte flips, all detected (full=%v)", count, full)
	})

	t.Run("truncate", func(t *testing.T) {
		muts := make(chan mutation, 64)
		go func() {
			defer close(muts)
			for _, name := range names {
				data := m[name].Data
				for _, p := range tamperPositions(name, data, full, rng, 4*lenStride, 4*stride, sample/4) {
					if raceEnabled && len(data) <= 1024 && p%8 != 0 && p < len(data)-8 {
						continue
					}
					muts <- mutation{desc: name + " truncated to " + itoa(p), fsys: with(m, name, data[:p])}
				}
			}
		}()
		count := expectDetected(t, v, muts)
		t.Logf("%d truncations, all detected", count)
	})

	t.Run("reorder", func(t *testing.T) {
		ents := splitEntries(m[entriesFile].Data)
		muts := make(chan mutation, 64)
		go func() {
			defer close(muts)
			swap := func(i, j int) {
				e := append([][]byte(nil), ents...)
				e[i], e[j] = e[j], e[i]
				muts <- mutation{desc: "entries " + itoa(i) + " and " + itoa(j) + " swapped", fsys: with(m, entriesFile, joinEntries(e))}
			}
			for i := 0; i+1 < len(ents); i += stride / 5 {
				swap(i, i+1)
			}
			for k := 0; k < sample/5; k++ {
				i, j := rng.IntN(len(ents)), rng.IntN(len(ents))
				if i != j {
					swap(i, j)
				}
			}
			// Rotations and a full reversal.
			rot := append(append([][]byte(nil), ents[1:]...), ents[0])
			muts <- mutation{desc: "entries rotated", fsys: with(m, entriesFile, joinEntries(rot))}
			rev := append([][]byte(nil), ents...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			muts <- mutation{desc: "entries reversed", fsys: with(m, entriesFile, joinEntries(rev))}
			// Swapping two tiles.
			a, b := tilePath(0, 0), tilePath(0, 1)
			c := with(m, a, m[b].Data)
			c[b] = m[a]
			muts <- mutation{desc: "tiles 0 and 1 swapped", fsys: c}
			// Swapping the two checkpoints.
			c = with(m, checkpointF, m[prevCheckptF].Data)
			c[prevCheckptF] = m[checkpointF]
			muts <- mutation{desc: "checkpoints swapped", fsys: c}
			// Dropping an entry, duplicating one.
			muts <- mutation{desc: "entry 500 dropped", fsys: with(m, entriesFile, joinEntries(append(append([][]byte(nil), ents[:500]...), ents[501:]...)))}
			muts <- mutation{desc: "entry 999 replaced by 998", fsys: with(m, entriesFile, joinEntries(append(append([][]byte(nil), ents[:999]...), ents[998])))}
			// The checkpoint deleted.
			c = with(m, checkpointF, nil)
			delete(c, checkpointF)
			muts <- mutation{desc: "checkpoint deleted", fsys: c}
			c = with(m, tilePath(0, 2), nil)
			delete(c, tilePath(0, 2))
			muts <- mutation{desc: "tile deleted", fsys: c}
		}()
		count := expectDetected(t, v, muts)
		t.Logf("%d reorderings and deletions, all detected", count)
	})
}

func itoa(i int) string { return formatInt(i) }

func splitEntries(b []byte) [][]byte {
	var out [][]byte
	for p := 0; p+2 <= len(b); {
		k := int(b[p])<<8 | int(b[p+1])
		out = append(out, b[p:p+2+k])
		p += 2 + k
	}
	return out
}

func joinEntries(es [][]byte) []byte {
	var b []byte
	for _, e := range es {
		b = append(b, e...)
	}
	return b
}

// FuzzVerifyEntries: no entries file other than the original verifies
// against the original checkpoints and tiles.
func FuzzVerifyEntries(f *testing.F) {
	m, v := buildLogFS(f, 20)
	orig := m[entriesFile].Data
	f.Add(orig)
	f.Add(orig[:len(orig)-1])
	f.Add(append(append([]byte(nil), orig...), 0, 0))
	ents := splitEntries(orig)
	ents[3], ents[4] = ents[4], ents[3]
	f.Add(joinEntries(ents))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyFS(context.Background(), with(m, entriesFile, data), v, VerifyOptions{})
		if err == nil && rep.Intact() {
			// Only the original, possibly followed by crash leftovers
			// (complete entries after the checkpoint or a torn tail),
			// may verify.
			if len(data) < len(orig) || string(data[:len(orig)]) != string(orig) {
				t.Fatalf("a different entries file verifies: %q", data)
			}
		}
	})
}
