package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

// referenceDecode decodes an entry with encoding/json, as plainly as
// possible, and accepts it only if EncodeRecord gives the same bytes back.
func referenceDecode(entry []byte) (Record, bool) {
	var w struct {
		V          int    `json:"v"`
		Time       string `json:"time"`
		Principal  string `json:"principal"`
		Action     string `json:"action"`
		ObjectType string `json:"object_type"`
		ObjectID   string `json:"object_id"`
		Decision   string `json:"decision"`
		LabelHash  string `json:"label_hash"`
		RequestID  string `json:"request_id"`
		Detail     string `json:"detail"`
	}
	if json.Unmarshal(entry, &w) != nil || w.V < 1 || w.V > RecordVersion {
		return Record{}, false
	}
	tm, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Record{}, false
	}
	if w.V == RecordVersion {
		w.V = 0
	}
	lh, err := hex.DecodeString(w.LabelHash)
	if err != nil {
		return Record{}, false
	}
	if len(lh) == 0 {
		lh = nil
	}
	r := Record{Time: tm.UTC(), Principal: w.Principal, Action: w.Action, ObjectType: w.ObjectType,
		ObjectID: w.ObjectID, Decision: Decision(w.Decision), LabelHash: lh, RequestID: w.RequestID, Detail: w.Detail, Version: w.V}
	again, err := EncodeRecord(r)
	if err != nil || !bytes.Equal(again, entry) {
		return Record{}, false
	}
	return r, true
}

func randString(rng *rand.Rand, max int) string {
	alphabet := []rune("abcXYZ019 -_./:\"\\<>&\n\t\u00e9\u2028\u4e16\U0001F600\x7f")
	n := rng.IntN(max + 1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func randRecord(rng *rand.Rand) Record {
	r := Record{
		Time:       time.Unix(rng.Int64N(1<<37), rng.Int64N(1e9)).UTC(),
		Principal:  "p" + randString(rng, 10),
		Action:     "a" + randString(rng, 10),
		ObjectType: randString(rng, 8),
		ObjectID:   randString(rng, 20),
		Decision:   []Decision{Allow, Deny, Error}[rng.IntN(3)],
		RequestID:  randString(rng, 10),
		Detail:     randString(rng, 40),
	}
	if n := rng.IntN(40); n > 0 {
		r.LabelHash = make([]byte, n)
		for i := range r.LabelHash {
			r.LabelHash[i] = byte(rng.IntN(256))
		}
	}
	return r
}

// TestRecordRoundTrip: decode(encode(r)) == r for random records, and the
// fast decoder agrees with the encoding/json reference.
func TestRecordRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		r := randRecord(rng)
		e, err := EncodeRecord(r)
		if err != nil {
			t.Fatalf("encode %+v: %v", r, err)
		}
		got, err := DecodeRecord(e)
		if err != nil {
			t.Fatalf("decode %q: %v", e, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Fatalf("round trip: %s", diff)
		}
		ref, ok := referenceDecode(e)
		if !ok || !cmp.Equal(ref, got) {
			t.Fatalf("reference disagrees on %q", e)
		}
	}
}

func TestRecordEncoding(t *testing.T) {
	r := Record{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600)), Principal: "alice",
		Action: "read", ObjectType: "dataset", ObjectID: "ds-1", Decision: Deny,
		LabelHash: []byte{0xde, 0xad}, RequestID: "r1", Detail: "a<b",
	}
	e, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":2,"time":"2026-01-02T02:04:05.0000006Z","principal":"alice","action":"read","object_type":"dataset","object_id":"ds-1","decision":"deny","label_hash":"dead","request_id":"r1","detail":"a\u003cb"}`
	if string(e) != want {
		t.Fatalf("got  %s\nwant %s", e, want)
	}
	for _, c := range []struct {
		name string
		mod  func(*Record)
		kind errors.Kind
	}{
		{"no time", func(r *Record) { r.Time = time.Time{} }, errors.Invalid},
		{"no principal", func(r *Record) { r.Principal = "" }, errors.Invalid},
		{"no action", func(r *Record) { r.Action = "" }, errors.Invalid},
		{"bad decision", func(r *Record) { r.Decision = "maybe" }, errors.Invalid},
		{"long label hash", func(r *Record) { r.LabelHash = make([]byte, 65) }, errors.TooLarge},
		{"unkeyed label", func(r *Record) { r.Label = []byte{1} }, errors.Invalid},
		{"unknown version", func(r *Record) { r.Version = 3 }, errors.Invalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			r2 := r
			c.mod(&r2)
			if _, err := EncodeRecord(r2); !errors.Is(c.kind, err) {
				t.Fatalf("got %v, want kind %v", err, c.kind)
			}
		})
	}
	// Non-canonical spellings of a valid record are rejected.
	for _, bad := range []string{
		strings.Replace(want, `"v":2`, `"v":3`, 1),
		strings.Replace(want, `"v":2`, `"v":0`, 1),
		strings.Replace(want, `"v":2`, `"v":20`, 1),
		strings.Replace(want, `"v":2`, `"v":"2"`, 1),
		strings.Replace(want, `a\u003cb`, `a<b`, 1),
		strings.Replace(want, `"dead"`, `"DEAD"`, 1),
		strings.Replace(want, `05.0000006Z`, `05.00000060Z`, 1),
		strings.Replace(want, `02:04:05.0000006Z`, `03:04:05.0000006+01:00`, 1),
		strings.Replace(want, `,"detail"`, ` ,"detail"`, 1),
		want + "\n",
		strings.Replace(want, `"principal":"alice",`, ``, 1),
	} {
		if _, err := DecodeRecord([]byte(bad)); err == nil {
			t.Errorf("accepted non-canonical %s", bad)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20; i++ {
		e, _ := EncodeRecord(randRecord(rng))
		f.Add(e)
	}
	e, _ := EncodeRecord(testRecord(5))
	f.Add(e)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"time":"\u0032"}`))
	f.Fuzz(func(t *testing.T, entry []byte) {
		r, err := DecodeRecord(entry)
		ref, refOK := referenceDecode(entry)
		if (err == nil) != refOK {
			t.Fatalf("decoder (%v) and reference (%v) disagree on %q", err, refOK, entry)
		}
		if err != nil {
			return
		}
		if !cmp.Equal(r, ref) {
			t.Fatalf("decoder and reference decode %q differently", entry)
		}
		again, err := EncodeRecord(r)
		if err != nil || !bytes.Equal(again, entry) {
			t.Fatalf("accepted a non-canonical entry %q", entry)
		}
		if !utf8.Valid(entry) {
			t.Fatalf("accepted invalid UTF-8")
		}
	})
}
