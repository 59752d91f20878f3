package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/genesis-science/genesis/internal/bench/restorebench"
)

// BenchmarkSmallRestoreVsRestic is issue 17's small-file restore figure,
// with real processes as a user runs them: `genesis up` on a temp data dir
// (local blob backend), a tree of GENESIS_BENCH_FILES files of 1 KiB (in
// 100 directories; default 10,000, the figure is 100,000) put
// with `genesis dataset put` and backed up with `restic backup`; then each
// of restorebench.Compare's rounds restores it with `genesis dataset get`
// (the client fetching chunks over loopback HTTP) and with `restic
// restore` from its local repository, alternating which goes first. The
// machine is shared, so it reports the median of the rounds' ratios,
// genesis/restic (target ≤ 1), next to each one's median seconds and CPU
// seconds (client, and for Genesis the server's too). Use an even number
// of rounds, so each goes first as often:
//
//	GENESIS_BENCH_FILES=100000 go test -run XXX -bench SmallRestoreVsRestic -benchtime 4x ./e2e
//
// That gave 0.57 on the loaded 2-core test machine (rounds 0.49–0.66;
// CPU 10.6 s client + 1.8 s server against restic 0.14's 15.7 s). Needs
// restic on PATH.
func BenchmarkSmallRestoreVsRestic(b *testing.B) {
	restorebench.HaveRestic(b)
	files := envInt("GENESIS_BENCH_FILES", 10000)
	dir, err := os.MkdirTemp(envStr("GENESIS_BENCH_DIR", ""), "genesis-restore-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	bin := buildBench(b, dir)
	srv := startBenchServer(b, bin, filepath.Join(dir, "data"))
	env := append(os.Environ(), "GENESIS_URL="+srv.url, "GENESIS_TOKEN="+srv.token)
	tree := restorebench.SmallTree(b, dir, files)
	genesis := func(args ...string) restorebench.Sample {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		return restorebench.Command(b, cmd)
	}
	genesis("dataset", "create", "small", "--label", "OPEN")
	genesis("dataset", "put", "small", tree)
	r := restorebench.NewRestic(b, dir, tree)
	restorebench.Compare(b, dir, files, r, func(dst string) restorebench.Sample {
		before := srv.cpu()
		s := genesis("dataset", "get", "small", dst)
		s.ServerCPU = srv.cpu() - before
		return s
	})
}
