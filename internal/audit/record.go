package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// RecordVersion is the version of the canonical entry encoding written by
// EncodeRecord. An entry carries its version in its first field. The two
// versions have the same fields; they differ in what label_hash means:
//
//	1  SHA-256 of the label's canonical binary form (label.Hash). Such
//	   entries are still read and verified, never written: a bare hash over
//	   the small space of labels gives the label away to whoever sees it.
//	2  a keyed hash (LabelKey.Sum): HMAC-SHA-256 under a secret key kept
//	   with the log's keys, bound to the record's object. Without the key
//	   it says nothing about the label; the server, which holds the key,
//	   matches it against labels (Log.LabelMatches).
const RecordVersion = 2

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
	// LabelHash is the keyed hash of the object's label (see
	// RecordVersion). Callers set Label and let Append compute it.
	LabelHash []byte
	RequestID string
	Detail    string // optional, free text

	// Label is the object's label in canonical binary form
	// (label.Label.MarshalBinary). It is an input only: Append replaces
	// LabelHash with its keyed hash and does not store it.
	Label []byte
	// Version is the encoding version of a record read from the log: 1
	// for a legacy record, zero for the current version (RecordVersion),
	// which EncodeRecord writes when it is zero.
	Version int
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
	if r.Version < 0 || r.Version > RecordVersion {
		return errors.E(op, errors.Invalid, errors.Field("version"), errors.Msg("unknown audit record version"))
	}
	if len(r.LabelHash) > MaxLabelHash {
		return errors.E(op, errors.TooLarge, errors.Field("label_hash"), errors.Msg("audit label hash is too long"))
	}
	return nil
}

// EncodeRecord returns the canonical entry bytes of r: JSON with a fixed
// field order, every field present, time in RFC 3339 UTC with nanoseconds,
// the label hash in lower-case hex. These bytes are what the log hashes.
//
// Whatever the string fields hold, they are recorded (Escape): a refusal
// is never lost because what was asked is not UTF-8 or is too long.
// DecodeRecord gives back Escape(r).
func EncodeRecord(r Record) ([]byte, error) {
	const op errors.Op = "audit.EncodeRecord"
	if r.Label != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("label"), errors.Msg("audit record label is not keyed (append it to a log)"))
	}
	r = Escape(r)
	if err := r.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	b := encode(r)
	if len(b) > MaxEntrySize {
		return nil, errors.E(op, errors.Internal, errors.Msg("audit record is too large"))
	}
	return b, nil
}

func encode(r Record) []byte {
	v := r.Version
	if v == 0 {
		v = RecordVersion
	}
	b := make([]byte, 0, 256+len(r.Detail))
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(v), 10)
	b = appendField(b, "time", r.Time.UTC().Format(time.RFC3339Nano))
	b = appendField(b, "principal", r.Principal)
	b = appendField(b, "action", r.Action)
	b = appendField(b, "object_type", r.ObjectType)
	b = appendField(b, "object_id", r.ObjectID)
	b = appendField(b, "decision", string(r.Decision))
	b = appendField(b, "label_hash", hex.EncodeToString(r.LabelHash))
	b = appendField(b, "request_id", r.RequestID)
	b = appendField(b, "detail", r.Detail)
	return append(b, '}')
}

// Escape returns r as the log records it. Every string field becomes
// valid UTF-8 of bounded length, so that anything asked can be put on the
// record:
//
//   - in a field that is not valid UTF-8, each invalid byte is written
//     \xHH and each backslash \\ (so the original bytes can be read back);
//   - a field longer than its limit (MaxFieldLen, MaxDetailLength) is cut
//     at a character boundary and ends in "…[N bytes]", N being the length
//     of the whole (escaped) value;
//   - a detail that would take the entry past MaxEntrySize once written as
//     JSON (where a control character takes six bytes) is cut the same way
//     to fit. No other field can: each fits six times over.
//
// Escape changes nothing else, and nothing in a record that encodes as it
// is; Escape(Escape(r)) == Escape(r).
func Escape(r Record) Record {
	r.Principal = escapeField(r.Principal, MaxFieldLen)
	r.Action = escapeField(r.Action, MaxFieldLen)
	r.ObjectType = escapeField(r.ObjectType, MaxFieldLen)
	r.ObjectID = escapeField(r.ObjectID, MaxFieldLen)
	r.RequestID = escapeField(r.RequestID, MaxFieldLen)
	r.Detail = escapeField(r.Detail, MaxDetailLength)
	if len(r.Detail) > (MaxEntrySize-6*5*MaxFieldLen-512)/6 {
		d := r.Detail
		r.Detail = ""
		room := MaxEntrySize - len(encode(r)) - 2 // the detail's quotes
		r.Detail = truncateTo(d, room, jsonWidth)
	}
	return r
}

func escapeField(s string, max int) string {
	if !utf8.ValidString(s) {
		var b strings.Builder
		b.Grow(len(s) + 16)
		for i := 0; i < len(s); {
			c, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case c == utf8.RuneError && n == 1:
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[s[i]>>4])
				b.WriteByte(hexDigits[s[i]&0xf])
			case c == '\\':
				b.WriteString(`\\`)
			default:
				b.WriteString(s[i : i+n])
			}
			i += n
		}
		s = b.String()
	}
	if len(s) > max {
		s = truncateTo(s, max, func(_ rune, n int) int { return n })
	}
	return s
}

const hexDigits = "0123456789abcdef"

// truncateTo returns s if its width is at most max, and otherwise a prefix
// of s (whole characters) followed by a marker giving len(s), of width at
// most max. width(c, n) is the width of the character c of n bytes.
func truncateTo(s string, max int, width func(c rune, n int) int) string {
	total := 0
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		total += width(c, n)
		i += n
	}
	if total <= max {
		return s
	}
	marker := "…[" + strconv.Itoa(len(s)) + " bytes]"
	room := max - len(marker) // the marker is plain in JSON
	if room < 0 {
		return ""
	}
	w, i := 0, 0
	for i < len(s) {
		c, n := utf8.DecodeRuneInString(s[i:])
		if w+width(c, n) > room {
			break
		}
		w += width(c, n)
		i += n
	}
	return s[:i] + marker
}

// jsonWidth is an upper bound on the bytes appendField writes for the
// character c of n bytes.
func jsonWidth(c rune, n int) int {
	switch {
	case c == '"' || c == '\\':
		return 2
	case c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029' || c == utf8.RuneError:
		return 6
	}
	return n
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
	const head = `{"v":`
	if !bytes.HasPrefix(entry, []byte(head)) || len(entry) < len(head)+1 {
		return Record{}, bad("not a record")
	}
	version := int(entry[len(head)] - '0')
	if version < 1 || version > RecordVersion {
		return Record{}, bad("unknown version")
	}
	p := entry[len(head)+1:]
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
	if version == RecordVersion {
		version = 0
	}
	r := Record{
		Time: t.UTC(), Principal: f[1], Action: f[2], ObjectType: f[3], ObjectID: f[4],
		Decision: Decision(f[5]), LabelHash: lh, RequestID: f[7], Detail: f[8], Version: version,
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
