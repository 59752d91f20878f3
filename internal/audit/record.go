package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// RecordVersion is the version of the canonical entry encoding written by
// EncodeRecord. An entry carries its version in its first field.
const RecordVersion = 1

// Limits on a record. An entry (the encoded record) must fit the uint16
// framing of C2SP entry bundles.
const (
	MaxEntrySize    = 1<<16 - 1
	MaxLabelHash    = 64
	MaxFieldLen     = 1024 // principal, action, object type, object ID, request ID
	MaxDetailLength = 32 << 10
)

// Decision is the outcome recorded for an action.
type Decision string

const (
	Allow Decision = "allow"
	Deny  Decision = "deny"
	Error Decision = "error" // deciding failed; the action was refused (fail closed)
)

// Record is one audit record: who did what to which object, and the outcome.
type Record struct {
	Time       time.Time // set by Append when zero; stored in UTC, nanoseconds
	Principal  string    // principal ID (user or service account)
	Action     string    // e.g. "read", "dataset.create", "declassify.approve"
	ObjectType string    // e.g. "dataset", "job"
	ObjectID   string
	Decision   Decision
	// LabelHash is the hash of the object's label (the caller passes
	// label.Hash); this package does not interpret it.
	LabelHash []byte
	RequestID string
	Detail    string // optional, free text
}

// Entry is a record with its position in the log.
type Entry struct {
	Index  uint64
	Record Record
}

// Validate reports whether r can be encoded.
func (r Record) Validate() error {
	const op errors.Op = "audit.Record.Validate"
	if r.Time.IsZero() {
		return errors.E(op, errors.Invalid, errors.Field("time"), errors.Msg("audit record has no time"))
	}
	if y := r.Time.UTC().Year(); y < 1 || y > 9999 {
		return errors.E(op, errors.Invalid, errors.Field("time"), errors.Msg("audit record time out of range"))
	}
	for _, f := range []struct {
		name, v  string
		required bool
		max      int
	}{
		{"principal", r.Principal, true, MaxFieldLen},
		{"action", r.Action, true, MaxFieldLen},
		{"object_type", r.ObjectType, false, MaxFieldLen},
		{"object_id", r.ObjectID, false, MaxFieldLen},
		{"request_id", r.RequestID, false, MaxFieldLen},
		{"detail", r.Detail, false, MaxDetailLength},
	} {
		switch {
		case f.required && f.v == "":
			return errors.E(op, errors.Invalid, errors.Field(f.name), errors.Msg("audit record field "+f.name+" is empty"))
		case len(f.v) > f.max:
			return errors.E(op, errors.TooLarge, errors.Field(f.name), errors.Msg("audit record field "+f.name+" is too long"))
		case !utf8.ValidString(f.v):
			return errors.E(op, errors.Invalid, errors.Field(f.name), errors.Msg("audit record field "+f.name+" is not UTF-8"))
		}
	}
	switch r.Decision {
	case Allow, Deny, Error:
	default:
		return errors.E(op, errors.Invalid, errors.Field("decision"), errors.Msg("audit decision must be allow, deny or error"))
	}
	if len(r.LabelHash) > MaxLabelHash {
		return errors.E(op, errors.TooLarge, errors.Field("label_hash"), errors.Msg("audit label hash is too long"))
	}
	return nil
}

// EncodeRecord returns the canonical entry bytes of r: JSON with a fixed
// field order, every field present, time in RFC 3339 UTC with nanoseconds,
// the label hash in lower-case hex. These bytes are what the log hashes.
func EncodeRecord(r Record) ([]byte, error) {
	const op errors.Op = "audit.EncodeRecord"
	if err := r.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	b := make([]byte, 0, 256+len(r.Detail))
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, RecordVersion, 10)
	b = appendField(b, "time", r.Time.UTC().Format(time.RFC3339Nano))
	b = appendField(b, "principal", r.Principal)
	b = appendField(b, "action", r.Action)
	b = appendField(b, "object_type", r.ObjectType)
	b = appendField(b, "object_id", r.ObjectID)
	b = appendField(b, "decision", string(r.Decision))
	b = appendField(b, "label_hash", hex.EncodeToString(r.LabelHash))
	b = appendField(b, "request_id", r.RequestID)
	b = appendField(b, "detail", r.Detail)
	b = append(b, '}')
	if len(b) > MaxEntrySize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg("audit record is too large"))
	}
	return b, nil
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if isPlain(v) {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	q, _ := json.Marshal(v) // a string always marshals
	return append(b, q...)
}

// recordFields are the string fields of the canonical encoding, in order.
var recordFields = [...]string{"time", "principal", "action", "object_type", "object_id", "decision", "label_hash", "request_id", "detail"}

// DecodeRecord parses entry bytes written by EncodeRecord. It accepts only
// the canonical form: any other bytes, even ones that would decode to the
// same record, are rejected, so one record has exactly one entry.
func DecodeRecord(entry []byte) (Record, error) {
	const op errors.Op = "audit.DecodeRecord"
	bad := func(msg string) error {
		return errors.E(op, errors.Invalid, errors.Msg("malformed audit entry: "+msg))
	}
	if len(entry) > MaxEntrySize {
		return Record{}, bad("too large")
	}
	const head = `{"v":1`
	if !bytes.HasPrefix(entry, []byte(head)) {
		return Record{}, bad("unknown version or not a record")
	}
	p := entry[len(head):]
	var f [len(recordFields)]string
	for i, name := range recordFields {
		if len(p) < len(name)+4 || p[0] != ',' || p[1] != '"' || string(p[2:2+len(name)]) != name || p[2+len(name)] != '"' || p[3+len(name)] != ':' {
			return Record{}, bad("want field " + name)
		}
		s, rest, ok := parseCanonicalString(p[4+len(name):])
		if !ok {
			return Record{}, bad("bad string in field " + name)
		}
		f[i], p = s, rest
	}
	if len(p) != 1 || p[0] != '}' {
		return Record{}, bad("trailing data")
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil || t.UTC().Format(time.RFC3339Nano) != f[0] {
		return Record{}, bad("bad time")
	}
	lh, err := hex.DecodeString(f[6])
	if err != nil || hex.EncodeToString(lh) != f[6] {
		return Record{}, bad("bad label hash")
	}
	if len(lh) == 0 {
		lh = nil
	}
	r := Record{
		Time: t.UTC(), Principal: f[1], Action: f[2], ObjectType: f[3], ObjectID: f[4],
		Decision: Decision(f[5]), LabelHash: lh, RequestID: f[7], Detail: f[8],
	}
	if err := r.Validate(); err != nil {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed audit entry"), err)
	}
	return r, nil
}

// parseCanonicalString parses the JSON string at the start of b, which must
// be exactly as json.Marshal writes it.
func parseCanonicalString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	slow := false
	i := 1
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			slow = true
			i++
		case c < 0x20:
			return "", nil, false
		case c >= 0x80 || c == '<' || c == '>' || c == '&':
			slow = true
		}
	}
	if i >= len(b) {
		return "", nil, false
	}
	lit := b[:i+1]
	if !slow {
		return string(lit[1:i]), b[i+1:], true
	}
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", nil, false
	}
	if q, _ := json.Marshal(s); !bytes.Equal(q, lit) {
		return "", nil, false
	}
	return s, b[i+1:], true
}

// isPlain reports whether json.Marshal writes s unchanged between quotes.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
