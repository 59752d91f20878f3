package manifest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/errors"
)

var (
	h1 = blob.Sum([]byte("one"))
	h2 = blob.Sum([]byte("two"))
)

const good = `genesis-manifest 1
d "data" 0755 1700000000000000000
f "data/a b.csv" 0644 1700000000000000001 30 ` + "HASH1" + `
c ` + "HASH1" + ` 10
c ` + "HASH2" + ` 20 5
f "data/empty" 0600 -5 0 ` + "HASH2" + `
l "data/link" 1700000000000000000 "a b.csv"
d "data/sub" 0700 0
l "data/sub/up" 0 "../empty"
f "zé世" 4755 1 1 ` + "HASH1" + `
c ` + "HASH1" + ` 1
`

func fill(s string) string {
	return strings.NewReplacer("HASH1", h1.String(), "HASH2", h2.String()).Replace(s)
}

func TestDecodeGood(t *testing.T) {
	in := fill(good)
	m, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "data", Type: Dir, Mode: 0o755, MTime: 1700000000000000000},
		{Path: "data/a b.csv", Type: File, Mode: 0o644, MTime: 1700000000000000001, Size: 30, Hash: h1, Chunks: []Chunk{{h1, 0, 10}, {h2, 5, 20}}},
		{Path: "data/empty", Type: File, Mode: 0o600, MTime: -5, Size: 0, Hash: h2},
		{Path: "data/link", Type: Symlink, MTime: 1700000000000000000, Target: "a b.csv"},
		{Path: "data/sub", Type: Dir, Mode: 0o700},
		{Path: "data/sub/up", Type: Symlink, Target: "../empty"},
		{Path: "zé世", Type: File, Mode: 0o4755, MTime: 1, Size: 1, Hash: h1, Chunks: []Chunk{{h1, 0, 1}}},
	}
	if diff := cmp.Diff(want, m.Entries); diff != "" {
		t.Fatalf("decoded entries (-want +got):\n%s", diff)
	}
	out, err := m.Marshal()
	if err != nil || string(out) != in {
		t.Fatalf("re-encoding differs: %v\n%s", err, out)
	}
	st := m.Stats()
	if st != (Stats{Files: 3, Dirs: 2, Symlinks: 2, Bytes: 31, Chunks: 3}) {
		t.Fatalf("Stats = %+v", st)
	}
	if ids := m.ChunkIDs(); len(ids) != 2 || ids[0] != h1 || ids[1] != h2 {
		t.Fatalf("ChunkIDs = %v", ids)
	}
	if e, ok := m.Lookup("data/link"); !ok || e.Target != "a b.csv" {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := m.Lookup("data/nope"); ok {
		t.Fatal("Lookup found a missing path")
	}
}

