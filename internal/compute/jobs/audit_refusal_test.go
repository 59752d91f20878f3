package jobs_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
)

// TestCancelRefusalsAreRecorded: every refused cancel is on the record —
// of a job that is missing or hidden (the same record, as asked, whatever
// the ID holds), and of a job the caller may read but not cancel.
func TestCancelRefusalsAreRecorded(t *testing.T) {
	f := newFixture(t, "a-site")
	log := audit.NewMemory()
	f.svc.Audit = log
	j := f.submit(t, "executable: /bin/true\nattributes:\n  duration: 1m\n")
	olive, err := f.id.CreatePrincipal(ctx, genesis.Principal{Name: "olive", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("j", 3000)
	for _, c := range []struct {
		who        *genesis.Principal
		id, object string
		detail     string
	}{
		{olive, "job_missing", "job_missing", "not found"},
		{olive, "\xffjob", `\xffjob`, "not found"},
		{olive, long, long[:audit.MaxFieldLen-len("…[3000 bytes]")] + "…[3000 bytes]", "not found"},
		{f.admin, "job_missing", "job_missing", "not found"},
	} {
		before, _ := log.Size(ctx)
		if _, err := f.svc.Cancel(ctx, c.who, c.id); err == nil {
			t.Fatalf("cancel %q succeeded", c.id)
		}
		after, _ := log.Size(ctx)
		if after != before+1 {
			t.Fatalf("cancel %q left %d records, want 1", c.id, after-before)
		}
		r, _ := log.Get(ctx, before)
		if r.Action != "job.cancel" || r.ObjectID != c.object || r.Decision != audit.Deny || r.Detail != c.detail || len(r.LabelHash) != 0 {
			t.Errorf("cancel %q recorded %+v", c.id, r)
		}
	}
	// Someone else's job: hidden from olive or not hers to cancel, either
	// way refused and recorded.
	before, _ := log.Size(ctx)
	if _, err := f.svc.Cancel(ctx, olive, j.ID); err == nil {
		t.Fatal("olive cancelled alice's job")
	}
	if after, _ := log.Size(ctx); after != before+1 {
		t.Fatalf("refused cancel left %d records", after-before)
	}
	if r, _ := log.Get(ctx, before); r.Action != "job.cancel" || r.ObjectID != j.ID || r.Decision != audit.Deny {
		t.Errorf("refused cancel recorded %+v", r)
	}
}
