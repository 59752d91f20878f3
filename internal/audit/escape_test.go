package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
)

// unescape inverts the escaping of a field that was not valid UTF-8.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], `\\`):
			b.WriteByte('\\')
			i++
		case strings.HasPrefix(s[i:], `\x`) && i+4 <= len(s):
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b.WriteByte(byte(v))
			i += 3
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// checkEscaped checks the properties of one escaped field: valid UTF-8,
// within max bytes, unchanged if it was already fine, the original bytes
// recoverable if it was not UTF-8 and not cut, and a marker with the
// escaped length if it was cut.
func checkEscaped(t *testing.T, name, in, out string, max int) {
	t.Helper()
	if !utf8.ValidString(out) || len(out) > max {
		t.Fatalf("%s: escaped %q to %q: not UTF-8 or longer than %d", name, in, out, max)
	}
	if utf8.ValidString(in) && len(in) <= max {
		if out != in && name != "detail" {
			t.Fatalf("%s: changed a valid field %q to %q", name, in, out)
		}
		return
	}
	if strings.HasSuffix(out, " bytes]") {
		i := strings.LastIndex(out, "…[")
		if i < 0 {
			t.Fatalf("%s: cut without a marker: %q", name, out)
		}
		return
	}
	if got := unescape(out); got != in {
		t.Fatalf("%s: %q escaped to %q, which reads back as %q", name, in, out, got)
	}
}

// hostileString returns strings of any bytes and lengths up to beyond
// every limit.
func hostileString(rng *rand.Rand) string {
	var n int
	switch rng.IntN(4) {
	case 0:
		n = rng.IntN(8)
	case 1:
		n = rng.IntN(2 * MaxFieldLen)
	case 2:
		n = MaxFieldLen - 4 + rng.IntN(8)
	default:
		n = rng.IntN(2 * MaxDetailLength)
	}
	alphabet := []string{"a", "\\", "\\x41", "\xff", "\xc3", "\xa9", "é", "\x00", "\n", "<", "\"", "\u2028", "世", "\U0001F600", "…["}
	var b strings.Builder
	for b.Len() < n {
		if rng.IntN(3) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
		} else {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
	}
	return b.String()
}

func hostileRecord(rng *rand.Rand, i int) Record {
	return Record{
		Time:       baseTime.Add(time.Duration(i) * time.Second),
		Principal:  "p" + hostileString(rng),
		Action:     "a" + hostileString(rng),
		ObjectType: hostileString(rng),
		ObjectID:   hostileString(rng),
		Decision:   []Decision{Allow, Deny, Error}[rng.IntN(3)],
		RequestID:  hostileString(rng),
		Detail:     hostileString(rng),
		Label:      []byte("label-" + strconv.Itoa(rng.IntN(4))),
	}
}

// checkRecordEscaped checks every field of in against the record read back.
func checkRecordEscaped(t *testing.T, in, got Record) {
	t.Helper()
	for _, f := range []struct {
		name, in, out string
		max           int
	}{
		{"principal", in.Principal, got.Principal, MaxFieldLen},
		{"action", in.Action, got.Action, MaxFieldLen},
		{"object_type", in.ObjectType, got.ObjectType, MaxFieldLen},
		{"object_id", in.ObjectID, got.ObjectID, MaxFieldLen},
		{"request_id", in.RequestID, got.RequestID, MaxFieldLen},
		{"detail", in.Detail, got.Detail, MaxDetailLength},
	} {
		checkEscaped(t, f.name, f.in, f.out, f.max)
	}
	if !got.Time.Equal(in.Time) || got.Decision != in.Decision {
		t.Fatalf("time or decision changed: %v %v", got.Time, got.Decision)
	}
}

