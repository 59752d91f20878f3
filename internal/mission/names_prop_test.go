package mission_test

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Random creates by random authors at random labels over a few names,
// against a reference model: a create is refused (Exist) exactly when the
// author can read a challenge of that name; each reader lists exactly the
// challenges it may read, resolves a name to the oldest one it may read,
// and gets a hidden challenge's ID answered exactly as a missing one.
func TestNamesAndVisibilityProperty(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	rng := rand.New(rand.NewPCG(15, 1))
	type ref struct {
		id, name string
		secret   bool
	}
	var made []ref
	people := []*genesis.Principal{w.alice, w.bob}
	reads := func(p *genesis.Principal, r ref) bool { return !r.secret || p == w.alice }
	names := []string{"alpha", "beta", "gamma"}
	for i := 0; i < 24; i++ {
		p := people[rng.IntN(2)]
		name := names[rng.IntN(3)]
		secret := p == w.alice && rng.IntN(2) == 0
		extra := ""
		if secret {
			extra = "label: NATIONAL-SECURITY//FUSION\n"
		}
		wantExist := false
		for _, r := range made {
			if r.name == name && reads(p, r) {
				wantExist = true
			}
		}
		c, err := w.svc.Create(ctx, p, parse(t, spec(name, extra)))
		if wantExist != errors.Is(errors.Exist, err) || !wantExist && err != nil {
			t.Fatalf("create %s by %s (secret %v): %v, want exist=%v", name, p.Name, secret, err, wantExist)
		}
		if err == nil {
			made = append(made, ref{c.ID, name, secret})
		}
	}
	for _, p := range []*genesis.Principal{w.alice, w.bob, w.carol} {
		var want, got []string
		for _, r := range made {
			if reads(p, r) {
				want = append(want, r.id)
			}
		}
		cs, _, err := w.svc.List(ctx, p, mission.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got = append(got, c.ID)
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("%s lists %v, want %v", p.Name, got, want)
		}
		for _, name := range names {
			oldest := ""
			for _, r := range made { // made is in creation order
				if r.name == name && reads(p, r) {
					oldest = r.id
					break
				}
			}
			c, err := w.svc.Get(ctx, p, name)
			switch {
			case oldest == "" && !errors.Is(errors.NotExist, err):
				t.Errorf("%s gets %s: %v, want not found", p.Name, name, err)
			case oldest != "" && (err != nil || c.ID != oldest):
				t.Errorf("%s gets %s: %v %v, want %s", p.Name, name, c, err, oldest)
			}
		}
		for _, r := range made {
			if reads(p, r) {
				continue
			}
			_, e1 := w.svc.Get(ctx, p, r.id)
			_, e2 := w.svc.Progress(ctx, p, r.id)
			missing := "chl_" + strings.Repeat("z", len(r.id)-4)
			_, e3 := w.svc.Get(ctx, p, missing)
			if !errors.Is(errors.NotExist, e1) || !errors.Is(errors.NotExist, e2) ||
				strings.Replace(errors.SafeMessage(e1), r.id, "ID", 1) != strings.Replace(errors.SafeMessage(e3), missing, "ID", 1) {
				t.Errorf("%s: hidden %v / %v, missing %v", p.Name, e1, e2, e3)
			}
		}
	}
}
