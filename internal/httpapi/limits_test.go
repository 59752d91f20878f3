package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestHalfSentBodiesDoNotHoldConnections: a client that sends its headers
// and half its body, then nothing, loses the connection once the body's
// (here very short) grace period is over — whether it is turned away
// before its body is read (no token) or its body is being read.
func TestHalfSentBodiesDoNotHoldConnections(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	id := identity.New(db)
	admin, err := id.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Config{DB: db, Identity: id, Logger: slog.New(slog.DiscardHandler), BodyGrace: 50 * time.Millisecond, BodyMinRate: 1 << 20})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, tc := range []struct{ name, auth string }{{"unauthenticated", ""}, {"authenticated", "Authorization: Bearer " + admin + "\r\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			body := `{"name": "` + strings.Repeat("x", 1000) + `"}`
			io.WriteString(c, "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+tc.auth+
				"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:len(body)/2])
			// The server must close the connection; this deadline only
			// keeps a failing test from hanging.
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			if res, err := http.ReadResponse(br, nil); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			_, err = br.ReadByte()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the connection is still open 20 s after the body stopped arriving")
			}
			if err == nil {
				t.Fatal("unexpected data after the response")
			}
		})
	}
}

// TestRefusedChunkUploadsAreNotRead: a principal who may not upload to an
// asset is refused before the chunk's body is read, so refused uploads
// cost the server no memory (they once cost 16 MiB each, 505 MB for 32
// at once).
func TestRefusedChunkUploadsAreNotRead(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	if r := h.do("POST", "/api/v1/principals", h.admin, map[string]any{"name": "norole", "nationality": "USA"}); r.status != 201 {
		t.Fatalf("create principal: %d %s", r.status, r.body)
	}
	var nt httpapi.CreateTokenResponse
	h.do("POST", "/api/v1/principals/norole/tokens", h.admin, map[string]any{}).decode(t, &nt)
	if r := h.do("POST", "/api/v1/datasets", h.admin, map[string]any{"name": "target", "label": "OPEN"}); r.status != 201 {
		t.Fatalf("create dataset: %d %s", r.status, r.body)
	}
	body := make([]byte, blob.MaxSize)
	id := blob.Sum(body).String()
	const uploads = 8
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range uploads {
		for _, asset := range []string{"target", "no-such-asset"} {
			req, _ := http.NewRequest("PUT", h.ts.URL+"/api/v1/assets/"+asset+"/chunks/"+id, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+nt.Secret)
			res, err := h.ts.Client().Do(req)
			if err != nil {
				continue // the server may close the connection on the unread body
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 403 && res.StatusCode != 404 {
				t.Fatalf("PUT to %s by a principal without roles = %d, want 403 or 404", asset, res.StatusCode)
			}
		}
	}
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	if got > 2*blob.MaxSize {
		t.Errorf("%d refused 16 MiB uploads allocated %d MiB", 2*uploads, got>>20)
	}
	t.Logf("%d refused 16 MiB chunk uploads allocated %d KiB in all", 2*uploads, got>>10)
}

// bigCatalog is a DCAT-US catalog of n datasets, each with a description
// of pad bytes.
func bigCatalog(n, pad int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"@type": "dcat:Catalog", "conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"title": "Shot series %d", "identifier": "shots-%d", "accessLevel": "public", "keyword": ["fusion"], "description": %q}`,
			i, i, strings.Repeat("d", pad))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// TestIdempotentImportIsNeverCut: with an Idempotency-Key, a catalog
// import larger than 1 MiB is imported whole (it was once cut at
// 1 MiB + 1 byte and answered 200 with 105 of 150 records), and a retry
// with the same key and body replays the same answer.
func TestIdempotentImportIsNeverCut(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	doc := bigCatalog(150, 10_000)
	if len(doc) <= httpapi.MaxJSONBody {
		t.Fatalf("document of %d bytes is too small for the test", len(doc))
	}
	r := h.do("POST", "/api/v1/catalog/import?label=OPEN", h.admin, doc, "Idempotency-Key", "import-1")
	if r.status != 200 {
		t.Fatalf("import = %d %s", r.status, r.body)
	}
	var sum struct {
		Imported []struct{ Index int } `json:"imported"`
		Rejected []json.RawMessage     `json:"rejected"`
	}
	r.decode(t, &sum)
	if len(sum.Imported) != 150 || len(sum.Rejected) != 0 {
		t.Fatalf("imported %d and rejected %d of 150 records: %s", len(sum.Imported), len(sum.Rejected), r.body)
	}
	again := h.do("POST", "/api/v1/catalog/import?label=OPEN", h.admin, doc, "Idempotency-Key", "import-1")
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, r.body) {
		t.Fatalf("replay = %d %q, want the first answer", again.status, again.header.Get("Idempotent-Replayed"))
	}
	// The same key with a body that differs only past the first MiB is
	// another request.
	other := bytes.Clone(doc)
	other[len(other)-10] = 'e'
	if r := h.do("POST", "/api/v1/catalog/import?label=OPEN", h.admin, other, "Idempotency-Key", "import-1"); r.status != 400 {
		t.Fatalf("reused key with a different body = %d %s, want 400", r.status, r.body)
	}
}

