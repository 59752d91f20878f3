package jobs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJobDir: new jobs get a directory under a two-character shard; a job
// whose directory an earlier version made directly under the work
// directory keeps it.
func TestJobDir(t *testing.T) {
	work := t.TempDir()
	s := &Service{workDir: work}
	want := filepath.Join(work, "ef", "job_abcdef")
	if got := s.jobDir("job_abcdef"); got != want {
		t.Errorf("new job: %s, want %s", got, want)
	}
	if got := s.dirOf(&Job{ID: "job_abcdef"}); got != want {
		t.Errorf("placed job: %s, want %s", got, want)
	}
	old := filepath.Join(work, "job_placed_before")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := s.dirOf(&Job{ID: "job_placed_before"}); got != old {
		t.Errorf("job placed by an earlier version: %s, want %s", got, old)
	}
}
