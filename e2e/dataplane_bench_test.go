package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDataPlane is the end-to-end measurement of issue 4's targets,
// with real processes as a user runs them: `genesis up` on a temp data dir
// (local blob backend), then in one run, on the same disk:
//
//   - put/cp+sync: `genesis dataset put` of one file against `cp` of it
//     followed by `sync` of the copy (put fsyncs what it stores); target ≤ 2.
//     On the server's machine put lets the server pack the file through its
//     Unix socket; put-net/cp+sync is the same put with --no-local, through
//     the transfer protocol over loopback TCP, as from another machine.
//   - put-rss-MB, put-net-rss-MB: the put client's peak RSS (getrusage of
//     the child); srv-rss-MB the server's (VmHWM, over the whole run);
//     target ≤ 200 whatever the size.
//   - get/cat: the rate of `genesis dataset get` of that version against
//     `cat FILE > /dev/null` of the same file; target ≥ 0.8.
//   - repack-%-spotsN: a put of the file with 1% of its bytes changed in
//     N random places, as new bytes stored over the file size; target ≤ 5.
//   - small-put-s, small-get-s: with GENESIS_BENCH_FILES=N, put and get of
//     a tree of N files of 1 KiB; target ≤ 60 s each for 100,000.
//
// The size and the places are set from the environment, so a plain
// `go test` never runs it and the default is quick:
//
//	GENESIS_BENCH_MIB=2048 GENESIS_BENCH_SPOTS=10,100,1000 \
//	  go test -run XXX -bench DataPlane -benchtime 1x ./e2e
//
// It also reports the CPU seconds per GiB of the client and the server,
// which the machine's other load does not change.
//
// GENESIS_BENCH_DIR puts the files and the data dir elsewhere than $TMPDIR.
// GENESIS_BENCH_COLD=1 (as root) drops the page cache before cat and
// before get, so both read from the disk.
func BenchmarkDataPlane(b *testing.B) {
	mib := envInt("GENESIS_BENCH_MIB", 256)
	var spots []int
	for _, s := range strings.Split(envStr("GENESIS_BENCH_SPOTS", "100"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			spots = append(spots, n)
		}
	}
	base := envStr("GENESIS_BENCH_DIR", "")
	dir, err := os.MkdirTemp(base, "genesis-dataplane-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	bin := buildBench(b, dir)
	size := int64(mib) << 20
	src := filepath.Join(dir, "big.bin")
	writeRandom(b, src, size, 7)

	srv := startBenchServer(b, bin, filepath.Join(dir, "data"))
	env := append(os.Environ(), "GENESIS_URL="+srv.url, "GENESIS_TOKEN="+srv.token)

	var tCpSync, tGet, tCat time.Duration
	var cpuGet, cpuGetSrv time.Duration
	var getRSS int64
	// put (same host) and put --no-local (transfer protocol), each into a
	// fresh dataset, so every put stores everything.
	var local, net putTotals
	freshPut := func(t *putTotals, dataset string, flags ...string) {
		if out, err := runCmd(env, bin, "dataset", "create", dataset, "--label", "OPEN"); err != nil {
			b.Fatalf("create: %v\n%s", err, out.out)
		}
		srv0 := srv.cpu()
		r, err := runCmd(env, bin, append([]string{"dataset", "put", dataset, src, "--json"}, flags...)...)
		if err != nil {
			b.Fatalf("put %v: %v\n%s", flags, err, r.out)
		}
		t.wall += r.wall
		t.cpu += r.cpu
		t.srvCPU += srv.cpu() - srv0
		t.rss = max(t.rss, r.maxRSS)
	}
	repack := make([]float64, len(spots))
	for i := 0; b.Loop(); i++ {
		// cp + sync of the same file to the same disk.
		cp := filepath.Join(dir, "copy.bin")
		r, err := runCmd(nil, "sh", "-c", "cp "+src+" "+cp+" && sync "+cp)
		if err != nil {
			b.Fatalf("cp: %v\n%s", err, r.out)
		}
		tCpSync += r.wall
		os.Remove(cp)

		name := fmt.Sprintf("bench%d", i)
		freshPut(&local, name)
		freshPut(&net, name+"net", "--no-local")

		coldCache(b)
		r, err = runCmd(nil, "sh", "-c", "cat "+src+" > /dev/null")
		if err != nil {
			b.Fatalf("cat: %v\n%s", err, r.out)
		}
		tCat += r.wall
		dst := filepath.Join(dir, "restored")
		coldCache(b)
		srv0 := srv.cpu()
		r, err = runCmd(env, bin, "dataset", "get", name, dst)
		if err != nil {
			b.Fatalf("get: %v\n%s", err, r.out)
		}
		tGet += r.wall
		cpuGet += r.cpu
		cpuGetSrv += srv.cpu() - srv0
		getRSS = max(getRSS, r.maxRSS)
		os.RemoveAll(dst)

		// 1% of the bytes changed in k places, put again.
		for j, k := range spots {
			b.StopTimer()
			mutate(b, src, size, k, uint64(i*1000+j))
			b.StartTimer()
			r, err = runCmd(env, bin, "dataset", "put", name, src, "--json")
			if err != nil {
				b.Fatalf("re-put: %v\n%s", err, r.out)
			}
			var res struct {
				NewBytes int64 `json:"new_bytes"`
			}
			if err := json.Unmarshal(r.out, &res); err != nil {
				b.Fatalf("re-put output: %v\n%s", err, r.out)
			}
			repack[j] += 100 * float64(res.NewBytes) / float64(size)
		}
		b.StopTimer()
		writeRandom(b, src, size, 7) // back to the original for the next round
		b.StartTimer()
	}
	if files := envInt("GENESIS_BENCH_FILES", 0); files > 0 {
		b.StopTimer()
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
		b.StartTimer()
		if out, err := runCmd(env, bin, "dataset", "create", "small", "--label", "OPEN"); err != nil {
			b.Fatalf("create: %v\n%s", err, out.out)
		}
		put, err := runCmd(env, bin, "dataset", "put", "small", tree, "--json")
		if err != nil {
			b.Fatalf("small put: %v\n%s", err, put.out)
		}
		get, err := runCmd(env, bin, "dataset", "get", "small", filepath.Join(dir, "small-restored"))
		if err != nil {
			b.Fatalf("small get: %v\n%s", err, get.out)
		}
		b.ReportMetric(put.wall.Seconds(), "small-put-s")
		b.ReportMetric(get.wall.Seconds(), "small-get-s")
	}
	n := float64(b.N)
	mbs := func(d time.Duration) float64 { return float64(size) * n / d.Seconds() / 1e6 }
	b.ReportMetric(local.wall.Seconds()/n, "put-s")
	b.ReportMetric(tCpSync.Seconds()/n, "cp+sync-s")
	b.ReportMetric(local.wall.Seconds()/tCpSync.Seconds(), "put/cp+sync")
	b.ReportMetric(float64(local.rss)/1e6, "put-rss-MB")
	b.ReportMetric(net.wall.Seconds()/n, "put-net-s")
	b.ReportMetric(net.wall.Seconds()/tCpSync.Seconds(), "put-net/cp+sync")
	b.ReportMetric(float64(net.rss)/1e6, "put-net-rss-MB")
	b.ReportMetric(float64(srv.peakRSS())/1e6, "srv-rss-MB")
	b.ReportMetric(mbs(tGet), "get-MB/s")
	b.ReportMetric(mbs(tCat), "cat-MB/s")
	b.ReportMetric(tCat.Seconds()/tGet.Seconds(), "get/cat")
	b.ReportMetric(float64(getRSS)/1e6, "get-rss-MB")
	// CPU per GiB, client and server: what the machine's other load does
	// not change (the wall-clock ratios above depend on it).
	gib := float64(size) * n / (1 << 30)
	b.ReportMetric(local.cpu.Seconds()/gib, "put-cpu-s/GiB")
	b.ReportMetric(local.srvCPU.Seconds()/gib, "put-srv-cpu-s/GiB")
	b.ReportMetric(net.cpu.Seconds()/gib, "put-net-cpu-s/GiB")
	b.ReportMetric(net.srvCPU.Seconds()/gib, "put-net-srv-cpu-s/GiB")
	b.ReportMetric(cpuGet.Seconds()/gib, "get-cpu-s/GiB")
	b.ReportMetric(cpuGetSrv.Seconds()/gib, "get-srv-cpu-s/GiB")
	for j, k := range spots {
		b.ReportMetric(repack[j]/n, fmt.Sprintf("repack-%%-spots%d", k))
	}
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// putTotals sums the puts of one kind over the rounds.
type putTotals struct {
	wall, cpu, srvCPU time.Duration
	rss               int64 // peak, bytes
}

type cmdResult struct {
	out    []byte
	wall   time.Duration
	maxRSS int64         // bytes
	cpu    time.Duration // user + system
}

// runCmd runs a command to completion and reports its wall time and peak
// resident memory.
func runCmd(env []string, name string, args ...string) (cmdResult, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := cmdResult{out: out, wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10 // Linux reports KiB
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, err
}

func buildBench(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "genesis")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/genesis").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeRandom writes size pseudo-random (incompressible) bytes from seed.
func writeRandom(b *testing.B, path string, size int64, seed byte) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{seed}), size); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// mutate overwrites 1% of the file with random bytes, in k runs at random
// places.
func mutate(b *testing.B, path string, size int64, k int, seed uint64) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(seed, uint64(k)))
	run := max(1, size/100/int64(k))
	buf := make([]byte, run)
	for range k {
		for x := range buf {
			buf[x] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf, r.Int64N(size-run)); err != nil {
			b.Fatal(err)
		}
	}
}

