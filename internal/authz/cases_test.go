package authz

import (
	"context"
	"os"
	"testing"
)

func TestPolicyCases(t *testing.T) {
	doc, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseCases(doc)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.Run(context.Background(), pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < 40 {
		t.Fatalf("only %d cases", len(res))
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s %s %s (%s): got %s, want %s", r.Case.Principal, r.Case.Action, r.Case.Resource, r.Case.Name, r.Got, r.Case.Expect)
		}
	}
}
