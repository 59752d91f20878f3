package console

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// AuditRules decides which audit records a principal may read, and under
// which marking each was made. httpapi's Server implements it with the
// rules of GET /api/v1/audit/entries; the console finds it on
// Config.Activity (the same Server), so both show the same entries.
type AuditRules interface {
	AuditReaderFor(ctx context.Context, p *genesis.Principal) (func(audit.Record) (marking string, ok bool), error)
}

// Audit page bounds: entries per page, and how many records one page
// reads at most (a reader who may see little cannot make one request
// read the whole log).
const (
	auditPage = 50
	auditScan = 5000
	// auditChunk is how many records the page reads at once (the log's
	// bundle width: one read each).
	auditChunk = 256
)

// auditFilter narrows the audit page. It applies only to entries the
// viewer may read, so it tells nothing about the others.
type auditFilter struct {
	Action     string
	Actor      string
	ObjectType string
	Object     string
	Since      string
	Until      string
	since      time.Time
	until      time.Time
	// Before is the paging cursor: show entries with index < Before
	// (0: from the newest).
	Before uint64
}

// auditTimeLayouts are the accepted forms of since and until: a date, a
// datetime-local input's value, and RFC 3339.
var auditTimeLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// parseAuditFilter reads the audit page's query. Every field is a line of
// at most audit.MaxFieldLen bytes of valid UTF-8 without control
// characters; since and until are a date, a date and time (UTC) or RFC
// 3339; a date as until means the end of that day.
func parseAuditFilter(q url.Values) (auditFilter, error) {
	const op errors.Op = "console.auditFilter"
	f := auditFilter{}
	fields := []struct {
		name string
		dst  *string
	}{{"action", &f.Action}, {"actor", &f.Actor}, {"object_type", &f.ObjectType}, {"object", &f.Object}, {"since", &f.Since}, {"until", &f.Until}}
	for _, fd := range fields {
		v := strings.TrimSpace(q.Get(fd.name))
		if err := text.Line(fd.name, v, audit.MaxFieldLen); err != nil {
			return f, errors.E(op, errors.Invalid, err)
		}
		*fd.dst = v
	}
	var err error
	if f.since, err = auditTime(f.Since, false); err != nil {
		return f, errors.E(op, errors.Invalid, errors.Field("since"), errors.Msg("since must be a date (2006-01-02), a date and time, or RFC 3339"))
	}
	if f.until, err = auditTime(f.Until, true); err != nil {
		return f, errors.E(op, errors.Invalid, errors.Field("until"), errors.Msg("until must be a date (2006-01-02), a date and time, or RFC 3339"))
	}
	if !f.since.IsZero() && !f.until.IsZero() && f.until.Before(f.since) {
		return f, errors.E(op, errors.Invalid, errors.Field("until"), errors.Msg("until is before since"))
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 || n > 1<<62 {
			return f, errors.E(op, errors.Invalid, errors.Field("before"), errors.Msg("before must be a positive entry index"))
		}
		f.Before = n
	}
	return f, nil
}

func auditTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for i, l := range auditTimeLayouts {
		t, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		if end && i == 0 {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t.UTC(), nil
	}
	return time.Time{}, errors.E(errors.Invalid)
}

// matches reports whether a readable record passes the filter.
func (f auditFilter) matches(r audit.Record) bool {
	return (f.Action == "" || r.Action == f.Action) && (f.Actor == "" || r.Principal == f.Actor) &&
		(f.ObjectType == "" || r.ObjectType == f.ObjectType) && (f.Object == "" || r.ObjectID == f.Object) &&
		(f.since.IsZero() || !r.Time.Before(f.since)) && (f.until.IsZero() || !r.Time.After(f.until))
}

