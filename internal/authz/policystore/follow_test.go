package policystore_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/authz/policystore"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestFollowerAcrossReplicas: policies saved through one replica's
// authorizer come into force on another replica's at its Follower's next
// look, version after version; a stored policy that does not load leaves
// the active one in force and is reported.
func TestFollowerAcrossReplicas(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		ids := identity.New(db)
		a, err := authz.New(ids, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := authz.New(ids, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		f := &policystore.Follower{DB: db, Authz: b}
		active := func() []byte {
			v, err := policystore.Active(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return []byte(v.Source)
		}
		if err := f.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Policy().Source(), authz.DefaultPolicy()) {
			t.Fatal("with nothing stored, the default policy is not in force")
		}
		for i := range 3 {
			src := append(authz.DefaultPolicy(), []byte(fmt.Sprintf("\n// revision %d\n", i))...)
			_, pol, err := policystore.Save(ctx, db, "admin", src, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SetPolicy(pol); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(b.Policy().Source(), src) {
				t.Fatal("the other replica had the new policy before looking")
			}
			if err := f.Step(ctx); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Policy().Source(), active()) || !bytes.Equal(b.Policy().Source(), a.Policy().Source()) {
				t.Fatalf("revision %d: the other replica decides by another policy than the stored one", i)
			}
		}
		before := b.Policy().Source()
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO policies (version, source, created_by, created_at) VALUES (?, ?, ?, ?)`, 99, "permit(", "intruder", 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.Step(ctx); err == nil {
			t.Error("a stored policy that does not load was not reported")
		}
		if !bytes.Equal(b.Policy().Source(), before) {
			t.Error("a stored policy that does not load replaced the active one")
		}
	})
}
