package manifest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzParseIndex fuzzes the index blob of a large manifest (FuzzDecode goes
// through Unmarshal and never reaches it). Get parses an index only after
// seeing IndexHeader, so with the header in front an accepted index must be
// exactly what Put writes for its chunks, every chunk a legal blob size;
// a rejection is Invalid with a user-safe message.
func FuzzParseIndex(f *testing.F) {
	a, b := blob.Sum([]byte("one")), blob.Sum([]byte("two"))
	for _, s := range []string{
		"", "\n", "c\n", fmt.Sprintf("c %s 1\n", a), fmt.Sprintf("c %s 1\nc %s %d\n", a, b, blob.MaxSize),
		fmt.Sprintf("c %s 0\n", a), fmt.Sprintf("c %s %d\n", a, blob.MaxSize+1), fmt.Sprintf("c %s 01\n", a),
		fmt.Sprintf("c %s +1\n", a), fmt.Sprintf("c %s -1\n", a), fmt.Sprintf("c %s 1", a), fmt.Sprintf("c  %s 1\n", a),
		fmt.Sprintf("c %s 1 \n", a), fmt.Sprintf("C %s 1\n", a), fmt.Sprintf("c %s 1\n", strings.ToUpper(a.String())),
		fmt.Sprintf("c %s 1\r\n", a), fmt.Sprintf("c %s 1\n\n", a), "c @@ 1\n", "c x@v3 1\n", "\x00\n", "ü\n",
		strings.Repeat(fmt.Sprintf("c %s 4096\n", b), 200),
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, header bool) {
		in := body
		if header {
			in = append([]byte(IndexHeader+"\n"), body...)
		}
		parts, err := parseIndex(in)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.SafeMessage(err) == "" {
				t.Fatalf("parseIndex(%q): %v (kind %v)", in, err, errors.KindOf(err))
			}
			return
		}
		if n := bytes.Count(in, []byte("\n")) - 1; len(parts) != n {
			t.Fatalf("parseIndex(%q): %d chunks from %d lines", in, len(parts), n)
		}
		for _, p := range parts {
			if p.Size <= 0 || p.Size > blob.MaxSize {
				t.Fatalf("parseIndex(%q): chunk size %d", in, p.Size)
			}
		}
		if !header {
			return
		}
		var out bytes.Buffer
		out.WriteString(IndexHeader + "\n")
		for _, p := range parts {
			fmt.Fprintf(&out, "c %s %d\n", p.ID, p.Size)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("accepted a non-canonical index:\n in %q\nout %q", in, out.Bytes())
		}
	})
}
