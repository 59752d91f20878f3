package console_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// opsWorld is a whole Genesis as genesis up opens it (internal/app), its
// console served by the app's own handler, with the local site, a
// workcell of two simulated instruments, the administrator (cleared for
// PROPRIETARY), an operator and two contributors cleared for OPEN. No
// scheduler runs: submitted jobs stay pending.
type opsWorld struct {
	*world
	a                         *app.App
	admin, op, bob, carol     *genesis.Principal
	adminT, opT, bobT, carolT string
}

func newOpsWorld(t testing.TB) *opsWorld {
	t.Helper()
	a, err := app.Open(ctx, config.Default(t.TempDir()), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	adminT, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.SetClearance(ctx, "admin", "PROPRIETARY"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sites.EnsureLocal(ctx, "OPEN", sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Instruments.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: "cell-1", Lab: "test lab"}); err != nil {
		t.Fatal(err)
	}
	// reactor-2 may run PROPRIETARY campaigns.
	for i, name := range []string{"reactor-1", "reactor-2"} {
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 50, "seed": i + 1})
		if _, err := a.Instruments.Ensure(ctx, instruments.Spec{Name: name, Kind: "sim", Settings: settings, Lab: "test lab",
			Workcell: "cell-1", Accreditation: []string{"OPEN", "PROPRIETARY"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	w := &opsWorld{a: a, adminT: adminT}
	w.world = &world{srv: httptest.NewServer(a.API)}
	t.Cleanup(w.srv.Close)
	w.admin, err = a.Identity.Authenticate(ctx, adminT)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, roles ...genesis.Role) (*genesis.Principal, string) {
		p, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: name, Kind: genesis.KindUser, Nationality: "USA", Clearance: "OPEN", Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := a.Identity.CreateToken(ctx, p.ID, "console", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return p, secret
	}
	w.op, w.opT = mk("olga", genesis.RoleOperator)
	w.bob, w.bobT = mk("bob", genesis.RoleContributor)
	w.carol, w.carolT = mk("carol", genesis.RoleContributor)
	return w
}

func (w *opsWorld) signedIn(t testing.TB, token string) *browser {
	t.Helper()
	b := w.browser(t)
	b.signIn(token)
	return b
}

func (w *opsWorld) submit(t testing.TB, p *genesis.Principal, name, floor string) *jobs.Job {
	t.Helper()
	j, err := w.a.Jobs.Submit(ctx, p, &compute.JobSpec{Name: name, Executable: "/bin/sh", Arguments: []string{"-c", "echo hello; sleep 30"},
		Label: floor, Attributes: compute.Attributes{Duration: compute.Duration(time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// rowOf returns the tr.job row for job id on a /compute page (nil if none).
func rowOf(r *response, class, key, val string) *htmlNode {
	return walk(r.doc, func(m *htmlNode) bool { return hasClass(m, class) && attr(m, key) == val })
}

// TestOpsHiddenJobIsMissing: a job the viewer may not read is not listed
// or counted on /compute, and its page, live part and cancel are the
// not-found page byte for byte, as for a job that never existed; whoever
// may read it sees it, and the banner is the join of what is shown.
func TestOpsHiddenJobIsMissing(t *testing.T) {
	w := newOpsWorld(t)
	secret := w.submit(t, w.admin, "secret-run", "PROPRIETARY")
	open := w.submit(t, w.admin, "open-run", "OPEN")

	bob := w.signedIn(t, w.bobT)
	list := bob.get("/compute")
	if list.StatusCode != 200 {
		t.Fatalf("GET /compute: %d\n%s", list.StatusCode, list.body)
	}
	if byID(list.doc, "sites") == nil || byID(list.doc, "jobs") == nil {
		t.Fatalf("/compute lacks table#sites or table#jobs:\n%s", list.body)
	}
	if rowOf(list, "site", "data-name", "local") == nil {
		t.Errorf("/compute does not list the local site")
	}
	if rowOf(list, "job", "data-id", secret.ID) != nil || strings.Contains(list.body, secret.ID) || strings.Contains(list.body, "secret-run") {
		t.Errorf("bob's /compute shows the PROPRIETARY job")
	}
	if rowOf(list, "job", "data-id", open.ID) == nil {
		t.Errorf("bob's /compute does not list the OPEN job")
	}
	if got := text(byID(list.doc, "jobs-summary")); !strings.HasPrefix(got, "1 pending") {
		t.Errorf("bob's queue summary %q counts a job he may not read (want 1 pending)", got)
	}
	if m, l := banner(t, list); m != "OPEN" || l != "open" {
		t.Errorf("bob's /compute banner %q/%q, want OPEN", m, l)
	}

	csrf := list.csrf()
	for _, path := range []string{"/compute/jobs/%s", "/compute/jobs/%s/live"} {
		hidden := bob.get(strings.Replace(path, "%s", secret.ID, 1))
		missing := bob.get(strings.Replace(path, "%s", "j-does-not-exist", 1))
		if hidden.StatusCode != 404 || hidden.StatusCode != missing.StatusCode || hidden.body != missing.body {
			t.Errorf("%s: hidden %d, missing %d; bodies equal: %v", path, hidden.StatusCode, missing.StatusCode, hidden.body == missing.body)
		}
	}
	hidden := bob.post("/compute/jobs/"+secret.ID+"/cancel", url.Values{"csrf": {csrf}}, nil)
	missing := bob.post("/compute/jobs/j-does-not-exist/cancel", url.Values{"csrf": {csrf}}, nil)
	if hidden.StatusCode != 404 || hidden.body != missing.body {
		t.Errorf("cancel: hidden %d, missing %d; bodies equal: %v", hidden.StatusCode, missing.StatusCode, hidden.body == missing.body)
	}
	if j, _ := w.a.Jobs.Get(ctx, w.admin, secret.ID); j.State != jobs.Pending {
		t.Errorf("bob's cancel of a job he may not see left it %s", j.State)
	}

	admin := w.signedIn(t, w.adminT)
	list = admin.get("/compute")
	if rowOf(list, "job", "data-id", secret.ID) == nil {
		t.Errorf("the administrator's /compute does not list the PROPRIETARY job")
	}
	if m, _ := banner(t, list); m != "PROPRIETARY" {
		t.Errorf("administrator's /compute banner %q, want PROPRIETARY (the join of the jobs shown)", m)
	}
	page := admin.get("/compute/jobs/" + secret.ID)
	if page.StatusCode != 200 {
		t.Fatalf("administrator's job page: %d\n%s", page.StatusCode, page.body)
	}
	if m, l := banner(t, page); m != "PROPRIETARY" || l != "proprietary" {
		t.Errorf("job page banner %q/%q, want PROPRIETARY", m, l)
	}
	for _, id := range []string{"job-state", "job-explain", "job-log", "job-history", "job-spec", "job-cancel"} {
		if byID(page.doc, id) == nil {
			t.Errorf("job page lacks #%s", id)
		}
	}
	if got := text(byID(page.doc, "job-state")); got != "pending" {
		t.Errorf("#job-state %q, want pending", got)
	}
	if rowOf(page, "verdict", "data-site", "local") == nil {
		t.Errorf("#job-explain has no verdict for the local site:\n%s", text(byID(page.doc, "job-explain")))
	}
	if m, _ := banner(t, page); attr(byID(page.doc, "job-live"), "data-marking") != m {
		t.Errorf("#job-live's data-marking %q differs from the banner %q (ops.js would reload the page on every poll)", attr(byID(page.doc, "job-live"), "data-marking"), m)
	}
	if live := byID(page.doc, "job-live"); attr(live, "data-live") != "/compute/jobs/"+secret.ID+"/live" {
		t.Errorf("a pending job's page is not live: data-live %q", attr(live, "data-live"))
	}
}

// TestOpsCancel: cancel is a same-site POST with the session's CSRF token;
// only the owner or an operator may, and a refusal is shown on the page.
func TestOpsCancel(t *testing.T) {
	w := newOpsWorld(t)
	j := w.submit(t, w.bob, "bobs-run", "OPEN")
	state := func() string {
		got, err := w.a.Jobs.Get(ctx, w.admin, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.State
	}

	carol := w.signedIn(t, w.carolT)
	page := carol.get("/compute/jobs/" + j.ID)
	if page.StatusCode != 200 {
		t.Fatalf("carol's view of bob's OPEN job: %d", page.StatusCode)
	}
	if byID(page.doc, "job-cancel") != nil {
		t.Errorf("carol (neither owner nor operator) is offered the cancel button")
	}
	res := carol.post("/compute/jobs/"+j.ID+"/cancel", url.Values{"csrf": {page.csrf()}}, nil)
	if res.StatusCode != http.StatusForbidden || byID(res.doc, "job-error") == nil || byID(res.doc, "job-state") == nil {
		t.Errorf("carol's cancel: %d, want 403 on the job page with #job-error\n%s", res.StatusCode, res.body)
	}
	if got := text(byID(res.doc, "job-error")); !strings.Contains(got, "owner or an operator") {
		t.Errorf("carol's refusal says %q", got)
	}
	if s := state(); s != jobs.Pending {
		t.Fatalf("after carol's refused cancel the job is %s", s)
	}

	bob := w.signedIn(t, w.bobT)
	page = bob.get("/compute/jobs/" + j.ID)
	if byID(page.doc, "job-cancel") == nil {
		t.Fatalf("the owner is not offered the cancel button")
	}
	csrf := page.csrf()
	for name, tc := range map[string]struct {
		form url.Values
		hdr  map[string]string
	}{
		"no token":          {url.Values{}, nil},
		"a wrong token":     {url.Values{"csrf": {flip(csrf)}}, nil},
		"cross-site":        {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
		"foreign origin":    {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}},
		"sibling subdomain": {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
	} {
		res := bob.post("/compute/jobs/"+j.ID+"/cancel", tc.form, tc.hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cancel with %s: %d, want 403", name, res.StatusCode)
		}
		if s := state(); s != jobs.Pending {
			t.Fatalf("cancel with %s canceled the job (%s)", name, s)
		}
	}
	res = bob.post("/compute/jobs/"+j.ID+"/cancel", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/compute/jobs/"+j.ID {
		t.Fatalf("owner's cancel: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	if s := state(); s != jobs.Canceled {
		t.Fatalf("after the owner's cancel the job is %s", s)
	}
	page = bob.get("/compute/jobs/" + j.ID)
	if got := text(byID(page.doc, "job-state")); got != "canceled" {
		t.Errorf("#job-state %q after cancel", got)
	}
	if byID(page.doc, "job-cancel") != nil || attr(byID(page.doc, "job-live"), "data-live") != "" {
		t.Errorf("a canceled job's page still offers cancel or polls")
	}
}

func (w *opsWorld) status(t *testing.T, name string) lab.Status {
	t.Helper()
	in, err := w.a.Instruments.Get(ctx, w.admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return in.Status
}

// auditedEStop reports whether the audit log holds an e-stop of instrument
// name by p.
func (w *opsWorld) audited(t *testing.T, action, name string, p *genesis.Principal) bool {
	t.Helper()
	in, err := w.a.Instruments.Get(ctx, w.admin, name)
	if err != nil {
		t.Fatal(err)
	}
	// Appends are asynchronous: a synchronous one commits those before it.
	if _, err := w.a.Audit.AppendSync(ctx, audit.Record{Principal: "test", Action: "test.flush", ObjectType: "test", Decision: audit.Allow}); err != nil {
		t.Fatal(err)
	}
	n, err := w.a.Audit.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < n; i++ {
		rec, err := w.a.Audit.Get(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Action == action && rec.ObjectID == in.ID && rec.Principal == string(p.ID) {
			return true
		}
	}
	return false
}

// TestOpsEStop: the e-stop is offered to those the registry lets operate
// instruments; it needs a confirmation page, then a same-site POST with
// the CSRF token; it is recorded (status, who) and audited by the
// registry; reset clears it; stop-all stops every instrument.
func TestOpsEStop(t *testing.T) {
	w := newOpsWorld(t)

	bob := w.signedIn(t, w.bobT)
	labs := bob.get("/labs")
	if labs.StatusCode != 200 || byID(labs.doc, "instruments") == nil {
		t.Fatalf("bob's /labs: %d\n%s", labs.StatusCode, labs.body)
	}
	row := rowOf(labs, "instrument", "data-name", "reactor-1")
	if row == nil || len(byClass(row, "status")) == 0 {
		t.Fatalf("/labs has no tr.instrument[data-name=reactor-1] with .status")
	}
	if len(byClass(labs.doc, "estop")) != 0 || byID(labs.doc, "estop-all") != nil {
		t.Errorf("bob (no operator role) is offered an e-stop button")
	}
	if res := bob.get("/labs/instruments/reactor-1/estop"); res.StatusCode != http.StatusForbidden || byID(res.doc, "estop-confirm") != nil {
		t.Errorf("bob's e-stop confirmation page: %d, want 403 without #estop-confirm", res.StatusCode)
	}
	if res := bob.post("/labs/instruments/reactor-1/estop", url.Values{"csrf": {labs.csrf()}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob's e-stop POST: %d, want 403", res.StatusCode)
	}
	if res := bob.post("/labs/estop", url.Values{"csrf": {labs.csrf()}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob's stop-all POST: %d, want 403", res.StatusCode)
	}
	if s := w.status(t, "reactor-1"); s == lab.EStopped {
		t.Fatalf("bob's refused e-stop stopped reactor-1")
	}

	op := w.signedIn(t, w.opT)
	labs = op.get("/labs")
	row = rowOf(labs, "instrument", "data-name", "reactor-1")
	if row == nil || len(byClass(row, "estop")) != 1 || byID(labs.doc, "estop-all") == nil {
		t.Fatalf("the operator is not offered button.estop on reactor-1 and #estop-all")
	}
	confirm := op.get("/labs/instruments/reactor-1/estop")
	if confirm.StatusCode != 200 || byID(confirm.doc, "estop-confirm") == nil || !strings.Contains(text(confirm.doc), "Confirm emergency stop of reactor-1") {
		t.Fatalf("confirmation page: %d\n%s", confirm.StatusCode, confirm.body)
	}
	if res := op.get("/labs/instruments/no-such/estop"); res.StatusCode != 404 {
		t.Errorf("confirmation page of a missing instrument: %d", res.StatusCode)
	}
	csrf := confirm.csrf()
	for name, tc := range map[string]struct {
		form url.Values
		hdr  map[string]string
	}{
		"no token":       {url.Values{}, nil},
		"cross-site":     {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
		"foreign origin": {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": ""}},
	} {
		if res := op.post("/labs/instruments/reactor-1/estop", tc.form, tc.hdr); res.StatusCode != http.StatusForbidden {
			t.Errorf("e-stop with %s: %d, want 403", name, res.StatusCode)
		}
		if res := op.post("/labs/estop", tc.form, tc.hdr); res.StatusCode != http.StatusForbidden {
			t.Errorf("stop-all with %s: %d, want 403", name, res.StatusCode)
		}
	}
	if s := w.status(t, "reactor-1"); s == lab.EStopped {
		t.Fatalf("a refused e-stop stopped reactor-1")
	}

	res := op.post("/labs/instruments/reactor-1/estop", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/labs") {
		t.Fatalf("e-stop: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	if s := w.status(t, "reactor-1"); s != lab.EStopped {
		t.Fatalf("after the e-stop the registry says reactor-1 is %s", s)
	}
	if s := w.status(t, "reactor-2"); s == lab.EStopped {
		t.Errorf("e-stopping reactor-1 stopped reactor-2")
	}
	if !w.audited(t, "instrument.estop", "reactor-1", w.op) {
		t.Errorf("the e-stop is not on the audit log as the operator's")
	}
	labs = op.get(res.Header.Get("Location"))
	row = rowOf(labs, "instrument", "data-name", "reactor-1")
	if got := text(byClass(row, "status")[0]); got != "e-stopped" {
		t.Errorf("/labs shows reactor-1 %q after the e-stop", got)
	}
	if got := text(row); !strings.Contains(got, "emergency stop by olga") {
		t.Errorf("/labs does not say who stopped reactor-1: %q", got)
	}
	if len(byClass(row, "reset")) != 1 || len(byClass(row, "estop")) != 0 {
		t.Errorf("an e-stopped instrument's row should offer reset, not e-stop")
	}
	// Bob sees it e-stopped too (an OPEN record) but may not reset it.
	if res := bob.post("/labs/instruments/reactor-1/reset", url.Values{"csrf": {bob.get("/labs").csrf()}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob's reset: %d, want 403", res.StatusCode)
	}
	if res := op.post("/labs/instruments/reactor-1/reset", url.Values{}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("reset without a token: %d, want 403", res.StatusCode)
	}
	if s := w.status(t, "reactor-1"); s != lab.EStopped {
		t.Fatalf("a refused reset cleared the stop (%s)", s)
	}
	res = op.post("/labs/instruments/reactor-1/reset", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", res.StatusCode, res.body)
	}
	if s := w.status(t, "reactor-1"); s == lab.EStopped {
		t.Fatalf("after reset the registry says reactor-1 is still e-stopped")
	}
	if !w.audited(t, "instrument.reset", "reactor-1", w.op) {
		t.Errorf("the reset is not on the audit log")
	}

	all := op.get("/labs/estop")
	if all.StatusCode != 200 || byID(all.doc, "estop-confirm") == nil {
		t.Fatalf("stop-all confirmation: %d", all.StatusCode)
	}
	res = op.post("/labs/estop", url.Values{"csrf": {all.csrf()}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stop-all: %d\n%s", res.StatusCode, res.body)
	}
	for _, n := range []string{"reactor-1", "reactor-2"} {
		if s := w.status(t, n); s != lab.EStopped {
			t.Errorf("after stop-all %s is %s", n, s)
		}
	}
	detail := bob.get("/labs/instruments/reactor-2")
	if detail.StatusCode != 200 || text(byID(detail.doc, "instrument-state")) != "e-stopped" {
		t.Errorf("reactor-2's page: %d, state %q", detail.StatusCode, text(byID(detail.doc, "instrument-state")))
	}
	if a, b := bob.get("/labs/instruments/no-such"), bob.get("/labs/instruments/also-none"); a.StatusCode != 404 || a.body != b.body {
		t.Errorf("missing instrument pages: %d, equal %v", a.StatusCode, a.body == b.body)
	}
}

// TestOpsAllocationsAndLocks: /compute lists the allocations of the
// viewer's projects only; a job page polls a labelled job less often (its
// reads are audited); /labs names a lock's campaign only to whoever may
// read it.
func TestOpsAllocationsAndLocks(t *testing.T) {
	w := newOpsWorld(t)
	prj, err := w.a.Identity.CreateProject(ctx, w.admin, genesis.Project{Name: "fusion-runs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Identity.AddMember(ctx, w.admin, prj.Name, string(w.bob.ID), genesis.RoleContributor); err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Jobs.SetAllocation(ctx, w.admin, prj.Name, "local", 120, 7); err != nil {
		t.Fatal(err)
	}
	bob, carol := w.signedIn(t, w.bobT), w.signedIn(t, w.carolT)
	page := bob.get("/compute")
	rows := byClass(byID(page.doc, "allocations"), "allocation")
	if len(rows) != 1 || !strings.Contains(text(rows[0]), "fusion-runs") || !strings.Contains(text(rows[0]), "120.0") {
		t.Errorf("bob (a member) sees allocations %d: %q", len(rows), text(byID(page.doc, "allocations")))
	}
	page = carol.get("/compute")
	if rows := byClass(byID(page.doc, "allocations"), "allocation"); len(rows) != 0 || strings.Contains(page.body, "fusion-runs") {
		t.Errorf("carol (not a member) sees the project's allocation")
	}

	open := w.submit(t, w.bob, "open-run", "OPEN")
	secret := w.submit(t, w.admin, "secret-run", "PROPRIETARY")
	page = bob.get("/compute/jobs/" + open.ID)
	if got := attr(byID(page.doc, "job-live"), "data-every"); got != "2" {
		t.Errorf("an OPEN job polls every %q s, want 2", got)
	}
	if got := text(byID(page.doc, "job-owner")); got != "bob (you)" {
		t.Errorf("owner shown as %q to the owner", got)
	}
	admin := w.signedIn(t, w.adminT)
	page = admin.get("/compute/jobs/" + secret.ID)
	if got := attr(byID(page.doc, "job-live"), "data-every"); got != "10" {
		t.Errorf("a PROPRIETARY job polls every %q s, want 10", got)
	}
	page = admin.get("/compute/jobs/" + open.ID)
	if got := text(byID(page.doc, "job-owner")); got != "bob" {
		t.Errorf("owner shown as %q to the administrator", got)
	}

	in, err := w.a.Instruments.Get(ctx, w.admin, "reactor-2")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.a.Instruments.LockFor(ctx, in.ID, "cmp_not_readable"); err != nil {
		t.Fatal(err)
	}
	page = bob.get("/labs")
	row := rowOf(page, "instrument", "data-name", "reactor-2")
	if got := text(row); !strings.Contains(got, "locked by a campaign") || strings.Contains(page.body, "cmp_not_readable") {
		t.Errorf("a lock by a campaign bob may not read shows as %q", got)
	}

	// A PROPRIETARY campaign's lock: named (and the banner raised) for the
	// administrator, anonymous for bob.
	if err := w.a.Instruments.UnlockFor(ctx, in.ID, "cmp_not_readable"); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/ops-campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := campaign.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := w.a.Campaigns.Create(ctx, w.admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.a.Instruments.LockFor(ctx, in.ID, cp.ID); err != nil {
		t.Fatal(err)
	}
	page = admin.get("/labs")
	if got := text(rowOf(page, "instrument", "data-name", "reactor-2")); !strings.Contains(got, "locked by secret-flow") {
		t.Errorf("the administrator sees the lock as %q", got)
	}
	if m, _ := banner(t, page); m != "PROPRIETARY" {
		t.Errorf("/labs naming a PROPRIETARY campaign has banner %q", m)
	}
	page = bob.get("/labs")
	row = rowOf(page, "instrument", "data-name", "reactor-2")
	if got := text(row); !strings.Contains(got, "locked by a campaign") || strings.Contains(page.body, "secret-flow") || strings.Contains(page.body, cp.ID) {
		t.Errorf("a lock by a campaign bob may not read shows as %q", got)
	}
	if m, _ := banner(t, page); m != "OPEN" {
		t.Errorf("/labs banner %q", m)
	}
}

// flip returns token with its first character changed (always a
// different token).
func flip(token string) string {
	c := byte('A')
	if token[0] == 'A' {
		c = 'B'
	}
	return string(c) + token[1:]
}

var benchJobs = flag.Int("console.jobs", 1000, "jobs in the operations benchmarks (a tenth PROPRIETARY, hidden from the viewer)")

// BenchmarkOpsPages times /compute (the newest 100 jobs the viewer may
// read, out of -console.jobs, a tenth hidden from it), a pending job's
// page with its placement explanation and log tail, and /labs, rendered
// for an OPEN contributor.
func BenchmarkOpsPages(b *testing.B) {
	w := newOpsWorld(b)
	var last *jobs.Job
	for i := 0; i < *benchJobs; i++ {
		floor, p := "OPEN", w.bob
		if i%10 == 0 {
			floor, p = "PROPRIETARY", w.admin
		}
		j := w.submit(b, p, fmt.Sprintf("bench-%d", i), floor)
		if p == w.bob {
			last = j
		}
	}
	bob := w.signedIn(b, w.bobT)
	for _, path := range []string{"/compute", "/compute/jobs/" + last.ID, "/compute/jobs/" + last.ID + "/live", "/labs"} {
		b.Run(strings.ReplaceAll(strings.TrimPrefix(path, "/"), last.ID, "ID"), func(b *testing.B) {
			for b.Loop() {
				if res := bob.get(path); res.StatusCode != 200 {
					b.Fatalf("%s: %d", path, res.StatusCode)
				}
			}
		})
	}
}
