package audit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// TestOnAppendPendingHealthy: OnAppend hears of every append with its mode
// and outcome; Pending drains to 0 once the writer has caught up; Healthy
// turns into an error when a write fails, and when the log is closed.
func TestOnAppendPendingHealthy(t *testing.T) {
	ctx := context.Background()
	s, v := testKeys(t)
	type call struct {
		sync bool
		ok   bool
	}
	var mu sync.Mutex
	var calls []call
	l, err := Open(ctx, t.TempDir(), Options{Signer: s, Verifier: v, FlushInterval: 5 * time.Millisecond,
		OnAppend: func(sync bool, d time.Duration, err error) {
			if d < 0 {
				panic("negative duration")
			}
			mu.Lock()
			calls = append(calls, call{sync, err == nil})
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Healthy(); err != nil {
		t.Fatalf("fresh log: %v", err)
	}
	want := []call{}
	for i := range 20 {
		sync := i%5 == 4
		if sync {
			_, err = l.AppendSync(ctx, testRecord(i))
		} else {
			_, err = l.Append(ctx, testRecord(i))
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, call{sync, true})
	}
	// The last append was synchronous: everything before it is written.
	if n := l.Pending(); n != 0 {
		t.Errorf("Pending after a synchronous append = %d", n)
	}
	var fail atomic.Bool
	fail.Store(true)
	l.mu.Lock()
	l.failHook = func() error {
		if fail.Load() {
			return fmt.Errorf("disk on fire")
		}
		return nil
	}
	l.mu.Unlock()
	if _, err := l.AppendSync(ctx, testRecord(20)); err == nil {
		t.Fatal("append on a failing disk succeeded")
	}
	want = append(want, call{true, false})
	if err := l.Healthy(); !errors.Is(errors.Unavailable, err) {
		t.Errorf("Healthy after a failed write = %v", err)
	}
	mu.Lock()
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("OnAppend calls = %v, want %v", calls, want)
	}
	mu.Unlock()
	l.Close()
	if err := l.Healthy(); err == nil {
		t.Error("Healthy after Close = nil")
	}
}
