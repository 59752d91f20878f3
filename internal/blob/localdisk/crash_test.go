package localdisk

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/blobtest"
)

var crashTrials = flag.Int("crash.trials", 5, "kill -9 trials in TestCrashDuringPut")

// TestCrashDuringPut runs a child process that puts chunks and prints the
// id of each acknowledged Put, kills it with SIGKILL at a random moment,
// and checks that every acknowledged chunk reads back intact and that no
// visible chunk is damaged.
func TestCrashDuringPut(t *testing.T) {
	if dir := os.Getenv("GENESIS_LOCALDISK_CRASH_CHILD"); dir != "" {
		crashChild(dir, os.Getenv("GENESIS_LOCALDISK_CRASH_DEFERRED") != "")
		return
	}
	for _, deferred := range []bool{false, true} {
		t.Run(fmt.Sprintf("deferred=%v", deferred), func(t *testing.T) { runCrashTrials(t, deferred) })
	}
}

// runCrashTrials: with deferred, the child writes with PutDeferred and
// acknowledges a batch of chunks only once Sync has returned.
func runCrashTrials(t *testing.T, deferred bool) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for trial := 0; trial < *crashTrials; trial++ {
		dir := t.TempDir()
		cmd := exec.Command(exe, "-test.run=^TestCrashDuringPut$")
		cmd.Env = append(os.Environ(), "GENESIS_LOCALDISK_CRASH_CHILD="+dir)
		if deferred {
			cmd.Env = append(cmd.Env, "GENESIS_LOCALDISK_CRASH_DEFERRED=1")
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := make(chan []string)
		go func() {
			var ids []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					ids = append(ids, id)
				}
			}
			acked <- ids
		}()
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		ids := <-acked
		cmd.Wait()

		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, h := range ids {
			id, err := blob.ParseID(h)
			if err != nil {
				t.Fatalf("trial %d: child printed %q", trial, h)
			}
			if _, err := s.Get(ctx, id, 0, -1); err != nil {
				t.Fatalf("trial %d: acknowledged chunk %s: %v", trial, h, err)
			}
		}
		visible, err := s.Enumerate(ctx, "", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range visible {
			if _, err := s.Get(ctx, id, 0, -1); err != nil {
				t.Fatalf("trial %d: visible chunk %s after kill -9: %v", trial, id, err)
			}
		}
		temps, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
		t.Logf("trial %d: %d acknowledged, %d visible, %d temp files left", trial, len(ids), len(visible), len(temps))
		if len(visible) < len(ids) {
			t.Fatalf("trial %d: %d visible < %d acknowledged", trial, len(visible), len(ids))
		}
	}
}

func crashChild(dir string, deferred bool) {
	s, err := Open(dir, Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	var batch []blob.ID
	for i := uint64(0); ; i++ {
		data := blobtest.Data(i, 64<<10+int(i%7)*100000)
		id := blob.Sum(data)
		if !deferred {
			if err := s.Put(ctx, id, data); err != nil {
				panic(err)
			}
			fmt.Printf("ack %s\n", id)
			continue
		}
		if err := s.PutDeferred(ctx, id, data); err != nil {
			panic(err)
		}
		batch = append(batch, id)
		if len(batch) == 16 {
			if err := s.Sync(ctx, batch); err != nil {
				panic(err)
			}
			for _, id := range batch {
				fmt.Printf("ack %s\n", id)
			}
			batch = batch[:0]
		}
	}
}
