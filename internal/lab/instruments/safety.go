package instruments

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Admit implements lab.Fleet: see the package doc for the order of its
// checks and lab.Fleet for what each error kind asks of the caller.
func (r *Registry) Admit(ctx context.Context, instrumentID, campaignID string, l label.Label, req lab.Request) error {
	const op errors.Op = "instruments.Admit"
	in, err := r.load(ctx, instrumentID)
	if err != nil {
		return errors.E(op, err)
	}
	a := in.Action(req.Action)
	if a == nil {
		return errors.E(op, errors.Invalid, errors.Field("action"), errors.Msg(in.Name+" offers no action "+quote(req.Action)))
	}
	if err := CheckParams(a, req.Params); err != nil {
		return err
	}
	if err := accredits(in, l); err != nil {
		return errors.E(op, err)
	}
	if !in.Status.Takes() {
		msg := in.Name + " is " + string(in.Status)
		if in.StatusReason != "" {
			msg += ": " + in.StatusReason
		}
		return errors.E(op, errors.Conflict, errors.Msg(msg))
	}
	if in.LockedBy != "" && in.LockedBy != campaignID {
		return errors.E(op, errors.Conflict, errors.Msg(in.Name+" is locked by campaign "+in.LockedBy))
	}
	if a.Hazardous && req.ID != "" {
		// An empty ID asks without dispatching (lab.Fleet): no approval
		// is requested for a run that will not happen.
		return r.approved(ctx, in, campaignID, l, req)
	}
	return nil
}

// accredits is invariant 3 for instruments: the rule sched applies to
// sites.
func accredits(in *Instrument, l label.Label) error {
	acc, err := label.Parse(in.Accreditation)
	if err != nil {
		return errors.E(errors.Permission, errors.Msg(in.Name+"'s accreditation does not parse (fail closed)"))
	}
	if !sched.Accredits(acc, in.Nationalities, l) {
		if !label.Dominates(acc, l) {
			return errors.E(errors.Permission, errors.Msg(in.Name+" is accredited for "+acc.Format()+", which does not cover the campaign's label"))
		}
		return errors.E(errors.Permission, errors.Msg(in.Name+"'s operator nationalities do not satisfy the campaign label's releasability"))
	}
	return nil
}

// Approval is a hazardous action's request for a named human's approval.
type Approval struct {
	ID          string         `json:"id"`
	Instrument  string         `json:"instrument"` // ID
	Name        string         `json:"instrument_name,omitempty"`
	RequestID   string         `json:"request_id"`
	Action      string         `json:"action"`
	Params      map[string]any `json:"params"`
	Campaign    string         `json:"campaign"`
	Label       string         `json:"label"`
	State       string         `json:"state"` // pending, approved, denied
	RequestedAt time.Time      `json:"requested_at"`
	DecidedBy   string         `json:"decided_by,omitempty"` // the approver's name
	DecidedAt   *time.Time     `json:"decided_at,omitempty"`
	Reason      string         `json:"reason,omitempty"`
}

// States of an approval.
const (
	Pending  = "pending"
	Approved = "approved"
	Denied   = "denied"
)

