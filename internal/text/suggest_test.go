package text_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/text"
)

func TestSuggest(t *testing.T) {
	keys := []string{"name", "goal", "objectives", "params", "budget"}
	for _, c := range []struct{ in, want string }{
		{"gaol", "goal"},            // a swap is one edit
		{"Goal", "goal"},            // case aside
		{"objectivs", "objectives"}, // one deletion
		{"prams", "params"},
		{"bdgt", ""},   // two edits in a short word: too far
		{"goal", ""},   // itself is never suggested
		{"", ""},       // nothing typed
		{"zzzzzz", ""}, // nothing close
	} {
		if got := text.Suggest(c.in, keys); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
