// Package meta is Genesis's harmonised metadata model: one Core that every
// agency's and lab's description of an asset is mapped onto, importers for
// the formats they publish in (DataCite JSON, schema.org Dataset JSON-LD,
// DCAT-US 1.1 data.json, CKAN package_show, CSV inventories), exporters
// (DataCite JSON, DCAT-US 1.1), a deterministic quality score, and a registry
// of steward-defined domain extensions validated by JSON Schema.
//
// The package is pure: no database, no network, no clock. Callers persist
// Records and the original documents (Provenance.Original) themselves.
//
// See MAPPING.md for which source field feeds which core field, per format.
//
// Guarantees:
//
//   - Import never panics. ImportEach reads a document of up to
//     Options.InMemory (default 8 MiB) into memory (peak heap about six
//     times its size); a larger one, up to Options.MaxBytes (default
//     256 MiB), is spooled to a temporary file and streamed, one record in
//     memory at a time (see stream.go). Import itself still collects every
//     record; callers that store them use ImportEach. A document that
//     is not the requested format at all is one errors.Invalid error, while an
//     invalid record inside a valid document is reported as a RecordError and
//     the valid records are still returned.
//   - Every returned Record's Core passes Core.Validate.
//   - Text is kept as text: control characters are removed and nothing is
//     interpreted, so a title such as "<script>…</script>" survives unchanged.
//     Whoever renders metadata (console, HTML exports) MUST escape it
//     (html/template does); this package never produces markup.
//   - Provenance records, for every core field set, the source field path(s)
//     it came from, in the source document's own names.
//   - Assess is a pure function of the Core: the same Core always gets the
//     same score and the same findings, in the same order.
package meta