func TestDecodeBad(t *testing.T) {
	hdr := Header + "\n"
	f := func(path string) string { return fmt.Sprintf("f %s 0644 0 0 HASH1\n", path) }
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty manifest"},
		{"no header", "d \"a\" 0755 0\n", "not a manifest"},
		{"wrong version", "genesis-manifest 2\n", "not a manifest"},
		{"no final newline", hdr + `d "a" 0755 0`, "missing newline"},
		{"dotdot", hdr + f(`"a/../b"`), `".."`},
		{"leading dotdot", hdr + f(`".."`), `".."`},
		{"dot", hdr + f(`"./a"`), `"."`},
		{"absolute", hdr + f(`"/etc/passwd"`), "absolute path"},
		{"empty component", hdr + f(`"a//b"`), "empty component"},
		{"trailing slash", hdr + f(`"a/"`), "empty component"},
		{"empty path", hdr + f(`""`), "empty path"},
		{"control char", hdr + f(`"a\nb"`), "control character"},
		{"escape char", hdr + f(`"a\x1bb"`), "control character"},
		{"del char", hdr + f(`"a\x7f"`), "control character"},
		{"c1 control", hdr + f(`"a\u0085"`), "control character"},
		{"invalid utf8", hdr + f(`"a\xff"`), "UTF-8"},
		{"long name", hdr + f(`"`+strings.Repeat("n", 256)+`"`), "longer than 255"},
		{"unquoted path", hdr + "f a 0644 0 0 HASH1\n", "quoted"},
		{"non-canonical quote", hdr + f("`a`"), "quoted"},
		{"non-canonical escape", hdr + f(`"\x61"`), "quoted"},
		{"duplicate", hdr + f(`"a"`) + f(`"a"`), "duplicate path"},
		{"unsorted", hdr + f(`"b"`) + f(`"a"`), "not sorted"},
		{"below a file", hdr + f(`"a"`) + f(`"a/b"`), "not a directory"},
		{"below a symlink", hdr + "l \"a\" 0 \"x\"\n" + f(`"a/b"`), "not a directory"},
		{"size mismatch", hdr + "f \"a\" 0644 0 11 HASH1\nc HASH1 10\n", "does not match the sum"},
		{"size without chunks", hdr + "f \"a\" 0644 0 5 HASH1\n", "does not match the sum"},
		{"zero chunk", hdr + "f \"a\" 0644 0 0 HASH1\nc HASH1 0\n", "outside 1.."},
		{"huge chunk", hdr + "f \"a\" 0644 0 16777217 HASH1\nc HASH1 16777217\n", "outside 1.."},
		{"negative size", hdr + "f \"a\" 0644 0 -1 HASH1\n", "bad size"},
		{"plus size", hdr + "f \"a\" 0644 0 +1 HASH1\nc HASH1 1\n", "bad size"},
		{"leading zero size", hdr + "f \"a\" 0644 0 01 HASH1\nc HASH1 1\n", "bad size"},
		{"size overflow", hdr + "f \"a\" 0644 0 99999999999999999999 HASH1\n", "bad size"},
		{"zero offset", hdr + "f \"a\" 0644 0 1 HASH1\nc HASH1 1 0\n", "bad chunk offset"},
		{"offset too far", hdr + "f \"a\" 0644 0 2 HASH1\nc HASH1 2 16777215\n", "beyond the largest chunk"},
		{"chunk 4 fields", hdr + "f \"a\" 0644 0 1 HASH1\nc HASH1 1 2 3\n", "optional offset"},
		{"chunk first", hdr + "c HASH1 1\n", "not after a file"},
		{"chunk after dir", hdr + "d \"a\" 0755 0\nc HASH1 1\n", "not after a file"},
		{"bad chunk id", hdr + "f \"a\" 0644 0 1 HASH1\nc XYZ 1\n", "bad chunk id"},
		{"upper-case hash", hdr + "f \"a\" 0644 0 0 " + strings.ToUpper(h1.String()) + "\n", "bad file hash"},
		{"bad mode", hdr + "d \"a\" 755 0\n", "bad mode"},
		{"mode 8", hdr + "d \"a\" 0788 0\n", "bad mode"},
		{"unknown type", hdr + "x \"a\" 0\n", "unknown entry type"},
		{"extra field", hdr + "d \"a\" 0755 0 7\n", "needs mode and mtime"},
		{"missing field", hdr + "f \"a\" 0644 0 0\n", "needs mode"},
		{"blank line", hdr + "\n", "malformed"},
		{"crlf", Header + "\r\n", "not a manifest"},
		{"symlink absolute", hdr + "l \"a\" 0 \"/etc\"\n", "absolute"},
		{"symlink escapes", hdr + "l \"a/b\" 0 \"../../x\"\n", "outside the tree"},
		{"symlink escapes deep", hdr + "l \"a\" 0 \"b/../../x\"\n", "outside the tree"},
		{"symlink empty", hdr + "l \"a\" 0 \"\"\n", "empty symlink target"},
		{"symlink trailing", hdr + "l \"a\" 0 \"x\" y\n", "quoted"},
		{"line too long", hdr + f(`"`+strings.Repeat("a/", 10000)+`"`), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(fill(tc.in)))
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("err = %v, want invalid", err)
			}
			if msg := errors.SafeMessage(err); !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not mention %q", msg, tc.want)
			}
		})
	}
}

