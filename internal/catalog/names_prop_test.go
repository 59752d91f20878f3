package catalog_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestNamesInvisible is the differential property of docs/DESIGN.md,
// "Names": random principals create, import (under colliding source
// identifiers too) and write job outputs under a few colliding names at
// random labels, and everything each principal
// observes — each of its own operations' outcome (status, body and the
// audit records it made, asset IDs aside), and after every operation the
// asset each name resolves to and its lists — is what it observes in a
// reference world in which the assets hidden from it do not exist: one
// where only its own operations run, and the assets others make that it
// can read appear (as their owners' creates) when they are made.
func TestNamesInvisible(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		seeds, steps := []uint64{1, 2, 3, 4}, 50
		if db.Dialect() == store.Postgres {
			seeds, steps = []uint64{1}, 20
		}
		open := func(t *testing.T) store.DB {
			if db.Dialect() == store.Postgres {
				return storetest.Migrated(t, storetest.Postgres)
			}
			return storetest.Migrated(t, storetest.SQLite)
		}
		for i, seed := range seeds {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				real := db
				if i > 0 {
					real = open(t)
				}
				runNames(t, seed, steps, real, open)
			})
		}
	})
}

// namesWorld is one catalog with the property test's principals.
type namesWorld struct {
	*world
	ps    []*genesis.Principal
	names map[genesis.PrincipalID]string
	db    store.DB
}

var namesClearances = []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "PROPRIETARY//QIS"}

func newNamesWorld(t *testing.T, db store.DB, start time.Time) *namesWorld {
	w := &namesWorld{world: newWorld(t, db), names: map[genesis.PrincipalID]string{}, db: db}
	w.clock = start
	for i, c := range namesClearances {
		p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: fmt.Sprint("p", i), Clearance: c, Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		w.ps = append(w.ps, p)
		w.names[p.ID] = p.Name
	}
	return w
}

// stored is an asset row as the test reads it from the store directly.
type stored struct {
	id, name, owner string
	created         int64
	latest          int64
}

