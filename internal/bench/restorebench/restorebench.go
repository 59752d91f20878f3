// Package restorebench is the round loop the small-file restore
// benchmarks share (internal/blob/pack's BenchmarkRestoreVsRestic, which
// calls pack.Restore in-process, and e2e's BenchmarkSmallRestoreVsRestic,
// which runs `genesis dataset get`): the same tree of small files is
// restored by Genesis and by `restic restore`, once each per round,
// alternating which goes first, on a machine that other work shares. It
// reports medians and the median of the rounds' ratios, never one
// round's figure, and fails when either restore missed a file.
package restorebench

import (
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// SmallTree writes n files of 1 KiB of seeded random bytes under
// dir/small, in 100 directories (f000000 … in d00 … d99), and returns
// dir/small.
func SmallTree(tb testing.TB, dir string, n int) string {
	tree := filepath.Join(dir, "small")
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1024)
	for i := range n {
		d := filepath.Join(tree, fmt.Sprintf("d%02d", i%100))
		if i < 100 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		for x := range buf {
			buf[x] = byte(r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%06d", i)), buf, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return tree
}

// Sample is one restore's cost.
type Sample struct {
	Wall time.Duration
	CPU  time.Duration // user + system of the restoring process
	// ServerCPU is the CPU time a server spent on it, for a restore
	// that is served by another process (0 otherwise).
	ServerCPU time.Duration
}

// Restic is a local restic repository holding one backup of a tree.
type Restic struct {
	env []string
}

// HaveRestic skips b when restic is not on PATH.
func HaveRestic(b *testing.B) {
	if _, err := exec.LookPath("restic"); err != nil {
		b.Skip("restic is not on PATH: nothing to compare with")
	}
}

// NewRestic makes a repository under dir (repository version 2, so
// compression auto) and backs tree up into it.
func NewRestic(b *testing.B, dir, tree string) *Restic {
	r := &Restic{env: append(os.Environ(), "RESTIC_PASSWORD=bench", "RESTIC_REPOSITORY="+filepath.Join(dir, "restic"),
		"RESTIC_CACHE_DIR="+filepath.Join(dir, "restic-cache"))}
	r.run(b, "init", "--repository-version", "2")
	r.run(b, "backup", "-q", tree)
	return r
}

// Restore restores the backup into dst.
func (r *Restic) Restore(b *testing.B, dst string) Sample {
	return r.run(b, "restore", "latest", "-q", "--target", dst)
}

func (r *Restic) run(b *testing.B, args ...string) Sample {
	cmd := exec.Command("restic", args...)
	cmd.Env = r.env
	return Command(b, cmd)
}

// Command runs cmd to completion and returns its wall and CPU time; b
// fails with its output if it fails.
func Command(b *testing.B, cmd *exec.Cmd) Sample {
	t := time.Now()
	out, err := cmd.CombinedOutput()
	s := Sample{Wall: time.Since(t)}
	if err != nil {
		b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s
}

// SelfCPU is this process's user + system time so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Compare runs b's rounds: each restores the backup with genesis and with
// restic into fresh directories under dir, alternating which goes first
// so that neither always pays the other's writeback (use an even number
// of rounds). After the first round both trees must hold every file. Between rounds the file system is synced, outside the timed
// region, so that the next round does not pay for this one's writeback.
//
// The restored trees are kept until the benchmark ends, not removed
// between rounds: on ext4 without a journal (this project's test
// machines) creating a file skips every free inode of its block group
// that was deleted in the last 12 hours and is still cached
// (recently_deleted in fs/ext4/ialloc.c), rescanning them for each new
// file, so right after 2·10⁵ deletions the next 10⁵ creates cost several
// times their usual CPU, mostly in whichever restore comes first. Other
// processes' deletions still do that; alternating the order and taking
// medians is the defence.
//
// It reports each one's median seconds and CPU seconds (and the
// server's, if genesis reports any), and genesis/restic, the median of
// the rounds' ratios (target ≤ 1).
func Compare(b *testing.B, dir string, files int, r *Restic, genesis func(dst string) Sample) {
	Sync(b)
	var tG, tR, ratios, cpuG, cpuGSrv, cpuR []float64
	for i := 0; b.Loop(); i++ {
		gdst, rdst := filepath.Join(dir, fmt.Sprintf("g%d", i)), filepath.Join(dir, fmt.Sprintf("r%d", i))
		var g, rs Sample
		if i%2 == 0 {
			g = genesis(gdst)
			rs = r.Restore(b, rdst)
		} else {
			rs = r.Restore(b, rdst)
			g = genesis(gdst)
		}
		b.StopTimer()
		if i == 0 {
			if ng, nr := CountFiles(b, gdst), CountFiles(b, rdst); ng != files || nr != files {
				b.Fatalf("restored %d files with Genesis and %d with restic, want %d", ng, nr, files)
			}
		}
		b.Cleanup(func() { os.RemoveAll(gdst); os.RemoveAll(rdst) })
		Sync(b)
		b.StartTimer()
		ratio := g.Wall.Seconds() / rs.Wall.Seconds()
		tG, tR, ratios = append(tG, g.Wall.Seconds()), append(tR, rs.Wall.Seconds()), append(ratios, ratio)
		cpuG, cpuGSrv, cpuR = append(cpuG, g.CPU.Seconds()), append(cpuGSrv, g.ServerCPU.Seconds()), append(cpuR, rs.CPU.Seconds())
		srv := ""
		if g.ServerCPU > 0 {
			srv = fmt.Sprintf(" + %.2f s server", g.ServerCPU.Seconds())
		}
		b.Logf("round %d: genesis %.2f s (cpu %.2f s%s), restic %.2f s (cpu %.2f s), genesis/restic %.2f",
			i, g.Wall.Seconds(), g.CPU.Seconds(), srv, rs.Wall.Seconds(), rs.CPU.Seconds(), ratio)
	}
	b.ReportMetric(Median(tG), "genesis-s")
	b.ReportMetric(Median(tR), "restic-s")
	b.ReportMetric(Median(ratios), "genesis/restic")
	b.ReportMetric(Median(cpuG), "genesis-cpu-s")
	if slices.Max(cpuGSrv) > 0 {
		b.ReportMetric(Median(cpuGSrv), "genesis-srv-cpu-s")
	}
	b.ReportMetric(Median(cpuR), "restic-cpu-s")
}

// Sync flushes the file system (sync(1)); a failure is logged, not fatal.
func Sync(b *testing.B) {
	if out, err := exec.Command("sync").CombinedOutput(); err != nil {
		b.Logf("sync: %v %s", err, out)
	}
}

// CountFiles counts the regular files under dir.
func CountFiles(tb testing.TB, dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// Median is the median of v (the mean of the middle two for even
// lengths), NaN for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
