// Package scripts holds the shell scripts that set up a test machine;
// its tests check their parts that can run without root.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAptGetWaitsForTheLock runs apt.sh's apt_get against a fake apt-get
// that fails (as a busy dpkg or lists lock makes it) a given number of
// times: apt_get asks for the lock timeout every time and tries again,
// up to APT_TRIES times, and then fails with apt-get's status.
func TestAptGetWaitsForTheLock(t *testing.T) {
	for _, tc := range []struct {
		busy, tries, wantCalls int
		wantOK                 bool
	}{
		{0, 5, 1, true}, {2, 5, 3, true}, {4, 5, 5, true}, {5, 5, 5, false}, {9, 1, 1, false},
	} {
		bin := t.TempDir()
		calls := filepath.Join(bin, "calls")
		fake := `#!/bin/sh
echo "$*" >> "` + calls + `"
n=$(wc -l < "` + calls + `")
if [ "$n" -le ` + itoa(tc.busy) + ` ]; then
	echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1 (apt-get)" >&2
	exit 100
fi
`
		if err := os.WriteFile(filepath.Join(bin, "apt-get"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-c", `. ./apt.sh; apt_get update -qq`)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "APT_RETRY_PAUSE=0", "APT_TRIES="+itoa(tc.tries))
		out, err := cmd.CombinedOutput()
		if ok := err == nil; ok != tc.wantOK {
			t.Errorf("busy %d times, %d tries: %v, want success %v\n%s", tc.busy, tc.tries, err, tc.wantOK, out)
		}
		if ee, isExit := err.(*exec.ExitError); isExit && ee.ExitCode() != 100 {
			t.Errorf("busy %d times, %d tries: exit %d, want apt-get's 100", tc.busy, tc.tries, ee.ExitCode())
		}
		b, _ := os.ReadFile(calls)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != tc.wantCalls {
			t.Errorf("busy %d times, %d tries: apt-get ran %d times, want %d", tc.busy, tc.tries, len(lines), tc.wantCalls)
		}
		for _, l := range lines {
			if l != "-o DPkg::Lock::Timeout=600 update -qq" {
				t.Errorf("apt-get %s: want the lock timeout and the arguments", l)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
