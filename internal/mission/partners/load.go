package partners

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/store"
)

type assetRow struct {
	kind, label, project, owner string
	versionLabel                string
	bytes                       int64
}

type labelled struct{ label, project, owner string }

type jobRow struct {
	label, project, owner string
	nodeHours, gpuHours   float64
}

type named struct{ name, org, lab string }

// state is the raw platform state the portfolio is computed from; every
// row is decided for the viewer before it is counted.
type state struct {
	orgOf       map[string]genesis.OrgID // principal → organisation
	principals  map[genesis.OrgID]int    // enabled principals per organisation
	projects    map[genesis.OrgID]int    // projects with a member of the organisation
	assets      []assetRow
	campaigns   []labelled
	jobs        []jobRow
	sites       []named
	instruments []named
}

// Job states charged for wall time (as jobs.allocations charges them).
const (
	jobRunning = "running"
	jobPending = "pending"
)

func (s *Service) load(ctx context.Context) (*state, error) {
	st := &state{orgOf: map[string]genesis.OrgID{}, principals: map[genesis.OrgID]int{}, projects: map[genesis.OrgID]int{}}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, COALESCE(org_id, ''), disabled FROM principals`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var id, org string
			var disabled bool
			if err := rows.Scan(&id, &org, &disabled); err != nil {
				return err
			}
			if org != "" {
				st.orgOf[id] = genesis.OrgID(org)
				if !disabled {
					st.principals[genesis.OrgID(org)]++
				}
			}
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT p.org_id, COUNT(DISTINCT m.project_id) FROM project_members m JOIN principals p ON p.id = m.principal_id
			WHERE p.org_id IS NOT NULL GROUP BY p.org_id`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var org string
			var n int
			err := rows.Scan(&org, &n)
			st.projects[genesis.OrgID(org)] = n
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT a.kind, a.label, COALESCE(a.project_id, ''), a.owner_id, COALESCE(v.label, ''), COALESCE(v.total_bytes, 0)
			FROM assets a LEFT JOIN asset_versions v ON v.asset_id = a.id AND v.version = a.latest_version`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var a assetRow
			err := rows.Scan(&a.kind, &a.label, &a.project, &a.owner, &a.versionLabel, &a.bytes)
			st.assets = append(st.assets, a)
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT label, COALESCE(project_id, ''), owner_id FROM campaigns`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var c labelled
			err := rows.Scan(&c.label, &c.project, &c.owner)
			st.campaigns = append(st.campaigns, c)
			return err
		}); err != nil {
			return err
		}
		// Used: finished jobs, nodes (and GPUs) × the wall time they ran
		// (microseconds), as allocations are charged.
		rows, err = tx.Query(ctx, `SELECT label, COALESCE(project_id, ''), owner_id, state, nodes, COALESCE(node_hours, 0), COALESCE(gpu_hours, 0),
			COALESCE(started_at, 0), COALESCE(finished_at, 0) FROM jobs`)
		if err != nil {
			return err
		}
		const usPerHour = float64(time.Hour / time.Microsecond)
		if err := rows.Each(func() error {
			var j jobRow
			var state string
			var nodes int64
			var nh, gh float64
			var started, finished int64
			if err := rows.Scan(&j.label, &j.project, &j.owner, &state, &nodes, &nh, &gh, &started, &finished); err != nil {
				return err
			}
			if state != jobRunning && state != jobPending && started > 0 && finished > started {
				wall := float64(finished - started)
				j.nodeHours = float64(nodes) * wall / usPerHour
				if nh > 0 {
					j.gpuHours = gh * float64(nodes) * wall / nh / usPerHour
				}
			}
			st.jobs = append(st.jobs, j)
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT name, operator_org FROM sites ORDER BY name`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var n named
			err := rows.Scan(&n.name, &n.org)
			st.sites = append(st.sites, n)
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT name, owner_org, lab FROM instruments ORDER BY name`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var n named
			err := rows.Scan(&n.name, &n.org, &n.lab)
			st.instruments = append(st.instruments, n)
			return err
		})
	})
	return st, err
}
