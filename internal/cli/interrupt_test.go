package cli

import (
	"bytes"
	"context"
	"testing"
)

// A command stopped by a signal (its context canceled) says so in one
// word and exits 130, as shells expect, instead of every layer's
// "canceled".
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := Run(ctx, []string{"bench", "optimizer", "--suite", "synthetic"}, func(string) string { return "" }, nil, &out, &errOut)
	if code != 130 || errOut.String() != "genesis: interrupted\n" {
		t.Fatalf("exit %d, stderr %q; want 130, \"genesis: interrupted\"", code, errOut.String())
	}
	// Without a signal, an error is an error.
	errOut.Reset()
	if code := Run(context.Background(), []string{"dataset", "get"}, func(string) string { return "" }, nil, &out, &errOut); code != 1 || errOut.String() == "genesis: interrupted\n" {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
