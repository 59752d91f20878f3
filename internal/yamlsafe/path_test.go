package yamlsafe_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/yamlsafe"
	"github.com/goccy/go-yaml"
)

func TestMultipleDocuments(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"a: 1\n", false},
		{"---\na: 1\n", false},              // a header before content
		{"%YAML 1.2\n---\na: 1\n", false},   // a directive, then the one document
		{"# note\n---\na: 1\n...\n", false}, // comments and an end marker
		{"a: 1\n---\nb: 2\n", true},
		{"a: 1\n---\n", true},
	} {
		if got := yamlsafe.MultipleDocuments([]byte(c.in)); got != c.want {
			t.Errorf("MultipleDocuments(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestErrorPath(t *testing.T) {
	type item struct {
		Low  float64 `yaml:"low"`
		High float64 `yaml:"high"`
	}
	var v struct {
		Name   string `yaml:"name"`
		Params []item `yaml:"params"`
	}
	for _, c := range []struct{ in, want string }{
		{"name: x\nparams:\n  - {low: 1, high: 2}\n  - {low: 1, hihg: 2}\n", "params[1].hihg"},
		{"name: x\nparams:\n  - low: one\n", "params[0].low"},
		{"nmae: x\n", "nmae"},
		{"name: \"a\x01b\"\nparams: [{lo\x01w: 1}]\n", ""}, // refused before it could name a path, or sanitised
	} {
		err := yamlsafe.Decode([]byte(c.in), &v, yaml.Strict())
		if err == nil {
			t.Fatalf("%q decoded", c.in)
		}
		got := yamlsafe.ErrorPath([]byte(c.in), err)
		if c.want != "" && got != c.want {
			t.Errorf("ErrorPath(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, r := range got {
			if r < 0x20 {
				t.Errorf("ErrorPath(%q) = %q holds a control character", c.in, got)
			}
		}
	}
	if got := yamlsafe.ErrorPath([]byte("a: 1"), nil); got != "" {
		t.Errorf("no error: %q", got)
	}
}
