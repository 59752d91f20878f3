package pack

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/errors"
)

// restoreTree writes a random tree shaped like the ones restore is slow or
// fragile on: many small files (sharing chunks), empty files, directories
// up to 12 deep, files that span several chunks, and assorted modes and
// times. The tree on disk is the reference model.
func restoreTree(t testing.TB, r *rand.Rand, dir string, files int) {
	dirs := []string{"."}
	modes := []os.FileMode{0o644, 0o600, 0o640, 0o755, 0o700, 0o444, 0o400, 0o751}
	for i := 0; i < files; i++ {
		if r.IntN(20) == 0 { // a new directory, often below the deepest so far
			parent := dirs[len(dirs)-1]
			if strings.Count(parent, "/") >= 11 || r.IntN(3) == 0 {
				parent = dirs[r.IntN(len(dirs))]
			}
			d := path.Join(parent, fmt.Sprintf("d%d", i))
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, d)
		}
		p := filepath.Join(dir, dirs[r.IntN(len(dirs))], fmt.Sprintf("f%05d", i))
		var data []byte
		switch k := r.IntN(20); {
		case k < 3: // empty
		case k < 18:
			data = randBytes(r, 1+r.IntN(2000))
		default: // larger than the small-file limit: chunks of its own
			data = randBytes(r, 2000+r.IntN(40000))
		}
		write(t, p, data, modes[r.IntN(len(modes))])
		mt := time.Unix(1500000000+r.Int64N(1e8), r.Int64N(1e9))
		os.Chtimes(p, mt, mt)
	}
	// Directory modes and times after their contents.
	for i := len(dirs) - 1; i > 0; i-- {
		p := filepath.Join(dir, dirs[i])
		os.Chmod(p, []os.FileMode{0o755, 0o750, 0o700}[r.IntN(3)])
		mt := time.Unix(1500000000+r.Int64N(1e8), r.Int64N(1e9))
		os.Chtimes(p, mt, mt)
	}
}

// TestRestoreManySmallFilesProperty: for random trees, any number of
// writers and fetchers, a restore (into a fresh destination or over a
// previous one) gives the source's bytes, modes and times exactly, and
// leaves nothing else behind.
func TestRestoreManySmallFilesProperty(t *testing.T) {
	t.Run("platform", testRestoreManySmallFiles)
	t.Run("portable", func(t *testing.T) {
		openDir = openRootDir
		defer func() { openDir = openOutDir }()
		testRestoreManySmallFiles(t)
	})
}

func testRestoreManySmallFiles(t *testing.T) {
	ctx := context.Background()
	n := 1500
	if testing.Short() {
		n = 400
	}
	for seed := uint64(0); seed < 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 17))
		src := t.TempDir()
		restoreTree(t, r, src, n/2+r.IntN(n))
		st := memblob.New(seed%2 == 1)
		opts := Options{Params: testParams, SmallFile: 2000}
		res, err := Pack(ctx, st, []Source{{Path: src}}, opts)
		if err != nil {
			t.Fatalf("seed %d: Pack: %v", seed, err)
		}
		want := tree(t, src)
		dst := filepath.Join(t.TempDir(), "out")
		for round := 0; round < 2; round++ { // the second restores over the first
			ro := RestoreOptions{Parallel: 1 + r.IntN(4), Writers: 1 + r.IntN(8), Sync: r.IntN(4) == 0}
			rr, err := Restore(ctx, st, res.Manifest, dst, ro)
			if err != nil {
				t.Fatalf("seed %d round %d %+v: Restore: %v", seed, round, ro, err)
			}
			if rr.Files != res.Stats.Files || rr.Bytes != res.Stats.Bytes {
				t.Fatalf("seed %d: restored %d files %d bytes, packed %+v", seed, rr.Files, rr.Bytes, res.Stats)
			}
			sameTree(t, want, tree(t, dst))
			if t.Failed() {
				t.Fatalf("seed %d round %d %+v: restored tree differs", seed, round, ro)
			}
		}
	}
}

// failingGetter is a real store that fails (or cancels) after a number
// of chunk reads, as a server that goes away in the middle would.
type failingGetter struct {
	*memblob.Store
	after  int32
	n      atomic.Int32
	cancel context.CancelFunc // if set, cancel instead of failing
}

func (g *failingGetter) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	if g.n.Add(1) > g.after {
		if g.cancel != nil {
			g.cancel()
			return nil, ctx.Err()
		}
		return nil, errors.E(errors.Op("test.Get"), errors.Transient, errors.Msg("the blob store went away"))
	}
	return g.Store.Get(ctx, id, off, length)
}

