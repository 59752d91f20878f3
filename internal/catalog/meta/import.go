package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// Format names a metadata document format.
type Format string

const (
	Auto      Format = "auto"
	DataCite  Format = "datacite"  // DataCite REST API JSON: {"data":{…}}, {"data":[…]} or bare attributes
	SchemaOrg Format = "schemaorg" // schema.org Dataset JSON-LD: one node, @graph, array, or DataCatalog.dataset
	DCATUS    Format = "dcat-us"   // DCAT-US 1.1 data.json catalog, or one dataset object
	CKAN      Format = "ckan"      // CKAN package_show ({"success":…,"result":…} or bare), package_search, or an array
	CSV       Format = "csv"       // CSV inventory with a header row; see csv.go for the headers
)

// Formats lists the concrete formats, in detection order.
var Formats = []Format{DataCite, SchemaOrg, DCATUS, CKAN, CSV}

// ParseFormat accepts a format name as the CLI spells it ("dcat-us", "auto"…).
func ParseFormat(s string) (Format, error) {
	const op errors.Op = "meta.ParseFormat"
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case "", Auto:
		return Auto, nil
	case DataCite, SchemaOrg, DCATUS, CKAN, CSV:
		return f, nil
	case "dcat", "dcatus", "data.json":
		return DCATUS, nil
	case "schema.org", "jsonld":
		return SchemaOrg, nil
	}
	return "", errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("unknown format (auto, datacite, schemaorg, dcat-us, ckan, csv)"))
}

// Record is one imported asset description.
type Record struct {
	// SourceID identifies the record in its source, for "update or create"
	// matching: "doi:"+DOI when the record has a DOI, else the source's own
	// identifier (DCAT identifier, schema.org identifier/@id/url, CKAN id or
	// name, CSV identifier column), else "".
	SourceID   string     `json:"source_id"`
	Index      int        `json:"index"` // position among the document's records, from 0
	Core       Core       `json:"core"`
	Provenance Provenance `json:"provenance"`
}

// Provenance says where a Record's Core came from.
type Provenance struct {
	Format Format `json:"format"`
	// Fields maps a core field (its JSON name; nested as "spatial.bbox") to
	// the source field paths it was built from, relative to the record
	// ("attributes.titles[0].title"; for CSV, the column header).
	Fields map[string][]string `json:"fields"`
	// Dropped lists source values that were present but not used because
	// they were malformed (a bad ORCID, a non-string title variant…).
	Dropped []Dropped `json:"dropped,omitempty"`
	// Original is this record's bytes exactly as in the source document (the
	// array element, or for CSV the header line and the record's line).
	Original []byte `json:"original,omitempty"`
}

// Dropped is a source value that was not imported, and why.
type Dropped struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// RecordError says which record of a document failed, and why.
type RecordError struct {
	Index    int      `json:"index"`
	SourceID string   `json:"source_id,omitempty"`
	Field    string   `json:"field,omitempty"`  // the core field at fault, if any
	Source   []string `json:"source,omitempty"` // the source fields it came from, if known
	Err      error    `json:"-"`
}

func (e RecordError) Error() string {
	id := ""
	if e.SourceID != "" {
		id = " (" + e.SourceID + ")"
	}
	msg := e.Message()
	if len(e.Source) > 0 {
		msg += " [source: " + strings.Join(e.Source, ", ") + "]"
	}
	return fmt.Sprintf("record %d%s: %s", e.Index, id, msg)
}

func (e RecordError) Unwrap() error { return e.Err }

// Message is the user-safe reason, without the record's position.
func (e RecordError) Message() string {
	msg := errors.SafeMessage(e.Err)
	if msg == "" {
		msg = "invalid record"
	}
	return msg
}

// MarshalJSON renders the error for API and CLI output: position,
// identifiers, fields and the user-safe message (never the internal cause).
func (e RecordError) MarshalJSON() ([]byte, error) {
	type plain RecordError
	return json.Marshal(struct {
		plain
		Message string `json:"message"`
	}{plain(e), e.Message()})
}

