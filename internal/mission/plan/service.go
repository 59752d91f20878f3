package plan

import (
	"context"
	"strconv"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Service keeps the mission plan in the store and evaluates it.
//
// Only administrators change the plan: its deadlines and thresholds are
// the deployment's programme of record (what every mission lead and
// partner is measured against), not data a steward labels, and the
// policy has no narrower role for it. Every change is audited
// (mission.plan.update). Anyone signed in reads the plan (it is OPEN:
// milestones and thresholds, no data); a status is computed over what its
// viewer may read.
type Service struct {
	db  store.DB
	log audit.Appender
	// Sources feed the checks; People and Audit feed the risks. Nil
	// sources are not available.
	Sources Sources
	People  PeopleSource
	Audit   AuditSource
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// New returns the service; log may be nil only in tests.
func New(db store.DB, log audit.Appender) *Service {
	return &Service{db: db, log: log, Now: time.Now}
}

// Stored is the plan in force, with where it came from.
type Stored struct {
	Plan
	// Default: no plan was set; this is the embedded default.
	Default bool `json:"default"`
	// FirstStart is the deployment's first start, from which a plan
	// without a start counts its days.
	FirstStart time.Time  `json:"first_start"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

// Init records the deployment's first start (now) if none is recorded;
// called at start-up, and by every read, so a deployment's timeline starts
// when it first ran.
func (s *Service) Init(ctx context.Context) error {
	const op errors.Op = "plan.Init"
	now := s.Now()
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM mission_plan WHERE id = 1`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO mission_plan (id, doc, first_start) VALUES (1, '', ?)`, store.T(now))
		return err
	})
	if err != nil && !errors.Is(errors.Exist, err) {
		return errors.E(op, err)
	}
	return nil
}

func (s *Service) load(ctx context.Context, tx store.Tx) (*Stored, error) {
	var doc, by string
	var first, at int64
	if err := tx.QueryRow(ctx, `SELECT doc, first_start, updated_by, updated_at FROM mission_plan WHERE id = 1`).Scan(&doc, &first, &by, &at); err != nil {
		return nil, err
	}
	st := &Stored{FirstStart: store.FromT(first), UpdatedBy: by}
	if at != 0 {
		t := store.FromT(at)
		st.UpdatedAt = &t
	}
	if doc == "" {
		st.Plan, st.Default = *Default(), true
		return st, nil
	}
	p, err := Parse([]byte(doc))
	if err != nil {
		return nil, errors.E(errors.Internal, errors.Msg("the stored mission plan does not parse"), err)
	}
	st.Plan = *p
	return st, nil
}

// Get returns the plan in force.
func (s *Service) Get(ctx context.Context, p *genesis.Principal) (*Stored, error) {
	const op errors.Op = "plan.Get"
	if p == nil {
		return nil, errors.E(op, errors.Permission, errors.Msg("sign in to read the mission plan"))
	}
	if err := s.Init(ctx); err != nil {
		return nil, errors.E(op, err)
	}
	var st *Stored
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		st, err = s.load(ctx, tx)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return st, nil
}

var openBinary = func() []byte { b, _ := label.MustParse("OPEN").MarshalBinary(); return b }()

// Set replaces the plan with the plan file data (see Parse). New or
// changed milestones may not have deadlines in the past unless allowPast.
// Only administrators; audited as mission.plan.update, refusals included.
func (s *Service) Set(ctx context.Context, p *genesis.Principal, data []byte, allowPast bool) (*Stored, error) {
	const op errors.Op = "plan.Set"
	if p == nil || !p.IsAdmin() {
		s.record(ctx, p, audit.Deny, "only administrators change the mission plan")
		return nil, errors.E(op, errors.Permission, errors.Msg("only administrators change the mission plan"))
	}
	next, err := Parse(data)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.Init(ctx); err != nil {
		return nil, errors.E(op, err)
	}
	now := s.Now()
	var out *Stored
	err = s.db.Update(ctx, func(tx store.Tx) error {
		old, err := s.load(ctx, tx)
		if err != nil {
			return err
		}
		if err := CheckChanges(&old.Plan, next, old.FirstStart, now, allowPast); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mission_plan SET doc = ?, updated_by = ?, updated_at = ? WHERE id = 1`, string(next.Format()), string(p.ID), store.T(now)); err != nil {
			return err
		}
		detail := "milestones " + strconv.Itoa(len(next.Milestones))
		if next.Start != "" {
			detail += ", start " + next.Start
		}
		if allowPast {
			detail += ", past deadlines allowed"
		}
		if s.log != nil {
			if _, err := s.log.AppendSync(ctx, audit.Record{Principal: string(p.ID), Action: "mission.plan.update", ObjectType: "mission_plan", ObjectID: "plan", Decision: audit.Allow, Label: openBinary, Detail: detail}); err != nil {
				return errors.E(errors.Transient, errors.Msg("the audit log is unavailable"), err)
			}
		}
		out, err = s.load(ctx, tx)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

func (s *Service) record(ctx context.Context, p *genesis.Principal, dec audit.Decision, detail string) {
	if s.log == nil {
		return
	}
	id := ""
	if p != nil {
		id = string(p.ID)
	}
	s.log.Append(context.WithoutCancel(ctx), audit.Record{Principal: id, Action: "mission.plan.update", ObjectType: "mission_plan", ObjectID: "plan", Decision: dec, Label: openBinary, Detail: detail})
}

// Status evaluates the plan in force over the platform as p sees it.
func (s *Service) Status(ctx context.Context, p *genesis.Principal) (*Status, error) {
	const op errors.Op = "plan.Status"
	st, err := s.Get(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	state, err := s.Sources.Gather(ctx, p, s.Now())
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := st.Plan.Evaluate(state, st.FirstStart)
	l, ok := state.Label()
	if !ok {
		return nil, errors.E(op, errors.Internal, errors.Msg("a record's label does not parse"))
	}
	out.Label = l
	return out, nil
}

// Risks derives the risk register from the platform as p sees it.
func (s *Service) Risks(ctx context.Context, p *genesis.Principal) (*Risks, error) {
	const op errors.Op = "plan.Risks"
	if p == nil {
		return nil, errors.E(op, errors.Permission, errors.Msg("sign in to read the risks"))
	}
	now := s.Now()
	state, err := s.Sources.Gather(ctx, p, now)
	if err != nil {
		return nil, errors.E(op, err)
	}
	in, err := gatherRisks(ctx, p, s.Audit, s.People, now)
	if err != nil {
		return nil, errors.E(op, err)
	}
	rs := ComputeRisks(state, in)
	// Risks read the catalog (silos) and the audit log, not challenges or
	// campaigns.
	ms := []string{}
	if state.Assets != nil {
		for _, a := range *state.Assets {
			ms = append(ms, a.Label)
		}
	}
	if in.Audit != nil {
		for _, e := range *in.Audit {
			ms = append(ms, e.Label)
		}
	}
	l, ok := joinMarkings(ms...)
	if !ok {
		return nil, errors.E(op, errors.Internal, errors.Msg("a record's label does not parse"))
	}
	rs.Label = l
	return rs, nil
}
