package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

func TestAppendReopenVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	const n = 700
	for i := 0; i < n; i++ {
		var idx uint64
		var err error
		if i%100 == 0 {
			idx, err = l.AppendSync(ctx, testRecord(i))
		} else {
			idx, err = l.Append(ctx, testRecord(i))
		}
		if err != nil {
			t.Fatal(err)
		}
		if idx != uint64(i) {
			t.Fatalf("index %d, want %d", idx, i)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, testRecord(0)); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("append after close: %v", err)
	}
	rep, err := Verify(ctx, dir, v)
	if err != nil {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if rep.Entries != n || rep.Checkpoint.Size != n || rep.Tiles != 2 {
		t.Fatalf("report %+v", rep)
	}

	l = openTest(t, dir, s, v)
	defer l.Close()
	if sz, _ := l.Size(ctx); sz != n {
		t.Fatalf("size %d", sz)
	}
	for _, i := range []uint64{0, 1, 255, 256, 257, 511, 512, 699} {
		r, err := l.Get(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(testRecord(int(i)), r); diff != "" {
			t.Fatalf("Get(%d): %s", i, diff)
		}
	}
	if _, err := l.Get(ctx, n); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Get(n): %v", err)
	}
	tail, err := l.Tail(ctx, 3)
	if err != nil || len(tail) != 3 || tail[0].Index != n-3 || tail[2].Record.ObjectID != testRecord(n-1).ObjectID {
		t.Fatalf("tail %v %v", tail, err)
	}
	// Appending continues after reopen.
	if idx, err := l.AppendSync(ctx, testRecord(n)); err != nil || idx != n {
		t.Fatalf("append after reopen: %d %v", idx, err)
	}
	cp, _, _ := l.Checkpoint(ctx)
	if cp.Size != n+1 {
		t.Fatalf("checkpoint size %d", cp.Size)
	}
}

// TestWriteFailureIsSticky: once the log cannot be written, AppendSync
// fails (so the caller fails the action, AU-5), and so does every later
// append, and Close reports it.
func TestWriteFailureIsSticky(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	if _, err := l.AppendSync(ctx, testRecord(0)); err != nil {
		t.Fatal(err)
	}
	var fail atomic.Bool
	l.mu.Lock()
	l.failHook = func() error {
		if fail.Load() {
			return fmt.Errorf("disk on fire")
		}
		return nil
	}
	l.mu.Unlock()
	fail.Store(true)
	if _, err := l.AppendSync(ctx, testRecord(1)); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("AppendSync on a failing disk: %v", err)
	}
	if _, err := l.Append(ctx, testRecord(2)); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("Append after failure: %v", err)
	}
	fail.Store(false)
	if _, err := l.AppendSync(ctx, testRecord(3)); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("failure is not sticky: %v", err)
	}
	if err := l.Close(); err == nil {
		t.Fatal("Close hid the failure")
	}
	// The acknowledged entry survives and the log still verifies.
	if rep, err := Verify(ctx, dir, v); err != nil || rep.Checkpoint.Size != 1 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// TestOpenRepairs: leftovers of a crash (a torn trailing entry, temporary
// files, entries after the checkpoint) are repaired by Open.
func TestOpenRepairs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	for i := 0; i < 300; i++ {
		if _, err := l.Append(ctx, testRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Entries after the checkpoint, one of them torn, and temp files.
	var extra []byte
	for i := 300; i < 310; i++ {
		e, _ := EncodeRecord(testRecord(i))
		extra = binary.BigEndian.AppendUint16(extra, uint16(len(e)))
		extra = append(extra, e...)
	}
	extra = append(extra, 0, 50, '{')
	f, err := os.OpenFile(filepath.Join(dir, entriesFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(extra)
	f.Close()
	for _, name := range []string{tmpCheckpoint, tmpTile} {
		os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o600)
	}
	rep, err := Verify(ctx, dir, v)
	if err != nil || rep.Pending != 10 || rep.TornBytes != 3 {
		t.Fatalf("before repair: %v %+v", err, rep)
	}
	l = openTest(t, dir, s, v)
	if sz, _ := l.Size(ctx); sz != 310 {
		t.Fatalf("size after repair %d", sz)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err = Verify(ctx, dir, v)
	if err != nil || rep.Pending != 0 || rep.TornBytes != 0 || rep.Checkpoint.Size != 310 {
		t.Fatalf("after repair: %v %+v", err, rep)
	}
}

// TestOpenRefusesTampered: Open fails closed on a log that does not match
// its checkpoint.
func TestOpenRefusesTampered(t *testing.T) {
	ctx := context.Background()
	s, v := testKeys(t)
	for _, c := range []struct {
		name   string
		damage func(dir string)
	}{
		// Open re-hashes only the entries after the last full tile; an
		// entry inside a full tile is caught by Verify (TestTamper).
		{"recent entry changed", func(dir string) { flipByteFromEnd(t, filepath.Join(dir, entriesFile), 100) }},
		{"entries truncated", func(dir string) { os.Truncate(filepath.Join(dir, entriesFile), 50) }},
		{"checkpoint changed", func(dir string) { flipByte(t, filepath.Join(dir, checkpointF), 30) }},
		{"tile changed", func(dir string) { flipByte(t, filepath.Join(dir, "tile", "0", "000"), 5) }},
		{"checkpoint removed", func(dir string) {
			os.Remove(filepath.Join(dir, checkpointF))
			os.Remove(filepath.Join(dir, prevCheckptF))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, s, v)
			for i := 0; i < 300; i++ {
				l.Append(ctx, testRecord(i))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			c.damage(dir)
			before := dirContents(t, dir)
			if l, err := Open(ctx, dir, Options{Signer: s, Verifier: v}); err == nil {
				l.Close()
				t.Fatal("opened a damaged log")
			}
			// The evidence is left as it was.
			if diff := cmp.Diff(before, dirContents(t, dir)); diff != "" {
				t.Fatalf("a refused Open changed the directory: %s", diff)
			}
		})
	}
	// And a second process cannot open a log in use.
	dir := t.TempDir()
	l := openTest(t, dir, s, v)
	defer l.Close()
	if l2, err := Open(ctx, dir, Options{Signer: s, Verifier: v}); !errors.Is(errors.Conflict, err) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second open: %v", err)
	}
}

func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipByteFromEnd(t *testing.T, path string, off int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, path, int(fi.Size())-off)
}

func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
