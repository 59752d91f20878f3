package campaign

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// TestExamples parses every example campaign file, and checks that the
// optimizer accepts its configuration.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/campaigns/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example campaign files found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cfg, err := s.OptimizerConfig()
			if err != nil {
				t.Fatalf("OptimizerConfig: %v", err)
			}
			if _, err := bo.New(cfg); err != nil {
				t.Fatalf("bo.New: %v", err)
			}
		})
	}
}
