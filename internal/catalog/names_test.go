package catalog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestHiddenNamesAreFree is issue 12's three cases of a name held by an
// asset the caller cannot see: a create, an import and a job's output each
// behave as if that asset did not exist (docs/DESIGN.md, "Names").
func TestHiddenNamesAreFree(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		tick := func() { w.clock = w.clock.Add(time.Millisecond) }
		hidden := map[string]*catalog.Asset{}
		for _, n := range []string{"shots", "ocean-temps", "fusion-out", "surrogate"} {
			kind := catalog.KindDataset
			if n == "surrogate" {
				kind = catalog.KindModel
			}
			a, err := c.Create(ctx, w.alice, catalog.CreateSpec{Kind: kind, Name: n, Label: "PROPRIETARY//FUSION"})
			if err != nil {
				t.Fatal(err)
			}
			hidden[n] = a
			tick()
		}

		// A create: bob gets his own "shots", as if alice's did not exist.
		mine, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "shots", Title: "bob's", Label: "OPEN"})
		if err != nil {
			t.Fatalf("bob creates a name only a hidden asset holds: %v", err)
		}
		tick()
		if got, err := c.Get(ctx, w.bob, "shots"); err != nil || got.ID != mine.ID {
			t.Errorf("bob's shots = %v, %v; want his own %s", got, err, mine.ID)
		}
		// alice sees both; the name keeps meaning hers (the oldest), and
		// bob's is hers to reach by its ID.
		if got, err := c.Get(ctx, w.alice, "shots"); err != nil || got.ID != hidden["shots"].ID {
			t.Errorf("alice's shots = %v, %v; want her own %s", got, err, hidden["shots"].ID)
		}
		if got, err := c.Get(ctx, w.alice, mine.ID); err != nil || got.Title != "bob's" {
			t.Errorf("alice gets bob's shots by ID: %v, %v", got, err)
		}
		// Now bob can see one: a second create is a conflict that names it.
		_, err = c.Create(ctx, w.bob, catalog.CreateSpec{Name: "shots", Label: "OPEN"})
		if !errors.Is(errors.Exist, err) || !strings.Contains(errors.SafeMessage(err), mine.ID) {
			t.Errorf("bob creates his own name again: %v", err)
		}
		// alice sees bob's OPEN one too.
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Label: "OPEN"}); !errors.Is(errors.Exist, err) {
			t.Errorf("alice creates a name she sees: %v", err)
		}

		// An import: bob's record keeps its name, no "-2".
		doc := dcatDocument([]string{dcatRecord("rec-1", "Ocean temps", "ocean")})
		sum, err := c.Import(ctx, w.bob, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil || len(sum.Imported) != 1 || sum.Imported[0].Asset != "ocean-temps" {
			t.Errorf("bob imports a record whose name only a hidden asset holds: %+v, %v", sum, err)
		}
		tick()

		// A job's output: written into a new dataset of bob's.
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "out.txt"), []byte("result"), 0o644)
		o, err := c.CommitOutput(ctx, w.bob, "fusion-out", filepath.Join(dir, "out.txt"), label.Label{}, nil, catalog.ActivityJob, "job_1")
		if err != nil {
			t.Fatalf("bob's job writes an output only a hidden asset holds the name of: %v", err)
		}
		if o.Asset != "fusion-out" || o.Version != 1 {
			t.Errorf("bob's output = %+v", o)
		}
		if a, err := c.Get(ctx, w.bob, "fusion-out"); err != nil || a.ID == hidden["fusion-out"].ID || a.LatestVersion != 1 {
			t.Errorf("bob's fusion-out = %+v, %v", a, err)
		}
		if a, err := c.Get(ctx, w.alice, hidden["fusion-out"].ID); err != nil || a.LatestVersion != 0 {
			t.Errorf("alice's fusion-out after bob's job: %+v, %v", a, err)
		}

		// A model: registered as bob's own.
		in, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "training", Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CommitOutput(ctx, w.bob, in.ID, filepath.Join(dir, "out.txt"), label.Label{}, nil, catalog.ActivityJob, "job_2"); err != nil {
			t.Fatal(err)
		}
		m, err := c.RegisterModel(ctx, w.bob, catalog.RegisterSpec{Name: "surrogate", TrainedOn: []catalog.VersionRef{{Asset: "training"}}})
		if err != nil || m.ID == hidden["surrogate"].ID || m.Kind != catalog.KindModel {
			t.Errorf("bob registers a model whose name only a hidden asset holds: %+v, %v", m, err)
		}
	})
}

