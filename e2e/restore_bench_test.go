package e2e

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkSmallRestoreVsRestic is issue 17's small-file restore figure,
// with real processes as a user runs them: `genesis up` on a temp data dir
// (local blob backend), a tree of GENESIS_BENCH_FILES files of 1 KiB (in
// 100 directories; default 10,000, the figure is 100,000) put
// with `genesis dataset put` and backed up with `restic backup`; then each
// round restores it with `genesis dataset get` (the client fetching
// chunks over loopback HTTP) and with `restic restore` from its local
// repository, alternating which goes first. The machine is shared, so it
// reports the median of the rounds' ratios, genesis/restic (target ≤ 1),
// next to each one's median seconds and CPU seconds (client, and for
// Genesis the server's too). Use an even number of rounds, so each goes
// first as often:
//
//	GENESIS_BENCH_FILES=100000 go test -run XXX -bench SmallRestoreVsRestic -benchtime 4x ./e2e
//
// Needs restic on PATH.
func BenchmarkSmallRestoreVsRestic(b *testing.B) {
	if _, err := exec.LookPath("restic"); err != nil {
		b.Skip("restic is not on PATH: nothing to compare with")
	}
	files := envInt("GENESIS_BENCH_FILES", 10000)
	dir, err := os.MkdirTemp(envStr("GENESIS_BENCH_DIR", ""), "genesis-restore-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	bin := buildBench(b, dir)
	srv := startBenchServer(b, bin, filepath.Join(dir, "data"))
	env := append(os.Environ(), "GENESIS_URL="+srv.url, "GENESIS_TOKEN="+srv.token)

	tree := filepath.Join(dir, "small")
	buf := make([]byte, 1024)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range files {
		d := filepath.Join(tree, fmt.Sprintf("d%02d", i%100))
		if i < 100 {
			os.MkdirAll(d, 0o755)
		}
		for x := range buf {
			buf[x] = byte(r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%06d", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	must := func(res cmdResult, err error) cmdResult {
		if err != nil {
			b.Fatalf("%v\n%s", err, res.out)
		}
		return res
	}
	must(runCmd(env, bin, "dataset", "create", "small", "--label", "OPEN"))
	must(runCmd(env, bin, "dataset", "put", "small", tree))
	renv := append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_REPOSITORY="+filepath.Join(dir, "restic"), "RESTIC_CACHE_DIR="+filepath.Join(dir, "restic-cache"))
	must(runCmd(renv, "restic", "init", "--repository-version", "2"))
	must(runCmd(renv, "restic", "backup", "-q", tree))
	syncFS(b)

	var tG, tR, ratios, cpuG, cpuGSrv, cpuR []float64
	for i := 0; b.Loop(); i++ {
		gdst, rdst := filepath.Join(dir, fmt.Sprintf("g%d", i)), filepath.Join(dir, fmt.Sprintf("r%d", i))
		var g, rs cmdResult
		var srvCPU time.Duration
		genesis := func() {
			before := srv.cpu()
			g = must(runCmd(env, bin, "dataset", "get", "small", gdst))
			srvCPU = srv.cpu() - before
		}
		restic := func() { rs = must(runCmd(renv, "restic", "restore", "latest", "-q", "--target", rdst)) }
		if i%2 == 0 {
			genesis()
			restic()
		} else {
			restic()
			genesis()
		}
		b.StopTimer()
		if i == 0 { // both restored every file
			if ng, nr := countRegular(b, gdst), countRegular(b, rdst); ng != files || nr != files {
				b.Fatalf("restored %d files with Genesis and %d with restic, want %d", ng, nr, files)
			}
		}
		os.RemoveAll(gdst)
		os.RemoveAll(rdst)
		syncFS(b)
		b.StartTimer()
		ratio := g.wall.Seconds() / rs.wall.Seconds()
		tG, tR, ratios = append(tG, g.wall.Seconds()), append(tR, rs.wall.Seconds()), append(ratios, ratio)
		cpuG, cpuGSrv, cpuR = append(cpuG, g.cpu.Seconds()), append(cpuGSrv, srvCPU.Seconds()), append(cpuR, rs.cpu.Seconds())
		b.Logf("round %d: genesis %.2f s (cpu %.2f s client, %.2f s server), restic %.2f s (cpu %.2f s), genesis/restic %.2f",
			i, g.wall.Seconds(), g.cpu.Seconds(), srvCPU.Seconds(), rs.wall.Seconds(), rs.cpu.Seconds(), ratio)
	}
	b.ReportMetric(medianOf(tG), "genesis-s")
	b.ReportMetric(medianOf(tR), "restic-s")
	b.ReportMetric(medianOf(ratios), "genesis/restic")
	b.ReportMetric(medianOf(cpuG), "genesis-cpu-s")
	b.ReportMetric(medianOf(cpuGSrv), "genesis-srv-cpu-s")
	b.ReportMetric(medianOf(cpuR), "restic-cpu-s")
}

// syncFS flushes the file system between rounds (outside the timed
// region): otherwise whichever restore goes first pays for writing back
// and discarding the previous round's deletions.
func syncFS(b *testing.B) {
	if out, err := exec.Command("sync").CombinedOutput(); err != nil {
		b.Logf("sync: %v %s", err, out)
	}
}

// countRegular counts the regular files under dir.
func countRegular(b *testing.B, dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// medianOf is the median of v (the mean of the middle two for even lengths).
func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 1:
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
