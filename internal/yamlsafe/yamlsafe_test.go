package yamlsafe

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\n", "anchors"},
		{"anchor alone", "a: &a 1\n", "anchors"},
		{"deep flow", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested deeper"},
	} {
		var v any
		err := Unmarshal([]byte(tc.in), &v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestDecodes(t *testing.T) {
	var v struct {
		A int      `yaml:"a"`
		B []string `yaml:"b"`
	}
	if err := Unmarshal([]byte("a: 3\nb: [x, {y: 1}]\n"), &v, yaml.Strict()); err == nil {
		t.Errorf("a mapping decoded into a string")
	}
	if err := Unmarshal([]byte("a: 3\nb: [x, y]\n"), &v, yaml.Strict()); err != nil || v.A != 3 || len(v.B) != 2 {
		t.Errorf("%+v, %v", v, err)
	}
	if err := Unmarshal([]byte("a: 3\nc: 1\n"), &v, yaml.Strict()); err == nil {
		t.Errorf("unknown field accepted under Strict")
	}
	// Depth up to the limit is fine.
	ok := strings.Repeat("[", MaxFlowDepth) + strings.Repeat("]", MaxFlowDepth)
	var x any
	if err := Unmarshal([]byte(ok), &x); err != nil {
		t.Errorf("depth %d: %v", MaxFlowDepth, err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{"a: 1\n", "- [x, {y: z}]\n", "a: &a [x]\nb: *a\n", "!!seq |\n  x\n", "{", "a: b: c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var v any
		Unmarshal(data, &v) // must not panic or hang
	})
}
