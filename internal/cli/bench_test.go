package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCampaign: `genesis bench campaign` is wired to the replay
// benchmark: it runs, refuses bad input in one line, and stops when
// interrupted.
func TestBenchCampaign(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(table, []byte("a,b,y\nx,1,3\nx,2,5\nz,1,4\nz,2,1\nw,1,2\nw,2,6\n"), 0o644)
	env := func(string) string { return "" }
	var out, errOut bytes.Buffer
	args := []string{"bench", "campaign", "--table", table, "--batch", "2", "--budget", "4", "--seeds", "1"}
	if code := Run(context.Background(), args, env, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "same experiments as bench optimizer: 1/1 seeds (yes)") {
		t.Errorf("output:\n%s", out.String())
	}

	out.Reset()
	errOut.Reset()
	if code := Run(context.Background(), []string{"bench", "campaign", "--seeds", "1"}, env, nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "--table") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("no table: exit %d, stderr %q", code, errOut.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errOut.Reset()
	if code := Run(ctx, args, env, nil, &out, &errOut); code != 130 {
		t.Errorf("interrupted: exit %d, stderr %q", code, errOut.String())
	}
}
