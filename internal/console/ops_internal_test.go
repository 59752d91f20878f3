package console

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/text"
)

// tailModel is readTail's reference: the first scan bytes, their last
// keep, cut after a near newline when anything was left out.
func tailModel(data []byte, keep, scan int) (string, bool) {
	n := min(len(data), scan)
	kept := data[max(0, n-keep):n]
	cut := n > keep || len(data) > scan
	if cut {
		if i := bytes.IndexByte(kept, '\n'); i >= 0 && i < 256 {
			kept = kept[i+1:]
		}
	}
	s, _ := text.Sanitize(string(kept), true)
	return s, cut
}

// TestReadTailModel checks readTail against the model on random logs
// (text, newlines, control bytes, broken UTF-8) read in random pieces.
func TestReadTailModel(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 4))
	alphabet := []string{"a", "b", "\n", "\t", "\x00", "\x1b[31m", "é", "\xff", "日本", "\r\n"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := r.IntN(600); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		data := []byte(b.String())
		keep, scan := 1+r.IntN(300), 1+r.IntN(700)
		var rd io.Reader = bytes.NewReader(data)
		switch r.IntN(3) {
		case 1:
			rd = iotest.OneByteReader(rd)
		case 2:
			rd = iotest.HalfReader(rd)
		}
		got, cut, err := readTail(rd, keep, scan)
		if err != nil {
			t.Fatal(err)
		}
		want, wantCut := tailModel(data, keep, scan)
		if got != want || cut != wantCut {
			t.Fatalf("readTail(%q, keep %d, scan %d) = %q, %v; want %q, %v", data, keep, scan, got, cut, want, wantCut)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("readTail returned invalid UTF-8 %q", got)
		}
		for _, c := range got {
			if text.Forbidden(c) && c != '\n' && c != '\t' && c != '\r' {
				t.Fatalf("readTail returned a control character in %q", got)
			}
		}
	}
}

// TestReadTailError: a read error is returned, not a half tail.
func TestReadTailError(t *testing.T) {
	_, _, err := readTail(iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 100))), 10, 1000)
	if err == nil {
		t.Fatal("a failing reader gave no error")
	}
}