// Options bounds an import.
type Options struct {
	MaxBytes   int64 // whole document; default 256 MiB
	MaxRecords int   // default 1,000,000
	// InMemory is the largest document split in memory, and the most a
	// streamed one may hold outside its record array or in one record;
	// default StreamThreshold.
	InMemory int64
}

// DefaultOptions are the limits Import uses.
var DefaultOptions = Options{MaxBytes: 256 << 20, MaxRecords: 1_000_000}

// Import reads one document in format f (Auto detects it from the content)
// and returns its valid records, per-record errors for the invalid ones,
// and an error only if the document as a whole cannot be read as f:
// errors.TooLarge past the size cap, errors.Invalid if it is not the format.
func Import(r io.Reader, f Format) ([]Record, []RecordError, error) {
	return ImportWith(r, f, DefaultOptions)
}

// ImportWith is Import with explicit limits.
func ImportWith(r io.Reader, f Format, o Options) ([]Record, []RecordError, error) {
	var recs []Record
	var bad []RecordError
	err := ImportEach(r, f, o, func(rec *Record, rerr *RecordError) error {
		if rerr != nil {
			bad = append(bad, *rerr)
		} else {
			recs = append(recs, *rec)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return recs, bad, nil
}

// ImportEach is ImportWith that hands each record to fn in document order,
// with exactly one of rec and rerr non-nil, instead of collecting them: a
// caller storing records one batch at a time need not hold them all.
// A document up to StreamThreshold bytes is split in memory; a larger one
// is spooled to a temporary file and streamed, one record in memory at a
// time (see stream.go). Either way the whole document's syntax is checked
// before the first call, so a document-level error means fn was never
// called. An error from fn stops the import and is returned as is.
func ImportEach(r io.Reader, f Format, o Options, fn func(rec *Record, rerr *RecordError) error) error {
	const op errors.Op = "meta.Import"
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultOptions.MaxBytes
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultOptions.MaxRecords
	}
	if o.InMemory <= 0 {
		o.InMemory = StreamThreshold
	}
	f, err := ParseFormat(string(f))
	if err != nil {
		return errors.E(op, err)
	}
	data, err := io.ReadAll(io.LimitReader(r, min(o.MaxBytes, o.InMemory)+1))
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("cannot read the document"), err)
	}
	if int64(len(data)) > o.MaxBytes {
		return errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("document larger than %d bytes", o.MaxBytes)))
	}
	seen := map[string]int{}
	deliver := func(i int, rec Record, rerr *RecordError) error {
		if rerr == nil && rec.SourceID != "" {
			if j, dup := seen[rec.SourceID]; dup {
				rerr = &RecordError{Index: i, SourceID: rec.SourceID, Field: "source_id",
					Err: errors.E(op, errors.Invalid, errors.Field("source_id"), errors.Msg(fmt.Sprintf("duplicate identifier: record %d has the same one", j)))}
			} else {
				seen[rec.SourceID] = i
			}
		}
		if rerr != nil {
			return fn(nil, rerr)
		}
		return fn(&rec, nil)
	}
	if int64(len(data)) > o.InMemory {
		spool, size, err := spoolDocument(data, r, o.MaxBytes)
		if err != nil {
			return err
		}
		defer spool.Close()
		data = nil
		var base int64
		var bom [3]byte
		if n, _ := spool.ReadAt(bom[:], 0); n == 3 && string(bom[:]) == "\xef\xbb\xbf" {
			base = 3
		}
		lo, err := scanLayout(spool, base, size, o.MaxRecords, o.InMemory)
		if err != nil {
			return errors.E(op, err)
		}
		_, err = streamRecords(spool, base, size, f, lo, func(i int, it *item, serr error) error {
			if serr != nil {
				return deliver(i, Record{}, &RecordError{Index: i, Err: errors.E(op, errors.Invalid, serr)})
			}
			rec, rerr := it.build(i)
			return deliver(i, rec, rerr)
		})
		return err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if f == Auto {
		if f, err = Detect(data); err != nil {
			return errors.E(op, err)
		}
	}
	items, err := splitFormat(f, data)
	if err != nil {
		return errors.E(op, errors.Invalid, err)
	}
	if len(items) > o.MaxRecords {
		return errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("document has more than %d records", o.MaxRecords)))
	}
	data = nil
	for i := range items {
		rec, rerr := items[i].build(i)
		items[i] = item{} // let the record's decoded form and raw bytes go with it
		if err := deliver(i, rec, rerr); err != nil {
			return err
		}
	}
	return nil
}

