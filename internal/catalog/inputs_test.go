package catalog_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestHostileText: version messages, release justifications and relabels
// refuse control characters, escapes and label typos naming the field, and
// nothing is written.
func TestHostileText(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite))
	c := w.cat
	if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Label: "PROPRIETARY//FUSION"}); err != nil {
		t.Fatal(err)
	}
	data := []byte("x")
	id := blob.Sum(data)
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: 1, Hash: id, Chunks: []manifest.Chunk{{ID: id, Size: 1}}}}}
	raw, _ := m.Marshal()
	for _, b := range [][]byte{data, raw} {
		if err := c.PutChunk(ctx, w.alice, "shots", blob.Sum(b), b); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(what string, err error, field, want string) {
		t.Helper()
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != field || !strings.Contains(errors.SafeMessage(err), want) {
			t.Errorf("%s: %v; want Invalid on %s saying %q", what, err, field, want)
		}
	}
	for _, msg := range []string{"first\x00", "ok \x1b[2J", "a\u202eb", "\u009b31m"} {
		_, err := c.Commit(ctx, w.alice, "shots", catalog.CommitSpec{Manifest: blob.Sum(raw), Message: msg})
		refused("message "+msg, err, "message", "message: contains a")
	}
	if vs, _ := c.Versions(ctx, w.alice, "shots"); len(vs) != 0 {
		t.Fatalf("refused commits wrote versions: %+v", vs)
	}
	if _, err := c.Commit(ctx, w.alice, "shots", catalog.CommitSpec{Manifest: blob.Sum(raw), Message: "first campaign\n\n– 42 shots, Δt = 5 ms 🚀"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Relabel(ctx, w.alice, "shots", "PROPRIETARY/FUSION/ITAR")
	refused("relabel", err, "label", `did you mean "PROPRIETARY//FUSION/ITAR"?`)
	_, err = c.Relabel(ctx, w.alice, "shots", "PROPRIETARY//FUSION/ITRA")
	refused("relabel", err, "label", "unknown compartment")

	co, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "co", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RequestRelease(ctx, co, "shots", 0, "OPEN", "published \x1b]8;;http://evil\x07here")
	refused("justification", err, "justification", "U+001B")
	_, err = c.RequestRelease(ctx, co, "shots", 0, "OPEN//FUSION", "published with the paper")
	refused("release target", err, "label", "OPEN carries no compartments")
}
