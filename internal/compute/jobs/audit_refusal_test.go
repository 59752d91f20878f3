package jobs_test

import (
	"reflect"
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

// TestReadsAreRecorded: a read of a job above OPEN is on the record under
// the job's label (invariant 6); a read of a job that is hidden leaves
// exactly the record a read of a missing one does; a read of an OPEN job
// leaves none, as for assets.
func TestReadsAreRecorded(t *testing.T) {
	f := newFixture(t, "a-site")
	log := audit.NewMemory()
	f.svc.Audit = log
	open := f.submit(t, "executable: /bin/true\nattributes:\n  duration: 1m\n")
	prop := f.submit(t, "executable: /bin/true\nlabel: PROPRIETARY\nattributes:\n  duration: 1m\n")
	olive, err := f.id.CreatePrincipal(ctx, genesis.Principal{Name: "olive", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	newRecords := func(read func()) []audit.Record {
		t.Helper()
		before, _ := log.Size(ctx)
		read()
		after, _ := log.Size(ctx)
		var out []audit.Record
		for i := before; i < after; i++ {
			r, _ := log.Get(ctx, i)
			r.Time = r.Time.UTC().Truncate(0)
			out = append(out, r)
		}
		return out
	}
	if rs := newRecords(func() { f.svc.Get(ctx, f.alice, open.ID) }); len(rs) != 0 {
		t.Errorf("reading an OPEN job left %d records", len(rs))
	}
	rs := newRecords(func() {
		if _, err := f.svc.Get(ctx, f.alice, prop.ID); err != nil {
			t.Fatal(err)
		}
	})
	if len(rs) != 1 || rs[0].Action != "job.read" || rs[0].ObjectID != prop.ID || rs[0].Decision != audit.Allow || len(rs[0].LabelHash) == 0 {
		t.Errorf("reading a PROPRIETARY job recorded %+v", rs)
	}
	// olive may not read the PROPRIETARY job: what her read leaves is what
	// a read of an ID that names nothing leaves, but for the ID.
	hidden := newRecords(func() { f.svc.Get(ctx, olive, prop.ID) })
	missing := newRecords(func() { f.svc.Get(ctx, olive, "job_nothing_here") })
	if len(hidden) != 1 || len(missing) != 1 {
		t.Fatalf("hidden read left %d records, missing read %d", len(hidden), len(missing))
	}
	h, m := hidden[0], missing[0]
	h.ObjectID, m.ObjectID, h.Time = "", "", m.Time
	if h.Action != "job.read" || h.Decision != audit.Deny || len(h.LabelHash) != 0 || !reflect.DeepEqual(h, m) {
		t.Errorf("a hidden job's read recorded %+v, a missing one's %+v", hidden[0], missing[0])
	}
}
