package sim_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// TestMain lets the test binary serve as the child process of TestKill9.
func TestMain(m *testing.M) {
	if dir := os.Getenv("GENESIS_SIM_KILL_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	os.Exit(m.Run())
}

const killSettings = `{"model":"flow-reactor","speed":1e6,"seed":11,"consumables":{"substrate":1e9}}`

// killChild starts actions k-<from>, k-<from+1>, … and prints "ok ID"
// after each Start returns, until it is killed.
func killChild(dir string) {
	from, _ := strconv.Atoi(os.Getenv("GENESIS_SIM_KILL_FROM"))
	d, err := lab.Open(lab.Config{Kind: "sim", Settings: []byte(killSettings), StateDir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for n := from; ; n++ {
		req := request(sim.FlowReactor, n)
		req.ID = fmt.Sprint("k-", n)
		if _, err := d.Start(ctx, req); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("ok", req.ID)
	}
}

// kill -9 of the whole process at random moments, 25 times: every Start
// that returned is in the journal exactly once, nothing is started twice
// though the next process re-sends the last IDs (acknowledged or not), and
// the journal always opens.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(21, 22))
	confirmed := map[string]bool{}
	next := 0
	for trial := 0; trial < 25; trial++ {
		from := max(0, next-3) // re-send the last few IDs, as a runner that lost its acks would
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GENESIS_SIM_KILL_CHILD="+dir, "GENESIS_SIM_KILL_FROM="+strconv.Itoa(from))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		want := 1 + rng.IntN(40)
		for got := 0; got < want && sc.Scan(); got++ {
			line := sc.Text()
			id, ok := strings.CutPrefix(line, "ok ")
			if !ok {
				t.Fatalf("trial %d: child said %q", trial, line)
			}
			confirmed[id] = true
			n, _ := strconv.Atoi(strings.TrimPrefix(id, "k-"))
			next = max(next, n+1)
		}
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
	}
	runs, err := sim.JournalRuns(dir)
	if err != nil {
		t.Fatalf("journal after kills: %v", err)
	}
	for id := range confirmed {
		if runs[id] != 1 {
			t.Errorf("acknowledged %s started %d times", id, runs[id])
		}
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("%s started %d times", id, n)
		}
	}
	if len(confirmed) < 25 {
		t.Fatalf("only %d acknowledged starts", len(confirmed))
	}
	// Reopened, the instrument knows every run and finishes them all.
	d, err := lab.Open(lab.Config{Kind: "sim", Settings: []byte(killSettings), StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for id := range runs {
		if _, err := d.Result(ctx, id); err != nil {
			t.Fatalf("Result(%s) after kills: %v", id, err)
		}
	}
	t.Logf("%d acknowledged starts, %d journaled, over 25 kills", len(confirmed), len(runs))
}