// TestIdempotentTokenSecretsAreNotKept: a token created under an
// Idempotency-Key is shown once; the idempotency table keeps no trace of
// its secret, and a retry is told what happened instead.
func TestIdempotentTokenSecretsAreNotKept(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	var nt httpapi.CreateTokenResponse
	r := h.do("POST", "/api/v1/tokens", h.admin, map[string]any{"name": "laptop"}, "Idempotency-Key", "tok-1")
	if r.status != 201 {
		t.Fatalf("create token = %d %s", r.status, r.body)
	}
	r.decode(t, &nt)
	if nt.Secret == "" {
		t.Fatal("no secret in the first answer")
	}
	var rows int
	err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM idempotency_keys WHERE body LIKE ? OR CAST(body AS TEXT) LIKE ?`, "%"+nt.Secret+"%", "%"+nt.Secret+"%").Scan(&rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatal("the token's secret is stored in the idempotency table")
	}
	again := h.do("POST", "/api/v1/tokens", h.admin, map[string]any{"name": "laptop"}, "Idempotency-Key", "tok-1")
	if again.status != 409 || bytes.Contains(again.body, []byte(nt.Secret)) || !bytes.Contains(again.body, []byte("shown only once")) {
		t.Fatalf("retry = %d %s, want 409 saying the secret was shown once", again.status, again.body)
	}
	var toks struct{ Items []json.RawMessage }
	h.do("GET", "/api/v1/tokens", h.admin, nil).decode(t, &toks)
	if len(toks.Items) != 2 { // the bootstrap token and the one created once
		t.Fatalf("%d tokens, want 2", len(toks.Items))
	}
}

// TestRefusedImportsAreNotRead: a principal who may not create datasets is
// refused a catalog import before its body is read (it was once read
// whole, up to 256 MiB at ten times its size, before any check).
func TestRefusedImportsAreNotRead(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	if r := h.do("POST", "/api/v1/principals", h.admin, map[string]any{"name": "norole", "nationality": "USA"}); r.status != 201 {
		t.Fatalf("create principal: %d %s", r.status, r.body)
	}
	var nt httpapi.CreateTokenResponse
	h.do("POST", "/api/v1/principals/norole/tokens", h.admin, map[string]any{}).decode(t, &nt)
	doc := bigCatalog(3000, 10_000) // 30 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/catalog/import?label=OPEN", bytes.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+nt.Secret)
	if res, err := h.ts.Client().Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Fatalf("import by a principal without roles = %d, want 403", res.StatusCode)
		}
	}
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	if got > uint64(len(doc))/4 {
		t.Errorf("a refused %d MiB import allocated %d MiB", len(doc)>>20, got>>20)
	}
	t.Logf("a refused %d MiB import allocated %d KiB", len(doc)>>20, got>>10)
}
