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

// wireRecord is the canonical JSON form; the field order here is the
// encoding's field order, which EncodeRecord writes by hand.
type wireRecord struct {
	V          int    `json:"v"`
	Time       string `json:"time"`
	Principal  string `json:"principal"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Decision   string `json:"decision"`
	LabelHash  string `json:"label_hash"`
	RequestID  string `json:"request_id"`
	Detail     string `json:"detail"`
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
	q, _ := json.Marshal(v) // a string always marshals
	return append(b, q...)
}

// DecodeRecord parses entry bytes written by EncodeRecord. It accepts only
// the canonical form: decoding and re-encoding must give the same bytes.
func DecodeRecord(entry []byte) (Record, error) {
	const op errors.Op = "audit.DecodeRecord"
	bad := func(msg string) error {
		return errors.E(op, errors.Invalid, errors.Msg("malformed audit entry: "+msg))
	}
	if len(entry) > MaxEntrySize {
		return Record{}, bad("too large")
	}
	var w wireRecord
	d := json.NewDecoder(bytes.NewReader(entry))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed audit entry"), err)
	}
	if d.More() {
		return Record{}, bad("trailing data")
	}
	if w.V != RecordVersion {
		return Record{}, bad("unknown version")
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Record{}, bad("bad time")
	}
	lh, err := hex.DecodeString(w.LabelHash)
	if err != nil {
		return Record{}, bad("bad label hash")
	}
	if len(lh) == 0 {
		lh = nil
	}
	r := Record{
		Time: t.UTC(), Principal: w.Principal, Action: w.Action,
		ObjectType: w.ObjectType, ObjectID: w.ObjectID, Decision: Decision(w.Decision),
		LabelHash: lh, RequestID: w.RequestID, Detail: w.Detail,
	}
	again, err := EncodeRecord(r)
	if err != nil {
		return Record{}, errors.E(op, errors.Invalid, errors.Msg("malformed audit entry"), err)
	}
	if !bytes.Equal(again, entry) {
		return Record{}, bad("not in canonical form")
	}
	return r, nil
}
