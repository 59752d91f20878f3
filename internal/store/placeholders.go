package store

import "strings"

// Placeholders is n comma-separated parameter placeholders ("?, ?, ?"),
// for IN lists; n must be at least 1.
func Placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// RowsOf is n parenthesised rows of cols placeholders each, for multi-row
// VALUES.
func RowsOf(n, cols int) string {
	row := "(" + Placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
