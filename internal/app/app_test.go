package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
)

// TestBackendFollowsCredentials: a site's backend is kept between uses,
// built again after its credentials are rotated, and a site removed and
// added again under the same name gets a backend of its own.
func TestBackendFollowsCredentials(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, config.Default(t.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	spec := sites.Spec{Name: "hpc", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:9", Credentials: `{"user": "u", "token": "t1"}`,
		Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 1, MemoryGBNode: 1}}
	site, err := a.Sites.Add(ctx, admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := a.backendFor(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := a.backendFor(ctx, site); b != b1 {
		t.Fatal("the backend was built again without any change")
	}
	if _, err := a.Sites.SetCredentials(ctx, admin, "hpc", `{"user": "u", "token": "t2"}`); err != nil {
		t.Fatal(err)
	}
	b2, err := a.backendFor(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if b2 == b1 {
		t.Fatal("rotated credentials: the backend built from the old ones is still used")
	}
	if err := a.Sites.Remove(ctx, admin, "hpc"); err != nil {
		t.Fatal(err)
	}
	again, err := a.Sites.Add(ctx, admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	if b3, err := a.backendFor(ctx, again); err != nil || b3 == b2 || b3 == b1 {
		t.Fatalf("a site added again under its name got an old backend (%v)", err)
	}
}
