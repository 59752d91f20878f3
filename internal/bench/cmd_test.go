package bench

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestRunManual runs the command with GENESIS_BENCH_ARGS (for manual measurement).
func TestRunManual(t *testing.T) {
	args := os.Getenv("GENESIS_BENCH_ARGS")
	if args == "" {
		t.Skip("set GENESIS_BENCH_ARGS to run the bench command")
	}
	if err := RunOptimizer(context.Background(), strings.Fields(args), os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}
