package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
)

// TestLeaseLostWhileAlive: a replica that loses the scheduler's lease
// while it lives on (here the lease is taken from under it in the store,
// as a stalled or partitioned store would let it expire) kills the jobs
// running on its local site — the whole process tree — before anyone else
// can hold the lease, so the job's next run (wherever the next holder
// places it) never overlaps the first.
func TestLeaseLostWhileAlive(t *testing.T) {
	dsn := freshPostgres(t)
	ctx := context.Background()
	t.Setenv("GENESIS_STORE_DSN", dsn)
	t.Setenv("GENESIS_REPLICA_ID", "replica-1")
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir)
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	call := func(method, path string, body any) []byte {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, p.url+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	// The first run starts a grandchild that loops for ever and sleeps;
	// a later run notes whether any earlier grandchild is still alive,
	// then ends at once.
	runs := t.TempDir()
	script := `R=` + runs + `
n=$(ls $R | grep -c '^run\.' || true); echo "$GENESIS_JOB_ID" > $R/run.$n
for f in $R/g.*; do
	[ -e "$f" ] || continue
	s=$(awk '{print $3}' /proc/$(cat "$f")/stat 2>/dev/null)
	[ -n "$s" ] && [ "$s" != Z ] && echo "$f alive during run $n" >> $R/overlap
done
[ "$n" -gt 0 ] && exit 0
(while :; do sleep 0.1; done) &
echo $! > $R/g.$n
sleep 600`
	var job struct{ ID, State string }
	json.Unmarshal(call("POST", "/api/v1/jobs", map[string]any{"executable": "/bin/sh", "arguments": []string{"-c", script},
		"attributes": map[string]any{"duration": "20m"}, "label": "OPEN"}), &job)
	if job.ID == "" {
		t.Fatal("no job ID")
	}
	grandchild := func() int {
		b, err := os.ReadFile(filepath.Join(runs, "g.0"))
		if err != nil {
			return 0
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return pid
	}
	var pid int
	for deadline := time.Now().Add(2 * time.Minute); pid == 0; time.Sleep(50 * time.Millisecond) { // patience only
		if time.Now().After(deadline) {
			t.Fatalf("the job's first run did not start its grandchild: %s", call("GET", "/api/v1/jobs/"+job.ID, nil))
		}
		pid = grandchild()
	}
	// Take the lease from under the replica, for an hour: its next
	// renewal is refused.
	var token0 int64
	if err := db.Update(ctx, func(tx store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT token FROM leases WHERE name = 'scheduler'`).Scan(&token0); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE leases SET holder = 'elsewhere', token = token + 1, expires_at = expires_at + 3600000000 WHERE name = 'scheduler'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); procAlive(pid); time.Sleep(50 * time.Millisecond) { // patience only
		if time.Now().After(deadline) {
			t.Fatalf("the first run's grandchild %d still runs 2 minutes after the replica lost the scheduler's lease", pid)
		}
	}
	// The other holder's lease expires; the replica takes it back (with
	// a higher token) and finds its job lost: it runs it again, once.
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE leases SET expires_at = 0 WHERE name = 'scheduler' AND holder = 'elsewhere'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) { // patience only
		json.Unmarshal(call("GET", "/api/v1/jobs/"+job.ID, nil), &job)
		if job.State == "completed" || job.State == "failed" || job.State == "canceled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish after the lease came back: %+v", job)
		}
	}
	body := call("GET", "/api/v1/jobs/"+job.ID, nil)
	if job.State != "completed" {
		t.Fatalf("job after the lease came back: %s", body)
	}
	if b, err := os.ReadFile(filepath.Join(runs, "overlap")); err == nil {
		t.Errorf("the first run's process tree outlived the lost lease: %s", b)
	}
	got, _ := filepath.Glob(filepath.Join(runs, "run.*"))
	if len(got) != 2 {
		t.Errorf("the job ran %d times, want its first run and one more: %s", len(got), body)
	}
	var holder string
	var token1 int64
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT holder, token FROM leases WHERE name = 'scheduler'`).Scan(&holder, &token1)
	}); err != nil {
		t.Fatal(err)
	}
	if holder != "replica-1" || token1 <= token0+1 {
		t.Errorf("scheduler lease held by %s with token %d; want replica-1 back, token above %d", holder, token1, token0+1)
	}
	t.Logf("scheduler lease %s, token %d → %d; job %s", holder, token0, token1, body)
}

// procAlive reports whether process pid exists and is not a zombie.
func procAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
