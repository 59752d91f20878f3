package pack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/blob/localdisk"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/errors"
)

// Small chunks so that small test trees exercise multi-chunk files.
var testParams = chunk.Params{Min: 1024, Avg: 4096, Max: 16384}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func write(t testing.TB, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
}

// randomTree fills dir with a random tree and returns nothing: the tree on
// disk is the reference the restore is compared against.
func randomTree(t testing.TB, r *rand.Rand, dir string, n int) {
	dirs := []string{"."}
	for i := 0; i < n; i++ {
		parent := dirs[r.IntN(len(dirs))]
		name := fmt.Sprintf("n%d-%s", i, []string{"a", "ü", "with space", "x.csv"}[r.IntN(4)])
		p := filepath.Join(dir, parent, name)
		switch k := r.IntN(10); {
		case k < 2:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, filepath.Join(parent, name))
		case k < 3:
			write(t, p, nil, 0o644)
		case k < 8:
			write(t, p, randBytes(r, r.IntN(3000)), 0o640)
		case k < 9:
			data := randBytes(r, 20000+r.IntN(60000))
			if r.IntN(2) == 0 {
				data = bytes.Repeat(data[:100], len(data)/100) // repetitive: dedups inside
			}
			write(t, p, data, 0o755)
		default:
			if err := os.Symlink(name+"-target", p); err != nil {
				t.Fatal(err)
			}
		}
		mt := time.Unix(1600000000+r.Int64N(1e8), r.Int64N(1e9))
		os.Chtimes(p, mt, mt)
	}
}

type node struct {
	mode   fs.FileMode
	mtime  int64
	data   string
	target string
}

// tree reads a directory into a map for comparison.
func tree(t testing.TB, dir string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n := node{mode: fi.Mode()}
		switch fi.Mode().Type() {
		case 0:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.data, n.mtime = string(b), fi.ModTime().UnixNano()
		case fs.ModeSymlink:
			n.target, _ = os.Readlink(p)
		case fs.ModeDir:
			n.mtime = fi.ModTime().UnixNano()
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t testing.TB, want, got map[string]node) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing after restore", p)
			continue
		}
		if g.mode != w.mode || g.mtime != w.mtime || g.target != w.target || g.data != w.data {
			t.Errorf("%s: restored as mode %v mtime %d target %q %d bytes; want mode %v mtime %d target %q %d bytes",
				p, g.mode, g.mtime, g.target, len(g.data), w.mode, w.mtime, w.target, len(w.data))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: restored but not in the source", p)
		}
	}
}

func TestPackRestoreProperty(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(0); seed < 12; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		src := t.TempDir()
		randomTree(t, r, src, 5+r.IntN(60))
		st := memblob.New(seed%2 == 0)
		res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams, Parallel: 1 + int(seed%4)})
		if err != nil {
			t.Fatalf("seed %d: Pack: %v", seed, err)
		}
		// The stored manifest is the one returned.
		m, err := manifest.Get(ctx, st, res.ID)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "out")
		var last int64
		progress := func(n int64) {
			if n <= last {
				t.Fatalf("seed %d: progress went from %d to %d", seed, last, n)
			}
			last = n
		}
		rr, err := Restore(ctx, st, m, dst, RestoreOptions{Parallel: 1 + int(seed%3), Progress: progress})
		if err != nil {
			t.Fatalf("seed %d: Restore: %v", seed, err)
		}
		if last != res.Stats.Bytes {
			t.Fatalf("seed %d: progress ended at %d of %d bytes", seed, last, res.Stats.Bytes)
		}
		if rr.Files != res.Stats.Files || rr.Bytes != res.Stats.Bytes {
			t.Fatalf("seed %d: restored %d files %d bytes, packed %+v", seed, rr.Files, rr.Bytes, res.Stats)
		}
		sameTree(t, tree(t, src), tree(t, dst))
		rep, err := Verify(ctx, st, m, 2)
		if err != nil || !rep.OK() || rep.Chunks != res.Chunks {
			t.Fatalf("seed %d: Verify = %+v, %v (chunks packed %d)", seed, rep, err, res.Chunks)
		}
		// WriteTo gives each file's bytes.
		for _, e := range m.Entries {
			if e.Type != manifest.File {
				continue
			}
			var b bytes.Buffer
			if err := WriteTo(ctx, st, e, &b); err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(filepath.Join(src, e.Path))
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("seed %d: WriteTo(%s) differs", seed, e.Path)
			}
		}
	}
}

