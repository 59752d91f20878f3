package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/compute/jobs"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// iriProc is a running `genesis iri serve`.
type iriProc struct {
	cmd            *exec.Cmd
	url            string // without /api/v2
	stdout, stderr *lockedBuffer
	done           chan error
	stopped        bool
}

var servingRE = regexp.MustCompile(`iri provider serving (http://\S+)/api/v2 \(resources: (.*)\)`)

// startIRI runs `genesis iri serve --config cfg --listen addr` and waits
// until it says where it serves.
func startIRI(t *testing.T, cfg, addr string) *iriProc {
	t.Helper()
	cmd := exec.Command(genesisBinary(t), "iri", "serve", "--config", cfg, "--listen", addr)
	cmd.Env = append(os.Environ(), "GENESIS_LOG_LEVEL=warn")
	pr, pw := io.Pipe()
	p := &iriProc{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = pw, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(p.stdout, sc.Text())
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	go func() { err := cmd.Wait(); pw.Close(); p.done <- err }()
	select {
	case m := <-found:
		p.url = m[1]
		if m[2] != "cpu" {
			t.Errorf("serving resources %q, want cpu", m[2])
		}
	case err := <-p.done:
		t.Fatalf("genesis iri serve exited early: %v\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("genesis iri serve did not start\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if !p.stopped {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *iriProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.stopped = true
		if err != nil {
			t.Errorf("iri provider exit after SIGTERM: %v\n%s", err, p.stderr)
		}
		if !strings.Contains(p.stdout.String(), "iri provider stopped") {
			t.Errorf("iri provider did not say it stopped: %q", p.stdout)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("iri provider: no exit 20 s after SIGTERM")
	}
}

// TestIRIProcess runs `genesis iri serve` over a local resource as one
// process and `genesis up` as another, joined by a site of kind iri
// accredited for PROPRIETARY data beside an OPEN local site: a job over a
// PROPRIETARY dataset runs at the provider, its logs and its output come
// back (a labelled, lineage-linked version); a job cancelled in Genesis is
// cancelled at the provider; a job submitted while the provider is down
// waits with a reason and runs when it returns.
func TestIRIProcess(t *testing.T) {
	base := t.TempDir()
	dataDir := filepath.Join(base, "data")
	up := startUp(t, dataDir)
	adminTok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}

	// The provider: one local resource, jobs allowed under Genesis's data
	// dir (the machine is the shared file system here).
	const iriToken = "e2e-iri-token-0123456789"
	provDir := filepath.Join(base, "provider")
	os.MkdirAll(provDir, 0o755)
	os.WriteFile(filepath.Join(provDir, "tokens.json"), []byte(`{"`+iriToken+`": "genesis"}`), 0o600)
	cfg := filepath.Join(provDir, "iri.yaml")
	os.WriteFile(cfg, []byte(`root: state
tokens_file: tokens.json
facility: {id: e2e-facility, name: E2E facility}
site: {id: e2e-site, operating_organization: Genesis, country_name: USA}
resources:
  - {id: cpu, name: cpu, description: this machine, kind: local}
projects:
  - {id: e2e, name: E2E, users: [genesis]}
allowed_dirs: [`+dataDir+`]
`), 0o644)
	prov := startIRI(t, cfg, "127.0.0.1:0")
	provAddr := strings.TrimPrefix(prov.url, "http://")

	env := append(os.Environ(), "GENESIS_URL="+up.url, "GENESIS_TOKEN="+strings.TrimSpace(string(adminTok)),
		"XDG_CONFIG_HOME="+filepath.Join(base, "config"), "HOME="+base)
	gen := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(genesisBinary(t), args...)
		cmd.Env, cmd.Dir = env, base
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	job := func(id string) jobs.Job {
		t.Helper()
		var j jobs.Job
		if err := json.Unmarshal([]byte(gen("job", "show", id, "--json")), &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	waitJob := func(id string, what string, ok func(jobs.Job) bool) jobs.Job {
		t.Helper()
		var j jobs.Job
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if j = job(id); ok(j) {
				return j
			}
		}
		t.Fatalf("job %s: not %s within 30 s: %s %s %s (site %q)", id, what, j.State, j.Reason, j.Detail, j.Site)
		return j
	}
	submitted := regexp.MustCompile(`Submitted (job_\w+), label (\S+),`)
	submit := func(args ...string) string {
		t.Helper()
		out := gen(append([]string{"job", "submit"}, args...)...)
		m := submitted.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("job submit: %s", out)
		}
		if m[2] != "PROPRIETARY" {
			t.Errorf("job %s label %s, want PROPRIETARY", m[1], m[2])
		}
		return m[1]
	}

	gen("admin", "principal", "set-clearance", "admin", "PROPRIETARY")
	gen("site", "add", "laptop", "--kind", "local", "--accreditation", "OPEN", "--nodes", "1", "--cores-per-node", "2", "--memory-gb", "4")
	cred := filepath.Join(base, "iri-cred.json")
	os.WriteFile(cred, []byte(`{"token": "`+iriToken+`", "resource": "cpu", "project": "e2e"}`), 0o600)
	out := gen("site", "add", "facility", "--kind", "iri", "--endpoint", prov.url, "--credentials-file", cred,
		"--accreditation", "PROPRIETARY", "--nodes", "1", "--cores-per-node", "2", "--memory-gb", "4")
	if !strings.Contains(out, "Added iri site facility, accredited for PROPRIETARY") {
		t.Errorf("site add: %s", out)
	}
	if strings.Contains(gen("site", "show", "facility", "--json"), iriToken) {
		t.Error("the site's IRI token is shown back")
	}

	os.WriteFile(filepath.Join(base, "shots.csv"), []byte("shot,energy\n1,3.5\n2,4.1\n"), 0o644)
	gen("dataset", "create", "shots", "--label", "PROPRIETARY")
	gen("dataset", "put", "shots", filepath.Join(base, "shots.csv"))

	// A job over the PROPRIETARY dataset, and one to cancel.
	first := submit("--input", "shots@1", "--output", "count.txt=counts", "--duration", "1m", "--exec",
		"/bin/sh", "-c", "wc -l < inputs/shots/shots.csv > count.txt; echo counted at the facility; echo to-stderr >&2")
	sleeper := submit("--label", "PROPRIETARY", "--duration", "2m", "--exec", "/bin/sleep", "60")

	j := waitJob(first, "final", func(j jobs.Job) bool {
		return j.State == jobs.Completed || j.State == jobs.Failed || j.State == jobs.Canceled
	})
	if j.State != jobs.Completed {
		t.Fatalf("job %s: %s %s %s\nprovider: %s", first, j.State, j.Reason, j.Detail, prov.stderr)
	}
	if j.Site != "facility" {
		t.Errorf("PROPRIETARY job ran on %q, want the iri site facility", j.Site)
	}
	if logs := gen("job", "logs", first); logs != "counted at the facility\n" {
		t.Errorf("job logs = %q", logs)
	}
	if logs := gen("job", "logs", first, "--stderr"); logs != "to-stderr\n" {
		t.Errorf("job logs --stderr = %q", logs)
	}
	if got := strings.TrimSpace(gen("dataset", "cat", "counts", "count.txt")); got != "3" {
		t.Errorf("output count.txt = %q, want 3", got)
	}
	if out := gen("dataset", "show", "counts"); !regexp.MustCompile(`label: +PROPRIETARY`).MatchString(out) {
		t.Errorf("output dataset: %s", out)
	}
	if out := gen("lineage", "counts"); !regexp.MustCompile(`← shots@1 .*\(job ` + first).MatchString(out) {
		t.Errorf("lineage: %s", out)
	}
	if out := gen("job", "explain", first); !regexp.MustCompile(`rejected +laptop +accreditation OPEN does not dominate`).MatchString(out) {
		t.Errorf("explain: %s", out)
	}

	// Cancelled in Genesis → cancelled at the provider.
	j = waitJob(sleeper, "running", func(j jobs.Job) bool { return j.State == jobs.Running })
	if j.Site != "facility" {
		t.Errorf("sleeper on %q", j.Site)
	}
	gen("job", "cancel", sleeper)
	var state iri.JobState
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && state != iri.StateCanceled; time.Sleep(200 * time.Millisecond) {
		state = providerState(t, prov.url, iriToken, sleeper)
	}
	if state != iri.StateCanceled {
		t.Errorf("cancelled job at the provider: %q, want canceled", state)
	}
	if j := job(sleeper); j.State != jobs.Canceled {
		t.Errorf("cancelled job in Genesis: %s", j.State)
	}

	// The provider down: a job waits with a reason, and runs once it is back.
	prov.stop(t)
	late := submit("--label", "PROPRIETARY", "--duration", "1m", "--exec", "/bin/echo", "after the outage")
	j = waitJob(late, "waiting with a reason", func(j jobs.Job) bool { return j.State == jobs.Pending && j.Reason != "" })
	t.Logf("while the provider is down: %s: %s %s", j.State, j.Reason, j.Detail)
	if !strings.Contains(j.Reason+j.Detail, "facility") {
		t.Errorf("reason %q does not name the site", j.Reason)
	}
	time.Sleep(time.Second) // a few scheduler rounds: still pending, not lost
	if j := job(late); j.State != jobs.Pending {
		t.Errorf("job during the outage: %s %s", j.State, j.Reason)
	}
	prov = startIRI(t, cfg, provAddr)
	j = waitJob(late, "completed after the outage", func(j jobs.Job) bool { return j.State == jobs.Completed })
	if j.Site != "facility" {
		t.Errorf("late job ran on %q", j.Site)
	}
	if logs := gen("job", "logs", late); logs != "after the outage\n" {
		t.Errorf("late job logs = %q", logs)
	}
	// The restarted provider still answers for the earlier jobs.
	if s := providerState(t, prov.url, iriToken, first); s != iri.StateCompleted {
		t.Errorf("first job at the restarted provider: %q", s)
	}
	prov.stop(t)
}

// providerState asks the provider for the state of the job running in
// Genesis job id's directory ("" when it has none).
func providerState(t *testing.T, base, token, id string) iri.JobState {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v2/compute/status/cpu?historical=true&include_spec=true", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list []iri.Job
	if b, _ := io.ReadAll(res.Body); res.StatusCode != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("provider job list: %d %s", res.StatusCode, b)
	}
	for _, j := range list {
		if j.JobSpec != nil && filepath.Base(j.JobSpec.Directory) == id && j.Status != nil {
			return j.Status.State
		}
	}
	return ""
}