// randomManifest builds a valid manifest from r: the reference model is
// "whatever Validate accepts round-trips exactly".
func randomManifest(r *rand.Rand, n int) *Manifest {
	names := []string{"a", "b", "ü", "with space", "x.csv", "é世", `q"uote`, `back\slash`, "-", "A"}
	seen := map[string]bool{}
	var m Manifest
	for i := 0; i < n; i++ {
		depth := 1 + r.IntN(3)
		var parts []string
		for d := 0; d < depth; d++ {
			parts = append(parts, names[r.IntN(len(names))])
		}
		// Directories for every prefix, a leaf at the end.
		for d := 1; d < depth; d++ {
			p := strings.Join(parts[:d], "/")
			if !seen[p] {
				seen[p] = true
				m.Entries = append(m.Entries, Entry{Path: p, Type: Dir, Mode: 0o755, MTime: r.Int64()})
			}
		}
		p := strings.Join(parts, "/")
		if seen[p] {
			continue
		}
		seen[p] = true
		switch r.IntN(3) {
		case 0:
			m.Entries = append(m.Entries, Entry{Path: p, Type: Dir, Mode: uint32(r.IntN(0o7777 + 1)), MTime: r.Int64() - r.Int64()})
		case 1:
			e := Entry{Path: p, Type: File, Mode: 0o644, MTime: r.Int64(), Hash: blob.Sum([]byte(p))}
			for c := r.IntN(4); c > 0; c-- {
				sz := 1 + r.Int64N(blob.MaxSize)
				off := r.Int64N(blob.MaxSize - sz + 1)
				if r.IntN(2) == 0 {
					off = 0
				}
				e.Chunks = append(e.Chunks, Chunk{ID: blob.Sum([]byte(fmt.Sprint(sz))), Offset: off, Size: sz})
				e.Size += sz
			}
			m.Entries = append(m.Entries, e)
		case 2:
			m.Entries = append(m.Entries, Entry{Path: p, Type: Symlink, MTime: r.Int64(), Target: names[r.IntN(len(names))]})
		}
	}
	// Remove entries below leaves, then sort.
	leaves := map[string]bool{}
	for _, e := range m.Entries {
		if e.Type != Dir {
			leaves[e.Path] = true
		}
	}
	var out []Entry
	for _, e := range m.Entries {
		ok := true
		for p := e.Path; strings.Contains(p, "/"); {
			p = p[:strings.LastIndex(p, "/")]
			if leaves[p] {
				ok = false
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	m.Entries = out
	sortEntries(m.Entries)
	return &m
}

func sortEntries(es []Entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Path < es[j-1].Path; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func TestRoundTripProperty(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		m := randomManifest(rand.New(rand.NewPCG(seed, 2)), 1+int(seed%40))
		enc, err := m.Marshal()
		if err != nil {
			t.Fatalf("seed %d: Marshal: %v", seed, err)
		}
		got, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("seed %d: Unmarshal: %v\n%s", seed, err, enc)
		}
		if diff := cmp.Diff(m.Entries, got.Entries); diff != "" && len(m.Entries) > 0 {
			t.Fatalf("seed %d: round trip (-want +got):\n%s", seed, diff)
		}
	}
}

func TestEncodeValidates(t *testing.T) {
	m := &Manifest{Entries: []Entry{{Path: "../x", Type: File}}}
	if _, err := m.Marshal(); !errors.Is(errors.Invalid, err) {
		t.Fatalf("Marshal of an invalid manifest: %v", err)
	}
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	s := memblob.New(false)
	for _, n := range []int{0, 10, 60000} { // the last is > 4 MiB encoded: an index blob
		m := randomManifest(rand.New(rand.NewPCG(uint64(n), 3)), n)
		if n == 60000 {
			// Unique long paths so that the encoding is large.
			m = &Manifest{}
			for i := 0; i < n; i++ {
				m.Entries = append(m.Entries, Entry{Path: fmt.Sprintf("dir/file-%08d-padding-padding-padding", i), Type: File, Mode: 0o644, Hash: h1, Size: 5, Chunks: []Chunk{{h2, 0, 5}}})
			}
		}
		id, err := Put(ctx, s, m)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := blob.ReadAll(ctx, s, id)
		if isIndex := bytes.HasPrefix(root, []byte(IndexHeader)); isIndex != (n == 60000) {
			t.Fatalf("n=%d: index blob = %v", n, isIndex)
		}
		got, err := Get(ctx, s, id)
		if err != nil {
			t.Fatalf("n=%d: Get: %v", n, err)
		}
		if !reflect.DeepEqual(m.Entries, got.Entries) {
			t.Fatalf("n=%d: manifest changed through Put/Get", n)
		}
		// Same manifest, same id.
		if id2, _ := Put(ctx, s, m); id2 != id {
			t.Fatalf("n=%d: Put is not deterministic", n)
		}
		if n == 60000 {
			// A missing part is reported as missing, not as bad input.
			parts, _ := parseIndex(root)
			s.Remove(ctx, parts[1].ID)
			if _, err := Get(ctx, s, id); !errors.Is(errors.NotExist, err) {
				t.Fatalf("Get with a missing part: %v", err)
			}
		}
	}
	if _, err := Get(ctx, s, h1); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Get of a missing manifest: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(fill(good)))
	f.Add([]byte(Header + "\n"))
	f.Add([]byte(fill(Header + "\nf \"a/../b\" 0644 0 0 HASH1\n")))
	f.Add([]byte(fill(Header + "\nf \"a\" 0644 0 3 HASH1\nc HASH1 1\nc HASH2 2\n")))
	f.Add([]byte(fill(Header + "\nl \"a/b\" 0 \"../c\"\n")))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Unmarshal(in)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("decode error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded manifest fails Validate: %v", err)
		}
		out, err := m.Marshal()
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("accepted a non-canonical encoding:\n in %q\nout %q", in, out)
		}
	})
}
