package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
)

// trustedRecord is record i of history h: histories agree on their first
// 300 records and differ after.
func trustedRecord(h string, i int) audit.Record {
	r := audit.Record{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Principal: "user", Action: "dataset.read", ObjectType: "dataset", ObjectID: fmt.Sprint(i), Decision: audit.Allow}
	if i >= 300 {
		r.ObjectID += "-" + h
	}
	return r
}

// TestVerifyTrusted: against a trusted checkpoint saved earlier, verify
// accepts an extension of it (and the same checkpoint) and reports the
// checkpoint proved, and fails on a rollback (a log that holds fewer
// entries, each checkpoint consistent with itself) and on a fork (another
// history signed with the same key, at the same size and at another):
// for a directory and for the shared log on SQLite and PostgreSQL.
func TestVerifyTrusted(t *testing.T) {
	type built struct {
		cp     audit.Checkpoint
		verify func(trusted ...audit.Checkpoint) (audit.Report, error)
	}
	for _, backend := range append([]string{"file"}, backends...) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			s, v := storeKeys(t)
			// build writes the first n records of history h in a new log.
			build := func(h string, n int) built {
				t.Helper()
				var b built
				var err error
				if backend == "file" {
					dir := t.TempDir()
					l, err := audit.Open(ctx, dir, audit.Options{Signer: s, Verifier: v, FlushInterval: time.Millisecond})
					if err != nil {
						t.Fatal(err)
					}
					for i := range n {
						l.Append(ctx, trustedRecord(h, i))
					}
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					b.verify = func(trusted ...audit.Checkpoint) (audit.Report, error) {
						return audit.VerifyFS(ctx, os.DirFS(dir), v, audit.VerifyOptions{Trusted: trusted})
					}
				} else {
					db := sharedDB(t, backend)(t)
					l := openStoreLog(t, db, s, v)
					for i := range n {
						if _, err := l.Append(ctx, trustedRecord(h, i)); err != nil {
							t.Fatal(err)
						}
					}
					b.verify = func(trusted ...audit.Checkpoint) (audit.Report, error) {
						return audit.VerifyStore(ctx, db, v, audit.VerifyOptions{Trusted: trusted})
					}
				}
				rep, err := b.verify()
				if err != nil || rep.Checkpoint.Size != uint64(n) {
					t.Fatalf("%s/%d: %v %+v", h, n, err, rep)
				}
				if _, err := audit.OpenCheckpoint(rep.CheckpointNote, v); err != nil {
					t.Fatalf("the report's checkpoint note: %v", err)
				}
				b.cp = rep.Checkpoint
				return b
			}
			a257, a300, a700 := build("a", 257), build("a", 300), build("a", 700)
			b700, b500 := build("b", 700), build("b", 500)
			empty := build("a", 0)

			for _, c := range []struct {
				name    string
				log     built
				trusted audit.Checkpoint
				want    string // a problem's start; "" for intact
			}{
				{"extension", a700, a300.cp, ""},
				{"extension from a partial tile", a700, a257.cp, ""},
				{"extension from empty", a700, empty.cp, ""},
				{"same checkpoint", a700, a700.cp, ""},
				{"fork after the trusted prefix", b700, a300.cp, ""},
				{"rollback", a300, a700.cp, "log rolled back"},
				{"rollback to empty", empty, a257.cp, "log rolled back"},
				{"fork at the same size", b700, a700.cp, "log forked"},
				{"fork at a smaller size", a700, b500.cp, "log forked"},
			} {
				rep, err := c.log.verify(c.trusted)
				if c.want == "" {
					if err != nil || len(rep.Trusted) != 1 || rep.Trusted[0] != c.trusted {
						t.Errorf("%s: %v %v, want intact with the trusted checkpoint proved", c.name, err, rep.Problems)
					}
					continue
				}
				if err == nil || len(rep.Trusted) != 0 || !strings.HasPrefix(rep.Problems[0], c.want) {
					t.Errorf("%s: %v %q, want a problem %q", c.name, err, rep.Problems, c.want)
				}
			}
		})
	}
}

// TestTrustedFileRoundTrip: a report's checkpoint note saved as --save
// does loads back as --trusted does, and only with the log's key.
func TestTrustedFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := storeKeys(t)
	l, err := audit.Open(ctx, dir, audit.Options{Signer: s, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	l.Append(ctx, trustedRecord("a", 0))
	l.Close()
	rep, err := audit.Verify(ctx, dir, v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cp")
	if err := audit.SaveCheckpoint(p, rep.CheckpointNote); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.LoadCheckpoint(p, v)
	if err != nil || cp != rep.Checkpoint {
		t.Fatalf("%+v %v", cp, err)
	}
	_, other := storeKeys(t)
	if _, err := audit.LoadCheckpoint(p, other); err == nil {
		t.Fatal("a checkpoint loaded with another log's key")
	}
}
