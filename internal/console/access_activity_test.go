package console

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// refAudit is a reference audit source with AuditEvents' contract: of the
// newest max records (oldest first in recs), those at or after since that
// the viewer may read, newest first; capped when records older than the
// ones read but inside the window were left unread.
type refAudit struct {
	recs     []refRec
	maxAsked []int
}

type refRec struct {
	at       time.Time
	readable bool
	action   string
}

func (a *refAudit) AuditEvents(_ context.Context, _ *genesis.Principal, since time.Time, max int) ([]plan.AuditEvent, bool, error) {
	a.maxAsked = append(a.maxAsked, max)
	tail := a.recs[len(a.recs)-min(max, len(a.recs)):]
	capped := max < len(a.recs) && (len(tail) == 0 || !tail[0].at.Before(since))
	out := []plan.AuditEvent{}
	for i := len(tail) - 1; i >= 0 && !tail[i].at.Before(since); i-- {
		if tail[i].readable {
			out = append(out, plan.AuditEvent{Label: "OPEN", Time: tail[i].at, Action: tail[i].action})
		}
	}
	return out, capped, nil
}

// TestRecentActivity: asking for records in growing slices gives what
// one request for activityScan records gives, cut to dashActivity, and
// asks for few records when the newest are readable.
func TestRecentActivity(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for round := range 300 {
		a := &refAudit{}
		n := rng.IntN(6000)
		hidden := []float64{0, 0.1, 0.5, 0.99, 1, rng.Float64()}[rng.IntN(6)]
		span := time.Duration(rng.IntN(20)+1) * 24 * time.Hour
		for i := range n {
			at := now.Add(-span + time.Duration(i)*span/time.Duration(max(n, 1)))
			a.recs = append(a.recs, refRec{at: at, readable: rng.Float64() >= hidden, action: strconv.Itoa(i)})
		}
		c := &Console{cfg: Config{Activity: a}, now: func() time.Time { return now }}
		got, err := c.recentActivity(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		asked := a.maxAsked
		want, _, _ := (&refAudit{recs: a.recs}).AuditEvents(context.Background(), nil, now.Add(-activityWindow), activityScan)
		if len(want) > dashActivity {
			want = want[:dashActivity]
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d (%d records, %.2f hidden): got %d events, want %d", round, n, hidden, len(got), len(want))
		}
		if len(asked) == 0 || asked[len(asked)-1] > activityScan {
			t.Fatalf("round %d: asked for %v records", round, asked)
		}
		// All of the newest readable: one small request is enough.
		if hidden == 0 && n > 0 && len(asked) != 1 {
			t.Fatalf("round %d: nothing hidden but asked %v", round, asked)
		}
	}
}
