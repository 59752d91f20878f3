package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"golang.org/x/mod/sumdb/tlog"
)

// TestAuditTilesSharedLog: two API servers, each over its own StoreLog on
// one database (two replicas), serve the same C2SP checkpoint and hash
// tiles of the one shared log, which a tlog client checks against the
// signed checkpoint (tlog.TileHashReader verifies every tile it reads) to
// prove an entry's inclusion; entry bundles are answered like missing
// tiles, and so are tiles beyond the tree.
func TestAuditTilesSharedLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "genesis.db")
	skey, vkey, err := audit.GenerateKey(audit.Origin("tiles"))
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	var servers []*httptest.Server
	var logs []*audit.StoreLog
	var token string
	for i := range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := store.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		id := identity.New(db)
		if i == 0 {
			p, err := id.CreatePrincipal(ctx, genesis.Principal{Name: "olive", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleViewer}})
			if err != nil {
				t.Fatal(err)
			}
			if _, token, err = id.CreateToken(ctx, p.ID, "t", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		l, err := audit.OpenStore(ctx, db, audit.Options{Signer: signer, Verifier: verifier, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		az, err := authz.New(id, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(httpapi.New(httpapi.Config{DB: db, Identity: id, Authz: az, AuditLog: l, AuditKey: vkey, Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(ts.Close)
		servers, logs = append(servers, ts), append(logs, l)
	}
	for i := range 300 {
		if _, err := logs[i%2].Append(ctx, audit.Record{Principal: "p", Action: "tile.test", ObjectType: "thing", ObjectID: string(rune('a' + i%26)), Decision: audit.Allow}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(ts *httptest.Server, p string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/audit/tlog/"+p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	code0, cp0 := get(servers[0], "checkpoint")
	code1, cp1 := get(servers[1], "checkpoint")
	if code0 != 200 || code1 != 200 || !bytes.Equal(cp0, cp1) {
		t.Fatalf("checkpoints differ between replicas: %d %q / %d %q", code0, cp0, code1, cp1)
	}
	cp, err := audit.OpenCheckpoint(cp0, verifier)
	if err != nil || cp.Size != 300 {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	// A tlog client reading tiles from the second replica, checking each
	// against the signed tree hash.
	tr := tileFetcher{get: func(p string) (int, []byte) { return get(servers[1], p) }}
	hr := tlog.TileHashReader(tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}, tr)
	for _, idx := range []int64{0, 200, 256, 299} {
		raw, err := logs[0].Entry(ctx, uint64(idx))
		if err != nil {
			t.Fatal(err)
		}
		p, err := tlog.ProveRecord(int64(cp.Size), idx, hr)
		if err != nil {
			t.Fatalf("proof of %d from served tiles: %v", idx, err)
		}
		if err := tlog.CheckRecord(p, int64(cp.Size), cp.Hash, idx, tlog.RecordHash(raw)); err != nil {
			t.Fatalf("entry %d: %v", idx, err)
		}
	}
	for _, p := range []string{"tile/entries/000", "tile/entries/001.p/44", "tile/0/002", "tile/1/000", "nonsense", "tile/0/../../x"} {
		if code, body := get(servers[0], p); code != 404 {
			t.Errorf("%s: %d %q, want 404", p, code, body)
		}
	}
}

// tileFetcher is a tlog.TileReader over the API.
type tileFetcher struct{ get func(string) (int, []byte) }

func (f tileFetcher) Height() int { return 8 }

func (f tileFetcher) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		code, b := f.get("tile/" + t.Path()[len("tile/8/"):])
		if code != 200 {
			return nil, io.ErrUnexpectedEOF
		}
		out[i] = b
	}
	return out, nil
}

func (f tileFetcher) SaveTiles([]tlog.Tile, [][]byte) {}

// TestMutationUnrecordedNotAcknowledged: a mutation whose audit record
// cannot be written is answered 503, not with its success; a refused one
// keeps its own answer; once the log is back, mutations are acknowledged.
func TestMutationUnrecordedNotAcknowledged(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "genesis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	id := identity.New(db)
	token, err := id.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	skey, _, _ := audit.GenerateKey(audit.Origin("unrecorded"))
	signer, verifier, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	real, err := audit.Open(ctx, t.TempDir(), audit.Options{Signer: signer, Verifier: verifier, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { real.Close() })
	log := &failingLog{Log: real}
	ts := httptest.NewServer(httpapi.New(httpapi.Config{DB: db, Identity: id, Authz: az, AuditLog: log, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(ts.Close)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/organizations", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	log.fail = true
	if code, body := post(`{"name": "ornl", "country": "USA"}`); code != 503 || !bytes.Contains([]byte(body), []byte("audit log")) {
		t.Fatalf("unrecorded mutation: %d %s", code, body)
	}
	if code, _ := post(`{"name": "", "country": "USA"}`); code != 400 {
		t.Fatalf("refused mutation without the log: %d, want its own 400", code)
	}
	log.fail = false
	if code, body := post(`{"name": "anl", "country": "USA"}`); code != 201 {
		t.Fatalf("recorded mutation: %d %s", code, body)
	}
	if n, _ := real.Size(ctx); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// failingLog is a real log whose appends fail while fail is set, as a
// replica's do when it cannot reach the shared log.
type failingLog struct {
	*audit.Log
	fail bool
}

func (f *failingLog) Append(ctx context.Context, r audit.Record) (uint64, error) {
	if f.fail {
		return 0, errors.E(errors.Unavailable, errors.Msg("audit log cannot be written"))
	}
	return f.Log.AppendSync(ctx, r)
}