// TestEscapeExamples shows what the log records for what cannot be
// recorded as it is.
func TestEscapeExamples(t *testing.T) {
	long := strings.Repeat("x", 5000)
	for _, c := range []struct{ in, want string }{
		{"ds-1", "ds-1"},
		{`a\b`, `a\b`},         // valid: unchanged
		{"a\xffb", `a\xffb`},   // an invalid byte
		{"a\\\xfe", `a\\\xfe`}, // with a backslash, in an invalid field
		{"\xc3", `\xc3`},       // a cut-off character
		{"é\xe9", `é\xe9`},     // Latin-1 after UTF-8
		{long, long[:1024-len("…[5000 bytes]")] + "…[5000 bytes]"},
	} {
		got := Escape(Record{ObjectID: c.in}).ObjectID
		if got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A detail of control characters is cut to fit the entry.
	r := Record{Time: baseTime, Principal: "p", Action: "a", Decision: Deny, Detail: strings.Repeat("\x01", MaxDetailLength)}
	e, err := EncodeRecord(r)
	if err != nil || len(e) > MaxEntrySize {
		t.Fatalf("encode: %v, %d bytes", err, len(e))
	}
	got, err := DecodeRecord(e)
	if err != nil || !strings.HasSuffix(got.Detail, "…["+strconv.Itoa(MaxDetailLength)+" bytes]") {
		t.Fatalf("decode: %v, detail ends %q", err, got.Detail[max(0, len(got.Detail)-20):])
	}
}

// TestHostileRecordsAppendAndVerify: records whose every string field is
// arbitrary bytes of any length are all appended to a real log, read back
// in their escaped form, and the log verifies.
func TestHostileRecordsAppendAndVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 12))
	s, v := testKeys(t)
	dir := t.TempDir()
	l := openTest(t, dir, s, v)
	var in []Record
	for i := 0; i < 200; i++ {
		r := hostileRecord(rng, i)
		if _, err := l.Append(context.Background(), r); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		in = append(in, r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), dir, v)
	if err != nil || !rep.Intact() || rep.Entries != uint64(len(in)) {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	l = openTest(t, dir, s, v)
	defer l.Close()
	for i, r := range in {
		got, err := l.Get(context.Background(), uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		checkRecordEscaped(t, r, got)
		want := Escape(r)
		want.Label, want.LabelHash = nil, got.LabelHash
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("entry %d is not the escaped record: %s", i, diff)
		}
	}
}

