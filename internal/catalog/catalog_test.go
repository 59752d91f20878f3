package catalog_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

// assetStore is the view of one asset as a blob store, as the CLI's
// transfer client sees it over HTTP.
func assetStore(c *catalog.Service, p *genesis.Principal, asset string) catalog.AssetBlobs {
	return c.Blobs(p, asset)
}

type world struct {
	cat                      *catalog.Service
	blobs                    *memblob.Store
	clock                    time.Time
	id                       *identity.Service
	admin, alice, bob, carol *genesis.Principal
	log                      *audit.Memory
}

func newWorld(t testing.TB, db store.DB) *world {
	id := identity.New(db)
	id.Bootstrap(ctx, "admin")
	w := &world{id: id, log: audit.NewMemory()}
	w.admin, _ = id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	for _, c := range []string{"FUSION", "ITAR", "BIO", "QIS"} {
		if _, err := id.RegisterCompartment(ctx, w.admin, c); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, clearance string, roles ...genesis.Role) *genesis.Principal {
		p, err := id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.alice = mk("alice", "PROPRIETARY//FUSION", genesis.RoleContributor)
	w.bob = mk("bob", "OPEN", genesis.RoleContributor)
	w.carol = mk("carol", "PROPRIETARY//FUSION", genesis.RoleViewer)
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.blobs = memblob.New(false)
	w.clock = time.Now()
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: w.blobs, Authz: az, Principals: id, Audit: w.log, Now: func() time.Time { return w.clock }})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	w.cat.SetSearch(ix)
	return w
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