// TestNameResolution: a name means, to each principal, the oldest asset of
// that name it may read; one created later by someone it cannot see never
// takes it over; an ID always works; names of the form of an ID are
// refused; lists show every readable asset of a name, in resolution order.
func TestNameResolution(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		bobs, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "runs", Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		w.clock = w.clock.Add(time.Second)
		// alice's is newer and hidden from bob: bob's name is unchanged,
		// and alice (who sees both) keeps the older, bob's.
		alices, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "other", Label: "PROPRIETARY//FUSION"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "runs", Label: "PROPRIETARY//FUSION"}); !errors.Is(errors.Exist, err) {
			t.Fatalf("alice creates a name she can see: %v", err)
		}
		for _, p := range []*genesis.Principal{w.bob, w.alice} {
			if a, err := c.Get(ctx, p, "runs"); err != nil || a.ID != bobs.ID {
				t.Errorf("%s: runs = %v, %v; want %s", p.Name, a, err, bobs.ID)
			}
		}
		// A hidden ID is missing; a name that has the form of an ID is
		// refused, so an ID is never ambiguous.
		if _, err := c.Get(ctx, w.bob, alices.ID); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob gets alice's asset by ID: %v", err)
		}
		for _, n := range []string{alices.ID, "ds_aaaaaaaaaaaaaaaa", "mdl_2222222222222222"} {
			if _, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: n, Label: "OPEN"}); errors.FieldOf(err) != "name" || !errors.Is(errors.Invalid, err) {
				t.Errorf("create named %q: %v", n, err)
			}
		}
		for _, n := range []string{"ds_short", "ds_aaaaaaaaaaaaaaaa1", "dsx_aaaaaaaaaaaaaaaa"} {
			if _, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: n, Label: "OPEN"}); err != nil {
				t.Errorf("create named %q: %v", n, err)
			}
		}

		// Two "twin"s: alice's, hidden from bob, then bob's.
		w.clock = w.clock.Add(time.Second)
		first, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "twin", Label: "PROPRIETARY//FUSION"})
		if err != nil {
			t.Fatal(err)
		}
		w.clock = w.clock.Add(time.Second)
		second, err := c.Create(ctx, w.bob, catalog.CreateSpec{Name: "twin", Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		// Paged one at a time, alice's list holds both twins (oldest
		// first) and every other asset once.
		var names, ids []string
		for cursor := ""; ; {
			page, next, err := c.List(ctx, w.alice, catalog.KindDataset, catalog.ListOptions{Limit: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				names, ids = append(names, a.Name), append(ids, a.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		want := []string{"ds_aaaaaaaaaaaaaaaa1", "ds_short", "dsx_aaaaaaaaaaaaaaaa", "other", "runs", "twin", "twin"}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("alice's list = %v, want %v", names, want)
		}
		if ids[len(ids)-2] != first.ID || ids[len(ids)-1] != second.ID {
			t.Errorf("twins listed as %v, want %s then %s", ids[len(ids)-2:], first.ID, second.ID)
		}
		if _, _, err := c.List(ctx, w.alice, catalog.KindDataset, catalog.ListOptions{Cursor: "dHdpbgB4AHk"}); !errors.Is(errors.Invalid, err) {
			t.Errorf("malformed cursor: %v", err)
		}
	})
}

// TestConcurrentCreatesOfOneName: of principals who can read each other's
// assets, concurrent creates of one name never both succeed; whoever
// cannot see the others' always gets a name of its own.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		mk := func(name, clearance string) *genesis.Principal {
			p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: []genesis.Role{genesis.RoleContributor}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		peers := []*genesis.Principal{w.alice, mk("dave", "PROPRIETARY//FUSION"), mk("erin", "PROPRIETARY//FUSION")}
		const rounds = 8
		for r := range rounds {
			name := "race-" + string(rune('a'+r))
			var wg sync.WaitGroup
			errs := make([]error, len(peers)+1)
			for i, p := range peers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = w.cat.Create(ctx, p, catalog.CreateSpec{Name: name, Label: "PROPRIETARY//FUSION"})
				}()
			}
			// bob cannot read theirs: his create always succeeds. They can
			// read his: if it came first, none of theirs succeeds, else one.
			var bobs *catalog.Asset
			wg.Add(1)
			go func() {
				defer wg.Done()
				bobs, errs[len(peers)] = w.cat.Create(ctx, w.bob, catalog.CreateSpec{Name: name, Label: "OPEN"})
			}()
			wg.Wait()
			if errs[len(peers)] != nil {
				t.Fatalf("round %d: bob's create: %v", r, errs[len(peers)])
			}
			won, afterBob := 0, 0
			for i, err := range errs[:len(peers)] {
				switch {
				case err == nil:
					won++
				case !errors.Is(errors.Exist, err):
					t.Errorf("round %d, %s: %v", r, peers[i].Name, err)
				case strings.Contains(errors.SafeMessage(err), bobs.ID):
					afterBob++
				}
			}
			if won > 1 || won == 0 && afterBob != len(peers) {
				t.Errorf("round %d: %d of %d peers created %q (%d refused for bob's), want exactly one create (%v)", r, won, len(peers), name, afterBob, errs)
			}
		}
	})
}
