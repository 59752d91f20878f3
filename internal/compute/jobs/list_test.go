package jobs_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Property: paging through List gives exactly the jobs the caller could
// Get one by one that match the filters, newest first (ties by ID), each
// once — whatever the page size, however many unreadable jobs come
// between (more than one of List's batches), and with many jobs sharing
// a creation time.
func TestListPagesLikeGet(t *testing.T) {
	storetest.ForEachBackend(t, testListPagesLikeGet)
}

func testListPagesLikeGet(t *testing.T, db store.DB) {
	f := newFixtureOn(t, db, "a-site")
	bob, err := f.id.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	states := []string{jobs.Pending, jobs.Running, jobs.Completed, jobs.Failed, jobs.Canceled}
	labels := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY"}
	base := time.Now().Add(-time.Hour)
	type row struct {
		id, owner, state string
		at               int64
	}
	var all []row
	const n = 2600
	err = f.db.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			owner := string(bob.ID)
			if r.IntN(10) < 2 {
				owner = string(f.alice.ID)
			}
			rw := row{id: fmt.Sprintf("job_%06d", r.IntN(1_000_000)) + fmt.Sprint(i), owner: owner, state: states[r.IntN(len(states))],
				at: store.T(base.Add(time.Duration(r.IntN(300)) * time.Microsecond))}
			all = append(all, rw)
			if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, name, owner_id, project_id, spec, label, inputs, input_bytes, nodes, node_hours, gpu_hours, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at)
				VALUES (?, '', ?, NULL, '{"executable": "/bin/true"}', ?, '[]', 0, 1, 0, 0, ?, '', '', '', '', 0, '[]', '[]', ?, ?)`,
				rw.id, rw.owner, labels[r.IntN(len(labels))], rw.state, rw.at, rw.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The reference: what Get shows alice, in the documented order.
	slices.SortFunc(all, func(a, b row) int {
		if c := cmp.Compare(b.at, a.at); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	readable := map[string]bool{}
	for _, rw := range all {
		_, err := f.svc.Get(ctx, f.alice, rw.id)
		readable[rw.id] = err == nil
	}
	for _, o := range []jobs.ListOptions{
		{Limit: 1000}, {Limit: 7}, {Owner: string(f.alice.ID), Limit: 100}, {Owner: string(bob.ID), Limit: 50},
		{State: jobs.Running, Limit: 3}, {Owner: string(f.alice.ID), State: jobs.Failed, Limit: 1}, {},
	} {
		var want []string
		for _, rw := range all {
			if readable[rw.id] && (o.Owner == "" || o.Owner == rw.owner) && (o.State == "" || o.State == rw.state) {
				want = append(want, rw.id)
			}
		}
		var got []string
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatalf("%+v: the pages do not end", o)
			}
			js, next, err := f.svc.List(ctx, f.alice, o)
			if err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
			if limit := cmp.Or(o.Limit, 100); len(js) > limit {
				t.Fatalf("%+v: a page of %d", o, len(js))
			}
			for _, j := range js {
				got = append(got, j.ID)
			}
			if next == "" {
				break
			}
			o.Cursor = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: listed %d jobs, Get shows %d (first difference at %d)", o, len(got), len(want), firstDiff(got, want))
		}
	}
	mayRead := 0
	for _, ok := range readable {
		if ok {
			mayRead++
		}
	}
	if mayRead == 0 || mayRead == n {
		t.Fatalf("alice may read %d of %d jobs: the test needs both kinds", mayRead, n)
	}
	for _, bad := range []jobs.ListOptions{{Limit: 1001}, {Limit: -1}, {State: "sleeping"}, {Cursor: "!!"}, {Cursor: "MTIz"}} {
		if _, _, err := f.svc.List(ctx, f.alice, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
