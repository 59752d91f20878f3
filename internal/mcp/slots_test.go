package mcp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/mcp"
)

// signalBody is a request body that says when it is first read, and
// blocks until released.
type signalBody struct {
	read    chan struct{}
	release chan struct{}
	r       io.Reader
	once    bool
}

func newBody(s string, block bool) *signalBody {
	b := &signalBody{read: make(chan struct{}), release: make(chan struct{}), r: strings.NewReader(s)}
	if !block {
		close(b.release)
	}
	return b
}

func (b *signalBody) Read(p []byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.read)
		<-b.release
	}
	return b.r.Read(p)
}

func (b *signalBody) Close() error { return nil }

// TestSlotsBoundRequests: with every slot taken, a further request waits
// without reading its body, and gives up when its client does; once a
// slot is free, requests are served again.
func TestSlotsBoundRequests(t *testing.T) {
	h := mcp.New(mcp.Config{Slots: 1}).Handler()
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	serve := func(ctx context.Context, body *signalBody) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/mcp", body).WithContext(genesis.NewContext(ctx, &genesis.Principal{ID: "prn_test"}))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer checked-by-the-api")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := newBody(ping, true)
	firstDone := make(chan *httptest.ResponseRecorder)
	go func() { firstDone <- serve(context.Background(), first) }()
	<-first.read // the first request holds the only slot

	ctx, cancel := context.WithCancel(context.Background())
	second := newBody(ping, false)
	secondDone := make(chan *httptest.ResponseRecorder)
	go func() { secondDone <- serve(ctx, second) }()
	time.Sleep(100 * time.Millisecond) // (a chance to break the bound; not a timing assertion)
	cancel()
	<-secondDone
	select {
	case <-second.read:
		t.Fatal("a request was read while every slot was taken")
	default:
	}

	close(first.release)
	if rec := <-firstDone; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"result"`) {
		t.Errorf("first: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(context.Background(), newBody(ping, false)); rec.Code != http.StatusOK {
		t.Errorf("after the slot was freed: %d %s", rec.Code, rec.Body)
	}
	// Without a principal in the context (not mounted behind the API's
	// authentication), nothing is served.
	req := httptest.NewRequest("POST", "/mcp", strings.NewReader(ping))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("no principal: %d", rec.Code)
	}
}
