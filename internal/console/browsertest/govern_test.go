package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/label"
)

// officer creates a classification officer cleared for PROPRIETARY and
// returns its API token.
func officer(t *testing.T, sys *System, name string) string {
	t.Helper()
	ctx := context.Background()
	p, err := sys.App.Identity.CreatePrincipal(ctx, genesis.Principal{Name: name, Kind: genesis.KindUser, Nationality: "USA",
		Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := sys.App.Identity.CreateToken(ctx, p.ID, "browser", 0)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// checkpointed waits until the audit log's signed checkpoint covers
// every record appended so far. Append is asynchronous: a barrier record
// (appended last, so sequenced after everything before it) is waited for.
func checkpointed(t *testing.T, sys *System) {
	t.Helper()
	ctx := context.Background()
	open, _ := label.MustParse("OPEN").MarshalBinary()
	idx, err := sys.App.Audit.AppendSync(ctx, audit.Record{Principal: "test", Action: "test.barrier", ObjectType: "test", Decision: audit.Allow, Label: open})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cp, _, err := sys.App.Audit.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size > idx {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleDeclassifyTwoOfficers: officer anna requests the release of
// a PROPRIETARY dataset from its page; she is told she cannot approve it
// herself. Officer bert, signed in in another browser context, approves
// it from the releases list. The asset page then shows OPEN, in its
// marking and its banners, and the audit page lists the request and the
// approval with verified inclusion proofs. The administrator's page lists
// the principals. No page writes a console error.
func TestConsoleDeclassifyTwoOfficers(t *testing.T) {
	sys := Boot(t)
	if _, err := sys.App.Identity.SetClearance(context.Background(), "admin", "PROPRIETARY"); err != nil {
		t.Fatal(err)
	}
	sys.Dataset(t, sys.Admin(t), "tokamak-shots", "Tokamak shot records", "PROPRIETARY")
	annaT, bertT := officer(t, sys, "anna"), officer(t, sys, "bert")

	anna := NewPage(t)
	anna.SignIn(sys.URL, annaT)
	anna.Open(sys.URL + "/assets/tokamak-shots")
	checkChrome(t, anna, "proprietary", "PROPRIETARY")
	anna.Navigating("following the release link", chromedp.Click(chromedp.CSS("#asset-release")))
	if got := path(t, anna); got != "/releases/new" {
		t.Fatalf("the release link went to %q", got)
	}
	checkChrome(t, anna, "proprietary", "PROPRIETARY")
	anna.Do("filling in the request",
		chromedp.WaitVisible(chromedp.CSS("#release-request")),
		chromedp.SendKeys(chromedp.CSS("#release-to"), "OPEN"),
		chromedp.SendKeys(chromedp.CSS("#release-justification"), "Reviewed: the shot records hold nothing proprietary."),
	)
	anna.Screenshot("release-request")
	anna.Navigating("requesting the release", chromedp.Click(chromedp.CSS("#release-submit")))
	release := path(t, anna)
	if !strings.HasPrefix(release, "/releases/rel") {
		t.Fatalf("the request led to %q: %s", release, anna.Text())
	}
	if s := Eval[string](anna, `document.getElementById("release-state").textContent`); s != "pending" {
		t.Errorf("state after the request: %q", s)
	}
	if n := Eval[int](anna, `document.querySelectorAll("#release-approve, #release-reject").length`); n != 0 {
		t.Errorf("the requester is offered %d decision buttons", n)
	}
	if why := Eval[string](anna, `document.getElementById("release-why")?.textContent || ""`); !strings.Contains(why, "two-person rule") {
		t.Errorf("the requester's page does not say why she cannot approve: %q", why)
	}

	bert := NewPage(t)
	bert.SignIn(sys.URL, bertT)
	bert.Open(sys.URL + "/releases")
	checkChrome(t, bert, "proprietary", "PROPRIETARY")
	if row := Eval[string](bert, `document.querySelector("#releases tr[data-release]")?.textContent || ""`); !strings.Contains(row, "tokamak-shots") || !strings.Contains(row, "pending") {
		t.Fatalf("bert's releases list: %q", row)
	}
	bert.Navigating("opening the request", chromedp.Click(chromedp.CSS("#releases a.release-link")))
	if got := path(t, bert); got != release {
		t.Fatalf("bert opened %q, want %q", got, release)
	}
	bert.Screenshot("release-decide")
	bert.Navigating("approving", chromedp.Click(chromedp.CSS("#release-approve")))
	if s := Eval[string](bert, `document.getElementById("release-state").textContent`); s != "approved" {
		t.Fatalf("state after bert's approval: %q (%s)", s, bert.Text())
	}

	bert.Navigating("following the asset link", chromedp.Click(chromedp.CSS("#release-asset")))
	// bert still sees the PROPRIETARY version 1 listed: the banner is the
	// join of what the page shows.
	checkChrome(t, bert, "proprietary", "PROPRIETARY")
	if m := Eval[string](bert, `document.getElementById("asset-label").textContent.trim()`); m != "OPEN" {
		t.Errorf("the released asset's marking: %q", m)
	}
	if v := Eval[string](bert, `document.querySelector("#versions tbody tr:first-child")?.textContent || ""`); !strings.Contains(v, "OPEN") {
		t.Errorf("versions after the release: %q", Eval[string](bert, `document.getElementById("versions").textContent`))
	}
	bert.Screenshot("released-asset")

	// Someone cleared only for OPEN now reads the asset, under an OPEN
	// banner.
	_, carlT := sys.Principal(t, "carl", "OPEN")
	carl := NewPage(t)
	carl.SignIn(sys.URL, carlT)
	carl.Open(sys.URL + "/assets/tokamak-shots")
	checkChrome(t, carl, "open", "OPEN")
	if m := Eval[string](carl, `document.getElementById("asset-label")?.textContent.trim() || ""`); m != "OPEN" {
		t.Errorf("carl's page of the released asset: marking %q (%s)", m, carl.Text())
	}
	carl.Screenshot("released-asset-open")

	// The audit log: the request and the approval, proved included.
	checkpointed(t, sys)
	bert.Open(sys.URL + "/audit")
	bert.Do("filtering by action",
		chromedp.WaitVisible(chromedp.CSS("#audit-filter")),
		chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name="object_type"]`), "dataset"),
	)
	bert.Navigating("submitting the filter", chromedp.Click(chromedp.CSS("#audit-filter-submit")))
	if v := Eval[string](bert, `document.getElementById("audit-verify").dataset.verified`); v != "true" {
		t.Errorf("verification panel: %s", Eval[string](bert, `document.getElementById("audit-verify").textContent`))
	}
	// Each row: its action and its proof cell.
	rows := Eval[[][]string](bert, `[...document.querySelectorAll("#audit-entries tr[data-index]")].map(tr => [tr.querySelector(".audit-action").textContent, tr.querySelector(".proof").textContent.trim()])`)
	for _, want := range []string{"dataset.declassify.request", "dataset.declassify.approve"} {
		found := false
		for _, r := range rows {
			if r[0] == want {
				found = true
				if r[1] != "✓ included" {
					t.Errorf("the %s record's proof: %q", want, r[1])
				}
			}
		}
		if !found {
			t.Errorf("the audit page lacks %s: %v", want, rows)
		}
	}
	bert.Screenshot("audit")
	bert.Navigating("opening the approval's entry", chromedp.Click(chromedp.CSS(`#audit-entries tr[data-index]:first-child a.audit-link`)))
	if v := Eval[string](bert, `document.getElementById("audit-proof").dataset.verified`); v != "true" {
		t.Errorf("the entry's proof: %s", Eval[string](bert, `document.getElementById("audit-proof").textContent`))
	}
	if n := Eval[int](bert, `document.querySelectorAll("#proof-hashes li").length`); n == 0 {
		t.Errorf("no proof hashes listed")
	}
	bert.Screenshot("audit-entry")

	admin := NewPage(t)
	admin.SignIn(sys.URL, sys.AdminToken)
	admin.Open(sys.URL + "/admin")
	checkChrome(t, admin, "open", "OPEN")
	names := Eval[[]string](admin, `[...document.querySelectorAll("#principals tr[data-principal]")].map(tr => tr.dataset.principal)`)
	if strings.Join(names, ",") != "admin,anna,bert,carl" {
		t.Errorf("principals on the admin page: %v", names)
	}
	admin.Screenshot("admin")
}