// splitFormat splits data, a document in format f, into its records.
func splitFormat(f Format, data []byte) ([]item, error) {
	switch f {
	case DataCite:
		return splitDataCite(data)
	case SchemaOrg:
		return splitSchemaOrg(data)
	case DCATUS:
		return splitDCATUS(data)
	case CKAN:
		return splitCKAN(data)
	case CSV:
		return splitCSV(data)
	}
	return nil, errors.E(errors.Invalid, errors.Msg("unknown format"))
}

// item is one record of a document before mapping: its original bytes and
// a function that maps it onto the core.
type item struct {
	raw    []byte
	format Format
	mapper func(b *builder) error // fills b.core and b.sourceID; an error rejects the record
	pre    error                  // the record could not even be decoded
	// mapJSON, when set, is used instead of mapper: raw is decoded only when
	// the record is built, so a large document never holds all records'
	// decoded trees at once.
	mapJSON func(b *builder, m map[string]any) error
}

func (it item) build(i int) (Record, *RecordError) {
	const op errors.Op = "meta.Import"
	if it.pre != nil {
		return Record{}, &RecordError{Index: i, Err: errors.E(op, errors.Invalid, it.pre)}
	}
	b := &builder{prov: Provenance{Format: it.format, Fields: map[string][]string{}, Original: it.raw}}
	var err error
	if it.mapJSON != nil {
		var m map[string]any
		if derr := decodeJSON(it.raw, &m); derr != nil || m == nil {
			return Record{}, &RecordError{Index: i, Err: errors.E(op, errors.Invalid, errors.Msg("record is not a JSON object"), derr)}
		}
		err = it.mapJSON(b, m)
	} else {
		err = it.mapper(b)
	}
	b.core.Normalize()
	sid := CleanText(b.sourceID)
	if d, ok := NormalizeDOI(b.core.DOI); ok {
		sid = "doi:" + d
	}
	if err != nil {
		return Record{}, &RecordError{Index: i, SourceID: sid, Field: errors.FieldOf(err), Err: errors.E(op, errors.Invalid, err)}
	}
	b.dropUnusable()
	if err := b.core.Validate(); err != nil {
		f := errors.FieldOf(err)
		return Record{}, &RecordError{Index: i, SourceID: sid, Field: f, Source: b.sourcesOf(f), Err: err}
	}
	b.prune()
	return Record{SourceID: sid, Index: i, Core: b.core, Provenance: b.prov}, nil
}

// builder accumulates one record's core and provenance.
type builder struct {
	core     Core
	prov     Provenance
	sourceID string
}

// from records that core field came from the source path(s).
func (b *builder) from(field string, paths ...string) {
	b.prov.Fields[field] = append(b.prov.Fields[field], paths...)
}

func (b *builder) drop(path, reason string) {
	if len(b.prov.Dropped) < 100 {
		b.prov.Dropped = append(b.prov.Dropped, Dropped{Source: path, Reason: reason})
	}
}

// sourcesOf returns the source paths for a core field path such as
// "creators[1].orcid" (looked up by its top-level name).
func (b *builder) sourcesOf(field string) []string {
	top := field
	if i := strings.IndexAny(top, ".["); i >= 0 {
		top = top[:i]
	}
	var out []string
	for k, v := range b.prov.Fields {
		if k == top || strings.HasPrefix(k, top+".") {
			out = append(out, v...)
		}
	}
	return out
}

