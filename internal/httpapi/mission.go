package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

func (s *Server) missionRoutes() {
	mission := func(h handlerFunc) http.Handler {
		// The plan service records its own mission.plan.update entries.
		return s.authedWith(s.needs(s.mission != nil, "mission plan", h), true)
	}
	s.Handle("GET /api/v1/mission/status", mission(s.missionStatus))
	s.Handle("GET /api/v1/mission/plan", mission(s.getMissionPlan))
	s.Handle("PUT /api/v1/mission/plan", mission(s.putMissionPlan))
	s.Handle("GET /api/v1/mission/risks", mission(s.missionRisks))
}

// missionStatus answers GET /api/v1/mission/status: every milestone of the
// plan evaluated over what the caller may read.
func (s *Server) missionStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.mission.Status(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) getMissionPlan(w http.ResponseWriter, r *http.Request) error {
	st, err := s.mission.Get(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// putMissionPlan answers PUT /api/v1/mission/plan?allow_past=true: the body
// is a plan file (YAML or JSON); administrators only.
func (s *Server) putMissionPlan(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.putMissionPlan"
	allow := false
	switch v := r.URL.Query().Get("allow_past"); v {
	case "", "false":
	case "true":
		allow = true
	default:
		return errors.E(op, errors.Invalid, errors.Field("allow_past"), errors.Msg("allow_past must be true or false"))
	}
	b, err := readBody(r, plan.MaxPlanSize, mediaJSON, mediaYAML)
	if err != nil {
		return errors.E(op, err)
	}
	st, err := s.mission.Set(r.Context(), me(r), b, allow)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) missionRisks(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.mission.Risks(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

// AuditEvents implements plan.AuditSource over the audit log with the
// rules of GET /api/v1/audit/entries: only the audit-reading roles
// (stewards, classification officers, administrators) get a trend, and
// of the records scanned only those p may read count (readEntry), so a
// record about a hidden object changes no figure. It reads back from the
// newest record, at most max of them, in growing tails (1,024, then ×4)
// until one reaches before since. Within one scan a decision is kept per
// object, record version and label hash: it is a function of those (and
// p), and records about one object repeat.
func (s *Server) AuditEvents(ctx context.Context, p *genesis.Principal, since time.Time, max int) ([]plan.AuditEvent, bool, error) {
	const op errors.Op = "httpapi.AuditEvents"
	if s.auditLog == nil {
		return nil, false, errors.E(op, errors.NotExist, errors.Msg("no audit log"))
	}
	ap, err := s.id.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, false, errors.E(op, err)
	}
	if err := s.authz.Can(ctx, ap, authz.Read, authz.Resource{Type: authz.Audit, ID: "log", Label: label.MustParse("OPEN")}); err != nil {
		return nil, false, errors.E(op, errors.Permission, errors.Msg("the audit log is not available to you"))
	}
	size, err := s.auditLog.Size(ctx)
	if err != nil {
		return nil, false, errors.E(op, err)
	}
	var tail []audit.Entry
	for n := 1024; ; n *= 4 {
		n = min(n, max)
		if tail, err = s.auditLog.Tail(ctx, n); err != nil {
			return nil, false, errors.E(op, err)
		}
		if n == max || uint64(n) >= size || len(tail) == 0 || tail[0].Record.Time.Before(since) {
			break
		}
	}
	capped := uint64(max) < size && (len(tail) == 0 || !tail[0].Record.Time.Before(since))
	type decision struct {
		marking string
		ok      bool
	}
	// The records' assets are decided together: one read of their labels
	// rather than two queries per record.
	var cat *catalog.LabelDecider
	if s.catalog != nil {
		var ids []string
		for i := len(tail) - 1; i >= 0 && !tail[i].Record.Time.Before(since); i-- {
			if t := tail[i].Record.ObjectType; t == "dataset" || t == "model" {
				ids = append(ids, tail[i].Record.ObjectID)
			}
		}
		if len(ids) > 0 {
			if cat, err = s.catalog.NewLabelDecider(ctx, p, ids); err != nil {
				return nil, false, errors.E(op, err)
			}
		}
	}
	readable := map[string]decision{}
	out := []plan.AuditEvent{}
	for i := len(tail) - 1; i >= 0; i-- {
		rec := tail[i].Record
		if rec.Time.Before(since) {
			break
		}
		key := rec.ObjectType + "\x00" + rec.ObjectID + "\x00" + strconv.Itoa(rec.Version) + "\x00" + string(rec.LabelHash)
		d, seen := readable[key]
		if !seen {
			d.marking, d.ok = s.readEntryAs(ctx, p, ap, true, rec, cat)
			readable[key] = d
		}
		if d.ok {
			out = append(out, plan.AuditEvent{Label: d.marking, Time: rec.Time, Principal: rec.Principal, Action: rec.Action, Decision: string(rec.Decision)})
		}
	}
	return out, capped, nil
}
