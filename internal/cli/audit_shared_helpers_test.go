package cli

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/sqlite"
)

// appendShared appends n records to the shared log in the SQLite file.
func appendShared(t *testing.T, path, keyFile string, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, v, err := audit.LoadSigner(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.OpenStore(ctx, db, audit.Options{Signer: s, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range n {
		if _, err := l.Append(ctx, audit.Record{Principal: "p", Action: "cli.test", ObjectType: "thing", Decision: audit.Allow, Detail: string(rune('a' + i%26))}); err != nil {
			t.Fatal(err)
		}
	}
}

// tamperShared changes one byte of entry 3 behind the log's back.
func tamperShared(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(ctx, func(tx store.Tx) error {
		var d []byte
		if err := tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 3`).Scan(&d); err != nil {
			return err
		}
		d[len(d)-1] ^= 1
		_, err := tx.Exec(ctx, `UPDATE audit_entries SET data = ? WHERE idx = 3`, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
