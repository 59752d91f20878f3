package manifest

import (
	"math/rand/v2"
	"testing"
)

func TestDiff(t *testing.T) {
	a := &Manifest{Entries: []Entry{
		{Path: "a", Type: File, Mode: 0o644, Hash: h1},
		{Path: "b", Type: File, Mode: 0o644, Hash: h1},
		{Path: "c", Type: File, Mode: 0o644, Hash: h1},
		{Path: "d", Type: Dir, Mode: 0o755},
	}}
	b := &Manifest{Entries: []Entry{
		{Path: "a", Type: File, Mode: 0o644, Hash: h1},
		{Path: "b", Type: File, Mode: 0o600, Hash: h1},
		{Path: "bb", Type: Symlink, Target: "a"},
		{Path: "c", Type: File, Mode: 0o644, Hash: h2},
	}}
	got := Diff(a, b)
	want := []struct {
		path string
		kind ChangeKind
	}{{"b", Metadata}, {"bb", Added}, {"c", Modified}, {"d", Removed}}
	if len(got) != len(want) {
		t.Fatalf("Diff = %+v", got)
	}
	for i, w := range want {
		if got[i].Path != w.path || got[i].Kind != w.kind {
			t.Errorf("change %d = %s %c, want %s %c", i, got[i].Path, got[i].Kind, w.path, w.kind)
		}
	}
}

// Property: diffing against itself is empty, and against an empty
// manifest lists every path once.
func TestDiffProperty(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		m := randomManifest(rand.New(rand.NewPCG(seed, 9)), 30)
		if d := Diff(m, m); len(d) != 0 {
			t.Fatalf("seed %d: Diff(m, m) = %v", seed, d)
		}
		d := Diff(&Manifest{}, m)
		if len(d) != len(m.Entries) {
			t.Fatalf("seed %d: Diff(empty, m) has %d changes for %d entries", seed, len(d), len(m.Entries))
		}
		for i, c := range d {
			if c.Kind != Added || c.Path != m.Entries[i].Path {
				t.Fatalf("seed %d: change %d = %+v", seed, i, c)
			}
		}
		if d := Diff(m, &Manifest{}); len(d) != len(m.Entries) || (len(d) > 0 && d[0].Kind != Removed) {
			t.Fatalf("seed %d: Diff(m, empty) = %d changes", seed, len(d))
		}
	}
}
