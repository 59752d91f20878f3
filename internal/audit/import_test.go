package audit_test

import (
	"bytes"
	"context"
	stderrors "errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// fileLog writes a file log of n records in dir with the given keys; every
// third record carries a label, so its label hash is keyed with lk.
func fileLog(t *testing.T, dir string, n int, s note.Signer, v note.Verifier, lk audit.LabelKey) {
	t.Helper()
	ctx := context.Background()
	l, err := audit.Open(ctx, dir, audit.Options{Signer: s, Verifier: v, LabelKey: lk, FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := audit.Record{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			Principal: fmt.Sprintf("user-%d", i%7), Action: "dataset.read", ObjectType: "dataset", ObjectID: fmt.Sprintf("ds-%d", i), Decision: audit.Allow}
		if i%3 == 0 {
			r.Label = []byte(fmt.Sprintf("label-%d", i%5))
		}
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// importFrom opens dir as an import source and imports it into l.
func importFrom(ctx context.Context, l *audit.StoreLog, dir string, v note.Verifier, lk audit.LabelKey) (audit.ImportReport, error) {
	src, err := audit.OpenImportSource(ctx, dir, v, lk)
	if err != nil {
		return audit.ImportReport{}, err
	}
	defer src.Close()
	return l.Import(ctx, src)
}

func storeSize(t *testing.T, l *audit.StoreLog) uint64 {
	t.Helper()
	n, err := l.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImport carries a file log into the shared log on SQLite and
// PostgreSQL: bad input (a source that does not verify, the wrong source
// key, another label key, a source in use, a target with other records)
// is refused and writes nothing; a crash in the middle of the copy (a
// batch that fails before commit) leaves a verifiable prefix that the
// next run resumes; a finished import run again writes nothing. The
// result holds the source's entries byte for byte, so its root at the
// source's size is the source checkpoint's (a consistency proof from the
// old checkpoint to the new one verifies), then the import record; the
// copied label hashes still match under the shared label key.
func TestImport(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			src := t.TempDir()
			srcS, srcV := storeKeys(t)
			lk := audit.NewLabelKey()
			const n = 5000 // three batches of at most 2048
			fileLog(t, src, n, srcS, srcV, lk)
			srcRep, err := audit.Verify(ctx, src, srcV)
			if err != nil {
				t.Fatal(err)
			}

			open := sharedDB(t, b)
			db := open(t)
			s, v := storeKeys(t)
			withLabelKey := func(db store.DB, k audit.LabelKey) *audit.StoreLog {
				l, err := audit.OpenStore(ctx, db, audit.Options{Signer: s, Verifier: v, LabelKey: k})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return l
			}
			l := withLabelKey(db, lk)

			// Bad input writes nothing.
			corrupt := t.TempDir()
			if out, err := exec.Command("cp", "-a", src+"/.", corrupt).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			ef := filepath.Join(corrupt, "entries")
			data, _ := os.ReadFile(ef)
			data[len(data)/2] ^= 1
			os.WriteFile(ef, data, 0o600)
			_, otherV := storeKeys(t)
			inUse, err := audit.Open(ctx, src, audit.Options{Signer: srcS, Verifier: srcV, LabelKey: lk})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := importFrom(ctx, l, src, srcV, lk); err == nil || !strings.Contains(err.Error(), "in use") {
				t.Errorf("import of a log in use: %v", err)
			}
			inUse.Close()
			for _, c := range []struct {
				name, dir string
				v         note.Verifier
				lk        audit.LabelKey
				l         *audit.StoreLog
				want      string
			}{
				{"corrupt source", corrupt, srcV, lk, l, "does not verify"},
				{"wrong source key", src, otherV, lk, l, "does not verify"},
				{"target's own key for the source", src, v, lk, l, "does not verify"},
				{"another label key", src, srcV, lk, withLabelKey(db, audit.NewLabelKey()), "label key"},
				{"no label key", src, srcV, nil, l, "label key"},
				{"no source", t.TempDir(), srcV, lk, l, "does not verify"},
			} {
				if _, err := importFrom(ctx, c.l, c.dir, c.v, c.lk); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
				}
				if got := storeSize(t, l); got != 0 {
					t.Fatalf("%s: wrote %d entries", c.name, got)
				}
			}
			// A target with other records.
			busy := withLabelKey(sharedDB(t, b)(t), lk)
			for i := range 3 {
				busy.Append(ctx, audit.Record{Principal: "p", Action: "x", Decision: audit.Allow, Detail: fmt.Sprint(i)})
			}
			if _, err := importFrom(ctx, busy, src, srcV, lk); err == nil || !strings.Contains(err.Error(), "other records") {
				t.Errorf("import into a log with other records: %v", err)
			}
			if got := storeSize(t, busy); got != 3 {
				t.Fatalf("import into a log with other records changed it to %d entries", got)
			}

			// A crash in the middle: the second batch fails before commit.
			crash := stderrors.New("injected crash")
			audit.SetBatchHook(l, func(first uint64, k int) error {
				if first > 0 {
					return crash
				}
				return nil
			})
			if _, err := importFrom(ctx, l, src, srcV, lk); !stderrors.Is(err, crash) || !strings.Contains(err.Error(), "run the import again") {
				t.Fatalf("import with a crash: %v", err)
			}
			if got := storeSize(t, l); got != 2048 {
				t.Fatalf("after the crash the shared log holds %d entries, want the first batch (2048)", got)
			}
			mustVerifyStore(t, db, v)

			// Resume, as a new process would.
			l2 := withLabelKey(open(t), lk)
			rep, err := importFrom(ctx, l2, src, srcV, lk)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Found != 2048 || rep.Copied != n-2048 || rep.AlreadyDone || rep.Record != n || rep.Target.Size != n+1 || rep.Source != srcRep.Checkpoint {
				t.Fatalf("resumed import: %+v", rep)
			}
			again, err := importFrom(ctx, l2, src, srcV, lk)
			if err != nil || !again.AlreadyDone || again.Copied != 0 || again.Target != rep.Target {
				t.Fatalf("import run again: %+v %v", again, err)
			}
			if got := storeSize(t, l2); got != n+1 {
				t.Fatalf("import run again: %d entries", got)
			}
			vrep := mustVerifyStore(t, db, v)
			if vrep.Checkpoint != rep.Target {
				t.Fatalf("verified %+v, import reported %+v", vrep.Checkpoint, rep.Target)
			}

			// The source's checkpoints, opened with its key, are trusted
			// checkpoints of the shared log up to the import's size; a
			// checkpoint of a log it did not import is not.
			trusted := []audit.Checkpoint{srcRep.Checkpoint}
			if srcRep.Previous != nil && srcRep.Previous.Size > 0 {
				trusted = append(trusted, *srcRep.Previous)
			}
			if vrep, err := audit.VerifyStore(ctx, db, v, audit.VerifyOptions{Trusted: trusted}); err != nil || len(vrep.Trusted) != len(trusted) {
				t.Fatalf("the source's checkpoints as trusted: %v %v %v", err, vrep.Problems, vrep.Trusted)
			}
			stranger := srcRep.Checkpoint
			stranger.Origin = "example.org/never-imported"
			if vrep, err := audit.VerifyStore(ctx, db, v, audit.VerifyOptions{Trusted: []audit.Checkpoint{stranger}}); err == nil || !strings.Contains(vrep.Problems[0], "another log") {
				t.Fatalf("a checkpoint of a log never imported as trusted: %v %v", err, vrep.Problems)
			}

			// The source's entries, byte for byte, and the import record.
			snap, err := audit.OpenSnapshot(ctx, src, srcV)
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			for i := uint64(0); i < n; i++ {
				want, _ := snap.Entry(ctx, i)
				got, err := l2.Entry(ctx, i)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("entry %d: %q, want %q (%v)", i, got, want, err)
				}
				if i%3 == 0 {
					r, _ := l2.Get(ctx, i)
					if !l2.LabelMatches(r, []byte(fmt.Sprintf("label-%d", i%5))) || l2.LabelMatches(r, []byte("other")) {
						t.Fatalf("entry %d: its label hash does not match under the shared label key", i)
					}
				}
			}
			r, err := l2.Get(ctx, n)
			if err != nil || r.Action != audit.ImportAction || r.ObjectID != srcS.Name() || r.Detail != audit.ImportDetail(rep.Source, rep.SourceNote) {
				t.Fatalf("import record: %+v %v", r, err)
			}
			if _, err := audit.OpenCheckpoint([]byte(r.Detail[strings.IndexByte(r.Detail, '\n')+1:]), srcV); err != nil {
				t.Fatalf("the import record's checkpoint does not verify with the source's key: %v", err)
			}
			// The old checkpoint is a prefix of the new log.
			p, err := l2.ProveConsistency(ctx, n, rep.Target.Size)
			if err != nil {
				t.Fatal(err)
			}
			pb := make([][]byte, len(p))
			for i := range p {
				pb[i] = p[i][:]
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, n, rep.Target.Size, pb, rep.Source.Hash[:], rep.Target.Hash[:]); err != nil {
				t.Fatalf("the source checkpoint is not a prefix of the shared log: %v", err)
			}
			// Replicas append after the import record.
			if idx, err := l2.AppendSync(ctx, audit.Record{Principal: "p", Action: "x", Decision: audit.Allow}); err != nil || idx != n+1 {
				t.Fatalf("append after import: %d %v", idx, err)
			}
			if _, err := importFrom(ctx, l2, src, srcV, lk); err == nil || !strings.Contains(err.Error(), "other records") {
				t.Fatalf("import after replicas appended: %v", err)
			}
		})
	}
}