// approved creates, once per request ID, the approval a hazardous action
// needs, and says whether it was given.
func (r *Registry) approved(ctx context.Context, in *Instrument, campaignID string, l label.Label, req lab.Request) error {
	const op errors.Op = "instruments.Admit"
	for try := 0; ; try++ {
		var apr *Approval
		created := false
		err := r.db.Update(ctx, func(tx store.Tx) error {
			var err error
			apr, err = scanApproval(tx.QueryRow(ctx, `SELECT `+aprCols+` FROM instrument_approvals a WHERE a.instrument = ? AND a.request_id = ?`, in.ID, req.ID))
			if !errors.Is(errors.NotExist, err) {
				return err
			}
			params, _ := json.Marshal(req.Params)
			apr = &Approval{ID: identity.NewID("apr"), Instrument: in.ID, RequestID: req.ID, Action: req.Action, Campaign: campaignID,
				Label: l.Format(), State: Pending, RequestedAt: r.now().UTC().Truncate(time.Microsecond)}
			created = true
			_, err = tx.Exec(ctx, `INSERT INTO instrument_approvals (id, instrument, request_id, action, params, campaign, label, state, requested_at, decided_by, reason)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`, apr.ID, in.ID, req.ID, req.Action, string(params), campaignID, apr.Label, Pending, store.T(apr.RequestedAt))
			return err
		})
		if errors.Is(errors.Exist, err) && try == 0 {
			continue // a concurrent Admit of the same request created it
		}
		if err != nil {
			return errors.E(op, err)
		}
		if created {
			r.record(ctx, nil, "approval.request", in.ID, "campaign "+campaignID+" asks to run hazardous action "+req.Action+" (request "+req.ID+") as "+apr.ID, l)
		}
		// An approval is for what the person saw: the same request ID
		// asking for another action, other parameters or another campaign
		// is refused, not let through.
		asked, _ := json.Marshal(req.Params)
		seen, _ := json.Marshal(apr.Params)
		if !created && (apr.Action != req.Action || apr.Campaign != campaignID || string(asked) != string(seen)) {
			return errors.E(op, errors.Invalid, errors.Msg("request "+req.ID+" asks for other than approval "+apr.ID+" was for (action, parameters or campaign)"))
		}
		switch apr.State {
		case Approved:
			return nil
		case Denied:
			return errors.E(op, errors.Invalid, errors.Msg("hazardous action "+req.Action+" on "+in.Name+" denied by "+apr.DecidedBy+": "+apr.Reason))
		}
		return errors.E(op, errors.Conflict, errors.Msg("awaiting approval "+apr.ID+" of hazardous action "+req.Action+" on "+in.Name))
	}
}

const aprCols = `a.id, a.instrument, COALESCE((SELECT name FROM instruments i WHERE i.id = a.instrument), ''), a.request_id, a.action, a.params, a.campaign,
	a.label, a.state, a.requested_at, a.decided_by, a.decided_at, a.reason`

func scanApproval(sc interface{ Scan(...any) error }) (*Approval, error) {
	var a Approval
	var params string
	var req int64
	var dec *int64
	if err := sc.Scan(&a.ID, &a.Instrument, &a.Name, &a.RequestID, &a.Action, &params, &a.Campaign, &a.Label, &a.State, &req, &a.DecidedBy, &dec, &a.Reason); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(params), &a.Params)
	if a.Params == nil {
		a.Params = map[string]any{}
	}
	a.RequestedAt, a.DecidedAt = store.FromT(req), store.FromNullT(dec)
	return &a, nil
}

// mayDecide reports whether p may see and decide approvals about a: an
// operator or administrator cleared for the campaign's label.
func (r *Registry) mayDecide(ctx context.Context, p *genesis.Principal, a *Approval) error {
	l, err := label.Parse(a.Label)
	if err != nil {
		return errors.E(errors.NotExist)
	}
	err = r.canLabel(ctx, p, authz.Operate, a.Instrument, l)
	if errors.Is(errors.Permission, err) || errors.Is(errors.NotExist, err) {
		// Exactly as a missing one is answered (decide).
		return errors.E(errors.NotExist, errors.Msg("no approval "+quote(a.ID)))
	}
	return err
}

