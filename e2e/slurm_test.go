package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/testenv"
)

// TestPlacementRealSites runs jobs through a real local site accredited for
// OPEN data and a real Slurm cluster (slurmrestd) accredited for
// PROPRIETARY data: every job lands on a site whose accreditation dominates
// its label, and the PROPRIETARY job really runs under Slurm.
func TestPlacementRealSites(t *testing.T) {
	url := testenv.Slurm(t)
	token := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_TOKEN")
	user := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_USER")

	// Slurm runs jobs as its own user on the shared file system: the data
	// dir's parent must be traversable by it (as a user's home or /srv
	// would be; the data dir itself is made so by Genesis).
	base, err := os.MkdirTemp("", "genesis-slurm-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	dataDir := filepath.Join(base, "data")
	cfg := config.Default(dataDir)
	cfg.Listen.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := a.Identity.Bootstrap(ctx, "admin")
	ln, _ := net.Listen("tcp", cfg.Listen.Addr)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	c := client.New("http://"+ln.Addr().String(), secret)

	cred, _ := json.Marshal(map[string]string{"user": user, "token": token})
	capy := map[string]any{"nodes": 1, "cores_per_node": 4, "memory_gb_per_node": 4}
	for _, s := range []httpapi.SiteRequest{
		{Name: "laptop", Kind: "local", Accreditation: "OPEN"},
		{Name: "cluster", Kind: "slurm", Endpoint: url, Credentials: string(cred), Accreditation: "PROPRIETARY"},
	} {
		b, _ := json.Marshal(capy)
		json.Unmarshal(b, &s.Capacity)
		if err := c.Do(ctx, "POST", "/api/v1/sites", s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Do(ctx, "POST", "/api/v1/principals/admin/clearance", httpapi.SetClearanceRequest{Clearance: "PROPRIETARY"}, nil); err != nil {
		t.Fatal(err)
	}

	submit := func(lbl string) string {
		spec := map[string]any{"executable": "/bin/sh", "arguments": []string{"-c", "echo ran on $(hostname)"}, "attributes": map[string]any{"duration": "2m"}, "label": lbl}
		body, _ := json.Marshal(spec)
		_, _, resp, err := c.RawPost(ctx, "/api/v1/jobs", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		var j jobs.Job
		json.Unmarshal(resp, &j)
		return j.ID
	}
	want := map[string]string{submit("OPEN"): "", submit("PROPRIETARY"): "cluster"}
	deadline := time.Now().Add(90 * time.Second)
	for id, site := range want {
		var j jobs.Job
		for time.Now().Before(deadline) {
			if err := c.Do(ctx, "GET", "/api/v1/jobs/"+id, nil, &j); err != nil {
				t.Fatal(err)
			}
			if j.State == jobs.Completed || j.State == jobs.Failed || j.State == jobs.Canceled {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if j.State != jobs.Completed {
			t.Fatalf("job %s (%s): %s %s %s", id, j.Label, j.State, j.Reason, j.Detail)
		}
		if site != "" && j.Site != site {
			t.Errorf("%s job ran on %s, want %s", j.Label, j.Site, site)
		}
		if j.Label == "PROPRIETARY" && j.Site == "laptop" {
			t.Errorf("PROPRIETARY job placed on the OPEN site")
		}
		t.Logf("%s job %s ran on %s", j.Label, id, j.Site)
		if j.Site == "cluster" {
			// The server (root here) gave the job's directory to the
			// user Slurm runs it as, and to nobody else.
			fi, err := os.Stat(filepath.Join(dataDir, "compute", "jobs", id[len(id)-2:], id))
			if err != nil {
				t.Fatal(err)
			}
			u, err := osuser.Lookup(user)
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); strconv.Itoa(int(st.Uid)) != u.Uid || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("job directory owned by uid %d, mode %v; want %s's alone", st.Uid, fi.Mode().Perm(), user)
			}
		}
	}
}