func TestDedupAndNewBytes(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 1))
	src := t.TempDir()
	big := randBytes(r, 2<<20)
	write(t, filepath.Join(src, "big.bin"), big, 0o644)
	for i := 0; i < 50; i++ {
		write(t, filepath.Join(src, "small", fmt.Sprintf("f%03d", i)), randBytes(r, 500), 0o644)
	}
	st := memblob.New(false)
	opts := Options{Params: testParams}
	first, err := Pack(ctx, st, []Source{{Path: src}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.NewBytes != first.Stats.Bytes || len(first.New) != first.Chunks {
		t.Fatalf("first pack: new %d bytes / %d chunks, total %d bytes / %d chunks", first.NewBytes, len(first.New), first.Stats.Bytes, first.Chunks)
	}
	if first.Chunks > 2<<20/testParams.Min+1+25000/testParams.Min+1 {
		t.Fatalf("%d chunks: small files were not packed together", first.Chunks)
	}
	again, err := Pack(ctx, st, []Source{{Path: src}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.NewBytes != 0 || len(again.New) != 0 || again.ID != first.ID {
		t.Fatalf("re-pack of the same tree: %d new bytes, %d new chunks, same id %v", again.NewBytes, len(again.New), again.ID == first.ID)
	}
	// Change 3 bytes of the big file and one small file.
	big[100000] ^= 1
	big[1000000] ^= 1
	big[2000000] ^= 1
	write(t, filepath.Join(src, "big.bin"), big, 0o644)
	write(t, filepath.Join(src, "small", "f010"), []byte("changed"), 0o644)
	third, err := Pack(ctx, st, []Source{{Path: src}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if third.NewBytes == 0 || third.NewBytes > 8*int64(testParams.Max) {
		t.Fatalf("4 small edits stored %d new bytes of %d", third.NewBytes, third.Stats.Bytes)
	}
	missing, err := blob.Missing(ctx, st, third.Manifest.ChunkIDs())
	if err != nil || len(missing) != 0 {
		t.Fatalf("after pack, Missing = %v, %v", missing, err)
	}
}

func TestStdinAndEmpty(t *testing.T) {
	ctx := context.Background()
	st := memblob.New(false)
	data := randBytes(rand.New(rand.NewPCG(2, 2)), 100000)
	now := time.Unix(1700000000, 5)
	res, err := Pack(ctx, st, []Source{
		{Name: "stdin", Reader: bytes.NewReader(data)},
		{Name: "empty-stream", Reader: strings.NewReader("")},
	}, Options{Params: testParams, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := res.Manifest.Lookup("stdin")
	if !ok || e.Size != int64(len(data)) || e.MTime != now.UnixNano() || e.Hash != blob.Sum(data) {
		t.Fatalf("stdin entry = %+v", e)
	}
	e, ok = res.Manifest.Lookup("empty-stream")
	if !ok || e.Size != 0 || len(e.Chunks) != 0 || e.Hash != blob.Sum(nil) {
		t.Fatalf("empty stream entry = %+v", e)
	}
	dst := t.TempDir()
	if _, err := Restore(ctx, st, res.Manifest, dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "stdin")); !bytes.Equal(b, data) {
		t.Fatal("stdin restored wrong")
	}
	if fi, err := os.Stat(filepath.Join(dst, "empty-stream")); err != nil || fi.Size() != 0 {
		t.Fatalf("empty file: %v", err)
	}
	// An empty tree is a valid version.
	res, err = Pack(ctx, st, []Source{{Path: t.TempDir()}}, Options{})
	if err != nil || len(res.Manifest.Entries) != 0 {
		t.Fatalf("empty directory: %+v, %v", res, err)
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	for _, tc := range []struct {
		args []string
		want []string // names
	}{
		{[]string{filepath.Join(dir, "d")}, []string{""}},
		{[]string{filepath.Join(dir, "d") + "/"}, []string{""}},
		{[]string{filepath.Join(dir, "a.txt")}, []string{"a.txt"}},
		{[]string{filepath.Join(dir, "d"), filepath.Join(dir, "a.txt")}, []string{"d", "a.txt"}},
		{[]string{"-"}, []string{"stdin"}},
	} {
		srcs, err := Sources(tc.args, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range srcs {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("Sources(%v) names = %q, want %q", tc.args, names, tc.want)
		}
	}
	if _, err := Sources([]string{filepath.Join(dir, "nope")}, nil); !errors.Is(errors.NotExist, err) {
		t.Errorf("missing path: %v", err)
	}
}

func TestPackRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) []Source
		kind  errors.Kind
		want  string
	}{
		{"absolute symlink", func(t *testing.T, dir string) []Source {
			os.Symlink("/etc/passwd", filepath.Join(dir, "l"))
			return []Source{{Path: dir}}
		}, errors.Invalid, "points outside"},
		{"escaping symlink", func(t *testing.T, dir string) []Source {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.Symlink("../../x", filepath.Join(dir, "sub", "l"))
			return []Source{{Path: dir}}
		}, errors.Invalid, "points outside"},
		{"symlink escaping its source dir under a name", func(t *testing.T, dir string) []Source {
			os.Mkdir(filepath.Join(dir, "src"), 0o755)
			os.Symlink("../other", filepath.Join(dir, "src", "l"))
			return []Source{{Name: "data", Path: filepath.Join(dir, "src")}}
		}, errors.Invalid, "points outside"},
		{"symlink given directly", func(t *testing.T, dir string) []Source {
			os.Symlink("x", filepath.Join(dir, "l"))
			return []Source{{Name: "l", Path: filepath.Join(dir, "l")}}
		}, errors.Invalid, "points outside"},
		{"fifo", func(t *testing.T, dir string) []Source {
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
				t.Skip(err)
			}
			return []Source{{Path: dir}}
		}, errors.Invalid, "not a regular file"},
		{"control character in a name", func(t *testing.T, dir string) []Source {
			write(t, filepath.Join(dir, "bad\nname"), []byte("x"), 0o644)
			return []Source{{Path: dir}}
		}, errors.Invalid, "control character"},
		{"same path twice", func(t *testing.T, dir string) []Source {
			write(t, filepath.Join(dir, "a"), []byte("x"), 0o644)
			return []Source{{Name: "a", Path: filepath.Join(dir, "a")}, {Name: "a", Reader: strings.NewReader("y")}}
		}, errors.Invalid, "same path"},
		{"missing source", func(t *testing.T, dir string) []Source {
			return []Source{{Path: filepath.Join(dir, "nope")}}
		}, errors.NotExist, "cannot read"},
		{"bad stream name", func(t *testing.T, dir string) []Source {
			return []Source{{Name: "../x", Reader: strings.NewReader("y")}}
		}, errors.Invalid, ".."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memblob.New(false)
			_, err := Pack(ctx, st, tc.setup(t, t.TempDir()), Options{Params: testParams})
			if !errors.Is(tc.kind, err) || !strings.Contains(errors.SafeMessage(err), tc.want) {
				t.Fatalf("err = %v (message %q), want %v mentioning %q", err, errors.SafeMessage(err), tc.kind, tc.want)
			}
			if ids, _ := st.Enumerate(ctx, "", 0); len(ids) != 0 {
				t.Fatalf("a refused pack stored %d chunks", len(ids))
			}
		})
	}
}

func TestFileChangedWhilePacking(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, []byte("0123456789"), 0o644)
	for _, size := range []int64{5, 20} {
		it := &item{fsPath: p, e: manifest.Entry{Path: "f", Type: manifest.File, Size: size}}
		ms := &multiStream{items: []*item{it}, prog: &Progress{}}
		_, err := io.ReadAll(ms)
		if !errors.Is(errors.Conflict, err) {
			t.Errorf("scanned size %d, file has 10 bytes: err = %v, want conflict", size, err)
		}
	}
}

func TestRestoreStaysInsideDest(t *testing.T) {
	ctx := context.Background()
	st := memblob.New(false)
	data := []byte("payload")
	id := blob.Sum(data)
	st.Put(ctx, id, data)
	file := func(p string) manifest.Entry {
		return manifest.Entry{Path: p, Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id, Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}
	}
	outside := t.TempDir()
	base := t.TempDir()
	dest := filepath.Join(base, "dest")
	// A manifest that did not come through the decoder.
	for _, p := range []string{"../escape", "/abs", "a/../../escape"} {
		m := &manifest.Manifest{Entries: []manifest.Entry{file(p)}}
		if _, err := Restore(ctx, st, m, dest, RestoreOptions{}); !errors.Is(errors.Invalid, err) {
			t.Errorf("path %q: err = %v, want invalid", p, err)
		}
	}
	// A symlink already in dest that points outside is not followed.
	os.MkdirAll(dest, 0o755)
	if err := os.Symlink(outside, filepath.Join(dest, "evil")); err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Entries: []manifest.Entry{file("evil/x")}}
	if _, err := Restore(ctx, st, m, dest, RestoreOptions{}); err == nil {
		t.Error("restore wrote through a symlink out of dest")
	}
	// A file restored over an existing link replaces the link.
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dest, "link"))
	m = &manifest.Manifest{Entries: []manifest.Entry{file("link")}}
	if _, err := Restore(ctx, st, m, dest, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("restore wrote outside dest: %v", ents)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 1 {
		t.Fatalf("restore wrote next to dest: %v", ents)
	}
}

