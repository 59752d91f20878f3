package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/report"
	"golang.org/x/mod/sumdb/tlog"
)

// openLabel is the OPEN label in canonical binary form: what a generic
// mutation record (recordMutation) is made under.
var (
	openLabelValue = label.MustParse("OPEN")
	openLabel      = func() []byte { b, _ := openLabelValue.MarshalBinary(); return b }()
)

// recordMutation appends the audit record of a finished mutation: who,
// which endpoint, which object, and the outcome by status.
func (s *Server) recordMutation(r *http.Request, p *genesis.Principal, status int, body []byte) error {
	if s.audit == nil {
		return nil
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
		Decision: dec, Label: openLabel, RequestID: requestID(r.Context()), Detail: strconv.Itoa(status),
	}
	if _, err := s.audit.Append(contextWithoutCancel(r.Context()), rec); err != nil {
		s.log.ErrorContext(r.Context(), "audit append failed", "err", err, "request_id", rec.RequestID)
		return err
	}
	return nil
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
	// Label is the marking of the label the record was made under; every
	// entry shown is one its reader may read at that label.
	Label string `json:"label"`
	// LabelHash is the record's label hash as stored (base64): keyed, so
	// it tells nothing about the label without the server's key.
	LabelHash string `json:"label_hash"`
	RequestID string `json:"request_id,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func entryOf(i uint64, r audit.Record, marking string) AuditEntry {
	return AuditEntry{Index: i, Time: r.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"), Principal: r.Principal, Action: r.Action,
		ObjectType: r.ObjectType, ObjectID: r.ObjectID, Decision: r.Decision, Label: marking, LabelHash: base64.StdEncoding.EncodeToString(r.LabelHash),
		RequestID: r.RequestID, Detail: r.Detail}
}

// readEntry decides whether the caller may read rec, and under which label
// (its marking) rec was made. A record is about an object and made under
// its label; it is shown only to whoever may read that object at that
// label — its own principal included — and of those, to its principal and
// to the audit-reading roles of the policy (stewards, classification
// officers, administrators). Records about datasets, models and jobs are
// decided by the catalog and the job service; any other record is readable
// only if it was made under OPEN. Anything unknown is withheld (fail
// closed): so a record of a denied request for a hidden name is shown to
// its principal exactly as the record of a request for a missing name
// (catalog.recordNotFound), that is not at all.
func (s *Server) readEntry(r *http.Request, ap authz.Principal, auditor bool, rec audit.Record) (marking string, ok bool) {
	return s.readEntryAs(r.Context(), me(r), ap, auditor, rec, nil)
}

// readEntryAs is readEntry for principal p (ap its authorization view).
// cat, when not nil, decides records about assets it has read (a view of
// many records reads their assets' labels at once); otherwise the catalog
// decides each record.
func (s *Server) readEntryAs(ctx context.Context, p *genesis.Principal, ap authz.Principal, auditor bool, rec audit.Record, cat *catalog.LabelDecider) (marking string, ok bool) {
	if rec.Principal != ap.ID && !auditor {
		return "", false
	}
	recordedUnder := func(l label.Label) bool {
		b, err := l.MarshalBinary()
		if err != nil || !s.auditLog.LabelMatches(rec, b) {
			return false
		}
		marking = l.Format()
		return true
	}
	switch rec.ObjectType {
	case "dataset", "model":
		switch {
		case cat != nil:
			ok = cat.MayRead(ctx, rec.ObjectID, recordedUnder)
		case s.catalog != nil:
			ok = s.catalog.MayReadLabelOf(ctx, p, rec.ObjectID, recordedUnder)
		}
	case "job":
		ok = s.jobs != nil && s.jobs.MayReadLabelOf(ctx, p, rec.ObjectID, recordedUnder)
	case "report":
		// A report's record names its banner, which the label hash
		// confirms; the reader's clearance must read it (agreements are
		// not in ap.Clearance: a banner with one is withheld, fail closed).
		l, found := report.BannerOf(rec.Detail)
		ok = found && ap.Clearance.MayRead(l) && recordedUnder(l)
	default:
		ok = recordedUnder(openLabelValue)
	}
	if !ok {
		return "", false
	}
	return marking, true
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
	f, err := auditFilterOf(q)
	if err != nil {
		return err
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
		if marking, ok := s.readEntry(r, ap, auditor, rec); ok && f.matches(rec, marking) {
			out.Items = append(out.Items, entryOf(i, rec, marking))
		}
	}
	out.Next = i
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditFilter narrows an entry list. It applies only to the entries the
// caller may read, so it can tell nothing about the others: a label asked
// for matches only an entry shown with that label.
type auditFilter struct {
	principal, action, objectType, objectID, label string
}

func auditFilterOf(q url.Values) (auditFilter, error) {
	const op errors.Op = "httpapi.listAudit"
	f := auditFilter{principal: q.Get("principal"), action: q.Get("action"), objectType: q.Get("object_type"), objectID: q.Get("object_id")}
	if m := q.Get("label"); m != "" {
		// Canonical, not Parse: a filter interns nothing, and a made-up
		// compartment matches nothing, exactly like a real one no entry
		// shown to the caller carries.
		c, err := label.Canonical(m)
		if err != nil {
			return f, errors.E(op, errors.Invalid, errors.Field("label"), errors.Msg(err.Error()))
		}
		f.label = c
	}
	return f, nil
}

func (f auditFilter) matches(rec audit.Record, marking string) bool {
	return (f.principal == "" || rec.Principal == f.principal) && (f.action == "" || rec.Action == f.action) &&
		(f.objectType == "" || rec.ObjectType == f.objectType) && (f.objectID == "" || rec.ObjectID == f.objectID) &&
		(f.label == "" || marking == f.label)
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
	marking, ok := s.readEntry(r, ap, auditor, rec)
	if !ok {
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
	out := AuditProof{Entry: entryOf(idx, rec, marking), Raw: base64.StdEncoding.EncodeToString(raw),
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

// auditTile serves the audit log in the C2SP tlog-tiles layout, for
// witnesses and tlog clients that check the log only grows: "checkpoint"
// (the signed note) and hash tiles "tile/L/N[.p/W]", from whichever
// backend the server has (a shared log serves the same tiles on every
// replica). Entry bundles (tile/entries/…) are not served: records are
// shown only through /audit/entries, which applies the per-record rules,
// so a bundle path is answered like a missing tile.
func (s *Server) auditTile(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.auditTile"
	p := r.PathValue("path")
	if strings.HasPrefix(p, "tile/entries/") || strings.HasPrefix(p, "tile/data/") || len(p) > 256 {
		return errors.E(op, errors.NotExist)
	}
	b, err := s.auditLog.ReadTile(r.Context(), p)
	if err != nil {
		return err
	}
	if p == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}
