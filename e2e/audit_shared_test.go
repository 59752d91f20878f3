package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/store/postgres"
)

// TestSharedAuditKill9 runs two `genesis up` replicas on one PostgreSQL
// with audit.backend store and keys from `genesis audit keygen` (given
// through the environment), sends mutations to both at once, kills -9 one
// in the middle, and checks with `genesis audit verify --config` that the
// shared log is intact and holds a record of every acknowledged mutation,
// from both replicas, in one order.
func TestSharedAuditKill9(t *testing.T) {
	dsn := freshPostgres(t)
	ctx := context.Background()
	keys := filepath.Join(t.TempDir(), "keys")
	out, err := exec.Command(genesisBinary(t), "audit", "keygen", "--out", keys).CombinedOutput()
	if err != nil {
		t.Fatalf("audit keygen: %v\n%s", err, out)
	}
	sk, _ := os.ReadFile(filepath.Join(keys, "audit.key"))
	lk, _ := os.ReadFile(filepath.Join(keys, "audit-label.key"))
	t.Setenv("GENESIS_STORE_DSN", dsn)
	t.Setenv("GENESIS_SECRETS_KEY_FILE", sharedSecretsKey(t)) // replicas on one store share it
	t.Setenv("GENESIS_AUDIT_BACKEND", "store")
	t.Setenv("GENESIS_AUDIT_SIGNING_KEY", string(sk))
	t.Setenv("GENESIS_AUDIT_LABEL_KEY", string(lk))
	dir1 := filepath.Join(t.TempDir(), "data")
	r1 := startUp(t, dir1)
	r2 := startUp(t, filepath.Join(t.TempDir(), "data"))
	token, err := os.ReadFile(filepath.Join(dir1, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}

	// Mutations at both replicas; each acknowledged one is remembered by
	// its request ID.
	var mu sync.Mutex
	acked := map[string]string{} // request ID → replica
	post := func(base, who string, i int) bool {
		body, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("org-%s-%d", who, i), "country": "USA", "kind": "laboratory"})
		req, _ := http.NewRequest("POST", base+"/api/v1/organizations", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if i == 0 {
				t.Logf("%s: %v", who, err)
			}
			return false // the killed replica
		}
		defer res.Body.Close()
		if res.StatusCode/100 != 2 && i == 0 {
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			t.Logf("%s: %d %s", who, res.StatusCode, b.String())
		}
		if res.StatusCode/100 == 2 {
			mu.Lock()
			acked[res.Header.Get("X-Request-Id")] = who
			mu.Unlock()
		}
		return true
	}
	var wg sync.WaitGroup
	for _, r := range []struct {
		who string
		p   *proc
	}{{"r1", r1}, {"r2", r2}} {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 40; i++ {
					if !post(r.p.url, fmt.Sprintf("%s-%d", r.who, w), i) && r.who == "r2" {
						return
					}
				}
			}()
		}
	}
	// Kill -9 the second replica once it has acknowledged some mutations,
	// while both are under load.
	deadline := time.Now().Add(2 * time.Minute) // patience only
	for {
		mu.Lock()
		n := 0
		for _, who := range acked {
			if who[:2] == "r2" {
				n++
			}
		}
		mu.Unlock()
		if n >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second replica acknowledged only %d mutations", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r2.done
	r2.done <- nil // for the cleanup
	wg.Wait()
	byReplica := map[string]int{}
	for _, who := range acked {
		byReplica[who[:2]]++
	}
	t.Logf("acknowledged mutations: %v", byReplica)
	if byReplica["r1"] == 0 || byReplica["r2"] == 0 {
		t.Fatalf("want acknowledged mutations at both replicas: %v", byReplica)
	}

	// Offline verification of the shared log beside the live replica.
	cfg := filepath.Join(t.TempDir(), "genesis.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\nstore:\n  dsn: %q\naudit:\n  backend: store\n  signing_key_file: %s\n", t.TempDir(), dsn, filepath.Join(keys, "audit.key"))), 0o600)
	cmd := exec.Command(genesisBinary(t), "audit", "verify", "--config", cfg, "--key", filepath.Join(keys, "audit.key.pub"))
	cmd.Env = os.Environ()
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "intact:       yes") {
		t.Fatalf("audit verify --config: %v\n%s", err, out)
	}

	// Every acknowledged mutation is on the record.
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, v, err := audit.NewSigner(strings.TrimSpace(string(sk)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.OpenStore(ctx, db, audit.Options{Signer: s, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	size, err := l.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	es, err := l.Range(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	onRecord := map[string]bool{}
	for _, e := range es {
		if e.Record.Action == "POST /api/v1/organizations" {
			onRecord[e.Record.RequestID] = true
		}
	}
	for id, who := range acked {
		if !onRecord[id] {
			t.Errorf("mutation %s acknowledged by %s is not on the record", id, who)
		}
	}
}
