package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Allocation is a project's allocation at a site, with what its jobs used
// (finished jobs: nodes × wall time) and hold (running jobs: nodes × their
// requested duration).
type Allocation struct {
	Project       string    `json:"project"`
	Site          string    `json:"site"`
	NodeHours     float64   `json:"node_hours"`
	GPUHours      float64   `json:"gpu_hours"`
	UsedNodeHours float64   `json:"used_node_hours"`
	UsedGPUHours  float64   `json:"used_gpu_hours"`
	HeldNodeHours float64   `json:"held_node_hours"`
	HeldGPUHours  float64   `json:"held_gpu_hours"`
	UpdatedBy     string    `json:"updated_by"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Remaining is what the project may still start at the site.
func (a Allocation) Remaining() sched.Remaining {
	return sched.Remaining{NodeHours: a.NodeHours - a.UsedNodeHours - a.HeldNodeHours, GPUHours: a.GPUHours - a.UsedGPUHours - a.HeldGPUHours}
}

// cost is what a job may use: nodes (and GPUs) × its requested duration.
func cost(spec *compute.JobSpec) (nodeHours, gpuHours float64) {
	r := spec.Resources
	nodes := max(1, r.Nodes())
	perNode := max(1, r.ProcessesPerNode)
	if r.ProcessesPerNode == 0 {
		perNode = max(1, (r.Processes()+nodes-1)/nodes)
	}
	h := spec.Attributes.Duration.D().Hours()
	return float64(nodes) * h, float64(nodes*perNode*r.GPUCoresPerProcess) * h
}

// MaxAllocationHours bounds an allocation: a billion hours is far beyond
// any facility's year, and far inside float64's exact integers.
const MaxAllocationHours = 1e9

// SetAllocation grants a project node- and GPU-hours at a site
// (operators and administrators).
func (s *Service) SetAllocation(ctx context.Context, p *genesis.Principal, project, site string, nodeHours, gpuHours float64) (*Allocation, error) {
	const op errors.Op = "jobs.SetAllocation"
	if !p.IsAdmin() && !p.HasRole(genesis.RoleOperator) {
		return nil, errors.E(op, errors.Permission, errors.Msg("only operators and administrators set allocations"))
	}
	// NaN, Inf and 1e300 hours would poison every sum the scheduler makes.
	if err := text.First(text.Number("node_hours", nodeHours, 0, MaxAllocationHours), text.Number("gpu_hours", gpuHours, 0, MaxAllocationHours)); err != nil {
		return nil, errors.E(op, err)
	}
	prj, err := s.ids.Project(ctx, p, project)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("project"), errors.Msg("no such project"))
	}
	if _, err := s.sites.Get(ctx, p, site); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("site"), errors.Msg("no such site"))
	}
	now := s.now()
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM allocations WHERE project_id = ? AND site = ?`, prj.ID, site); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO allocations (project_id, site, node_hours, gpu_hours, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			prj.ID, site, nodeHours, gpuHours, p.ID, store.T(now))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	as, err := s.allocations(ctx, string(prj.ID))
	if err != nil {
		return nil, errors.E(op, err)
	}
	for _, a := range as {
		if a.Site == site {
			return &a, nil
		}
	}
	return nil, errors.E(op, errors.Internal, errors.Msg("allocation vanished"))
}

// Allocations lists a visible project's allocations with their usage.
func (s *Service) Allocations(ctx context.Context, p *genesis.Principal, project string) ([]Allocation, error) {
	const op errors.Op = "jobs.Allocations"
	prj, err := s.ids.Project(ctx, p, project)
	if err != nil {
		return nil, errors.E(op, err)
	}
	as, err := s.allocations(ctx, string(prj.ID))
	if err != nil {
		return nil, errors.E(op, err)
	}
	return as, nil
}

// allocations loads a project's allocations and charges its jobs to them.
func (s *Service) allocations(ctx context.Context, projectID string) ([]Allocation, error) {
	out := []Allocation{}
	bySite := map[string]int{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT site, node_hours, gpu_hours, updated_by, updated_at FROM allocations WHERE project_id = ? ORDER BY site`, projectID)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			a := Allocation{Project: projectID}
			var at int64
			if err := rows.Scan(&a.Site, &a.NodeHours, &a.GPUHours, &a.UpdatedBy, &at); err != nil {
				return err
			}
			a.UpdatedAt = store.FromT(at)
			bySite[a.Site] = len(out)
			out = append(out, a)
			return nil
		}); err != nil {
			return err
		}
		// Held: running jobs (and pending ones being submitted), at their
		// requested size. Used: finished jobs, nodes (and GPUs) × the wall
		// time they ran, in microseconds here.
		const wall = `CASE WHEN state NOT IN (?, ?) AND finished_at > started_at THEN finished_at - started_at ELSE 0 END`
		sums, err := tx.Query(ctx, `SELECT site,
			CAST(COALESCE(SUM(CASE WHEN state IN (?, ?) THEN node_hours ELSE 0 END), 0) AS DOUBLE PRECISION),
			CAST(COALESCE(SUM(CASE WHEN state IN (?, ?) THEN gpu_hours ELSE 0 END), 0) AS DOUBLE PRECISION),
			CAST(COALESCE(SUM(nodes * `+wall+`), 0) AS DOUBLE PRECISION),
			CAST(COALESCE(SUM(CASE WHEN node_hours > 0 THEN gpu_hours * nodes * `+wall+` / node_hours ELSE 0 END), 0) AS DOUBLE PRECISION)
			FROM jobs WHERE project_id = ? AND site <> '' AND node_hours IS NOT NULL GROUP BY site`,
			Running, Pending, Running, Pending, Running, Pending, Running, Pending, projectID)
		if err != nil {
			return err
		}
		const usPerHour = float64(time.Hour / time.Microsecond)
		if err := sums.Each(func() error {
			var site string
			var hn, hg, un, ug float64
			if err := sums.Scan(&site, &hn, &hg, &un, &ug); err != nil {
				return err
			}
			if i, ok := bySite[site]; ok {
				out[i].HeldNodeHours += hn
				out[i].HeldGPUHours += hg
				out[i].UsedNodeHours += un / usPerHour
				out[i].UsedGPUHours += ug / usPerHour
			}
			return nil
		}); err != nil {
			return err
		}
		// Jobs recorded before the cost columns: from their specs.
		jobs, err := tx.Query(ctx, `SELECT site, spec, state, started_at, finished_at FROM jobs WHERE project_id = ? AND site <> '' AND node_hours IS NULL`, projectID)
		if err != nil {
			return err
		}
		return jobs.Each(func() error {
			var site, spec, state string
			var st, fin *int64
			if err := jobs.Scan(&site, &spec, &state, &st, &fin); err != nil {
				return err
			}
			i, ok := bySite[site]
			if !ok {
				return nil
			}
			var js compute.JobSpec
			json.Unmarshal([]byte(spec), &js)
			nh, gh := cost(&js)
			switch {
			case state == Running || state == Pending:
				out[i].HeldNodeHours += nh
				out[i].HeldGPUHours += gh
			case st != nil && fin != nil:
				// Charged for the wall time it ran, at its size.
				h := store.FromT(*fin).Sub(store.FromT(*st)).Hours()
				if d := js.Attributes.Duration.D().Hours(); d > 0 && h > 0 {
					out[i].UsedNodeHours += nh * h / d
					out[i].UsedGPUHours += gh * h / d
				}
			}
			return nil
		})
	})
	return out, err
}
