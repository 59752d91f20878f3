package meta

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/genesis-science/genesis/internal/errors"
)

// Streaming large documents.
//
// A document up to StreamThreshold bytes is read and split in memory, as
// each format's splitter expects. A larger one (a data.json of 100,000
// datasets) is spooled to an unnamed temporary file and read twice:
//
//  1. A scan checks the whole document's syntax and notes where its
//     records are — the elements of the one array that holds them (the
//     document itself, or its "data", "dataset", "@graph" or
//     "result"."results" member), or the rows of a CSV inventory — without
//     keeping them.
//  2. Each record is then read back alone and split as a document of one
//     record: the document with its record array cut down to that one
//     element (for CSV, the header row and that row). Every format's own
//     rules (detection, mapping, provenance) thus apply unchanged, and
//     memory holds one record and the rest of the document (the
//     "envelope", at most StreamThreshold bytes), never all records.
//
// A document that is not syntactically valid is refused whole in step 1,
// before any record is handed on. A schema.org @graph cannot be split
// (its nodes refer to one another) and is refused past StreamThreshold.

// StreamThreshold is the largest document split in memory; it also bounds
// a streamed document's envelope and each of its records.
const StreamThreshold = 8 << 20

// span is a byte range of the spooled document.
type span struct{ start, end int64 }

func (s span) read(f io.ReaderAt) ([]byte, error) {
	b := make([]byte, s.end-s.start)
	_, err := f.ReadAt(b, s.start)
	return b, err
}

// layout is where a streamed document's records are.
type layout struct {
	csv     bool
	array   span   // the record array, brackets included (JSON)
	header  span   // the header row (CSV)
	records []span // each record, in order
	member  string // the record array's member name ("" for a top-level array)
}

// spoolDocument copies head and the rest of r (up to max bytes in all)
// into an unnamed temporary file. The error is TooLarge past max.
func spoolDocument(head []byte, r io.Reader, max int64) (*os.File, int64, error) {
	const op errors.Op = "meta.Import"
	f, err := os.CreateTemp("", "genesis-import-*")
	if err != nil {
		return nil, 0, errors.E(op, errors.Unavailable, errors.Msg("cannot hold the document"), err)
	}
	os.Remove(f.Name())
	n, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), io.LimitReader(r, max-int64(len(head))+1)))
	if err != nil {
		f.Close()
		return nil, 0, errors.E(op, errors.Invalid, errors.Msg("cannot read the document"), err)
	}
	if n > max {
		f.Close()
		return nil, 0, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("document larger than %d bytes", max)))
	}
	return f, n, nil
}

// scanLayout is step 1 over the document in f[base:size].
func scanLayout(f *os.File, base, size int64, maxRecords int, limit int64) (*layout, error) {
	first, err := firstByte(f, base, size)
	if err != nil {
		return nil, err
	}
	if first != '{' && first != '[' {
		return scanCSV(f, base, size, maxRecords, limit)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(f, base, size-base), 1<<16))
	at := func() int64 { return base + dec.InputOffset() }
	lo := &layout{}
	found := false
	// elements notes the elements of the array whose '[' was just read.
	elements := func(member string) error {
		if found {
			return skipRest(dec, '[')
		}
		found, lo.member = true, member
		lo.array.start = at() - 1
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if len(lo.records) >= maxRecords {
				return errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("document has more than %d records", maxRecords)))
			}
			if int64(len(raw)) > limit {
				return errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("record %d is larger than %d bytes", len(lo.records), limit)))
			}
			lo.records = append(lo.records, span{at() - int64(len(raw)), at()})
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		lo.array.end = at()
		return nil
	}
	// object walks an object whose '{' was just read; arrays under
	// recordMembers (at depth 1) or "results" (in "result") are records.
	var object func(depth int, parent string) error
	object = func(depth int, parent string) error {
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			t, err = dec.Token()
			if err != nil {
				return err
			}
			switch t {
			case json.Delim('['):
				if depth == 1 && (key == "data" || key == "dataset" || key == "@graph") || depth == 2 && parent == "result" && key == "results" {
					err = elements(key)
				} else {
					err = skipRest(dec, '[')
				}
			case json.Delim('{'):
				if depth == 1 && key == "result" {
					err = object(2, key)
				} else {
					err = skipRest(dec, '{')
				}
			}
			if err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	t, err := dec.Token()
	if err == nil {
		if t == json.Delim('[') {
			err = elements("")
		} else {
			err = object(1, "")
		}
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.E(errors.Invalid, errors.Msg("not valid JSON: trailing data after the document"))
		}
	}
	if err != nil {
		if errors.KindOf(err) == errors.TooLarge || errors.SafeMessage(err) != "" {
			return nil, err
		}
		return nil, errors.E(errors.Invalid, errors.Msg("not valid JSON"), err)
	}
	if !found {
		return nil, errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("a document larger than %d bytes must hold its records in one array (the document itself, or its data, dataset, @graph or result.results member)", limit)))
	}
	if envelope := (size - base) - (lo.array.end - lo.array.start); envelope > limit {
		return nil, errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("the document holds more than %d bytes outside its record array", limit)))
	}
	return lo, nil
}