type benchServer struct {
	url, token string
	pid        int
}

// peakRSS is the server's peak resident set so far, in bytes (VmHWM; 0
// where there is no /proc).
func (s benchServer) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpu is the server's user + system time so far (from /proc; 0 where
// there is none).
func (s benchServer) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// startBenchServer runs `genesis up` on dataDir until the benchmark ends.
func startBenchServer(b *testing.B, bin, dataDir string, extra ...string) benchServer {
	cmd := exec.Command(bin, append([]string{"up", "--data-dir", dataDir, "--addr", "127.0.0.1:0"}, extra...)...)
	cmd.Env = append(os.Environ(), "GENESIS_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case addr := <-found:
		tok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
		if err != nil {
			b.Fatal(err)
		}
		return benchServer{url: "http://" + addr, token: strings.TrimSpace(string(tok)), pid: cmd.Process.Pid}
	case <-time.After(60 * time.Second):
		b.Fatalf("genesis up did not start listening\n%s", stderr.String())
	}
	return benchServer{}
}

// coldCache drops the page cache when GENESIS_BENCH_COLD=1 (outside the
// timed region).
func coldCache(b *testing.B) {
	if os.Getenv("GENESIS_BENCH_COLD") != "1" {
		return
	}
	b.StopTimer()
	defer b.StartTimer()
	if out, err := exec.Command("sh", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches").CombinedOutput(); err != nil {
		b.Fatalf("dropping the page cache (needs root): %v\n%s", err, out)
	}
}
