package console

import (
	"context"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// recentActivity returns the newest audit events p may read from the
// last activityWindow, at most dashActivity of them — what the dashboard
// shows. Deciding whether p may read a record costs a store lookup, so it
// asks the audit source for a few records first and for four times more
// only while too few of them were readable and more remain (up to
// activityScan): a dashboard costs what it shows, not activityScan
// decisions. The result is the same as one request for activityScan
// records, cut to dashActivity.
func (c *Console) recentActivity(ctx context.Context, p *genesis.Principal) ([]plan.AuditEvent, error) {
	since := c.now().Add(-activityWindow)
	for n := 4 * dashActivity; ; n *= 4 {
		n = min(n, activityScan)
		evs, capped, err := c.cfg.Activity.AuditEvents(ctx, p, since, n)
		if err != nil || len(evs) >= dashActivity || !capped || n == activityScan {
			if len(evs) > dashActivity {
				evs = evs[:dashActivity]
			}
			return evs, err
		}
	}
}
