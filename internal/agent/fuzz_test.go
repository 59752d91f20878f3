package agent

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

// FuzzParseAnswer: whatever a model answers, every kept claim cites only
// well-formed IDs of passages the run read, every kept hypothesis keeps a
// claim, kept text is sanitised, and kept + dropped claims never exceed
// what the answer held.
func FuzzParseAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/answers/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, answer string) {
		rd := newReader(nil, nil)
		rd.passages["psg_read1"] = &lit.Passage{ID: "psg_read1"}
		rd.passages["psg_read2"] = &lit.Passage{ID: "psg_read2"}
		var drops Drops
		hs := parseAnswer(rd, answer, 10, &drops)
		if len(hs) > 10 {
			t.Fatalf("%d hypotheses, limit 10", len(hs))
		}
		kept := 0
		for _, h := range hs {
			if len(h.Claims) == 0 || h.Statement == "" {
				t.Fatalf("kept a hypothesis without claims or statement: %+v", h)
			}
			checkText(t, h.Statement)
			for _, c := range h.Claims {
				kept++
				checkText(t, c.Text)
				if len(c.Citations) == 0 {
					t.Fatalf("kept an uncited claim")
				}
				for _, id := range c.Citations {
					if rd.passages[id] == nil || !passageID.MatchString(id) {
						t.Fatalf("kept a citation of %q, not read", id)
					}
					if !contains(h.Passages, id) {
						t.Fatalf("hypothesis passages %v miss %s", h.Passages, id)
					}
				}
			}
		}
		// Reference count: when the answer decodes and is within the
		// bounds, every claim is either kept or counted as dropped.
		var ref struct {
			Hypotheses []struct {
				Statement string `json:"statement"`
				Claims    []struct {
					Text      string   `json:"text"`
					Citations []string `json:"citations"`
				} `json:"claims"`
			} `json:"hypotheses"`
		}
		body := strings.TrimSpace(answer)
		body = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(body, "```json"), "```"), "```")
		if json.NewDecoder(strings.NewReader(body)).Decode(&ref) != nil {
			if len(hs) != 0 {
				t.Fatalf("kept hypotheses from an answer that does not decode")
			}
			return
		}
		total, small := 0, len(ref.Hypotheses) <= 10
		for _, h := range ref.Hypotheses {
			total += len(h.Claims)
			small = small && len(h.Claims) <= llmMaxClaims
		}
		if small && kept+drops.Claims != total {
			t.Fatalf("kept %d + dropped %d claims, the answer has %d", kept, drops.Claims, total)
		}
		if small && len(hs)+drops.Hypotheses != len(ref.Hypotheses) {
			t.Fatalf("kept %d + dropped %d hypotheses, the answer has %d", len(hs), drops.Hypotheses, len(ref.Hypotheses))
		}
	})
}

func checkText(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 kept: %q", s)
	}
	for _, r := range s {
		if text.Forbidden(r) {
			t.Fatalf("control character %U kept in %q", r, s)
		}
	}
}

// FuzzParseTarget: a target either parses into a valid, finite target
// whose printed form parses back to the same, or is refused Invalid with
// a message.
func FuzzParseTarget(f *testing.F) {
	b, err := os.ReadFile("testdata/targets.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if msg := err.Error(); msg == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if math.IsNaN(tg.Value) || math.IsInf(tg.Value, 0) {
			t.Fatalf("non-finite value from %q", s)
		}
		if tg.Property == "" || strings.Trim(tg.Property, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("property %q from %q", tg.Property, s)
		}
		checkText(t, tg.Unit)
		op := map[string]string{"near": "=", "max": ">=", "min": "<="}[tg.Direction]
		if op == "" {
			t.Fatalf("direction %q", tg.Direction)
		}
		again := tg.Property + op + strconv.FormatFloat(tg.Value, 'g', -1, 64)
		if tg.Unit != "" {
			again += " " + tg.Unit
		}
		t2, err := ParseTarget(again)
		if err != nil || *t2 != *tg {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, tg, again, t2, err)
		}
	})
}
