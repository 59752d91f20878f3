package instruments

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Workcell is a group of instruments that work together (a campaign may
// name one as its executor). An instrument belongs to at most one.
type Workcell struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Lab         string    `json:"lab,omitempty"`
	Description string    `json:"description,omitempty"`
	Instruments []string  `json:"instruments"` // members' names
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// WorkcellSpec describes a workcell to add.
type WorkcellSpec struct {
	Name        string `json:"name" yaml:"name"`
	Lab         string `json:"lab,omitempty" yaml:"lab,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// AddWorkcell creates a workcell (operators and administrators).
func (r *Registry) AddWorkcell(ctx context.Context, p *genesis.Principal, s WorkcellSpec) (*Workcell, error) {
	const op errors.Op = "instruments.AddWorkcell"
	if err := r.can(ctx, p, authz.Write, "new-workcell"); err != nil {
		return nil, errors.E(op, err)
	}
	return r.addWorkcell(ctx, p, s)
}

// EnsureWorkcell creates the workcell s describes when none of its name
// exists, on the platform's behalf (for `genesis up`, not the API).
func (r *Registry) EnsureWorkcell(ctx context.Context, s WorkcellSpec) (bool, error) {
	_, err := r.addWorkcell(ctx, nil, s)
	if errors.Is(errors.Exist, err) {
		return false, nil
	}
	return err == nil, err
}

func (r *Registry) addWorkcell(ctx context.Context, p *genesis.Principal, s WorkcellSpec) (*Workcell, error) {
	const op errors.Op = "instruments.AddWorkcell"
	createdBy := "genesis"
	if p != nil {
		createdBy = string(p.ID)
	}
	if err := text.First(text.Name("name", s.Name), text.Line("lab", s.Lab, text.MaxLine), text.Block("description", s.Description, text.MaxDescription)); err != nil {
		return nil, errors.E(op, err)
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	w := &Workcell{ID: identity.NewID("wc"), Name: s.Name, Lab: s.Lab, Description: s.Description, Instruments: []string{}, CreatedBy: createdBy, CreatedAt: now}
	err := r.db.Update(ctx, func(tx store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM workcells WHERE id = ? OR name = ?`, s.Name, s.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errors.E(errors.Exist)
		}
		_, err := tx.Exec(ctx, `INSERT INTO workcells (id, name, lab, description, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Lab, w.Description, w.CreatedBy, store.T(now))
		return err
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("a workcell with that name exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "workcell.add", w.ID, "added workcell "+w.Name, openLabel)
	return w, nil
}

func scanWorkcell(sc interface{ Scan(...any) error }) (*Workcell, error) {
	var w Workcell
	var c int64
	if err := sc.Scan(&w.ID, &w.Name, &w.Lab, &w.Description, &w.CreatedBy, &c); err != nil {
		return nil, err
	}
	w.CreatedAt, w.Instruments = store.FromT(c), []string{}
	return &w, nil
}

const wcCols = `id, name, lab, description, created_by, created_at`

func workcellIn(ctx context.Context, tx store.Tx, idOrName string) (*Workcell, error) {
	return scanWorkcell(tx.QueryRow(ctx, `SELECT `+wcCols+` FROM workcells WHERE id = ? OR name = ?`, idOrName, idOrName))
}

// members fills in the names of w's instruments.
func members(ctx context.Context, tx store.Tx, ws map[string]*Workcell) error {
	rows, err := tx.Query(ctx, `SELECT workcell, name FROM instruments WHERE workcell <> '' ORDER BY name`)
	if err != nil {
		return err
	}
	return rows.Each(func() error {
		var wc, name string
		if err := rows.Scan(&wc, &name); err != nil {
			return err
		}
		if w := ws[wc]; w != nil {
			w.Instruments = append(w.Instruments, name)
		}
		return nil
	})
}

// Workcells lists the workcells, by name, with their members.
func (r *Registry) Workcells(ctx context.Context, p *genesis.Principal) ([]Workcell, error) {
	const op errors.Op = "instruments.Workcells"
	if err := r.can(ctx, p, authz.Read, "workcells"); err != nil {
		return nil, errors.E(op, err)
	}
	var out []*Workcell
	err := r.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+wcCols+` FROM workcells ORDER BY name`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			w, err := scanWorkcell(rows)
			if err == nil {
				out = append(out, w)
			}
			return err
		}); err != nil {
			return err
		}
		byID := map[string]*Workcell{}
		for _, w := range out {
			byID[w.ID] = w
		}
		return members(ctx, tx, byID)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	ws := make([]Workcell, len(out))
	for i, w := range out {
		ws[i] = *w
	}
	return ws, nil
}

// Workcell returns one workcell by name or ID, with its members.
func (r *Registry) Workcell(ctx context.Context, p *genesis.Principal, idOrName string) (*Workcell, error) {
	const op errors.Op = "instruments.Workcell"
	if err := r.can(ctx, p, authz.Read, "workcells"); err != nil {
		return nil, errors.E(op, err)
	}
	var w *Workcell
	err := r.db.View(ctx, func(tx store.Tx) error {
		var err error
		if w, err = workcellIn(ctx, tx, idOrName); err != nil {
			return err
		}
		return members(ctx, tx, map[string]*Workcell{w.ID: w})
	})
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no workcell "+quote(idOrName)))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return w, nil
}