func randomTree(t *testing.T, dir string, r *rand.Rand) {
	for i := range 5 {
		b := make([]byte, r.IntN(3<<20))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		name := filepath.Join(dir, "f"+string(rune('a'+i)))
		if i%2 == 0 {
			name = filepath.Join(dir, "sub", "g"+string(rune('a'+i)))
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
}

func TestDatasets(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat

		// Creation needs a writer role and a clearance dominating the label.
		if _, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "shots", Label: "PROPRIETARY"}); !errors.Is(errors.Permission, err) {
			t.Errorf("bob (OPEN) creates PROPRIETARY data: %v", err)
		}
		// To bob, a compartment he is not read into is as unknown as a
		// missing one (compartment.CheckFor).
		if _, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "shots", Label: "PROPRIETARY//FUSION"}); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "unknown compartment") {
			t.Errorf("bob (OPEN) creates FUSION data: %v", err)
		}
		if _, err := c.Create(ctx, w.carol, catalog.CreateSpec{Name: "shots", Label: "OPEN"}); !errors.Is(errors.Permission, err) {
			t.Errorf("viewer creates data: %v", err)
		}
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Label: "SECRET-ISH"}); errors.FieldOf(err) != "label" {
			t.Errorf("bad marking: %v", err)
		}
		ds, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Title: "Tokamak shots", Label: "proprietary//fusion"})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Label != "PROPRIETARY//FUSION" {
			t.Errorf("label = %q", ds.Label)
		}
		// Invisible to bob, exactly like a missing one.
		_, e1 := c.Get(ctx, w.bob, "shots")
		_, e2 := c.Get(ctx, w.bob, "no-such")
		if !errors.Is(errors.NotExist, e1) || !errors.Is(errors.NotExist, e2) || errors.SafeMessage(e1) != errors.SafeMessage(e2) {
			t.Errorf("hidden %v vs missing %v", e1, e2)
		}
		if l, _, _ := c.List(ctx, w.bob, catalog.KindDataset, catalog.ListOptions{}); len(l) != 0 {
			t.Errorf("bob lists %v", l)
		}
		if l, _, _ := c.List(ctx, w.carol, catalog.KindDataset, catalog.ListOptions{}); len(l) != 1 {
			t.Errorf("carol lists %d", len(l))
		}

		// Put a tree, commit, restore byte for byte.
		src := t.TempDir()
		randomTree(t, src, rand.New(rand.NewPCG(1, 2)))
		srcs, err := pack.Sources([]string{src}, nil)
		if err != nil {
			t.Fatal(err)
		}
		as := assetStore(c, w.alice, "shots")
		res, err := pack.Pack(ctx, as, srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		zero := int64(0)
		v1, err := c.Commit(ctx, w.alice, "shots", catalog.CommitSpec{Manifest: res.ID, Message: "first", Parent: &zero})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.FileCount != 6 || v1.Label != "PROPRIETARY//FUSION" {
			t.Errorf("v1 = %+v", v1)
		}
		// A viewer reads it back.
		_, _, m, err := c.Manifest(ctx, w.carol, "shots", 1)
		if err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(t.TempDir(), "out")
		if _, err := pack.Restore(ctx, assetStore(c, w.carol, "shots"), m, dest, pack.RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
			if fi.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(src, p)
			a, _ := os.ReadFile(p)
			b, err := os.ReadFile(filepath.Join(dest, rel))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s differs after restore: %v", rel, err)
			}
			return nil
		})

		// Re-putting the same tree sends nothing new.
		res2, err := pack.Pack(ctx, as, srcs, pack.Options{})
		if err != nil || len(res2.New) != 0 {
			t.Errorf("re-put sent %d chunks (%v)", len(res2.New), err)
		}
		// A stale parent is a conflict; no version is written.
		if _, err := c.Commit(ctx, w.alice, "shots", catalog.CommitSpec{Manifest: res2.ID, Parent: &zero}); !errors.Is(errors.Conflict, err) {
			t.Errorf("stale parent: %v", err)
		}
		// A manifest naming a chunk never sent to this asset is refused.
		fake := &manifest.Manifest{Entries: []manifest.Entry{{Path: "x", Type: manifest.File, Mode: 0o644, Size: 3, Hash: blob.Sum([]byte("abc")),
			Chunks: []manifest.Chunk{{ID: blob.Sum([]byte("abc")), Size: 3}}}}}
		raw, err := fake.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PutChunk(ctx, w.alice, "shots", blob.Sum(raw), raw); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Commit(ctx, w.alice, "shots", catalog.CommitSpec{Manifest: blob.Sum(raw)}); errors.FieldOf(err) != "manifest" {
			t.Errorf("manifest with unsent chunk: %v", err)
		}
		// A chunk whose bytes do not match its ID is refused.
		if err := c.PutChunk(ctx, w.alice, "shots", blob.Sum([]byte("x")), []byte("y")); !errors.Is(errors.Invalid, err) {
			t.Errorf("mismatched chunk: %v", err)
		}
		// Other people's chunks cannot be probed or read through this asset.
		other, _ := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "bobs", Label: "OPEN"})
		ids := res.Manifest.ChunkIDs()
		if has, err := c.HasChunks(ctx, w.bob, other.Name, ids[:1]); err != nil || has[0] {
			t.Errorf("bob learns alice's chunk exists via his asset: %v %v", has, err)
		}
		if _, err := c.GetChunk(ctx, w.bob, other.Name, ids[0], 0, -1); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob reads alice's chunk through his asset: %v", err)
		}
		if err := c.PutChunk(ctx, w.carol, "shots", blob.Sum([]byte("z")), []byte("z")); !errors.Is(errors.Permission, err) {
			t.Errorf("viewer writes: %v", err)
		}

		// Labels only go up, and raise every version.
		if _, err := c.Relabel(ctx, w.alice, "shots", "OPEN"); errors.FieldOf(err) != "label" {
			t.Errorf("lowering: %v", err)
		}
		if _, err := c.Relabel(ctx, w.alice, "shots", "NATIONAL-SECURITY//FUSION"); !errors.Is(errors.Permission, err) {
			t.Errorf("relabel beyond one's clearance: %v", err)
		}
		if _, err := c.Relabel(ctx, w.alice, "shots", "PROPRIETARY//FUSION/ITAR"); !errors.Is(errors.Invalid, err) {
			t.Errorf("relabel to a compartment one is not read into: %v", err)
		}
		w.id.SetClearance(ctx, "alice", "PROPRIETARY//FUSION/ITAR")
		alice, _ := w.id.Principal(ctx, w.admin, "alice")
		if _, err := c.Relabel(ctx, alice, "shots", "PROPRIETARY//FUSION/ITAR"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, w.carol, "shots"); !errors.Is(errors.NotExist, err) {
			t.Errorf("carol (no ITAR) still reads after raise: %v", err)
		}
		if r, err := c.Search(ctx, w.carol, search.Query{Text: "tokamak"}); err != nil || r.Total != 0 {
			t.Errorf("carol still finds the raised dataset: %+v, %v", r, err)
		}
		if r, err := c.Search(ctx, alice, search.Query{Text: "tokamak"}); err != nil || r.Total != 1 || r.Hits[0].Label != "PROPRIETARY//FUSION/ITAR" {
			t.Errorf("alice's search after raise: %+v, %v", r, err)
		}
		w.id.SetClearance(ctx, "carol", "PROPRIETARY//FUSION/ITAR")
		carol, _ := w.id.Principal(ctx, w.admin, "carol")
		vs, err := c.Versions(ctx, carol, "shots")
		if err != nil || len(vs) != 1 || vs[0].Label != "PROPRIETARY//FUSION/ITAR" {
			t.Errorf("versions after raise = %+v, %v", vs, err)
		}

		// Decisions about non-OPEN data are on the record.
		n, _ := w.log.Size(ctx)
		if n == 0 {
			t.Error("no audit records")
		}
	})
}
