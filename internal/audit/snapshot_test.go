package audit

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

// TestSnapshotWhileAppending reads a log, and proves inclusion and
// consistency, from a read-only snapshot while a writer keeps appending.
func TestSnapshotWhileAppending(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	defer l.Close()
	var prev *Checkpoint
	for round, n := 0, 0; round < 5; round++ {
		for k := 0; k < 157*(round+1); k, n = k+1, n+1 {
			if _, err := l.Append(ctx, testRecord(n)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.AppendSync(ctx, testRecord(n)); err != nil {
			t.Fatal(err)
		}
		n++
		// Keep appending while the snapshot is open.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for k := 0; k < 50; k++ {
				l.Append(ctx, testRecord(100000+k))
			}
		}()
		// Verify works on a live log too.
		if rep, err := Verify(ctx, dir, v); err != nil {
			t.Fatalf("verify while appending: %v %v", err, rep.Problems)
		}
		snap, err := OpenSnapshot(ctx, dir, v)
		if err != nil {
			t.Fatal(err)
		}
		cp, msg := snap.Checkpoint()
		if got, err := OpenCheckpoint(msg, v); err != nil || got != cp {
			t.Fatalf("snapshot checkpoint: %v", err)
		}
		size, _ := snap.Size(ctx)
		if size != cp.Size || size < uint64(n) {
			t.Fatalf("snapshot size %d, checkpoint %d, appended %d", size, cp.Size, n)
		}
		tail, err := snap.Tail(ctx, 5)
		if err != nil || len(tail) != 5 || tail[4].Index != size-1 {
			t.Fatalf("tail: %v %v", tail, err)
		}
		for _, i := range []uint64{0, size / 3, size - 1} {
			e, err := snap.Entry(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			le, err := l.Entry(ctx, i)
			if err != nil || !cmp.Equal(e, le) {
				t.Fatalf("entry %d differs between snapshot and log", i)
			}
			p, err := snap.ProveInclusion(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(cp, i, e, p); err != nil {
				t.Fatalf("inclusion of %d: %v", i, err)
			}
		}
		if _, err := snap.Get(ctx, size); !errors.Is(errors.NotExist, err) {
			t.Fatalf("Get past the checkpoint: %v", err)
		}
		if prev != nil {
			p, err := snap.ProveConsistency(ctx, prev.Size, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(*prev, cp, p); err != nil {
				t.Fatal(err)
			}
		}
		prev = &cp
		snap.Close()
		<-done
	}
}

// TestRollbackDetected: a directory restored to an older state verifies on
// its own (it was genuinely signed), but not against a checkpoint the
// verifier saw later.
func TestRollbackDetected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	for i := 0; i < 400; i++ {
		l.Append(ctx, testRecord(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", dir+"/.", old).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	l = openTest(t, dir, s, v)
	for i := 400; i < 900; i++ {
		l.Append(ctx, testRecord(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, dir, v)
	if err != nil {
		t.Fatal(err)
	}
	seen := rep.Checkpoint
	if _, err := Verify(ctx, old, v); err != nil {
		t.Fatalf("old state should verify on its own: %v", err)
	}
	rep, err = VerifyFS(ctx, os.DirFS(old), v, VerifyOptions{Trusted: []Checkpoint{seen}})
	if err == nil || rep.Intact() {
		t.Fatal("rollback not detected")
	}
	// A trusted checkpoint that the log extends is fine.
	var older Checkpoint
	rep, err = Verify(ctx, old, v)
	if err != nil {
		t.Fatal(err)
	}
	older = rep.Checkpoint
	if rep, err := VerifyFS(ctx, os.DirFS(dir), v, VerifyOptions{Trusted: []Checkpoint{older}}); err != nil {
		t.Fatalf("extension rejected: %v %v", err, rep.Problems)
	}
	// A forked history (same size, different root) is detected.
	forked := older
	forked.Hash[3] ^= 1
	if _, err := VerifyFS(ctx, os.DirFS(dir), v, VerifyOptions{Trusted: []Checkpoint{forked}}); err == nil {
		t.Fatal("fork not detected")
	}
}
