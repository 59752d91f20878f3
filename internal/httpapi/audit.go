package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"golang.org/x/mod/sumdb/tlog"
)

var openHash = func() []byte { h := label.MustParse("OPEN").Hash(); return h[:] }()

// recordMutation appends the audit record of a finished mutation: who,
// which endpoint, which object, and the outcome by status.
func (s *Server) recordMutation(r *http.Request, p *genesis.Principal, status int, body []byte) {
	if s.audit == nil {
		return
	}
	typ, id := objectOf(r)
	if id == "" && status < 300 {
		var created struct{ ID string }
		if json.Unmarshal(body, &created) == nil {
			id = created.ID
		}
	}
	dec := audit.Allow
	switch {
	case status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusUnauthorized:
		dec = audit.Deny
	case status >= 400:
		dec = audit.Error
	}
	rec := audit.Record{
		Principal: string(p.ID), Action: r.Pattern, ObjectType: typ, ObjectID: id,
		Decision: dec, LabelHash: openHash, RequestID: requestID(r.Context()), Detail: strconv.Itoa(status),
	}
	if _, err := s.audit.Append(contextWithoutCancel(r.Context()), rec); err != nil {
		s.log.ErrorContext(r.Context(), "audit append failed", "err", err, "request_id", rec.RequestID)
	}
}

// objectOf names the object of an /api/v1/TYPE[/ID[/…]] request.
func objectOf(r *http.Request) (typ, id string) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/"), "/")
	typ = strings.TrimSuffix(parts[0], "s")
	if len(parts) > 1 {
		id = r.PathValue("id")
	}
	return typ, id
}

// AuditEntry is one audit record as the API shows it.
type AuditEntry struct {
	Index      uint64         `json:"index"`
	Time       string         `json:"time"`
	Principal  string         `json:"principal"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id,omitempty"`
	Decision   audit.Decision `json:"decision"`
	LabelHash  string         `json:"label_hash"`
	RequestID  string         `json:"request_id,omitempty"`
	Detail     string         `json:"detail,omitempty"`
}

func entryOf(i uint64, r audit.Record) AuditEntry {
	return AuditEntry{Index: i, Time: r.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"), Principal: r.Principal, Action: r.Action,
		ObjectType: r.ObjectType, ObjectID: r.ObjectID, Decision: r.Decision, LabelHash: base64.StdEncoding.EncodeToString(r.LabelHash),
		RequestID: r.RequestID, Detail: r.Detail}
}

// mayReadEntry: a principal reads the records of its own actions; stewards,
// classification officers and administrators (the audit-reading roles of
// the policy) read records about objects whose label they may read: a
// record about a non-OPEN asset is readable only by those cleared for the
// label it was made under. Records about anything else non-OPEN are
// withheld (fail closed).
func (s *Server) mayReadEntry(r *http.Request, ap authz.Principal, auditor bool, rec audit.Record) bool {
	if rec.Principal == ap.ID {
		return true
	}
	if !auditor {
		return false
	}
	if bytes.Equal(rec.LabelHash, openHash) {
		return true
	}
	if s.catalog != nil && (rec.ObjectType == "dataset" || rec.ObjectType == "model") {
		return s.catalog.MayReadLabelOf(r.Context(), me(r), rec.ObjectID, rec.LabelHash)
	}
	if s.jobs != nil && rec.ObjectType == "job" {
		return s.jobs.MayReadLabelOf(r.Context(), me(r), rec.ObjectID, rec.LabelHash)
	}
	return false
}

func (s *Server) isAuditor(r *http.Request) (authz.Principal, bool, error) {
	ap, err := s.id.AuthzPrincipal(r.Context(), me(r))
	if err != nil {
		return ap, false, err
	}
	err = s.authz.Can(r.Context(), ap, authz.Read, authz.Resource{Type: authz.Audit, ID: "log", Label: label.MustParse("OPEN")})
	return ap, err == nil, nil
}

// AuditEntries is the response of GET /api/v1/audit/entries.
type AuditEntries struct {
	Items []AuditEntry `json:"items"`
	// Next is the index to ask from for the following page; Size is the
	// log's integrated size.
	Next uint64 `json:"next"`
	Size uint64 `json:"size"`
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.listAudit"
	ctx := r.Context()
	ap, auditor, err := s.isAuditor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..1000"))
		}
	}
	size, err := s.auditLog.Size(ctx)
	if err != nil {
		return err
	}
	var from uint64
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			return errors.E(op, errors.Invalid, errors.Field("from"), errors.Msg("from must be an entry index"))
		}
	} else if v := q.Get("tail"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errors.E(op, errors.Invalid, errors.Field("tail"), errors.Msg("tail must be a count"))
		}
		from = size - min(size, n)
	}
	out := AuditEntries{Items: []AuditEntry{}, Size: size}
	i := from
	// Scan a bounded window so a reader who may see little cannot make the
	// server read the whole log in one request.
	for scanned := 0; i < size && len(out.Items) < limit && scanned < 10*limit; i, scanned = i+1, scanned+1 {
		rec, err := s.auditLog.Get(ctx, i)
		if err != nil {
			return err
		}
		if s.mayReadEntry(r, ap, auditor, rec) {
			out.Items = append(out.Items, entryOf(i, rec))
		}
	}
	out.Next = i
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AuditCheckpoint is the latest signed checkpoint and the key to check it.
type AuditCheckpoint struct {
	Origin      string `json:"origin"`
	Size        uint64 `json:"size"`
	Root        string `json:"root"`
	Signed      string `json:"signed"`
	VerifierKey string `json:"verifier_key"`
}

func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, signed, err := s.auditLog.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AuditCheckpoint{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash.String(), Signed: string(signed), VerifierKey: s.auditKey})
	return nil
}

// AuditProof is an entry with its inclusion proof against a checkpoint.
type AuditProof struct {
	Entry      AuditEntry      `json:"entry"`
	Raw        string          `json:"raw"` // base64 of the entry bytes
	Checkpoint AuditCheckpoint `json:"checkpoint"`
	Proof      []string        `json:"proof"` // base64 hashes, leaf to root
}

func (s *Server) auditProof(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.auditProof"
	ctx := r.Context()
	idx, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("index"), errors.Msg("the entry index must be a number"))
	}
	ap, auditor, err := s.isAuditor(r)
	if err != nil {
		return err
	}
	cp, signed, err := s.auditLog.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if idx >= cp.Size {
		return errors.E(op, errors.NotExist)
	}
	rec, err := s.auditLog.Get(ctx, idx)
	if err != nil {
		return err
	}
	if !s.mayReadEntry(r, ap, auditor, rec) {
		return errors.E(op, errors.NotExist)
	}
	raw, err := s.auditLog.Entry(ctx, idx)
	if err != nil {
		return err
	}
	proof, err := s.auditLog.ProveInclusion(ctx, idx, cp.Size)
	if err != nil {
		return err
	}
	out := AuditProof{Entry: entryOf(idx, rec), Raw: base64.StdEncoding.EncodeToString(raw),
		Checkpoint: AuditCheckpoint{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash.String(), Signed: string(signed), VerifierKey: s.auditKey},
		Proof:      hashes(proof)}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func hashes(p []tlog.Hash) []string {
	out := make([]string, len(p))
	for i, h := range p {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}