func (w *namesWorld) all(t *testing.T) []stored {
	var out []stored
	err := w.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, name, owner_id, created_at, latest_version FROM assets ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var s stored
			err := rows.Scan(&s.id, &s.name, &s.owner, &s.created, &s.latest)
			out = append(out, s)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var assetID = regexp.MustCompile(`\b(ds|mdl)_[a-z2-7]{16}\b`)

// seen is an asset as a principal sees it, IDs aside.
type seen struct {
	Name, Kind, Label, Owner, Title string
	Latest                          int64
	Created                         time.Time
}

func (w *namesWorld) seen(a *catalog.Asset) seen {
	return seen{a.Name, string(a.Kind), a.Label, w.names[a.Owner], a.Title, a.LatestVersion, a.CreatedAt}
}

func scrub(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%v %s %s", errors.KindOf(err), errors.FieldOf(err), assetID.ReplaceAllString(errors.SafeMessage(err), "ID"))
}

// observe is everything p can see of the names: what each resolves to, and
// its lists.
func (w *namesWorld) observe(t *testing.T, p *genesis.Principal, names []string) []string {
	var out []string
	for _, n := range names {
		a, err := w.cat.Get(ctx, p, n)
		if err != nil {
			out = append(out, n+": "+scrub(err))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %+v", n, w.seen(a)))
	}
	for _, k := range []catalog.Kind{catalog.KindDataset, catalog.KindModel} {
		for cursor := ""; ; {
			page, next, err := w.cat.List(ctx, p, k, catalog.ListOptions{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for i := range page {
				out = append(out, fmt.Sprintf("list %s: %+v", k, w.seen(&page[i])))
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out
}

// op is one random operation.
type op struct {
	actor int
	what  string // create, model, import, output
	name  string
	label string
	src   string // an import's source identifier
}

// run performs o in w as its actor at the world's clock, and returns what
// the actor observes of it: the outcome and the audit records it made.
func (w *namesWorld) run(t *testing.T, o op, step int, dir string) []string {
	p := w.ps[o.actor]
	before, _ := w.log.Size(ctx)
	var res []string
	switch o.what {
	case "create", "model":
		kind := catalog.KindDataset
		if o.what == "model" {
			kind = catalog.KindModel
		}
		a, err := w.cat.Create(ctx, p, catalog.CreateSpec{Kind: kind, Name: o.name, Title: fmt.Sprint("step ", step), Label: o.label})
		if err == nil {
			res = append(res, fmt.Sprintf("%+v", w.seen(a)))
		}
		res = append(res, scrub(err))
	case "import":
		title := strings.ToUpper(o.name[:1]) + o.name[1:]
		doc := dcatDocument([]string{dcatRecord(o.src, title, "kw")})
		sum, err := w.cat.Import(ctx, p, bytes.NewReader(doc), catalog.ImportSpec{Label: o.label})
		if err == nil {
			for _, ia := range sum.Imported {
				res = append(res, "imported "+ia.Asset)
			}
			for _, ia := range sum.Updated {
				res = append(res, "updated "+ia.Asset)
			}
			for _, r := range sum.Rejected {
				res = append(res, "rejected "+r.Field+" "+assetID.ReplaceAllString(r.Reason, "ID"))
			}
		}
		res = append(res, scrub(err))
	case "output":
		l, _ := label.Parse(o.label)
		out, err := w.cat.CommitOutput(ctx, p, o.name, filepath.Join(dir, "out"), l, nil, catalog.ActivityJob, fmt.Sprint("job_", step))
		if err == nil {
			res = append(res, fmt.Sprintf("output %s@%d", out.Asset, out.Version))
		}
		res = append(res, scrub(err))
	}
	after, _ := w.log.Size(ctx)
	for i := before; i < after; i++ {
		r, _ := w.log.Get(ctx, i)
		res = append(res, fmt.Sprintf("audit %s %s %s %v %s", w.names[genesis.PrincipalID(r.Principal)], r.Action, r.ObjectType, r.Decision, assetID.ReplaceAllString(r.Detail, "ID")))
	}
	return res
}

func runNames(t *testing.T, seed uint64, steps int, realDB store.DB, open func(*testing.T) store.DB) {
	r := rand.New(rand.NewPCG(seed, 12))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "out"), []byte("result"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	real := newNamesWorld(t, realDB, start)
	refs := make([]*namesWorld, len(real.ps))
	for i := range refs {
		refs[i] = newNamesWorld(t, open(t), start)
	}
	pool := []string{"alpha", "beta", "gamma"}
	observed := append(slices.Clone(pool), "alpha-2", "beta-2", "gamma-2", "alpha-3", "beta-3")
	labels := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "PROPRIETARY//QIS"}
	whats := []string{"create", "create", "model", "import", "import", "output", "output"}
	for step := range steps {
		o := op{actor: r.IntN(len(real.ps)), what: whats[r.IntN(len(whats))], name: pool[r.IntN(len(pool))], label: labels[r.IntN(len(labels))],
			src: fmt.Sprint("src-", step)}
		if r.IntN(2) == 0 {
			o.src = fmt.Sprint("shared-", r.IntN(2)) // held by others too, seen or not
		}
		now := start.Add(time.Duration(step+1) * time.Second)
		real.clock, refs[o.actor].clock = now, now
		got := real.run(t, o, step, dir)
		want := refs[o.actor].run(t, o, step, dir)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("seed %d step %d: %+v: p%d observes (-reference +real):\n%s", seed, step, o, o.actor, d)
		}
		// Bring what each reference world's principal can read of the
		// real world into it: new assets, as their owners' creates, and
		// new versions.
		for i, ref := range refs {
			ref.clock = now
			mirror(t, real, ref, real.ps[i], dir, step)
		}
		for i, ref := range refs {
			p := real.ps[i]
			got, want := real.observe(t, p, observed), ref.observe(t, ref.ps[i], observed)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("seed %d step %d (%+v): p%d sees (-reference +real):\n%s", seed, step, o, i, d)
			}
		}
	}
}

// mirror makes ref hold, of real's assets, those p may read.
func mirror(t *testing.T, real, ref *namesWorld, p *genesis.Principal, dir string, step int) {
	type key struct {
		name    string
		created int64
	}
	have := map[key]stored{}
	for _, s := range ref.all(t) {
		have[key{s.name, s.created}] = s
	}
	owner := func(w *namesWorld, id string) *genesis.Principal {
		for _, q := range w.ps {
			if string(q.ID) == id || q.Name == id {
				return q
			}
		}
		t.Fatalf("unknown owner %s", id)
		return nil
	}
	for _, s := range real.all(t) {
		a, err := real.cat.Get(ctx, p, s.id)
		if errors.Is(errors.NotExist, err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		q := owner(ref, real.names[a.Owner])
		m, ok := have[key{s.name, s.created}]
		if !ok {
			ref.clock = a.CreatedAt
			made, err := ref.cat.Create(ctx, q, catalog.CreateSpec{Kind: a.Kind, Name: a.Name, Title: a.Title, Description: a.Description, Label: a.Label})
			if err != nil {
				t.Fatalf("step %d: mirroring %+v into p's reference world: %v", step, a, err)
			}
			m = stored{id: made.ID}
			// An imported record's source identifier comes with it.
			var src string
			real.db.View(ctx, func(tx store.Tx) error {
				return tx.QueryRow(ctx, `SELECT source_id FROM asset_metadata WHERE asset_id = ?`, s.id).Scan(&src)
			})
			if src != "" {
				err := ref.db.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO asset_metadata (asset_id, core, provenance, format, source_id, original, quality, findings, extension_schema, extension, updated_by, updated_at)
						VALUES (?, '{}', '{}', '', ?, '', 0, '[]', '', '', ?, 0)`, made.ID, src, string(q.ID))
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		for v := m.latest; v < s.latest; v++ {
			if _, err := ref.cat.CommitOutput(ctx, q, m.id, filepath.Join(dir, "out"), label.Label{}, nil, catalog.ActivityJob, fmt.Sprint("mirror_", v)); err != nil {
				t.Fatalf("step %d: mirroring a version of %+v: %v", step, a, err)
			}
		}
	}
}
