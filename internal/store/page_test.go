package store

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// Property: paging through a sorted list with Page gives exactly the
// items keep accepts, in order, each once, in pages of at most limit —
// for any list length around the batch sizes, any kept fraction and any
// limit — and reads at most MaxPage items at a time.
func TestPageAgainstFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 9))
	for trial := range 300 {
		n := []int{0, 1, 49, 50, 51, 99, 100, 101, 999, 1000, 1001, 2500}[trial%12] + r.IntN(3)
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%06d", i)
		}
		p := []float64{0, 0.01, 0.5, 1}[r.IntN(4)]
		kept := map[string]bool{}
		var want []string
		for _, k := range keys {
			if r.Float64() < p {
				kept[k] = true
				want = append(want, k)
			}
		}
		limit := []int{0, 1, 2, 7, 100, 1000}[r.IntN(6)]
		fetch := func(after string, m int) ([]string, error) {
			if m > MaxPage {
				t.Fatalf("a batch of %d", m)
			}
			i := sort.SearchStrings(keys, after)
			if i < len(keys) && keys[i] == after {
				i++
			}
			return keys[i:min(i+m, len(keys))], nil
		}
		keep := func(b []string) ([]bool, error) {
			ok := make([]bool, len(b))
			for i, k := range b {
				ok[i] = kept[k]
			}
			return ok, nil
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > n+1 {
				t.Fatalf("n %d, limit %d: the pages do not end", n, limit)
			}
			page, next, err := Page(cursor, limit, 10, fetch, func(k *string) string { return *k }, keep)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > max(limit, 10) || limit > 0 && len(page) > limit {
				t.Fatalf("n %d, limit %d: a page of %d", n, limit, len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n %d, p %v, limit %d: paged %d items, want %d", n, p, limit, len(got), len(want))
		}
	}
	for _, bad := range []struct {
		cursor string
		limit  int
	}{{"", -1}, {"", MaxPage + 1}, {"!!", 1}} {
		if _, _, err := Page(bad.cursor, bad.limit, 10, func(string, int) ([]int, error) { return nil, nil }, func(*int) string { return "" },
			func(b []int) ([]bool, error) { return make([]bool, len(b)), nil }); !errors.Is(errors.Invalid, err) {
			t.Errorf("cursor %q, limit %d: %v, want Invalid", bad.cursor, bad.limit, err)
		}
	}
}

// TestCursorsArePagesOwn: a cursor Page made resumes where it ended; any
// other string — typed, truncated, re-encoded, or another key's cursor
// with a byte changed — is refused as Invalid, naming the cursor. (Before
// cursors carried a check, any base64 was read as some position.)
func TestCursorsArePagesOwn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		key := make([]byte, 1+rng.IntN(40))
		for i := range key {
			key[i] = byte(rng.IntN(256))
		}
		c := EncodeCursor(string(key))
		if got, err := DecodeCursor(c); err != nil || got != string(key) {
			t.Fatalf("DecodeCursor(EncodeCursor(%q)) = %q, %v", key, got, err)
		}
		// Change one character of the cursor: refused (or, by chance of
		// the alphabet, the same bytes — impossible with Strict decoding).
		b := []byte(c)
		i := rng.IntN(len(b))
		b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(64)]
		if string(b) != c {
			if _, err := DecodeCursor(string(b)); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "cursor" {
				t.Fatalf("altered cursor %q (of %q): %v, want Invalid naming cursor", b, c, err)
			}
		}
	}
	for _, bad := range []string{"garbage", "AAAA", "bmFtZQ", "!!", " ", "x", base64.RawURLEncoding.EncodeToString([]byte("some-name"))} {
		if _, err := DecodeCursor(bad); !errors.Is(errors.Invalid, err) {
			t.Errorf("DecodeCursor(%q) = %v, want Invalid", bad, err)
		}
		_, _, err := Page(bad, 10, 10, func(string, int) ([]int, error) { return nil, nil }, func(*int) string { return "" },
			func(b []int) ([]bool, error) { return make([]bool, len(b)), nil })
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "cursor" {
			t.Errorf("Page(cursor %q) = %v, want Invalid naming cursor", bad, err)
		}
	}
}

// FuzzDecodeCursor: every cursor DecodeCursor accepts is the one
// EncodeCursor makes of its key (one cursor per key, nothing else read),
// and every refusal is Invalid naming the cursor.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "garbage", EncodeCursor("alpha"), EncodeCursor("o:20"), EncodeCursor("1700000000.job_x"), "AAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		key, err := DecodeCursor(c)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "cursor" {
				t.Fatalf("DecodeCursor(%q): %v, want Invalid naming cursor", c, err)
			}
			return
		}
		if key == "" || EncodeCursor(key) != c {
			t.Fatalf("DecodeCursor(%q) = %q, whose cursor is %q", c, key, EncodeCursor(key))
		}
	})
}
