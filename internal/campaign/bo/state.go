package bo

import (
	"encoding/json"

	"github.com/genesis-science/genesis/internal/errors"
)

// stateVersion is bumped when State changes incompatibly.
const stateVersion = 1

// State is the complete, JSON-serialisable state of an Optimizer. Restoring it
// gives an Optimizer that makes exactly the suggestions the original would.
type State struct {
	Version      int                  `json:"version"`
	Config       Config               `json:"config"`
	X            []Point              `json:"x"`
	Y            [][]float64          `json:"y"`
	Pending      []Point              `json:"pending,omitempty"`
	Calls        uint64               `json:"calls"`
	DesignServed int                  `json:"design_served"`
	Warm         map[string][]float64 `json:"warm,omitempty"` // hyperparameter warm starts
}

// State returns a snapshot of the optimiser.
func (o *Optimizer) State() State {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := State{Version: stateVersion, Config: o.cfg, Calls: o.calls, DesignServed: o.served, Warm: map[string][]float64{}}
	st.X = clonePoints(o.obsX)
	for _, y := range o.obsY {
		st.Y = append(st.Y, append([]float64(nil), y...))
	}
	st.Pending = clonePoints(o.pending)
	for k, v := range o.warm {
		st.Warm[k] = append([]float64(nil), v...)
	}
	return st
}

// MarshalJSON encodes the optimiser's State.
func (o *Optimizer) MarshalJSON() ([]byte, error) { return json.Marshal(o.State()) }

// Restore rebuilds an Optimizer from a State.
func Restore(st State) (*Optimizer, error) {
	const op errors.Op = "bo.Restore"
	if st.Version != stateVersion {
		return nil, errors.E(op, errors.Invalid, errors.Field("version"), errors.Msg("unsupported optimiser state version"))
	}
	o, err := New(st.Config)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(st.X) != len(st.Y) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("state has mismatched x and y"))
	}
	if err := o.Observe(st.X, st.Y); err != nil {
		return nil, errors.E(op, err)
	}
	for i, p := range st.Pending {
		if err := o.cfg.Space.check(p, true); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("pending"), err)
		}
		o.pending = append(o.pending, append(Point(nil), st.Pending[i]...))
	}
	if st.DesignServed < 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("design_served"), errors.Msg("must not be negative"))
	}
	o.calls, o.served = st.Calls, st.DesignServed
	nh := nHyper(o.enc.nFeat, o.enc.nCat)
	for k, v := range st.Warm {
		if len(v) != nh {
			continue // from another space: ignore rather than fail
		}
		ok := true
		for _, x := range v {
			ok = ok && finite(x)
		}
		if ok {
			o.warm[k] = append([]float64(nil), v...)
		}
	}
	return o, nil
}

// Resume decodes JSON produced by MarshalJSON and restores the optimiser.
func Resume(data []byte) (*Optimizer, error) {
	const op errors.Op = "bo.Resume"
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed optimiser state"), err)
	}
	return Restore(st)
}