func FuzzEscapeRecord(f *testing.F) {
	f.Add("alice", "POST /api/v1/principals/{id}/disable", "principal", "x\xffy", "req", "404", []byte{})
	f.Add("a", "b", "", strings.Repeat("\xff", 3000), "", strings.Repeat("<", 40000), []byte("OPEN"))
	f.Fuzz(func(t *testing.T, principal, action, typ, id, reqID, detail string, label []byte) {
		m := NewMemory()
		in := Record{Time: baseTime, Principal: "p" + principal, Action: "a" + action, ObjectType: typ, ObjectID: id,
			Decision: Deny, RequestID: reqID, Detail: detail, Label: label}
		idx, err := m.Append(context.Background(), in)
		if err != nil {
			t.Fatalf("append failed: %v", err)
		}
		got, err := m.Get(context.Background(), idx)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		checkRecordEscaped(t, in, got)
		if !cmp.Equal(Escape(got), got) {
			t.Fatalf("escaping is not idempotent")
		}
		if label != nil && !m.LabelMatches(got, label) {
			t.Fatalf("label hash does not match its label")
		}
		e, err := EncodeRecord(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeRecord(e)
		if err != nil || !cmp.Equal(again, got) {
			t.Fatalf("the escaped record does not round-trip: %v", err)
		}
	})
}

// TestLegacyLog: a log written before keyed label hashes (version-1
// records, testdata/legacy-v1, written by the code of f49bd52) still
// verifies, opens, reads, takes new records and verifies again; its label
// hashes still match by plain SHA-256, the new ones only under the key.
func TestLegacyLog(t *testing.T) {
	v, err := LoadVerifier("testdata/legacy-v1/verifier.key")
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(context.Background(), "testdata/legacy-v1/log", v); err != nil || !rep.Intact() || rep.Entries != 300 {
		t.Fatalf("legacy log does not verify: %v %+v", err, rep)
	}
	// Reading needs Open, which needs the signing key; appending to a
	// legacy log happens in place, so check the format by decoding.
	raw, err := os.ReadFile("testdata/legacy-v1/log/entries")
	if err != nil {
		t.Fatal(err)
	}
	k := NewLabelKey()
	for i := 0; len(raw) > 0; i++ {
		n := int(raw[0])<<8 | int(raw[1])
		e := raw[2 : 2+n]
		raw = raw[2+n:]
		r, err := DecodeRecord(e)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		want := testRecord(i)
		want.Version = 1
		if diff := cmp.Diff(want, r); diff != "" {
			t.Fatalf("entry %d: %s", i, diff)
		}
		if again, err := EncodeRecord(r); err != nil || !bytes.Equal(again, e) {
			t.Fatalf("entry %d does not re-encode as written: %v", i, err)
		}
		if !bytes.HasPrefix(e, []byte(`{"v":1,`)) {
			t.Fatalf("entry %d is not version 1", i)
		}
		// Legacy hashes are plain SHA-256 of the label bytes.
		lb := []byte("label-" + strconv.Itoa(i))
		h := sha256.Sum256(lb)
		r.LabelHash = h[:]
		if !k.Matches(r, lb) || k.Matches(r, []byte("other")) {
			t.Fatalf("legacy match")
		}
	}
}

// TestLegacyLogAppend: new records go on a legacy log in the new format
// and the mixed log verifies.
func TestLegacyLogAppend(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/legacy-v1/log", dir)
	v, err := LoadVerifier("testdata/legacy-v1/verifier.key")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's signing key is not kept; sign on with a key of the
	// same name and check the old entries against the fixture's
	// checkpoint, then the whole log against the new key.
	rep, err := Verify(context.Background(), dir, v)
	if err != nil || !rep.Intact() {
		t.Fatalf("%v %+v", err, rep)
	}
	old := rep.Checkpoint
	for _, f := range []string{"checkpoint", "checkpoint.prev"} {
		os.Remove(filepath.Join(dir, f))
	}
	s2, v2 := testKeysNamed(t, v.Name())
	// Re-sign the old checkpoint with the new key so Open accepts the log.
	msg, err := SignCheckpoint(old, s2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	l := openTest(t, dir, s2, v2)
	key := l.opts.LabelKey
	lb := []byte("PROPRIETARY")
	idx, err := l.AppendSync(context.Background(), Record{Principal: "alice", Action: "dataset.read", ObjectType: "dataset", ObjectID: "ds-new", Decision: Allow, Label: lb})
	if err != nil || idx != 300 {
		t.Fatalf("append: %d %v", idx, err)
	}
	got, err := l.Get(context.Background(), idx)
	if err != nil {
		t.Fatal(err)
	}
	oldRec, err := l.Get(context.Background(), 0)
	if err != nil || oldRec.Version != 1 {
		t.Fatalf("old record: %v %+v", err, oldRec)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got.Version != 0 || !key.Matches(got, lb) || key.Matches(got, []byte("OPEN")) || NewLabelKey().Matches(got, lb) {
		t.Fatalf("new record's label hash: %+v", got)
	}
	if h := sha256.Sum256(lb); bytes.Equal(got.LabelHash, h[:]) {
		t.Fatal("new record carries a bare SHA-256 of its label")
	}
	rep, err = Verify(context.Background(), dir, v2)
	if err != nil || !rep.Intact() || rep.Entries != 301 {
		t.Fatalf("mixed log does not verify: %v %+v", err, rep)
	}
}

// TestLabelKeySum: the keyed hash binds the label, the object and the key.
func TestLabelKeySum(t *testing.T) {
	k := NewLabelKey()
	r := Record{ObjectType: "dataset", ObjectID: "ds-1"}
	base := k.Sum(r, []byte("L"))
	for name, other := range map[string][]byte{
		"label":  k.Sum(r, []byte("M")),
		"object": k.Sum(Record{ObjectType: "dataset", ObjectID: "ds-2"}, []byte("L")),
		"type":   k.Sum(Record{ObjectType: "model", ObjectID: "ds-1"}, []byte("L")),
		"split":  k.Sum(Record{ObjectType: "datas", ObjectID: "etds-1"}, []byte("L")),
		"key":    NewLabelKey().Sum(r, []byte("L")),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("a different %s gives the same hash", name)
		}
	}
	r.LabelHash = base
	if !k.Matches(r, []byte("L")) || k.Matches(r, []byte("M")) {
		t.Error("Matches")
	}
	if (LabelKey(nil)).Matches(r, []byte("L")) {
		t.Error("a nil key matched")
	}
}

func TestLabelKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit-label.key")
	if err := WriteLabelKeyFile(p); err != nil {
		t.Fatal(err)
	}
	if err := WriteLabelKeyFile(p); err == nil {
		t.Fatal("overwrote a key file")
	}
	k, err := LoadLabelKey(p)
	if err != nil || len(k) != 32 {
		t.Fatalf("%v %d", err, len(k))
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLabelKey(p); err == nil {
		t.Fatal("loaded a key others may read")
	}
}

func testKeysNamed(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, _, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
