package httpapi

import (
	"context"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// AuditReaderFor returns p's view of the audit log: a function that says
// whether p may read a record, and under which marking it was made, by
// the rules of GET /api/v1/audit/entries (readEntryAs). The web console's
// audit pages use it (it finds it on the Server it is given as its
// activity source), so the console and the API show the same entries.
// errors.NotExist when no audit log is configured.
func (s *Server) AuditReaderFor(ctx context.Context, p *genesis.Principal) (func(audit.Record) (marking string, ok bool), error) {
	const op errors.Op = "httpapi.AuditReaderFor"
	if s.auditLog == nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no audit log"))
	}
	ap, err := s.id.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	auditor := s.authz.Can(ctx, ap, authz.Read, authz.Resource{Type: authz.Audit, ID: "log", Label: label.MustParse("OPEN")}) == nil
	return func(rec audit.Record) (string, bool) { return s.readEntryAs(ctx, p, ap, auditor, rec, nil) }, nil
}
