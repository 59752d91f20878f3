package audit

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash child appends until it is killed, printing "ack INDEX ID" to
// stdout after each AppendSync returns.
const crashChildEnv = "GENESIS_AUDIT_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir, os.Getenv("GENESIS_AUDIT_CRASH_KEY"), os.Getenv("GENESIS_AUDIT_CRASH_GEN"))
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir, skey, gen string) {
	s, v, err := NewSigner(skey)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	l, err := Open(ctx, dir, Options{Signer: s, Verifier: v, FlushInterval: time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		r := testRecord(i)
		r.ObjectID = "gen" + gen + "-" + strconv.Itoa(i)
		if i%3 != 0 {
			if _, err := l.Append(ctx, r); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			continue
		}
		idx, err := l.AppendSync(ctx, r)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintf(out, "ack %d %s\n", idx, r.ObjectID)
		out.Flush()
	}
}

// TestCrash kills a process appending to the log with SIGKILL at random
// moments, several times over the same directory, and checks that the log
// verifies as left by the crash, opens, still holds every acknowledged
// entry, and verifies again after reopening.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	skey, _, err := GenerateKey(Origin("crash"))
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	acked := map[uint64]string{}
	rounds := 6
	if raceEnabled {
		rounds = 3
	}
	for gen := 0; gen < rounds; gen++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "GENESIS_AUDIT_CRASH_KEY="+skey, "GENESIS_AUDIT_CRASH_GEN="+strconv.Itoa(gen))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random delay once the child is appending.
		lines := bufio.NewScanner(stdout)
		killAt := time.Now().Add(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		killed := false
		n := 0
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) == 3 && f[0] == "ack" {
				i, _ := strconv.ParseUint(f[1], 10, 64)
				acked[i] = f[2]
				n++
			}
			if !killed && time.Now().After(killAt) {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("child exited by itself: %v\n%s", err, stderr.String())
		}
		if n == 0 {
			t.Fatalf("round %d: nothing acknowledged before the kill\n%s", gen, stderr.String())
		}

		// As the crash left it: verifies (crash leftovers are reported,
		// not problems).
		rep, err := Verify(ctx, dir, v)
		if err != nil {
			t.Fatalf("round %d: log left by the crash does not verify: %v %v", gen, err, rep.Problems)
		}
		t.Logf("round %d: %d acks, %d entries, checkpoint %d, pending %d, torn bytes %d", gen, n, rep.Entries, rep.Checkpoint.Size, rep.Pending, rep.TornBytes)

		l, err := Open(ctx, dir, Options{Signer: s, Verifier: v})
		if err != nil {
			t.Fatalf("round %d: open after crash: %v", gen, err)
		}
		for i, id := range acked {
			r, err := l.Get(ctx, i)
			if err != nil || r.ObjectID != id {
				t.Fatalf("round %d: acknowledged entry %d (%s) lost: %+v %v", gen, i, id, r, err)
			}
		}
		cp, _, _ := l.Checkpoint(ctx)
		size, _ := l.Size(ctx)
		if cp.Size != size {
			t.Fatalf("round %d: checkpoint %d after open, size %d", gen, cp.Size, size)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err = Verify(ctx, dir, v)
		if err != nil || rep.Pending != 0 || rep.TornBytes != 0 {
			t.Fatalf("round %d: after reopen: %v %+v", gen, err, rep)
		}
	}
}