// query is the filter as a query string (without the cursor).
func (f auditFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "actor": f.Actor, "object_type": f.ObjectType, "object": f.Object, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// auditRow is one entry as the audit page shows it.
type auditRow struct {
	Index      uint64
	Time       time.Time
	Principal  string
	Action     string
	ObjectType string
	ObjectID   string
	Decision   string
	Marking    string
	Detail     string
	// Proved: included in the checkpoint (its inclusion proof verified);
	// Pending: after the checkpoint (not yet in a signed tree).
	Proved, Pending bool
}

// checkpointView is the verification panel: the latest checkpoint and
// whether its signature verifies against the configured key.
type checkpointView struct {
	Origin   string
	Size     uint64
	Root     string
	Signed   string
	Verified bool
	Problem  string
	cp       audit.Checkpoint
}

type auditData struct {
	Filter     auditFilter
	Error      string
	Rows       []auditRow
	Next       string
	Scanned    bool // the scan bound stopped the page before the log's start
	Checkpoint checkpointView
	// Proved and Pending count the rows shown; Failed lists rows whose
	// proof did not verify.
	Proved, Pending int
	Failed          []uint64
}

// auditReader returns the viewer's audit rules, or Unavailable.
func (c *Console) auditReader(ctx context.Context, p *genesis.Principal) (func(audit.Record) (string, bool), error) {
	const op errors.Op = "console.audit"
	rules, ok := c.cfg.Activity.(AuditRules)
	if c.cfg.Audit == nil || !ok {
		return nil, errors.E(op, errors.Unavailable, errors.Msg("the audit log is not configured"))
	}
	return rules.AuditReaderFor(ctx, p)
}

// verifiedCheckpoint reads the log's latest checkpoint and checks its
// signature with the configured verifier key.
func (c *Console) verifiedCheckpoint(ctx context.Context) (checkpointView, error) {
	cp, signed, err := c.cfg.Audit.Checkpoint(ctx)
	if err != nil {
		return checkpointView{}, err
	}
	return verifyCheckpoint(cp, signed, c.cfg.AuditKey), nil
}

// verifyCheckpoint checks a signed checkpoint note against the verifier
// key and against the checkpoint the log says it is. The view is
// Verified only if both agree.
func verifyCheckpoint(cp audit.Checkpoint, signed []byte, key string) checkpointView {
	v := checkpointView{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash.String(), Signed: string(signed), cp: cp}
	if key == "" {
		v.Problem = "no verifier key is configured"
		return v
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		v.Problem = "the configured verifier key is malformed"
		return v
	}
	got, err := audit.OpenCheckpoint(signed, verifier)
	switch {
	case err != nil:
		v.Problem = "the signature does not verify against the verifier key"
	case got != cp:
		v.Problem = "the signed checkpoint differs from the log's"
	default:
		v.Verified = true
	}
	return v
}

// audit is the audit log as the viewer may read it, newest first.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	pg := c.newPage("Audit log", v, "")
	pg.Nav = "audit"
	readable, err := c.auditReader(ctx, v.p)
	if err != nil {
		return err
	}
	var d auditData
	d.Filter, err = parseAuditFilter(r.URL.Query())
	if err != nil {
		d.Error = errors.SafeMessage(err)
		pg.Data = d
		return c.render(w, r, http.StatusBadRequest, "audit", pg)
	}
	if d.Checkpoint, err = c.verifiedCheckpoint(ctx); err != nil {
		return err
	}
	size, err := c.cfg.Audit.Size(ctx)
	if err != nil {
		return err
	}
	type decision struct {
		marking string
		ok      bool
	}
	decided := map[string]decision{}
	var buf []audit.Entry // read, not yet scanned: [i-len(buf), i)
	i := size
	if d.Filter.Before != 0 && d.Filter.Before < size {
		i = d.Filter.Before
	}
	for scanned := 0; i > 0 && len(d.Rows) < auditPage; scanned++ {
		if scanned == auditScan {
			d.Scanned = true
			break
		}
		if len(buf) == 0 {
			// One bundle of the log at a time, read backwards.
			if buf, err = c.cfg.Audit.Range(ctx, (i-1)/auditChunk*auditChunk, i); err != nil {
				return err
			}
		}
		e := buf[len(buf)-1]
		buf = buf[:len(buf)-1]
		i = e.Index
		rec := e.Record
		// The filter first (it reads only the record), then the read
		// rule, whose decision is a function of the object, the record's
		// version and label hash: records about one object repeat.
		if !d.Filter.matches(rec) {
			continue
		}
		key := rec.ObjectType + "\x00" + rec.ObjectID + "\x00" + strconv.Itoa(rec.Version) + "\x00" + string(rec.LabelHash) + "\x00" + rec.Principal
		dec, seen := decided[key]
		if !seen {
			dec.marking, dec.ok = readable(rec)
			decided[key] = dec
		}
		marking, ok := dec.marking, dec.ok
		if !ok {
			continue
		}
		if err := pg.show(marking); err != nil {
			return err
		}
		row := auditRow{Index: i, Time: rec.Time, Principal: rec.Principal, Action: rec.Action, ObjectType: rec.ObjectType,
			ObjectID: rec.ObjectID, Decision: string(rec.Decision), Marking: marking, Detail: rec.Detail}
		switch {
		case i >= d.Checkpoint.Size:
			row.Pending = true
			d.Pending++
		case d.Checkpoint.Verified:
			if _, err := c.proveEntry(ctx, d.Checkpoint.cp, i); err != nil {
				d.Failed = append(d.Failed, i)
			} else {
				row.Proved = true
				d.Proved++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if i > 0 {
		q := d.Filter.query()
		q.Set("before", strconv.FormatUint(i, 10))
		d.Next = "/audit?" + q.Encode()
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "audit", pg)
}

// proveEntry returns the inclusion proof of entry index in the tree of
// cp, verified (transparency-dev merkle, through audit.VerifyInclusion).
func (c *Console) proveEntry(ctx context.Context, cp audit.Checkpoint, index uint64) ([]tlog.Hash, error) {
	raw, err := c.cfg.Audit.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	hs, err := c.cfg.Audit.ProveInclusion(ctx, index, cp.Size)
	if err != nil {
		return nil, err
	}
	return hs, audit.VerifyInclusion(cp, index, raw, hs)
}

type auditEntryData struct {
	Row        auditRow
	LabelHash  string
	RequestID  string
	Raw        string
	Checkpoint checkpointView
	Hashes     []string
	// Verified: the proof verifies against a checkpoint whose signature
	// verifies. Problem says why not.
	Verified bool
	Problem  string
}

// auditEntry is one entry with its inclusion proof. An entry the viewer
// may not read is the not-found page, as a missing index is.
func (c *Console) auditEntry(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.auditEntry"
	ctx := r.Context()
	readable, err := c.auditReader(ctx, v.p)
	if err != nil {
		return err
	}
	idx, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		return errors.E(op, errors.NotExist)
	}
	size, err := c.cfg.Audit.Size(ctx)
	if err != nil {
		return err
	}
	if idx >= size {
		return errors.E(op, errors.NotExist)
	}
	rec, err := c.cfg.Audit.Get(ctx, idx)
	if err != nil {
		return err
	}
	marking, ok := readable(rec)
	if !ok {
		return errors.E(op, errors.NotExist)
	}
	pg := c.newPage("Audit entry "+strconv.FormatUint(idx, 10), v, "")
	pg.Nav = "audit"
	if err := pg.show(marking); err != nil {
		return err
	}
	d := auditEntryData{Row: auditRow{Index: idx, Time: rec.Time, Principal: rec.Principal, Action: rec.Action, ObjectType: rec.ObjectType,
		ObjectID: rec.ObjectID, Decision: string(rec.Decision), Marking: marking, Detail: rec.Detail}, RequestID: rec.RequestID}
	d.LabelHash = base64.StdEncoding.EncodeToString(rec.LabelHash)
	raw, err := c.cfg.Audit.Entry(ctx, idx)
	if err != nil {
		return err
	}
	d.Raw = string(raw)
	if d.Checkpoint, err = c.verifiedCheckpoint(ctx); err != nil {
		return err
	}
	switch {
	case idx >= d.Checkpoint.Size:
		d.Problem = "this entry is after the latest checkpoint; its proof is available once the next checkpoint is signed"
	default:
		hs, err := c.cfg.Audit.ProveInclusion(ctx, idx, d.Checkpoint.Size)
		if err != nil {
			return err
		}
		for _, h := range hs {
			d.Hashes = append(d.Hashes, h.String())
		}
		switch err := audit.VerifyInclusion(d.Checkpoint.cp, idx, raw, hs); {
		case err != nil:
			d.Problem = "the inclusion proof does not verify against the checkpoint"
		case !d.Checkpoint.Verified:
			d.Problem = "the proof links the entry to the checkpoint, but the checkpoint's signature does not verify: " + d.Checkpoint.Problem
		default:
			d.Verified = true
		}
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "auditentry", pg)
}
