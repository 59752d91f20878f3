package httpapi_test

import (
	"bufio"
	"bytes"
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
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*blob.MaxSize {
		t.Errorf("%d refused 16 MiB uploads allocated %d MiB", 2*uploads, got>>20)
	}
}
