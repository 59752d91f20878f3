package store

import (
	"bytes"
	"crypto/sha256"
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
// last; see EncodeCursor). A limit of 0 means def; one outside 1..MaxPage,
// or a cursor EncodeCursor did not make, is errors.Invalid. (fetch sees a
// cursor's key as it was made: a key it cannot read is the caller's to
// refuse.)
func Page[T any](cursor string, limit, def int, fetch func(after string, n int) ([]T, error), key func(*T) string, keep func([]T) ([]bool, error)) ([]T, string, error) {
	switch {
	case limit == 0:
		limit = def
	case limit < 1 || limit > MaxPage:
		return nil, "", errors.E(errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..1000"))
	}
	var after string
	if cursor != "" {
		var err error
		if after, err = DecodeCursor(cursor); err != nil {
			return nil, "", err
		}
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
				return out, EncodeCursor(after), nil
			}
		}
		if len(items) < batch {
			return out, "", nil
		}
	}
}

// A cursor is the key a page ended at, followed by a check over it,
// in unpadded base64url: so a cursor that was not made by EncodeCursor —
// typed, truncated, or from another version — is refused rather than read
// as some position in the list. (The check is not a secret: a cursor only
// says where to resume, and every list filters what it reads again.)
const cursorCheckLen = 6

var cursorEncoding = base64.RawURLEncoding.Strict()

// EncodeCursor makes the cursor for resuming a list after key (not "").
func EncodeCursor(key string) string {
	b := append([]byte(key), cursorCheck(key)...)
	return cursorEncoding.EncodeToString(b)
}

// DecodeCursor returns the key of a cursor EncodeCursor made, or
// MalformedCursor for anything else. Each key has exactly one cursor.
func DecodeCursor(cursor string) (string, error) {
	b, err := cursorEncoding.DecodeString(cursor)
	// (The decoder skips line breaks: only the canonical form is a cursor.)
	if err != nil || len(b) <= cursorCheckLen || cursorEncoding.EncodeToString(b) != cursor {
		return "", MalformedCursor()
	}
	key, check := string(b[:len(b)-cursorCheckLen]), b[len(b)-cursorCheckLen:]
	if !bytes.Equal(check, cursorCheck(key)) {
		return "", MalformedCursor()
	}
	return key, nil
}

func cursorCheck(key string) []byte {
	sum := sha256.Sum256([]byte("genesis page cursor\x00" + key))
	return sum[:cursorCheckLen]
}

// MalformedCursor is the error for a page cursor that cannot be read.
func MalformedCursor() error {
	return errors.E(errors.Invalid, errors.Field("cursor"), errors.Msg("malformed cursor"))
}