// TestRestoreFailsMidway: when the store fails or the caller cancels in
// the middle of a restore, Restore says so, every file that has its name
// is complete and correct, and no temp file is left behind.
func TestRestoreFailsMidway(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	src := t.TempDir()
	restoreTree(t, r, src, 600)
	st := memblob.New(false)
	res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams, SmallFile: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Chunks < 20 {
		t.Fatalf("only %d chunks: the test needs a failure in the middle", res.Chunks)
	}
	want := tree(t, src)
	for i := 0; i < 8; i++ {
		canceled := i%2 == 1
		t.Run(fmt.Sprintf("canceled=%v/%d", canceled, i), func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			g := &failingGetter{Store: st, after: int32(1 + r.IntN(res.Chunks-2))}
			if canceled {
				g.cancel = cancel
			}
			dst := t.TempDir()
			ro := RestoreOptions{Parallel: 1 + r.IntN(4), Writers: 1 + r.IntN(8)}
			_, err := Restore(cctx, g, res.Manifest, dst, ro)
			switch {
			case canceled && !errors.Is(errors.Canceled, err):
				t.Fatalf("canceled after %d chunks, %+v: err = %v, want canceled", g.after, ro, err)
			case !canceled && (!errors.Is(errors.Transient, err) || !strings.Contains(err.Error(), "the blob store went away")):
				t.Fatalf("store failed after %d chunks, %+v: err = %v, want the store's error", g.after, ro, err)
			}
			got := tree(t, dst)
			complete := 0
			for p, n := range got {
				w, ok := want[p]
				switch {
				case !ok:
					t.Errorf("%s: left behind, not in the source", p)
				case n.mode.IsRegular() && (n.data != w.data || n.mode != w.mode):
					t.Errorf("%s: has its name but not its bytes or mode", p)
				case n.mode.IsRegular():
					complete++
				}
			}
			if complete == res.Stats.Files {
				t.Errorf("every file restored although the store failed")
			}
		})
	}
}

// TestRestoreWriteFailure: a file that cannot take its name (a directory
// is in the way) fails the restore with an error naming it, and leaves no
// temp file.
func TestRestoreWriteFailure(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(6, 6))
	src := t.TempDir()
	for i := 0; i < 200; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("d%d", i%4), fmt.Sprintf("f%03d", i)), randBytes(r, r.IntN(1500)), 0o644)
	}
	st := memblob.New(false)
	res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams, SmallFile: 2000})
	if err != nil {
		t.Fatal(err)
	}
	for _, writers := range []int{1, 3, 8} {
		dst := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dst, "d2", "f102", "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Restore(ctx, st, res.Manifest, dst, RestoreOptions{Writers: writers})
		if err == nil || !strings.Contains(err.Error(), `"d2/f102"`) {
			t.Fatalf("writers=%d: err = %v, want one naming d2/f102", writers, err)
		}
		filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".genesis-restore-") {
				t.Errorf("writers=%d: temp file left behind: %s", writers, p)
			}
			return nil
		})
	}
}

// TestPlanRefs: the plan's reference counts are the pieces that read each
// planned chunk, so every chunk is released exactly when its last piece is
// written.
func TestPlanRefs(t *testing.T) {
	a, b, c := blob.Sum([]byte("a")), blob.Sum([]byte("b")), blob.Sum([]byte("c"))
	m := &manifest.Manifest{Entries: []manifest.Entry{
		{Path: "1", Type: manifest.File, Chunks: []manifest.Chunk{{ID: a}, {ID: b}}},
		{Path: "2", Type: manifest.File, Chunks: []manifest.Chunk{{ID: b}}},
		{Path: "3", Type: manifest.Dir},
		{Path: "4", Type: manifest.File, Chunks: []manifest.Chunk{{ID: b}, {ID: c}, {ID: a}}},
	}}
	ids, idx, refs := plan(m)
	if fmt.Sprint(ids) != fmt.Sprint([]blob.ID{a, b, c, a}) || fmt.Sprint(idx) != "[[0 1] [1] [] [1 2 3]]" || fmt.Sprint(refs) != "[1 3 1 1]" {
		t.Fatalf("plan = %v %v %v", ids, idx, refs)
	}
}

// windowGetter counts, at every chunk read, how many chunks have been
// read but whose file does not have its name yet: the chunks the restore
// holds (or has handed to a writer still finishing its file).
type windowGetter struct {
	*memblob.Store
	dest    string
	gets    atomic.Int32
	maxHeld atomic.Int32
}

func (g *windowGetter) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	n := g.gets.Add(1)
	ents, _ := os.ReadDir(g.dest)
	named := int32(0)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".genesis-restore-") {
			named++
		}
	}
	for held := n - named; ; {
		m := g.maxHeld.Load()
		if held <= m || g.maxHeld.CompareAndSwap(m, held) {
			break
		}
	}
	return g.Store.Get(ctx, id, off, length)
}

// TestRestoreWindow: however many writers, the restore holds at most
// 2·Parallel fetched chunks, plus one per writer finishing a file whose
// chunks it has released: memory stays bounded when the store is faster
// than the disk.
func TestRestoreWindow(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 8))
	src := t.TempDir()
	const files = 150
	for i := 0; i < files; i++ { // each file one chunk of its own
		write(t, filepath.Join(src, fmt.Sprintf("f%03d", i)), randBytes(r, 1000), 0o644)
	}
	st := memblob.New(false)
	res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams, SmallFile: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.Chunks != files {
		t.Fatalf("%d chunks for %d files", res.Chunks, files)
	}
	for _, ro := range []RestoreOptions{{Parallel: 1, Writers: 1}, {Parallel: 1, Writers: 8}, {Parallel: 3, Writers: 2}} {
		dst := t.TempDir()
		g := &windowGetter{Store: st, dest: dst}
		if _, err := Restore(ctx, g, res.Manifest, dst, ro); err != nil {
			t.Fatal(err)
		}
		if limit := int32(2*ro.Parallel + ro.Writers + 1); g.maxHeld.Load() > limit {
			t.Errorf("%+v: held up to %d chunks, want at most %d", ro, g.maxHeld.Load(), limit)
		}
		if g.gets.Load() != files {
			t.Errorf("%+v: %d chunk reads for %d chunks", ro, g.gets.Load(), files)
		}
	}
}
