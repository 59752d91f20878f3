package instruments

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/store"
)

// Poller asks each instrument's driver for its status and records it —
// status, reason, consumable levels, actions running. A driver that
// cannot be reached makes its instrument offline. An instrument that goes
// into error, offline or e-stopped (a node stopped from its own panel)
// calls the OnHalt hooks.
type Poller struct {
	Registry *Registry
	Every    time.Duration
	OnError  func(error)
}

// Run polls every p.Every until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := p.Registry.PollAll(ctx); err != nil && p.OnError != nil && ctx.Err() == nil {
				p.OnError(err)
			}
		}
	}
}

func halted(s lab.Status) bool { return s == lab.Error || s == lab.Offline || s == lab.EStopped }

// PollAll polls every instrument once, a few at a time.
func (r *Registry) PollAll(ctx context.Context) error {
	all, err := r.All(ctx)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range all {
		in := &all[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.poll(ctx, in); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// poll records one instrument's live status.
func (r *Registry) poll(ctx context.Context, in *Instrument) error {
	st := &lab.NodeStatus{Status: lab.Offline}
	d, err := r.Driver(ctx, in.ID)
	if err == nil {
		cctx, cancel := r.driverCall(ctx)
		var got *lab.NodeStatus
		got, err = d.Status(cctx)
		cancel()
		if err == nil && got != nil {
			st = got
		}
	}
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return nil
		}
		st.Reason = "cannot reach the instrument: " + errors.SafeMessage(err)
	case !known(st.Status):
		st.Status, st.Reason = lab.Error, "the instrument reported an unknown status "+quote(string(st.Status))
	}
	reason := outside(st.Reason)
	cons := in.Consumables
	if st.Consumables != nil {
		cons = cleanConsumables(st.Consumables)
	}
	consJSON, _ := json.Marshal(cons)
	now := store.T(r.now())
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instruments SET status = ?, status_reason = ?, consumables = ?, running = ?, checked_at = ? WHERE id = ?`,
			string(st.Status), reason, string(consJSON), len(st.Running), now, in.ID)
		return err
	})
	if err != nil {
		return err
	}
	if halted(st.Status) && !halted(in.liveState) && !in.estopped && !in.held {
		msg := in.Name + " is " + string(st.Status)
		if reason != "" {
			msg += ": " + reason
		}
		r.halt(in.ID, msg)
	}
	return nil
}

func known(s lab.Status) bool {
	switch s {
	case lab.Idle, lab.Busy, lab.Error, lab.Offline, lab.EStopped, lab.Paused:
		return true
	}
	return false
}