// Approvals lists the approvals p may decide, oldest first: pending ones,
// or all when all is set.
func (r *Registry) Approvals(ctx context.Context, p *genesis.Principal, all bool) ([]Approval, error) {
	const op errors.Op = "instruments.Approvals"
	if err := r.can(ctx, p, authz.Read, "approvals"); err != nil {
		return nil, errors.E(op, err)
	}
	var every []Approval
	err := r.db.View(ctx, func(tx store.Tx) error {
		q := `SELECT ` + aprCols + ` FROM instrument_approvals a WHERE a.state = ? ORDER BY a.requested_at, a.id LIMIT 1000`
		args := []any{Pending}
		if all {
			q, args = `SELECT `+aprCols+` FROM instrument_approvals a ORDER BY a.requested_at DESC, a.id LIMIT 1000`, nil
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			a, err := scanApproval(rows)
			if err == nil {
				every = append(every, *a)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := []Approval{}
	for i := range every {
		a := &every[i]
		if r.mayDecide(ctx, p, a) != nil {
			continue
		}
		// A read of what a campaign above OPEN asked is on the record
		// (durable first for NATIONAL-SECURITY, or it is not shown).
		if l, err := label.Parse(a.Label); err == nil && l.Level() != label.Open {
			if err := r.record(ctx, p, "approval.read", a.Instrument, "read "+a.ID, l); err != nil {
				return nil, errors.E(op, err)
			}
		}
		out = append(out, *a)
	}
	return out, nil
}

// Approve lets the hazardous action of approval id through Admit. Only a
// named human — a user, not a service account — who operates the
// instrument and is cleared for the campaign's label may approve; the
// decision is audited with who and when.
func (r *Registry) Approve(ctx context.Context, p *genesis.Principal, id string) (*Approval, error) {
	return r.decide(ctx, p, id, Approved, "")
}

// Deny refuses approval id, with a reason: the experiment fails.
func (r *Registry) Deny(ctx context.Context, p *genesis.Principal, id, reason string) (*Approval, error) {
	if reason == "" {
		return nil, errors.E(errors.Op("instruments.Deny"), invalid("reason", "a denial needs a reason"))
	}
	if err := text.Line("reason", reason, 1024); err != nil {
		return nil, errors.E(errors.Op("instruments.Deny"), err)
	}
	return r.decide(ctx, p, id, Denied, reason)
}

func (r *Registry) decide(ctx context.Context, p *genesis.Principal, id, state, reason string) (*Approval, error) {
	op := errors.Op("instruments.Approve")
	if state == Denied {
		op = "instruments.Deny"
	}
	if p == nil {
		return nil, errors.E(op, errors.Unauthenticated)
	}
	var a *Approval
	err := r.db.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = scanApproval(tx.QueryRow(ctx, `SELECT `+aprCols+` FROM instrument_approvals a WHERE a.id = ?`, id))
		return err
	})
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no approval "+quote(id)))
	}
	if err == nil {
		err = r.mayDecide(ctx, p, a)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	if p.Kind != genesis.KindUser {
		return nil, errors.E(op, errors.Permission, errors.Msg("hazardous actions are approved by a named person, not a service account"))
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	err = r.db.Update(ctx, func(tx store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE instrument_approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND state = ?`,
			state, p.Name, store.T(now), reason, id, Pending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.E(errors.Conflict, errors.Msg("approval "+id+" is already decided"))
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	l, _ := label.Parse(a.Label)
	if err := r.record(ctx, p, map[string]string{Approved: "approval.approve", Denied: "approval.deny"}[state], a.Instrument, state+" "+a.ID+" ("+a.Action+" for campaign "+a.Campaign+", request "+a.RequestID+") by "+p.Name+" at "+now.Format(time.RFC3339)+" "+reason, l); err != nil {
		return nil, errors.E(op, err)
	}
	a.State, a.DecidedBy, a.DecidedAt, a.Reason = state, p.Name, &now, reason
	return a, nil
}

// EStop is the emergency stop: the instrument is recorded e-stopped at
// once — Admit refuses from then on — and only then told to stop (a node
// that does not answer is logged, not waited on past the registry's
// timeout); every OnHalt hook is called (the campaign runner pauses the
// campaigns using it).
func (r *Registry) EStop(ctx context.Context, p *genesis.Principal, idOrName string) (*Instrument, error) {
	const op errors.Op = "instruments.EStop"
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.estop(ctx, p, []*Instrument{in}); err != nil {
		return nil, errors.E(op, err)
	}
	return r.Get(ctx, p, in.ID)
}

// EStopAll e-stops every instrument; it returns how many.
func (r *Registry) EStopAll(ctx context.Context, p *genesis.Principal) (int, error) {
	const op errors.Op = "instruments.EStopAll"
	if err := r.can(ctx, p, authz.Operate, "instruments"); err != nil {
		return 0, errors.E(op, err)
	}
	all, err := r.All(ctx)
	if err != nil {
		return 0, errors.E(op, err)
	}
	ins := make([]*Instrument, len(all))
	for i := range all {
		ins[i] = &all[i]
	}
	if err := r.estop(ctx, p, ins); err != nil {
		return 0, errors.E(op, err)
	}
	return len(ins), nil
}

func (r *Registry) estop(ctx context.Context, p *genesis.Principal, ins []*Instrument) error {
	now := store.T(r.now())
	reason := "emergency stop by " + p.Name
	// First the record, in one transaction: nothing is dispatched after it.
	err := r.db.Update(ctx, func(tx store.Tx) error {
		for _, in := range ins {
			if _, err := tx.Exec(ctx, `UPDATE instruments SET estopped_at = COALESCE(estopped_at, ?), estop_reason = ?, updated_at = ? WHERE id = ?`,
				now, reason, now, in.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Then the instruments, all at once.
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := r.Driver(ctx, in.ID)
			if err == nil {
				cctx, cancel := r.driverCall(context.WithoutCancel(ctx))
				err = d.Admin(cctx, lab.SafetyStop)
				cancel()
			}
			if err != nil {
				r.log().Error("instrument did not take the safety stop; it is e-stopped in the registry and takes no actions", "instrument", in.Name, "err", err)
			}
		}()
	}
	wg.Wait()
	for _, in := range ins {
		r.record(ctx, p, "estop", in.ID, reason, openLabel)
		r.halt(in.ID, in.Name+" is e-stopped: "+reason)
	}
	return nil
}

// Reset clears an emergency stop (operators), after the instrument took
// its reset command; one that does not keeps the stop.
func (r *Registry) Reset(ctx context.Context, p *genesis.Principal, idOrName string) (*Instrument, error) {
	const op errors.Op = "instruments.Reset"
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d, err := r.Driver(ctx, in.ID)
	if err == nil {
		cctx, cancel := r.driverCall(ctx)
		err = d.Admin(cctx, lab.Reset)
		cancel()
		if errors.Is(errors.Invalid, err) {
			err = nil // a driver with no reset command has nothing to clear
		}
	}
	if err != nil {
		return nil, errors.E(op, errors.Transient, errors.Msg(in.Name+" did not take the reset command; it stays e-stopped: "+outside(errors.SafeMessage(err))), err)
	}
	now := store.T(r.now())
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instruments SET estopped_at = NULL, estop_reason = '', updated_at = ? WHERE id = ?`, now, in.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "reset", in.ID, "reset by "+p.Name, openLabel)
	return r.Get(ctx, p, in.ID)
}

// Lock reserves the instrument for campaign campaignID: Admit for any other
// campaign is errors.Conflict until Unlock. Locking it again for the same
// campaign is a no-op; for another, errors.Conflict.
func (r *Registry) Lock(ctx context.Context, p *genesis.Principal, idOrName, campaignID string) (*Instrument, error) {
	const op errors.Op = "instruments.Lock"
	if campaignID == "" {
		return nil, errors.E(op, invalid("campaign", "name the campaign that holds the lock"))
	}
	if err := text.Line("campaign", campaignID, 128); err != nil {
		return nil, errors.E(op, err)
	}
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.LockFor(ctx, in.ID, campaignID); err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "lock", in.ID, "locked for campaign "+campaignID, openLabel)
	return r.Get(ctx, p, in.ID)
}

// LockFor is Lock for the campaign runner (no principal).
func (r *Registry) LockFor(ctx context.Context, instrumentID, campaignID string) error {
	now := store.T(r.now())
	return r.db.Update(ctx, func(tx store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE instruments SET locked_by = ?, updated_at = ? WHERE id = ? AND (locked_by = '' OR locked_by = ?)`, campaignID, now, instrumentID, campaignID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var holder string
		if err := tx.QueryRow(ctx, `SELECT locked_by FROM instruments WHERE id = ?`, instrumentID).Scan(&holder); err != nil {
			return err
		}
		return errors.E(errors.Conflict, errors.Msg("locked by campaign "+holder))
	})
}

// Unlock releases the instrument's lock, whoever holds it (operators).
func (r *Registry) Unlock(ctx context.Context, p *genesis.Principal, idOrName string) (*Instrument, error) {
	const op errors.Op = "instruments.Unlock"
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.UnlockFor(ctx, in.ID, ""); err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "unlock", in.ID, "unlocked (was "+in.LockedBy+")", openLabel)
	return r.Get(ctx, p, in.ID)
}

// UnlockFor releases the lock if campaignID holds it ("" releases any).
func (r *Registry) UnlockFor(ctx context.Context, instrumentID, campaignID string) error {
	now := store.T(r.now())
	return r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instruments SET locked_by = '', updated_at = ? WHERE id = ? AND (? = '' OR locked_by = ?)`, now, instrumentID, campaignID, campaignID)
		return err
	})
}

// OnHalt implements lab.Fleet.
func (r *Registry) OnHalt(f func(instrumentID, reason string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.halts = append(r.halts, f)
}

func (r *Registry) halt(id, reason string) {
	r.mu.Lock()
	hs := append([]func(string, string){}, r.halts...)
	r.mu.Unlock()
	for _, f := range hs {
		f(id, reason)
	}
}

// Select implements lab.Fleet.
func (r *Registry) Select(ctx context.Context, p *genesis.Principal, instrument, workcell, action string) ([]string, error) {
	const op errors.Op = "instruments.Select"
	if err := r.can(ctx, p, authz.Read, "instruments"); err != nil {
		return nil, errors.E(op, err)
	}
	if instrument == "" && workcell == "" {
		return nil, errors.E(op, invalid("executor", "name an instrument or a workcell"))
	}
	if instrument != "" {
		in, err := r.load(ctx, instrument)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if action != "" && in.Action(action) == nil {
			return nil, errors.E(op, errors.NotExist, errors.Msg(in.Name+" offers no action "+quote(action)))
		}
		return []string{in.ID}, nil
	}
	all, err := r.All(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var out []string
	found := false
	for i := range all {
		in := &all[i]
		if in.Workcell != workcell && in.workcell != workcell {
			continue
		}
		found = true
		if action == "" || in.Action(action) != nil {
			out = append(out, in.ID)
		}
	}
	if len(out) == 0 {
		msg := "no workcell " + quote(workcell) + " with instruments"
		if found {
			msg = "no instrument in workcell " + quote(workcell) + " offers action " + quote(action)
		}
		return nil, errors.E(op, errors.NotExist, errors.Msg(msg))
	}
	return out, nil
}

// Action implements lab.Fleet: the action with its effective bounds.
func (r *Registry) Action(ctx context.Context, instrumentID, action string) (*lab.Action, error) {
	in, err := r.load(ctx, instrumentID)
	if err != nil {
		return nil, errors.E(errors.Op("instruments.Action"), err)
	}
	a := in.Action(action)
	if a == nil {
		return nil, errors.E(errors.Op("instruments.Action"), errors.NotExist, errors.Msg(in.Name+" offers no action "+quote(action)))
	}
	return a, nil
}
