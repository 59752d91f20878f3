// Package compartment keeps the set of compartments a deployment knows, and
// checks label markings against it where they enter: on assets, sites, job
// label floors and clearances.
//
// A compartment is known once an administrator registers it or an agreement
// grants it. Markings that name an unknown compartment, or put a compartment
// on OPEN, are refused as errors.Invalid naming the field, with a
// did-you-mean hint (see label.Check). The label package stays purely
// syntactic; this is the one place that knows which compartments exist.
package compartment

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Known lists the known compartments, sorted: registered ones and those any
// agreement grants (in force or not: an ended agreement's compartment still
// names data).
func Known(ctx context.Context, tx store.Tx) ([]string, error) {
	var out []string
	rows, err := tx.Query(ctx, `SELECT name FROM compartments`)
	if err != nil {
		return nil, err
	}
	if err := rows.Each(func() error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT compartments FROM agreements WHERE compartments <> ''`)
	if err != nil {
		return nil, err
	}
	if err := rows.Each(func() error {
		var cs string
		if err := rows.Scan(&cs); err != nil {
			return err
		}
		out = append(out, strings.Split(cs, ",")...)
		return nil
	}); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Check refuses a label that names an unknown compartment or puts one on
// OPEN; the error is Invalid on field. It is for callers who may know every
// compartment (administrators, classification officers, operators); for
// anyone else use CheckFor. Labels without compartments need no query.
func Check(ctx context.Context, tx store.Tx, field string, l label.Label) error {
	return check(ctx, tx, nil, field, l)
}

// CheckFor is Check for a marking typed by p. So that the answer reveals
// no compartment p may not know, a compartment counts as known only if it
// is known and p is read into it (by clearance, or by an agreement of p's
// organisation), and only those are offered as did-you-mean hints: to p, a
// compartment it is not read into looks exactly like a missing one.
// Administrators and classification officers see every compartment.
func CheckFor(ctx context.Context, tx store.Tx, p *genesis.Principal, field string, l label.Label) error {
	if p == nil || p.IsAdmin() || p.HasRole(genesis.RoleClassificationOfficer) {
		return check(ctx, tx, nil, field, l)
	}
	return check(ctx, tx, p, field, l)
}

func check(ctx context.Context, tx store.Tx, p *genesis.Principal, field string, l label.Label) error {
	const op errors.Op = "compartment.Check"
	var known []string
	if len(l.Compartments()) > 0 && l.Level() != label.Open {
		var err error
		if known, err = Known(ctx, tx); err != nil {
			return errors.E(op, err)
		}
		if p != nil {
			mine, err := readInto(ctx, tx, p)
			if err != nil {
				return errors.E(op, err)
			}
			known = slices.DeleteFunc(known, func(c string) bool { return !mine[c] })
		}
	}
	if err := label.Check(l, known); err != nil {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+label.Message(err)))
	}
	return nil
}

// readInto returns the compartments p's stored clearance names and those
// the agreements of p's organisation grant (in force or not: a superset is
// enough to choose what p may be told about).
func readInto(ctx context.Context, tx store.Tx, p *genesis.Principal) (map[string]bool, error) {
	out := map[string]bool{}
	var clearance string
	if err := tx.QueryRow(ctx, `SELECT clearance FROM principals WHERE id = ?`, p.ID).Scan(&clearance); err != nil && !errors.Is(errors.NotExist, err) {
		return nil, err
	}
	if l, err := label.Parse(clearance); err == nil {
		for _, c := range l.Compartments() {
			out[c] = true
		}
	}
	if p.Org == "" {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT a.compartments FROM agreements a JOIN agreement_parties ap ON ap.agreement_id = a.id WHERE ap.org_id = ?`, p.Org)
	if err != nil {
		return nil, err
	}
	err = rows.Each(func() error {
		var cs string
		if err := rows.Scan(&cs); err != nil {
			return err
		}
		for _, c := range strings.Split(cs, ",") {
			if c != "" {
				out[c] = true
			}
		}
		return nil
	})
	return out, err
}

// Markings from users or from outside are parsed here, not with
// label.Parse: label interns tokens process-wide (bounded by
// label.MaxDistinct), so a token only enters the tables once the
// deployment knows it (Admit), and made-up compartments, agreements or
// nations cannot fill them and lock out compartments registered later.

// Admit returns the admit function for label.ParseAdmit: a compartment is
// admitted if it is known (Known), an agreement if it is recorded (its ID is
// its AGR: token), a nation if it is a well-formed ISO 3166-1 alpha-3 code
// (like identity's nationality check; at most 26³ codes, fewer than
// label.MaxDistinct, so nations cannot fill their table). It asks the
// database only about a token label has not interned yet, and admits
// nothing when the database cannot answer.
func Admit(ctx context.Context, tx store.Tx) func(label.TokenKind, string) bool {
	return func(kind label.TokenKind, tok string) bool {
		switch kind {
		case label.Nation:
			return label.IsNation(tok)
		case label.Agreement:
			var one int
			return tx.QueryRow(ctx, `SELECT 1 FROM agreements WHERE id = ?`, tok).Scan(&one) == nil
		case label.Compartment:
			var one int
			if tx.QueryRow(ctx, `SELECT 1 FROM compartments WHERE name = ?`, tok).Scan(&one) == nil {
				return true
			}
			known, err := Known(ctx, tx)
			return err == nil && slices.Contains(known, tok)
		}
		return false
	}
}

