package audit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"
)

func TestProofRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	for i := 0; i < 600; i++ {
		l.Append(ctx, testRecord(i))
	}
	if _, err := l.AppendSync(ctx, testRecord(600)); err != nil {
		t.Fatal(err)
	}
	snap, err := OpenSnapshot(ctx, dir, v)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	for _, src := range []struct {
		name  string
		proof func(uint64) (Proof, error)
	}{
		{"log", func(i uint64) (Proof, error) { return l.Proof(ctx, i) }},
		{"snapshot", func(i uint64) (Proof, error) { return snap.Proof(ctx, i) }},
	} {
		for _, i := range []uint64{0, 257, 600} {
			p, err := src.proof(i)
			if err != nil {
				t.Fatalf("%s: %v", src.name, err)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var p2 Proof
			if err := json.Unmarshal(b, &p2); err != nil {
				t.Fatal(err)
			}
			cp, r, err := VerifyProof(p2, v)
			if err != nil {
				t.Fatalf("%s proof of %d: %v", src.name, i, err)
			}
			if cp.Size != 601 || !cmp.Equal(r, testRecord(int(i))) {
				t.Fatalf("%s proof of %d proves %+v in %d", src.name, i, r, cp.Size)
			}
			// Any change to the proof is rejected.
			bad := p2
			bad.Entry = strings.Replace(bad.Entry, "ds-", "dx-", 1)
			if _, _, err := VerifyProof(bad, v); err == nil {
				t.Fatal("altered entry accepted")
			}
			bad = p2
			bad.Index++
			if _, _, err := VerifyProof(bad, v); err == nil {
				t.Fatal("wrong index accepted")
			}
			bad = p2
			bad.Hashes = append([]tlog.Hash(nil), p2.Hashes...)
			bad.Hashes[0][0] ^= 1
			if _, _, err := VerifyProof(bad, v); err == nil {
				t.Fatal("altered proof accepted")
			}
		}
	}
	l.Close()
}
