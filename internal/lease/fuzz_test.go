package lease_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lease"
)

// FuzzCheckName: an accepted lease or holder name is 1–128 bytes of valid
// UTF-8 without control characters, a refused one is Invalid naming the
// field, and lease holders accept exactly the replica IDs the
// configuration accepts (replica.id is the holder).
func FuzzCheckName(f *testing.F) {
	file, err := os.Open("testdata/names.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	file.Close()
	f.Add("")
	f.Add(strings.Repeat("n", 128))
	f.Add(strings.Repeat("n", 129))
	f.Fuzz(func(t *testing.T, s string) {
		err := lease.CheckName("holder", s)
		if (err == nil) != (config.CheckReplicaID(s) == nil) {
			t.Fatalf("%.200q: lease.CheckName says %v, config.CheckReplicaID says %v", s, err, config.CheckReplicaID(s))
		}
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "holder" {
				t.Fatalf("CheckName(%.200q) = %v", s, err)
			}
			return
		}
		if s == "" || len(s) > lease.MaxNameLen || !utf8.ValidString(s) {
			t.Fatalf("CheckName accepted %.200q", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("CheckName accepted a control character %U in %.200q", r, s)
			}
		}
	})
}
