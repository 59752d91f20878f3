package store

import (
	"encoding/base64"

	"github.com/genesis-science/genesis/internal/errors"
)

// MaxPage is the largest page a list answers.
const MaxPage = 1000

// Page reads a list in key order a batch at a time and keeps what keep
// accepts, until limit items are kept or the list ends — so a page costs
// what it holds and what is skipped between, never the whole list.
// fetch returns up to n items after the key after ("" for the start), in
// order; key is an item's key; keep decides a whole batch at once. Page
// returns the kept items and the cursor of the next page ("" after the
// last). A limit of 0 means def; one outside 1..MaxPage, or a cursor Page
// did not make, is errors.Invalid. (fetch sees a cursor's key as it was
// made: a key it cannot read is the caller's to refuse.)
func Page[T any](cursor string, limit, def int, fetch func(after string, n int) ([]T, error), key func(*T) string, keep func([]T) ([]bool, error)) ([]T, string, error) {
	switch {
	case limit == 0:
		limit = def
	case limit < 1 || limit > MaxPage:
		return nil, "", errors.E(errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..1000"))
	}
	var after string
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(b) == 0 {
			return nil, "", MalformedCursor()
		}
		after = string(b)
	}
	// Read about twice what the page holds at a time: enough when most
	// items are kept, never more than MaxPage.
	batch := min(MaxPage, max(2*limit, 50))
	out := []T{}
	for {
		items, err := fetch(after, batch)
		if err != nil {
			return nil, "", err
		}
		ok, err := keep(items)
		if err != nil {
			return nil, "", err
		}
		for i := range items {
			after = key(&items[i])
			if !ok[i] {
				continue
			}
			out = append(out, items[i])
			if len(out) == limit && (i < len(items)-1 || len(items) == batch) {
				return out, base64.RawURLEncoding.EncodeToString([]byte(after)), nil
			}
		}
		if len(items) < batch {
			return out, "", nil
		}
	}
}

// MalformedCursor is the error for a page cursor that cannot be read.
func MalformedCursor() error {
	return errors.E(errors.Invalid, errors.Field("cursor"), errors.Msg("malformed cursor"))
}