// dropUnusable removes values that a source often gets slightly wrong and
// that are optional, recording them as Dropped instead of rejecting the
// record: an ORCID iD with a bad check digit, a DOI of bad syntax, dates and
// coverage dates that do not parse, a landing page or license that is free
// text. One typo in a harvested record should not lose the record; the
// quality score still counts what was dropped (Record.Quality).
func (b *builder) dropUnusable() {
	c := &b.core
	for i := range c.Creators {
		if o := c.Creators[i].ORCID; o != "" {
			if _, ok := NormalizeORCID(o); !ok {
				b.drop(fmt.Sprintf("creators[%d].orcid", i), "invalid ORCID iD "+strconv.Quote(truncate(o, 64)))
				c.Creators[i].ORCID = ""
			}
		}
	}
	if d := c.DOI; d != "" {
		if _, ok := NormalizeDOI(d); !ok {
			b.drop("doi", "invalid DOI "+strconv.Quote(truncate(d, 64)))
			c.DOI = ""
		}
	}
	date := func(field string, p *string) {
		if *p != "" {
			if _, ok := ParseDate(*p); !ok {
				b.drop(field, "not a date: "+strconv.Quote(truncate(*p, 64)))
				*p = ""
			}
		}
	}
	date("issued", &c.Issued)
	date("modified", &c.Modified)
	if t := c.Temporal; t != nil {
		date("temporal.start", &t.Start)
		date("temporal.end", &t.End)
		if *t == (Temporal{}) {
			c.Temporal = nil
		}
	}
	if c.LandingPage != "" && !isHTTPURL(c.LandingPage) {
		b.drop("landing_page", "not an http(s) URL: "+strconv.Quote(truncate(c.LandingPage, 64)))
		c.LandingPage = ""
	}
	if c.License != "" && !ValidLicense(c.License) {
		b.drop("license", "not an SPDX id or URL: "+strconv.Quote(truncate(c.License, 64)))
		c.License = ""
	}
}

// prune removes provenance entries for fields that ended up empty.
func (b *builder) prune() {
	c := &b.core
	for k := range b.prov.Fields {
		top, sub, _ := strings.Cut(k, ".")
		keep := true
		switch top {
		case "title":
			keep = c.Title != ""
		case "description":
			keep = c.Description != ""
		case "creators":
			keep = len(c.Creators) > 0
		case "organization":
			keep = c.Organization != ""
		case "keywords":
			keep = len(c.Keywords) > 0
		case "domain":
			keep = c.Domain != ""
		case "license":
			keep = c.License != ""
		case "doi":
			keep = c.DOI != ""
		case "identifiers":
			keep = len(c.Identifiers) > 0
		case "temporal":
			keep = c.Temporal != nil
		case "spatial":
			keep = c.Spatial != nil && (sub != "bbox" || c.Spatial.BBox != nil) && (sub != "place" || c.Spatial.Place != "")
		case "variables":
			keep = len(c.Variables) > 0
		case "instrument":
			keep = c.Instrument != ""
		case "facility":
			keep = c.Facility != ""
		case "funding":
			keep = len(c.Funding) > 0
		case "challenges":
			keep = len(c.Challenges) > 0
		case "origin":
			keep = c.Origin != ""
		case "access_notes":
			keep = c.AccessNotes != ""
		case "landing_page":
			keep = c.LandingPage != ""
		case "publisher":
			keep = c.Publisher != ""
		case "issued":
			keep = c.Issued != ""
		case "modified":
			keep = c.Modified != ""
		}
		if !keep {
			delete(b.prov.Fields, k)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ---- generic JSON access ----

func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errors.E(errors.Invalid, errors.Msg("not valid JSON"), err)
	}
	if d.More() {
		return errors.E(errors.Invalid, errors.Msg("not valid JSON: trailing data after the document"))
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.E(errors.Invalid, errors.Msg("not valid JSON: trailing data after the document"))
	}
	return nil
}

// jsonItems splits raw JSON array elements into items that decode lazily.
func jsonItems(raws []json.RawMessage, f Format, mapper func(b *builder, m map[string]any) error) []item {
	items := make([]item, len(raws))
	for i, raw := range raws {
		items[i] = item{raw: raw, format: f, mapJSON: mapper}
	}
	return items
}

// str returns v as text when it is a string or a number, or a JSON-LD value
// object {"@value": …}; "" otherwise.
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		if x, ok := v["@value"]; ok {
			return str(x)
		}
	case []any:
		// JSON-LD language maps often arrive as arrays of value objects: take the first.
		if len(v) > 0 {
			return str(v[0])
		}
	}
	return ""
}