// BenchmarkImport imports a file log of 20,000 records into a fresh
// shared log per iteration and reports entries per second, and the same
// for verifying the source alone (the first step of an import), so their
// ratio shows what the copy costs on top of the check. One run (-benchtime
// 3x, 2 cores under a load of 16): verify 82.5 k entries/s, import into
// SQLite 26.5 k/s, into PostgreSQL 19.1 k/s.
func BenchmarkImport(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	src := b.TempDir()
	srcS, srcV := storeKeys(b)
	lk := audit.NewLabelKey()
	l, err := audit.Open(ctx, src, audit.Options{Signer: srcS, Verifier: srcV, LabelKey: lk})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		l.Append(ctx, audit.Record{Principal: fmt.Sprintf("user-%d", i%50), Action: "dataset.read", ObjectType: "dataset",
			ObjectID: fmt.Sprintf("ds-%08d", i), Decision: audit.Allow, RequestID: fmt.Sprintf("req-%d", i), Label: []byte("PROPRIETARY")})
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("verify-source", func(b *testing.B) {
		for b.Loop() {
			if _, err := audit.Verify(ctx, src, srcV); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			s, v := storeKeys(b)
			for b.Loop() {
				b.StopTimer()
				db := sharedDB(b, backend)(b)
				l, err := audit.OpenStore(ctx, db, audit.Options{Signer: s, Verifier: v, LabelKey: lk})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if rep, err := importFrom(ctx, l, src, srcV, lk); err != nil || rep.Copied != n {
					b.Fatalf("%+v %v", rep, err)
				}
				b.StopTimer()
				l.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// TestImportRecordChecked: verify checks every import record's claim (the
// imported log's root at its size) against the entries before it, and
// refuses a malformed one or one out of place.
func TestImportRecordChecked(t *testing.T) {
	ctx := context.Background()
	s, v := storeKeys(t)
	srcS, _ := storeKeys(t)
	for _, c := range []struct {
		name   string
		detail func(root audit.Checkpoint) string
		want   string
	}{
		{"true claim", func(cp audit.Checkpoint) string { return importClaim(t, srcS, cp) }, ""},
		{"wrong root", func(cp audit.Checkpoint) string { cp.Hash[0] ^= 1; return importClaim(t, srcS, cp) }, "the imported entries were changed"},
		{"wrong size", func(cp audit.Checkpoint) string { cp.Size--; return importClaim(t, srcS, cp) }, "must be entry"},
		{"malformed", func(cp audit.Checkpoint) string { return "imported from nowhere" }, "malformed import record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := sharedDB(t, "sqlite")(t)
			l := openStoreLog(t, db, s, v)
			for i := range 3 {
				l.Append(ctx, audit.Record{Principal: "p", Action: "x", Decision: audit.Allow, Detail: fmt.Sprint(i)})
			}
			cp, _, _ := l.Checkpoint(ctx)
			cp.Origin = srcS.Name()
			l.Append(ctx, audit.Record{Principal: audit.ImportPrincipal, Action: audit.ImportAction, ObjectType: "audit_log", ObjectID: srcS.Name(), Decision: audit.Allow, Detail: c.detail(cp)})
			rep, err := audit.VerifyStore(ctx, db, v, audit.VerifyOptions{})
			if c.want == "" {
				if err != nil {
					t.Fatalf("%v %v", err, rep.Problems)
				}
				return
			}
			if err == nil || !strings.Contains(rep.Problems[0], c.want) {
				t.Fatalf("%v %q, want a problem %q", err, rep.Problems, c.want)
			}
		})
	}
}

// importClaim is the detail of an import record for cp, signed by s.
func importClaim(t *testing.T, s note.Signer, cp audit.Checkpoint) string {
	t.Helper()
	msg, err := audit.SignCheckpoint(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	return audit.ImportDetail(cp, msg)
}
