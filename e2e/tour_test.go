package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/testenv"
)

// TestREADMETour runs README.md's "A short tour" as written, so that the
// project's front page cannot drift from what the binary does: every
// ```sh block of that section (not those marked ```sh illustrative), one
// command at a time, in order, in bash, from a directory laid out like the
// repository's root (examples/ and internal/ linked in), against a fresh
// `genesis up` and the real Slurm of scripts/services.sh. Every command
// must exit 0; some must print what the tour promises (tourExpect).
//
// What the test does differently from a reader, and only this:
//   - `go build -o genesis ./cmd/genesis`: the binary built from this tree
//     is copied in instead;
//   - `./genesis up &`: the test starts it, on a free port, and waits until
//     it listens; http://127.0.0.1:8080 in the tour is that address, and
//     http://127.0.0.1:16820 (the Slurm of scripts/services.sh) is
//     GENESIS_TEST_SLURM;
//   - `gnt_…`, `rel_…`, `job_…` are, as the tour says, the token or ID of
//     that kind printed most recently: the first one printed by the latest
//     command that printed one;
//   - slurm.json is written from GENESIS_TEST_SLURM_USER and _TOKEN.
//
// Exported variables carry from one command to the next, as in a shell.
func TestREADMETour(t *testing.T) {
	if testing.Short() {
		t.Skip("the tour runs real jobs")
	}
	slurmURL := testenv.Slurm(t)
	slurmToken := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_TOKEN")
	slurmUser := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_USER")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, yamls := tourBlocks(t, readme)
	if len(cmds) < 20 {
		t.Fatalf("found %d tour commands in README.md; the section or its blocks moved", len(cmds))
	}
	// The job spec shown in the tour is the file the tour submits.
	spec, err := os.ReadFile("../examples/tour/train.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !containsBlock(yamls, string(spec)) {
		t.Errorf("the tour's yaml block differs from examples/tour/train.yaml:\n%s", spec)
	}

	// Slurm runs the jobs as its own user, on this file system: the
	// directory above the data dir must be traversable (as in e2e/slurm_test.go).
	base, err := os.MkdirTemp("", "genesis-tour-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	root, _ := filepath.Abs("..")
	for _, d := range []string{"examples", "internal"} {
		if err := os.Symlink(filepath.Join(root, d), filepath.Join(base, d)); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(genesisBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "genesis"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cred, _ := json.Marshal(map[string]string{"user": slurmUser, "token": slurmToken})
	if err := os.WriteFile(filepath.Join(base, "slurm.json"), cred, 0o600); err != nil {
		t.Fatal(err)
	}

	var server *proc
	env := withoutGenesisEnv(os.Environ())
	last := map[string]string{} // placeholder prefix → latest value
	ran := map[string]bool{}
	for _, cmd := range cmds {
		switch {
		case strings.HasPrefix(cmd, "go build "):
			continue // the binary is in place
		case strings.HasPrefix(cmd, "./genesis up &"):
			server = startUpIn(t, base)
			continue
		}
		if server == nil {
			t.Fatalf("the tour runs %q before starting the server", cmd)
		}
		line := strings.ReplaceAll(cmd, "http://127.0.0.1:8080", server.url)
		line = strings.ReplaceAll(line, "http://127.0.0.1:16820", slurmURL)
		line = placeholderRE.ReplaceAllStringFunc(line, func(ph string) string {
			prefix := strings.TrimSuffix(ph, "_…")
			v, ok := last[prefix]
			if !ok {
				t.Fatalf("%q: no %s_ value printed before it", cmd, prefix)
			}
			return v
		})
		out, newEnv, err := runTourLine(base, env, line)
		t.Logf("$ %s\n%s", line, out)
		if err != nil {
			t.Fatalf("tour command %q: %v\n%s", cmd, err, out)
		}
		env = newEnv
		// The first value of each kind in this command's output.
		seen := map[string]bool{}
		for _, m := range valueRE.FindAllStringSubmatch(out, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				last[m[1]] = m[0]
			}
		}
		for _, e := range tourExpect {
			if strings.Contains(cmd, e.cmd) {
				ran[e.cmd] = true
				if e.want != "" && !strings.Contains(out, e.want) {
					t.Errorf("tour command %q: output lacks %q", cmd, e.want)
				}
				if e.not != "" && strings.Contains(out, e.not) {
					t.Errorf("tour command %q: output has %q", cmd, e.not)
				}
			}
		}
	}
	for _, e := range tourExpect {
		if !ran[e.cmd] {
			t.Errorf("the tour no longer runs %q", e.cmd)
		}
	}
}

// tourExpect is what some of the tour's commands must print (want) or
// must not (not); cmd is a part of the command as the README writes it.
var tourExpect = []struct{ cmd, want, not string }{
	{cmd: "./genesis whoami", want: "admin"},
	{cmd: "./genesis instrument list", want: "reactor-2"},
	{cmd: "campaign watch demo", want: "completed"},
	{cmd: "campaign status demo --plot demo.png", want: "completed"},
	{cmd: "lineage demo-surrogate", want: "demo-results@"},
	{cmd: "dataset cat shots@1 summary.csv", want: "run-042,6"},
	{cmd: "dataset diff shots@1 shots@2", want: "calibration.json"},
	{cmd: "admin principal update admin", want: "classification-officer"},
	{cmd: "declassify approve", want: "rel_"},
	{cmd: "job submit --project fusion-ml", want: "pending", not: "warning"},
	{cmd: "job explain", want: "CHOSEN"},
	{cmd: "job logs -f", want: "7 shots", not: "failed"},
	{cmd: "job show", want: "completed"},
	{cmd: "dataset cat fits@1 fit.csv", want: "slope_ms_per_mw"},
	{cmd: "job submit -f examples/tour/train.yaml", want: "pending", not: "warning"},
	{cmd: "model show shot-surrogate", want: "rmse"},
	{cmd: "lineage shot-surrogate@1", want: "shots@2"},
	{cmd: "audit verify", want: "yes"},
	{cmd: "lit import examples/lit/papers --label", want: "5 created"},
	{cmd: "lit import examples/lit/papers/ --label", want: "5 unchanged", not: "created"},
	{cmd: "lit search \"CsPbI3 band gap\"", want: "Okafor and Lindqvist (2024) Optical band gaps"},
	{cmd: "lit show doi-10.5555-genesis.example.0001", want: "Cited by:"},
	{cmd: "lit facts --property band_gap --material CsPbI3", want: "1.73 eV"},
	{cmd: "challenge list --domain advanced-manufacturing", want: "autonomous-flow-synthesis"},
	{cmd: "challenge progress autonomous-flow-synthesis", want: "1 of 2 targets reached"},
	{cmd: "mission status", want: "challenges-identified"},
	{cmd: "mission risks", want: "leakage"},
	{cmd: "partner list", want: "acme"},
	{cmd: "report annual --out report.pdf", want: "wrote report.pdf"},
}

var (
	placeholderRE = regexp.MustCompile(`\b(gnt|rel|job)_…`)
	valueRE       = regexp.MustCompile(`\b(gnt|rel|job)_[A-Za-z0-9_-]*[A-Za-z0-9]`)
)

// tourBlocks returns the commands of the ```sh blocks of README's tour
// section (continuation lines joined) and the bodies of its ```yaml blocks.
func tourBlocks(t *testing.T, readme []byte) (cmds, yamls []string) {
	t.Helper()
	text := string(readme)
	start := strings.Index(text, "\n## A short tour\n")
	if start < 0 {
		t.Fatal(`README.md has no "## A short tour" section`)
	}
	text = text[start+1:]
	if end := strings.Index(text, "\n### "); end >= 0 {
		text = text[:end]
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	var kind string // "" outside a block
	var block, cont strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case kind == "" && strings.HasPrefix(line, "```"):
			kind = strings.TrimSpace(strings.TrimPrefix(line, "```"))
			block.Reset()
		case kind != "" && line == "```":
			if kind == "yaml" {
				yamls = append(yamls, block.String())
			}
			kind = ""
		case kind == "sh":
			if body, ok := strings.CutSuffix(line, `\`); ok {
				cont.WriteString(body)
				continue
			}
			cont.WriteString(line)
			if c := strings.TrimSpace(cont.String()); c != "" && !strings.HasPrefix(c, "#") {
				cmds = append(cmds, c)
			}
			cont.Reset()
		case kind != "":
			block.WriteString(line + "\n")
		}
	}
	return cmds, yamls
}

func containsBlock(blocks []string, want string) bool {
	for _, b := range blocks {
		if strings.TrimSpace(b) == strings.TrimSpace(want) {
			return true
		}
	}
	return false
}

// runTourLine runs line with bash in dir, with environment env, and
// returns its output (standard output and error) and the environment it
// leaves (what it exported).
func runTourLine(dir string, env []string, line string) (string, []string, error) {
	envFile := filepath.Join(dir, ".tour-env")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line+"\n__rc=$?; env -0 > "+envFile+"; exit $__rc")
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), env, err
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		return out.String(), env, err
	}
	var next []string
	for _, kv := range strings.Split(string(b), "\x00") {
		if kv != "" {
			next = append(next, kv)
		}
	}
	return out.String(), next, nil
}

// withoutGenesisEnv drops the GENESIS_ settings of the test's own
// environment (a reader's shell has none) except those of the test
// services, which the server does not read.
func withoutGenesisEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GENESIS_") && !strings.HasPrefix(kv, "GENESIS_TEST_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
