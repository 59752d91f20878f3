package blob_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

func TestParseID(t *testing.T) {
	good := blob.Sum([]byte("x"))
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good.String(), true},
		{strings.Repeat("0", 64), true},
		{strings.ToUpper(good.String()), false},
		{good.String()[:63], false},
		{good.String() + "0", false},
		{"", false},
		{strings.Repeat("g", 64), false},
	} {
		id, err := blob.ParseID(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseID(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(errors.Invalid, err) {
			t.Errorf("ParseID(%q) err kind %v, want invalid", tc.in, errors.KindOf(err))
		}
		if err == nil && id.String() != tc.in {
			t.Errorf("ParseID(%q).String() = %q", tc.in, id.String())
		}
	}
}

func TestSumIsBLAKE3(t *testing.T) {
	// Known answer: BLAKE3("") from the reference test vectors.
	if got := blob.Sum(nil).String(); got != "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" {
		t.Fatalf("Sum(\"\") = %s", got)
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(blob.Sum(nil).String())
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := blob.ParseID(s)
		if err == nil && id.String() != s {
			t.Fatalf("ParseID(%q) accepted a non-canonical form", s)
		}
	})
}
