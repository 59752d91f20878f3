package extract

import (
	"strings"
	"testing"
)

// TestGold scores the extractor on the hand-checked gold set and fails
// below precision 0.85 or recall 0.75.
func TestGold(t *testing.T) {
	gold := Gold()
	if len(gold) < 130 {
		t.Fatalf("gold set has %d sentences, want ≥ 130", len(gold))
	}
	s := Evaluate(gold)
	t.Logf("gold: %s", s)
	if testing.Verbose() {
		t.Logf("misses:\n  %s", strings.Join(s.Misses, "\n  "))
		t.Logf("spurious:\n  %s", strings.Join(s.Spurious, "\n  "))
	}
	if s.Precision < 0.85 {
		t.Errorf("precision %.3f < 0.85", s.Precision)
	}
	if s.Recall < 0.75 {
		t.Errorf("recall %.3f < 0.75", s.Recall)
	}
}