func TestRestoreDetectsDamage(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 3))
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), randBytes(r, 5<<20), 0o644) // large: hashed on its own goroutine
	write(t, filepath.Join(src, "b"), randBytes(r, 500), 0o644)
	for _, damage := range []string{"corrupt", "missing", "wrong-file-hash"} {
		t.Run(damage, func(t *testing.T) {
			st := memblob.New(false)
			res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			e, _ := m.Lookup("a")
			victim := e.Chunks[1].ID
			var wantKind errors.Kind
			switch damage {
			case "corrupt":
				st.CorruptStored(victim, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
				wantKind = errors.Internal
			case "missing":
				st.Remove(ctx, victim)
				wantKind = errors.NotExist
				if ids, _ := blob.Missing(ctx, st, m.ChunkIDs()); !slices.Equal(ids, []blob.ID{victim}) {
					t.Fatalf("Missing = %v, want [%v]", ids, victim)
				}
			case "wrong-file-hash":
				m.Entries[0].Hash = blob.Sum([]byte("lie"))
				wantKind = errors.Internal
			}
			dst := t.TempDir()
			if _, err := Restore(ctx, st, m, dst, RestoreOptions{}); !errors.Is(wantKind, err) {
				t.Fatalf("Restore: err = %v, want %v", err, wantKind)
			}
			if _, err := os.Stat(filepath.Join(dst, "a")); !os.IsNotExist(err) {
				t.Fatalf("a damaged file was restored under its name")
			}
			ents, _ := os.ReadDir(dst)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".genesis-restore-") {
					t.Fatalf("temp file left behind: %s", e.Name())
				}
			}
			rep, err := Verify(ctx, st, m, 2)
			if err != nil {
				t.Fatal(err)
			}
			switch damage {
			case "corrupt":
				if !slices.Equal(rep.Corrupt, []blob.ID{victim}) || len(rep.Missing) != 0 {
					t.Fatalf("Verify = %+v", rep)
				}
			case "missing":
				if !slices.Equal(rep.Missing, []blob.ID{victim}) || len(rep.Corrupt) != 0 {
					t.Fatalf("Verify = %+v", rep)
				}
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), randBytes(rand.New(rand.NewPCG(4, 4)), 100000), 0o644)
	st := memblob.New(false)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams}); !errors.Is(errors.Canceled, err) {
		t.Fatalf("Pack with a canceled context: %v", err)
	}
	if _, err := Restore(ctx, st, res.Manifest, t.TempDir(), RestoreOptions{}); !errors.Is(errors.Canceled, err) {
		t.Fatalf("Restore with a canceled context: %v", err)
	}
}

