package campaign

import (
	"os"
	"path/filepath"
	"strings"
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

// TestREADME: the README's campaign file reference parses, and names every
// key a campaign file may use.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Campaign files\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Campaign files" section`)
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	i := strings.Index(text, "```yaml\n")
	if i < 0 {
		t.Fatal("no yaml block in the section")
	}
	block := text[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	if _, err := Parse([]byte(block)); err != nil {
		t.Errorf("the reference block does not parse: %v", err)
	}
	for _, k := range allKeys {
		if !strings.Contains(text, k+":") {
			t.Errorf("the section does not document %q", k)
		}
	}
}