// Parse parses a marking an administrator, classification officer or
// operator typed (or a system component received), for field: the syntax,
// then the rules of Check, then interning only what the deployment knows
// (Admit). Errors are Invalid on field.
func Parse(ctx context.Context, tx store.Tx, field, marking string) (label.Label, error) {
	return parse(ctx, tx, nil, field, marking)
}

// ParseFor is Parse for a marking typed by p: as with CheckFor, a
// compartment p is not read into, and an agreement p may not see (p's
// organisation is not a party), count as unknown, so the answer reveals
// nothing p may not know (to p, an existing compartment or agreement it may
// not know of looks exactly like a made-up one).
func ParseFor(ctx context.Context, tx store.Tx, p *genesis.Principal, field, marking string) (label.Label, error) {
	if p == nil || p.IsAdmin() || p.HasRole(genesis.RoleClassificationOfficer) {
		return parse(ctx, tx, nil, field, marking)
	}
	return parse(ctx, tx, p, field, marking)
}

// ParseForDB is ParseFor in its own read transaction.
func ParseForDB(ctx context.Context, db store.DB, p *genesis.Principal, field, marking string) (label.Label, error) {
	var l label.Label
	err := db.View(ctx, func(tx store.Tx) error {
		var err error
		l, err = ParseFor(ctx, tx, p, field, marking)
		return err
	})
	return l, err
}

func parse(ctx context.Context, tx store.Tx, p *genesis.Principal, field, marking string) (label.Label, error) {
	const op errors.Op = "compartment.Parse"
	known := func(kind label.TokenKind) ([]string, error) {
		if kind == label.Agreement {
			return agreementsFor(ctx, tx, p)
		}
		known, err := Known(ctx, tx)
		if err != nil || p == nil {
			return known, err
		}
		mine, err := readInto(ctx, tx, p)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(known, func(c string) bool { return !mine[c] }), nil
	}
	l, err := label.ParseChecked(marking, known, Admit(ctx, tx))
	if err != nil {
		if _, ok := err.(*label.ParseError); ok {
			return label.Label{}, errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+label.Message(err)))
		}
		return label.Label{}, errors.E(op, err)
	}
	return l, nil
}

// agreementsFor lists the agreement IDs p may know of: all of them for
// administrators, classification officers and stewards (who may read every
// agreement), else those p's organisation is a party to.
func agreementsFor(ctx context.Context, tx store.Tx, p *genesis.Principal) ([]string, error) {
	var rows *store.Rows
	var err error
	switch {
	case p == nil || p.HasRole(genesis.RoleSteward):
		rows, err = tx.Query(ctx, `SELECT id FROM agreements`)
	case p.Org == "":
		return nil, nil
	default:
		rows, err = tx.Query(ctx, `SELECT agreement_id FROM agreement_parties WHERE org_id = ?`, p.Org)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	err = rows.Each(func() error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out = append(out, id)
		return nil
	})
	return out, err
}

// CheckDB is Check in its own read transaction.
func CheckDB(ctx context.Context, db store.DB, field string, l label.Label) error {
	return CheckForDB(ctx, db, nil, field, l)
}

// CheckForDB is CheckFor in its own read transaction.
func CheckForDB(ctx context.Context, db store.DB, p *genesis.Principal, field string, l label.Label) error {
	if len(l.Compartments()) == 0 {
		return nil
	}
	return db.View(ctx, func(tx store.Tx) error { return CheckFor(ctx, tx, p, field, l) })
}

// Register records a compartment (administrators decide who may; the
// caller checks). Registering a known compartment again is not an error.
func Register(ctx context.Context, db store.DB, by genesis.PrincipalID, name string, now time.Time) (string, error) {
	const op errors.Op = "compartment.Register"
	name = strings.ToUpper(strings.TrimSpace(name))
	if !label.IsToken(name) {
		return "", errors.E(op, errors.Invalid, errors.Field("name"),
			errors.Msg("name: a compartment is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"))
	}
	err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO compartments (name, created_by, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			name, by, store.T(now))
		return err
	})
	if err != nil {
		return "", errors.E(op, err)
	}
	return name, nil
}

// List returns the known compartments.
func List(ctx context.Context, db store.DB) ([]string, error) {
	var out []string
	err := db.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = Known(ctx, tx)
		return err
	})
	if err != nil {
		return nil, errors.E(errors.Op("compartment.List"), err)
	}
	return out, nil
}
