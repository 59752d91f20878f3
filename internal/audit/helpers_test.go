package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func testKeys(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, _, err := GenerateKey(Origin("test"))
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func openTest(t testing.TB, dir string, s note.Signer, v note.Verifier) *Log {
	t.Helper()
	l, err := Open(context.Background(), dir, Options{Signer: s, Verifier: v, FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var baseTime = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// testRecord returns a varied, valid record determined by i.
func testRecord(i int) Record {
	decisions := []Decision{Allow, Deny, Error}
	r := Record{
		Time:       baseTime.Add(time.Duration(i) * time.Millisecond),
		Principal:  fmt.Sprintf("user-%d", i%17),
		Action:     []string{"read", "write", "dataset.create", "declassify.approve"}[i%4],
		ObjectType: "dataset",
		ObjectID:   fmt.Sprintf("ds-%06d", i),
		Decision:   decisions[i%3],
		RequestID:  fmt.Sprintf("req-%d", i),
	}
	if i%2 == 0 {
		r.LabelHash = []byte{byte(i), byte(i >> 8), 0xaa, 0x55}
	}
	if i%5 == 0 {
		r.Detail = fmt.Sprintf("detail \"%d\" <é>\n", i)
	}
	return r
}

func formatInt(i int) string { return fmt.Sprint(i) }