// discard is a store that keeps only ids: for measuring Pack's own memory.
type discard struct {
	mu  sync.Mutex
	ids map[blob.ID]int64
}

func (d *discard) Put(ctx context.Context, id blob.ID, data []byte) error {
	if err := blob.CheckPut("discard.Put", id, data); err != nil {
		return err
	}
	d.mu.Lock()
	d.ids[id] = int64(len(data))
	d.mu.Unlock()
	return nil
}

func (d *discard) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.ids[id]; ok {
		return blob.Info{ID: id, Size: n}, nil
	}
	return blob.Info{}, blob.NotFound("discard.Stat", id)
}

// prng is an endless deterministic stream of pseudo-random bytes.
type prng struct {
	r *rand.ChaCha8
	n int64
}

func (p *prng) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	p.r.Read(b)
	p.n -= int64(len(b))
	return len(b), nil
}

// peakHeap samples the heap while f runs.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

func TestBoundedMemory(t *testing.T) {
	size := int64(256 << 20)
	if testing.Short() {
		size = 64 << 20
	}
	st := &discard{ids: map[blob.ID]int64{}}
	runtime.GC()
	var res *Result
	var err error
	peak := peakHeap(func() {
		res, err = Pack(context.Background(), st, []Source{{Name: "big", Reader: &prng{r: rand.NewChaCha8([32]byte{1}), n: size}}}, Options{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Bytes != size {
		t.Fatalf("packed %d bytes, want %d", res.Stats.Bytes, size)
	}
	t.Logf("peak heap %d MiB packing %d MiB", peak>>20, size>>20)
	if peak > 150<<20 {
		t.Fatalf("peak heap %d MiB packing a %d MiB stream; want bounded (< 150 MiB)", peak>>20, size>>20)
	}
}

func TestPackIntoLocaldisk(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	src := t.TempDir()
	randomTree(t, r, src, 40)
	st, err := localdisk.Open(t.TempDir(), localdisk.Options{Compression: chunk.Default})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Pack(ctx, st, []Source{{Name: "data", Path: src}}, Options{Params: testParams})
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Get(ctx, st, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := Restore(ctx, st, m, dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	want := tree(t, src)
	got := tree(t, filepath.Join(dst, "data"))
	sameTree(t, want, got)
}

// batching counts how a store is asked about missing chunks.
type batching struct {
	*memblob.Store
	missingCalls, stats atomic.Int64
}

func (b *batching) Missing(ctx context.Context, ids []blob.ID) ([]blob.ID, error) {
	b.missingCalls.Add(1)
	var out []blob.ID
	for _, id := range ids {
		if _, err := b.Store.Stat(ctx, id); errors.Is(errors.NotExist, err) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (b *batching) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	b.stats.Add(1)
	return b.Store.Stat(ctx, id)
}

func TestPackAsksInBatches(t *testing.T) {
	st := &batching{Store: memblob.New(false)}
	data := randBytes(rand.New(rand.NewPCG(6, 6)), 400000)
	res, err := Pack(context.Background(), st, []Source{{Name: "f", Reader: bytes.NewReader(data)}}, Options{Params: testParams, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.stats.Load() != 0 || st.missingCalls.Load() == 0 || st.missingCalls.Load() > int64(res.Chunks) {
		t.Fatalf("%d chunks: %d Missing calls, %d Stat calls", res.Chunks, st.missingCalls.Load(), st.stats.Load())
	}
	if len(res.New) != res.Chunks {
		t.Fatalf("new %d of %d chunks", len(res.New), res.Chunks)
	}
}

// flaky fails every Put after the first n.
type flaky struct {
	*memblob.Store
	n atomic.Int64
}

func (f *flaky) Put(ctx context.Context, id blob.ID, data []byte) error {
	if f.n.Add(-1) < 0 {
		return errors.E("flaky.Put", errors.Transient, errors.Msg("connection reset"))
	}
	return f.Store.Put(ctx, id, data)
}

func TestInterruptedPackResumes(t *testing.T) {
	ctx := context.Background()
	mem := memblob.New(false)
	data := randBytes(rand.New(rand.NewPCG(8, 8)), 300000)
	src := func() []Source { return []Source{{Name: "f", Reader: bytes.NewReader(data)}} }
	st := &flaky{Store: mem}
	st.n.Store(10)
	if _, err := Pack(ctx, st, src(), Options{Params: testParams}); !errors.Is(errors.Transient, err) {
		t.Fatalf("interrupted pack: err = %v, want transient", err)
	}
	stored, _ := mem.Enumerate(ctx, "", 1<<20)
	if len(stored) != 10 {
		t.Fatalf("%d chunks stored before the failure, want 10", len(stored))
	}
	res, err := Pack(ctx, mem, src(), Options{Params: testParams})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.New) != res.Chunks-10 {
		t.Fatalf("resumed pack uploaded %d of %d chunks; %d were already stored", len(res.New), res.Chunks, 10)
	}
}

// unverified is a getter whose chunks restore does not hash on the way:
// GetUnverified hands out damaged bytes for the chunks in damaged.
type unverified struct {
	*memblob.Store
	damaged map[blob.ID][]byte
}

func (u unverified) GetUnverified(ctx context.Context, id blob.ID) ([]byte, error) {
	if b, ok := u.damaged[id]; ok {
		return b, nil
	}
	return u.Store.Get(ctx, id, 0, -1)
}

func TestRestoreUnverifiedChecksFileHash(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 9))
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), randBytes(r, 5<<20), 0o644) // large: hashed on its own goroutine
	write(t, filepath.Join(src, "b"), randBytes(r, 500), 0o644)   // small: a piece of a shared chunk
	st := memblob.New(false)
	res, err := Pack(ctx, st, []Source{{Path: src}}, Options{Params: testParams})
	if err != nil {
		t.Fatal(err)
	}
	// Undamaged, it restores.
	if _, err := Restore(ctx, unverified{Store: st}, res.Manifest, t.TempDir(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			e, _ := res.Manifest.Lookup(name)
			victim := e.Chunks[len(e.Chunks)-1]
			good, _ := st.Get(ctx, victim.ID, 0, -1)
			bad := slices.Clone(good)
			bad[victim.Offset] ^= 1 // a byte of this file's piece
			dst := t.TempDir()
			g := unverified{Store: st, damaged: map[blob.ID][]byte{victim.ID: bad}}
			if _, err := Restore(ctx, g, res.Manifest, dst, RestoreOptions{}); !errors.Is(errors.Internal, err) {
				t.Fatalf("Restore of a damaged chunk, unverified: err = %v, want internal", err)
			}
			if _, err := os.Stat(filepath.Join(dst, name)); !os.IsNotExist(err) {
				t.Fatalf("a damaged file was restored under its name")
			}
		})
	}
}

// choppy returns its data in reads of random, often tiny, sizes.
type choppy struct {
	r    *rand.Rand
	data []byte
}

func (c *choppy) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.r.IntN(3*testParams.Max))
	if c.r.IntN(4) == 0 {
		n = min(n, 1+c.r.IntN(64))
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestPackChunksLikeReference: whatever the read sizes and however the
// bytes fall across Pack's read segments, a stream's chunks are exactly
// those chunk.Params.Cut gives with the whole stream in memory (the
// boundaries dedup against stored data depends on).
func TestPackChunksLikeReference(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(0); seed < 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		// Runs of random bytes and of zeros (which cut only at Max).
		var data []byte
		for len(data) < 20*testParams.Max+r.IntN(9*testParams.Max) {
			if r.IntN(3) == 0 {
				data = append(data, make([]byte, r.IntN(3*testParams.Max))...)
			} else {
				data = append(data, randBytes(r, r.IntN(2*testParams.Max))...)
			}
		}
		// The reference: the whole stream in memory, cut by Cut.
		var want []manifest.Chunk
		for d := data; len(d) > 0; {
			n := testParams.Cut(d, true)
			want = append(want, manifest.Chunk{ID: blob.Sum(d[:n]), Size: int64(n)})
			d = d[n:]
		}
		res, err := Pack(ctx, memblob.New(false), []Source{{Name: "s", Reader: &choppy{r: r, data: data}}},
			Options{Params: testParams, Parallel: 1 + int(seed%4), Memory: int64(r.IntN(12 * testParams.Max))})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Manifest.Entries[0].Chunks
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: Pack cut %d chunks, the reference %d (first difference at %d)", seed, len(got), len(want), firstDiff(got, want))
		}
		if res.Manifest.Entries[0].Hash != blob.Sum(data) {
			t.Fatalf("seed %d: file hash differs", seed)
		}
	}
}

func firstDiff(a, b []manifest.Chunk) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
