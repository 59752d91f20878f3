package mission_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/text"
)

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/challenges/*")
	if len(files) < 2 {
		t.Fatal("no example challenge files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mission.Parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	cat, _ := os.ReadFile("testdata/challenges/catalyst.yaml")
	for name, bad := range map[string][]byte{
		"two documents": append(append(append([]byte{}, cat...), "---\n"...), cat...),
		"too large":     append(append([]byte{}, cat...), strings.Repeat("#", mission.MaxSpecSize)...),
		"not UTF-8":     append(append([]byte{}, cat...), 0xff),
		"alias":         []byte("name: &a x\ntitle: *a\n"),
		"empty":         []byte("  \n"),
	} {
		if _, err := mission.Parse(bad); err == nil || !errors.Is(errors.Invalid, err) && !errors.Is(errors.TooLarge, err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	b, _ := os.ReadFile("testdata/challenges/qubits.json")
	sp, _ := mission.Parse(b)
	if sp.Domain != "quantum-information-science" || sp.Targets[0].Metric != "coherence_time" || sp.Targets[0].Unit != "s" || *sp.Targets[0].Target != 1e-3 ||
		sp.Targets[1].Unit != "%" || *sp.Targets[1].Target != 99.99 {
		t.Errorf("canonical form: %+v %+v", sp, sp.Targets)
	}
}

// FuzzParse: Parse never panics; it either refuses with Invalid or
// TooLarge and a safe message, or returns a spec that is valid, in
// canonical form (validating it again changes nothing), holds only clean
// text, and survives a JSON round trip through Parse unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/challenges/*")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("name: x\ntargts: []\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("name: a\n---\nname: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := mission.Parse(data)
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("kind %v: %v", k, err)
			}
			if msg := errors.SafeMessage(err); !utf8.ValidString(msg) || len(msg) > 2048 {
				t.Fatalf("unsafe message %q", msg)
			}
			return
		}
		for _, s := range append([]string{sp.Name, sp.Title, sp.Domain, sp.Lead, sp.Label}, sp.Partners...) {
			if err := text.Line("x", s, 1<<20); err != nil {
				t.Fatalf("unclean text %q", s)
			}
		}
		if len(sp.Targets) == 0 || len(sp.Targets) > mission.MaxTargets || len(sp.Links) > mission.MaxLinks || strings.HasPrefix(sp.Name, "chl_") {
			t.Fatalf("out of bounds: %+v", sp)
		}
		for _, tg := range sp.Targets {
			if *tg.Target == *tg.Baseline || tg.Direction == "max" && *tg.Target < *tg.Baseline || tg.Direction == "min" && *tg.Target > *tg.Baseline {
				t.Fatalf("bad target %+v", tg)
			}
		}
		again := *sp
		again.Targets = append([]mission.TargetSpec(nil), sp.Targets...)
		again.Links = append([]mission.LinkSpec(nil), sp.Links...)
		if err := again.Validate(); err != nil {
			t.Fatalf("canonical spec does not validate again: %v", err)
		}
		b1, _ := json.Marshal(sp)
		b2, _ := json.Marshal(&again)
		if string(b1) != string(b2) {
			t.Fatalf("validate is not idempotent:\n%s\n%s", b1, b2)
		}
		sp2, err := mission.Parse(b1)
		if err != nil {
			t.Fatalf("its JSON does not parse: %v\n%s", err, b1)
		}
		if b3, _ := json.Marshal(sp2); string(b3) != string(b1) {
			t.Fatalf("round trip changed it:\n%s\n%s", b1, b3)
		}
	})
}

// TestREADME: the README's example challenge file parses.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## National challenges\n")
	if start < 0 {
		t.Fatal(`README.md has no "## National challenges" section`)
	}
	text = text[start:]
	i := strings.Index(text, "```yaml\n")
	if i < 0 {
		t.Fatal("no yaml block in the section")
	}
	block := text[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	sp, err := mission.Parse([]byte(block))
	if err != nil {
		t.Fatalf("the README's challenge file: %v", err)
	}
	if len(sp.Targets) != 2 || len(sp.Links) != 3 || sp.Domain != "advanced-manufacturing" {
		t.Errorf("parsed %+v", sp)
	}
}
