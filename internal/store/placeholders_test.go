package store

import "testing"

func TestPlaceholders(t *testing.T) {
	if got := Placeholders(1); got != "?" {
		t.Errorf("Placeholders(1) = %q", got)
	}
	if got := Placeholders(3); got != "?, ?, ?" {
		t.Errorf("Placeholders(3) = %q", got)
	}
	if got := RowsOf(2, 2); got != "(?, ?), (?, ?)" {
		t.Errorf("RowsOf(2, 2) = %q", got)
	}
}
