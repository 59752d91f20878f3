package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// history is a made-up schema history: migration v creates table tv;
// requires[v] > 0 marks a contract step.
type history struct{ requires []int }

// binary returns the migrations a binary that knows versions 1..latest
// embeds.
func (h history) binary(latest int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for v := 1; v <= latest; v++ {
		body := fmt.Sprintf("CREATE TABLE compat_t%d (x INTEGER);\n", v)
		if r := h.requires[v]; r > 0 {
			body = fmt.Sprintf("%s%d\n", store.RequiresLine, r) + body
		}
		fsys[fmt.Sprintf("m/%04d_step%d.sql", v, v)] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// TestSchemaCompatibilityWindow checks the migration runner against a
// reference model over random schema histories and random orders in which
// binaries of different releases start on one database (a rolling upgrade,
// a rollback, an old replica restarting late): a binary that knows up to
// L starts iff L is at least the highest "requires" among the applied
// migrations; when it starts it applies what it knows and the database is
// missing; a refused binary changes nothing and its error names both
// versions. On SQLite and PostgreSQL.
func TestSchemaCompatibilityWindow(t *testing.T) {
	for name, open := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(len(name)), 17))
			runs := 12
			if name == "postgres" {
				runs = 6
			}
			for run := 0; run < runs; run++ {
				const n = 8
				h := history{requires: make([]int, n+1)}
				for v := 2; v <= n; v++ {
					if rng.IntN(3) == 0 { // a contract step
						h.requires[v] = 1 + rng.IntN(v)
					}
				}
				db := open(t)
				model := store.SchemaStatus{}
				for step := 0; step < 10; step++ {
					latest := 1 + rng.IntN(n)
					_, err := store.MigrateFS(ctx, db, h.binary(latest), "m")
					wantOK := latest >= model.Requires
					if wantOK != (err == nil) {
						t.Fatalf("history %v, database %+v: binary knowing %d: err %v; want ok=%v", h.requires, model, latest, err, wantOK)
					}
					if err != nil {
						if !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", model.Requires)) ||
							!strings.Contains(err.Error(), fmt.Sprintf("up to %d", latest)) {
							t.Errorf("refusal %q does not name the versions (needs %d, binary %d)", err, model.Requires, latest)
						}
					} else if latest > model.Version {
						for v := model.Version + 1; v <= latest; v++ {
							model.Requires = max(model.Requires, h.requires[v])
						}
						model.Version = latest
					}
					got, err := store.ReadSchemaStatus(ctx, db)
					if err != nil {
						t.Fatal(err)
					}
					if got != model {
						t.Fatalf("history %v: schema status %+v; model %+v", h.requires, got, model)
					}
				}
				db.Close()
			}
		})
	}
}

// TestEmbeddedMigrationsAreExpandSteps: the migrations shipped so far are
// all expand steps (no "requires" line), so every release since the
// first runs on every later schema; the first contract step changes that
// on purpose, and this test should then be updated with it.
func TestEmbeddedMigrationsAreExpandSteps(t *testing.T) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Requires != 0 {
			t.Errorf("migration %d (%s) is a contract step requiring %d: check the README's upgrade notes, then allow it here", m.Version, m.Name, m.Requires)
		}
	}
}

// TestRequiresLineFormat: malformed or impossible "requires" lines are
// refused when the migrations load.
func TestRequiresLineFormat(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		{"0002_x.sql", store.RequiresLine + "1\nSELECT 1;", ""},
		{"0002_x.sql", store.RequiresLine + "3\nSELECT 1;", "a version after its own"},
		{"0002_x.sql", store.RequiresLine + "soon\nSELECT 1;", "needs a migration version"},
		{"0002_x.sql", store.RequiresLine + "0\nSELECT 1;", "needs a migration version"},
		{"0002_x.sql", store.RequiresLine + "1\n" + store.RequiresLine + "2\nSELECT 1;", "two"},
	} {
		fsys := fstest.MapFS{
			"m/0001_a.sql": {Data: []byte("SELECT 1;")},
			"m/" + c.name:  {Data: []byte(c.body)},
		}
		ms, err := store.LoadMigrationsFS(fsys, "m")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.want == "" && ms[1].Requires != 1:
			t.Errorf("%q: Requires = %d", c.body, ms[1].Requires)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err %v; want one saying %q", c.body, err, c.want)
		}
	}
	// Dialect files of one version must agree.
	fsys := fstest.MapFS{
		"m/0001_a.sqlite.sql":   {Data: []byte(store.RequiresLine + "1\nSELECT 1;")},
		"m/0001_a.postgres.sql": {Data: []byte("SELECT 1;")},
	}
	if _, err := store.LoadMigrationsFS(fsys, "m"); err == nil {
		t.Error("dialect files disagreeing on requires were accepted")
	}
}
