package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// BenchmarkMissionRisks times one risks request by an administrator over
// a full audit window (plan.MaxAuditScan records, 40 % of them about a
// dataset, each decided by the catalog as the API's audit list does) and
// 200 datasets (metadata and lineage read for each).
func BenchmarkMissionRisks(b *testing.B) {
	ctx := context.Background()
	a, err := Open(ctx, config.Default(b.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		b.Fatal(err)
	}
	var ds *catalog.Asset
	for i := range 200 {
		d, err := a.Catalog.Create(ctx, admin, catalog.CreateSpec{Name: "d" + itoa(i), Label: "OPEN"})
		if err != nil {
			b.Fatal(err)
		}
		ds = d
	}
	open, _ := label.MustParse("OPEN").MarshalBinary()
	var last uint64
	for i := range plan.MaxAuditScan {
		r := audit.Record{Principal: string(admin.ID), Action: "principal.read", ObjectType: "principal", Decision: audit.Allow, Label: open}
		switch i % 10 {
		case 0, 1, 2, 3:
			r.Action, r.ObjectType, r.ObjectID = "dataset.read", "dataset", ds.ID
		case 4:
			r.Decision = audit.Deny
		}
		if last, err = a.Audit.Append(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	for {
		if n, _ := a.Audit.Size(ctx); n > last {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ResetTimer()
	for range b.N {
		rs, err := a.Mission.Risks(ctx, admin)
		if err != nil {
			b.Fatal(err)
		}
		if rs.Risks[0].Level == plan.RiskNotAvailable {
			b.Fatal("leakage not available to the administrator")
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// BenchmarkMissionStatus times one status request by an administrator on
// the demo (22 challenges, their datasets and models, the demo campaign)
// plus 500 more datasets (metadata and lineage read for each).
func BenchmarkMissionStatus(b *testing.B) {
	ctx := context.Background()
	a, err := Open(ctx, config.Default(b.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.setUpDemo(ctx, "admin"); err != nil {
		b.Fatal(err)
	}
	for i := range 500 {
		if _, err := a.Catalog.Create(ctx, admin, catalog.CreateSpec{Name: "d" + itoa(i), Label: "OPEN"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		st, err := a.Mission.Status(ctx, admin)
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Milestones) != 5 {
			b.Fatal("milestones")
		}
	}
}