// skipRest reads to the end of the array or object whose opening delim
// was just read, keeping nothing.
func skipRest(dec *json.Decoder, open json.Delim) error {
	depth := 1
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

func firstByte(f *os.File, base, size int64) (byte, error) {
	br := bufio.NewReader(io.NewSectionReader(f, base, size-base))
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, errors.E(errors.Invalid, errors.Msg("empty document"))
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
	}
}

// scanCSV is step 1 for a CSV inventory: the header row and each row's
// bytes.
func scanCSV(f *os.File, base, size int64, maxRecords int, limit int64) (*layout, error) {
	r := csv.NewReader(bufio.NewReaderSize(io.NewSectionReader(f, base, size-base), 1<<16))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a CSV inventory: no header row"), err)
	}
	lo := &layout{csv: true, header: span{base, base + r.InputOffset()}}
	start := lo.header.end
	for {
		_, err := r.Read()
		end := base + r.InputOffset()
		if err == io.EOF {
			break
		}
		if end-start > limit {
			return nil, errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("row %d is larger than %d bytes", len(lo.records), limit)))
		}
		if len(lo.records) >= maxRecords {
			return nil, errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("document has more than %d records", maxRecords)))
		}
		// A malformed row is a record of its own (rejected when split).
		lo.records = append(lo.records, span{start, end})
		start = end
	}
	return lo, nil
}

// streamRecords is step 2: it hands each record of the document in
// f[base:size] to fn, as ImportEach does.
func streamRecords(f *os.File, base, size int64, format Format, lo *layout, fn func(i int, it *item, err error) error) (Format, error) {
	const op errors.Op = "meta.Import"
	var prefix, suffix []byte
	var err error
	if lo.csv {
		if prefix, err = lo.header.read(f); err != nil {
			return "", errors.E(op, errors.Unavailable, err)
		}
	} else {
		if prefix, err = (span{base, lo.array.start + 1}).read(f); err != nil {
			return "", errors.E(op, errors.Unavailable, err)
		}
		if suffix, err = (span{lo.array.end - 1, size}).read(f); err != nil {
			return "", errors.E(op, errors.Unavailable, err)
		}
	}
	one := func(rec []byte) []byte {
		doc := make([]byte, 0, len(prefix)+len(rec)+len(suffix))
		return append(append(append(doc, prefix...), rec...), suffix...)
	}
	if format == Auto {
		sample := one(nil)
		if len(lo.records) > 0 {
			b, err := lo.records[0].read(f)
			if err != nil {
				return "", errors.E(op, errors.Unavailable, err)
			}
			sample = one(b)
		}
		if format, err = Detect(sample); err != nil {
			return "", errors.E(op, err)
		}
	}
	if lo.csv != (format == CSV) {
		return "", errors.E(op, errors.Invalid, errors.Msg("the document is not "+string(format)))
	}
	if format == SchemaOrg && lo.member == "@graph" {
		return "", errors.E(op, errors.TooLarge, errors.Msg("a schema.org @graph this large cannot be imported: its nodes refer to one another; split it into several documents"))
	}
	for i, sp := range lo.records {
		b, err := sp.read(f)
		if err != nil {
			return "", errors.E(op, errors.Unavailable, err)
		}
		items, err := splitFormat(format, one(b))
		switch {
		case err != nil:
			err = fn(i, nil, err)
		case len(items) == 0:
			continue // not a record (a blank CSV line)
		default:
			err = fn(i, &items[0], nil)
		}
		if err != nil {
			return "", err
		}
	}
	return format, nil
}