// sget returns m[key] as text, recording a dropped value if it is present
// but not text.
func (b *builder) sget(m map[string]any, key, path string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s := str(v)
	if s == "" {
		if _, isStr := v.(string); !isStr {
			b.drop(path, fmt.Sprintf("expected text, got %s", jsonType(v)))
		}
	}
	return s
}

// title returns m[key] when it is text (a string or a JSON-LD value object).
// A title of another type rejects the record: a number or an object where a
// title belongs means the record is not what it claims to be.
func (b *builder) title(m map[string]any, key, path string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any, []any:
		if s := str(v); s != "" {
			if _, isNum := v.(json.Number); !isNum {
				return s, nil
			}
		}
	}
	return "", errors.E(errors.Invalid, errors.Field("title"), errors.Msg(fmt.Sprintf("title: source field %q is %s, not text", path, jsonType(v))))
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// arr returns v as a list: an array as is, a single value as a list of one.
func arr(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func num(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case json.Number:
		f, err := v.Float64()
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// splitInterval parses an ISO 8601 interval "start/end" (either side may be
// "..", empty, or a duration, which is ignored).
func splitInterval(s string) (start, end string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "R") {
		if i := strings.IndexByte(s, '/'); i >= 0 {
			s = s[i+1:]
		}
	}
	parts := strings.SplitN(s, "/", 2)
	pick := func(p string) string {
		p = strings.TrimSpace(p)
		if p == ".." || strings.HasPrefix(p, "P") {
			return ""
		}
		return p
	}
	start = pick(parts[0])
	if len(parts) == 2 {
		end = pick(parts[1])
	}
	return start, end
}

// parseBBoxList parses "W,S,E,N" (commas or spaces).
func parseBBoxList(s string) (*BBox, bool) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(f) != 4 {
		return nil, false
	}
	var v [4]float64
	for i, x := range f {
		n, ok := num(x)
		if !ok {
			return nil, false
		}
		v[i] = n
	}
	return &BBox{West: v[0], South: v[1], East: v[2], North: v[3]}, true
}

// geoJSONBBox returns the bounding box of a GeoJSON geometry (or Feature).
func geoJSONBBox(m map[string]any) (*BBox, bool) {
	if g := obj(m["geometry"]); g != nil {
		m = g
	}
	if bb := arr(m["bbox"]); len(bb) == 4 {
		var v [4]float64
		for i := range bb {
			n, ok := num(bb[i])
			if !ok {
				return nil, false
			}
			v[i] = n
		}
		return &BBox{West: v[0], South: v[1], East: v[2], North: v[3]}, true
	}
	t := strings.ToLower(str(m["type"]))
	coords := m["coordinates"]
	if t == "envelope" { // GeoJSON-ish envelope: [[W, N], [E, S]]
		c := arr(coords)
		if len(c) == 2 {
			a, b := arr(c[0]), arr(c[1])
			if len(a) == 2 && len(b) == 2 {
				w, ok1 := num(a[0])
				n, ok2 := num(a[1])
				e, ok3 := num(b[0])
				s, ok4 := num(b[1])
				if ok1 && ok2 && ok3 && ok4 {
					return &BBox{West: w, South: s, East: e, North: n}, true
				}
			}
		}
		return nil, false
	}
	bb := &BBox{West: math.Inf(1), South: math.Inf(1), East: math.Inf(-1), North: math.Inf(-1)}
	n := 0
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 6 || n > 100000 {
			return
		}
		a := arr(v)
		if len(a) >= 2 {
			x, okx := num(a[0])
			y, oky := num(a[1])
			if okx && oky {
				bb.West, bb.East = math.Min(bb.West, x), math.Max(bb.East, x)
				bb.South, bb.North = math.Min(bb.South, y), math.Max(bb.North, y)
				n++
				return
			}
		}
		for _, e := range a {
			if _, ok := e.([]any); ok {
				walk(e, depth+1)
			}
		}
	}
	walk(coords, 0)
	if n == 0 {
		return nil, false
	}
	return bb, true
}
