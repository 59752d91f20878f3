package authz_test

import (
	"context"
	"fmt"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

func ExampleAuthorizer_Can() {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	facts := authz.StaticFacts{"acme": {{
		ID: "CRADA-0042", Type: authz.CRADA, Parties: []string{"acme", "doe-lab"},
		NotBefore: now.AddDate(0, -6, 0), NotAfter: now.AddDate(0, 6, 0),
	}}}
	clock := func() time.Time { return now }
	a, err := authz.New(facts, clock)
	if err != nil {
		panic(err)
	}
	clr, _ := label.NewClearance(label.Proprietary, nil, "USA")
	bob := authz.Principal{ID: "bob", Kind: authz.User, Org: "acme",
		ProjectRoles: map[string][]authz.Role{"fusion": {authz.Viewer}}, Clearance: clr}
	data := authz.Resource{Type: authz.Dataset, ID: "plasma-42", Project: "fusion",
		Label: label.MustParse("PROPRIETARY//AGR:CRADA-0042")}

	ctx := context.Background()
	fmt.Println("read:", a.Can(ctx, bob, authz.Read, data))
	err = a.Can(ctx, bob, authz.Write, data)
	fmt.Println("write:", errors.KindOf(err))

	now = now.AddDate(1, 0, 0) // the agreement has expired
	err = a.Can(ctx, bob, authz.Read, data)
	fmt.Println("read a year later:", errors.KindOf(err), errors.SafeMessage(err))
	// Output:
	// read: <nil>
	// write: permission
	// read a year later: not-exist not found
}
