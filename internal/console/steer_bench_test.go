package console_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
)

// BenchmarkSteerPages renders a finished campaign's console pages (200
// experiments on a simulated reactor, random proposals) as its owner:
// the page, its live part, a parameter plot and the convergence plot.
// go test ./internal/console -run XXX -bench SteerPages
func BenchmarkSteerPages(b *testing.B) {
	w := newSteerWorld(b)
	if _, err := w.camp.Create(ctx, w.alice, reactorSpecOpt(b, "bench", "OPEN", "open-cell", 200, "{random: true}")); err != nil {
		b.Fatal(err)
	}
	if _, err := w.camp.Start(ctx, w.alice, "bench"); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		cp, err := w.camp.Get(ctx, w.alice, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if cp.State != campaign.Running {
			b.Logf("campaign %s (%s), %d observed", cp.State, cp.Reason, cp.Counts.Observed)
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the campaign did not finish: %+v", cp.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	br := w.browser(b)
	br.signIn(w.aliceT)
	for _, p := range []struct{ name, path string }{
		{"campaign", "/campaigns/bench"},
		{"live", "/campaigns/bench/live"},
		{"param-plot", "/campaigns/bench/params/temperature"},
		{"convergence-plot", "/campaigns/bench/plot.svg"},
	} {
		b.Run(p.name, func(b *testing.B) { benchPage(b, br, p.path) })
	}
}
