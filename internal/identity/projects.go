package identity

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// CreateProject records a project; its creator becomes its admin member.
func (s *Service) CreateProject(ctx context.Context, creator *genesis.Principal, p genesis.Project) (*genesis.Project, error) {
	const op errors.Op = "identity.CreateProject"
	if creator == nil {
		return nil, errors.E(op, errors.Unauthenticated)
	}
	if err := text.Name("name", p.Name); err != nil {
		return nil, errors.E(op, err)
	}
	if err := text.Line("title", p.Title, 256); err != nil {
		return nil, errors.E(op, err)
	}
	if err := text.Block("description", p.Description, 16384); err != nil {
		return nil, errors.E(op, err)
	}
	p.ID = genesis.ProjectID(NewID("prj"))
	p.CreatedBy = creator.ID
	p.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	if p.Org == "" {
		p.Org = creator.Org
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		org, err := resolveOrg(ctx, tx, op, &p.Org)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO projects (id, name, title, description, org_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Title, p.Description, org, p.CreatedBy, store.T(p.CreatedAt)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO project_members (project_id, principal_id, role, added_at) VALUES (?, ?, ?, ?)`,
			p.ID, creator.ID, genesis.RoleAdmin, store.T(p.CreatedAt))
		return err
	})
	if errors.Is(errors.Exist, err) {
		// Project names are public handles; a clash says nothing more.
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("a project with that name exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return &p, nil
}

const projectCols = `p.id, p.name, p.title, p.description, COALESCE(p.org_id, ''), p.created_by, p.created_at`

func scanProject(sc interface{ Scan(...any) error }) (*genesis.Project, error) {
	var p genesis.Project
	var created int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Title, &p.Description, &p.Org, &p.CreatedBy, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = store.FromT(created)
	return &p, nil
}

// Project returns the project with the given ID or name if viewer is a
// member or an administrator; otherwise NotExist.
func (s *Service) Project(ctx context.Context, viewer *genesis.Principal, idOrName string) (*genesis.Project, error) {
	const op errors.Op = "identity.Project"
	var p *genesis.Project
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = s.visibleProject(ctx, tx, viewer, idOrName)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return p, nil
}

func (s *Service) visibleProject(ctx context.Context, tx store.Tx, viewer *genesis.Principal, idOrName string) (*genesis.Project, error) {
	if viewer == nil {
		return nil, errors.E(errors.NotExist)
	}
	if viewer.IsAdmin() {
		return scanProject(tx.QueryRow(ctx, `SELECT `+projectCols+` FROM projects p WHERE p.id = ? OR p.name = ?`, idOrName, idOrName))
	}
	return scanProject(tx.QueryRow(ctx, `SELECT `+projectCols+` FROM projects p
		JOIN project_members m ON m.project_id = p.id AND m.principal_id = ?
		WHERE p.id = ? OR p.name = ?`, viewer.ID, idOrName, idOrName))
}

// Projects lists the projects viewer may see, by name.
func (s *Service) Projects(ctx context.Context, viewer *genesis.Principal) ([]genesis.Project, error) {
	const op errors.Op = "identity.Projects"
	var out []genesis.Project
	err := s.db.View(ctx, func(tx store.Tx) error {
		var rows *store.Rows
		var err error
		if viewer.IsAdmin() {
			rows, err = tx.Query(ctx, `SELECT `+projectCols+` FROM projects p ORDER BY p.name`)
		} else {
			rows, err = tx.Query(ctx, `SELECT `+projectCols+` FROM projects p
				JOIN project_members m ON m.project_id = p.id AND m.principal_id = ? ORDER BY p.name`, viewer.ID)
		}
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			p, err := scanProject(rows)
			if err == nil {
				out = append(out, *p)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// AddMember gives principal role in project, or changes its role. The actor
// must be an administrator or an admin member of the project; a member
// without that role gets Permission; a non-member gets NotExist.
func (s *Service) AddMember(ctx context.Context, actor *genesis.Principal, project, principal string, role genesis.Role) (*genesis.Member, error) {
	const op errors.Op = "identity.AddMember"
	if !role.Valid() {
		return nil, invalid(op, "role", "unknown role "+quote(string(role)))
	}
	var m genesis.Member
	err := s.db.Update(ctx, func(tx store.Tx) error {
		p, err := s.visibleProject(ctx, tx, actor, project)
		if err != nil {
			return err
		}
		if !actor.IsAdmin() {
			var r string
			if err := tx.QueryRow(ctx, `SELECT role FROM project_members WHERE project_id = ? AND principal_id = ?`, p.ID, actor.ID).Scan(&r); err != nil {
				return err
			}
			if genesis.Role(r) != genesis.RoleAdmin {
				return errors.E(errors.Permission, errors.Msg("only a project admin can add members"))
			}
		}
		target, err := scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ? OR name = ?`, principal, principal))
		if errors.Is(errors.NotExist, err) {
			return invalid(op, "principal", "no such principal")
		}
		if err != nil {
			return err
		}
		m = genesis.Member{Project: p.ID, Principal: target.ID, Role: role, AddedAt: s.now().UTC().Truncate(time.Microsecond)}
		r, err := tx.Exec(ctx, `UPDATE project_members SET role = ? WHERE project_id = ? AND principal_id = ?`, role, p.ID, target.ID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO project_members (project_id, principal_id, role, added_at) VALUES (?, ?, ?, ?)`,
			m.Project, m.Principal, m.Role, store.T(m.AddedAt))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return &m, nil
}

// Members lists a visible project's members.
func (s *Service) Members(ctx context.Context, viewer *genesis.Principal, project string) ([]genesis.Member, error) {
	const op errors.Op = "identity.Members"
	var out []genesis.Member
	err := s.db.View(ctx, func(tx store.Tx) error {
		p, err := s.visibleProject(ctx, tx, viewer, project)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT project_id, principal_id, role, added_at FROM project_members WHERE project_id = ? ORDER BY added_at, principal_id`, p.ID)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var m genesis.Member
			var added int64
			if err := rows.Scan(&m.Project, &m.Principal, &m.Role, &added); err != nil {
				return err
			}
			m.AddedAt = store.FromT(added)
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}
