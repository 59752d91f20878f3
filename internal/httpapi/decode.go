package httpapi

import (
	"bytes"
	"encoding/json"
	stderrors "errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// MaxJSONBody bounds JSON request bodies.
const MaxJSONBody = 1 << 20

// decodeJSON decodes one JSON object from body into v, strictly: no unknown
// fields, no trailing data, no more than MaxJSONBody bytes. Its errors are
// Invalid (or TooLarge, or UnsupportedMedia) and name the offending field.
func decodeJSON(r *http.Request, v any) error {
	body, err := readBody(r, MaxJSONBody, mediaJSON)
	if err != nil {
		return err
	}
	return DecodeStrict(body, v)
}

// Media types a request body may declare.
const (
	mediaJSON = "application/json" // and any "+json" type
	mediaYAML = "application/yaml" // and application/x-yaml, text/yaml
)

// readBody is how every endpoint that parses its body reads it: first the
// Content-Type must be one of accepted (415 otherwise; a body without one
// is taken as the first), then at most limit bytes are read (413 past it).
func readBody(r *http.Request, limit int64, accepted ...string) ([]byte, error) {
	const op errors.Op = "httpapi.readBody"
	if ct := r.Header.Get("Content-Type"); ct != "" && !acceptsMedia(ct, accepted) {
		return nil, errors.E(op, errors.UnsupportedMedia, errors.Field("Content-Type"),
			errors.Msg("the request body must be "+strings.Join(accepted, " or ")))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("cannot read the request body"), err)
	}
	if int64(len(body)) > limit {
		return nil, errors.E(op, errors.TooLarge, errors.Field("body"), errors.Msg("the request body exceeds "+sizeText(limit)))
	}
	return body, nil
}

// sizeText writes a byte count for people: "1 MiB", "64 KiB", "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

// acceptsMedia reports whether the Content-Type ct is one of accepted
// (parameters such as charset are ignored).
func acceptsMedia(ct string, accepted []string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	for _, a := range accepted {
		switch a {
		case mediaJSON:
			if mt == mediaJSON || strings.HasSuffix(mt, "+json") {
				return true
			}
		case mediaYAML:
			if mt == mediaYAML || mt == "application/x-yaml" || mt == "text/yaml" || mt == "text/x-yaml" {
				return true
			}
		default:
			if mt == a {
				return true
			}
		}
	}
	return false
}

// DecodeStrict is the body decoder behind every JSON endpoint (exported for
// fuzzing and for the CLI's file inputs).
func DecodeStrict(body []byte, v any) error {
	const op errors.Op = "httpapi.decode"
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("the request body is empty; a JSON object is required"))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("unexpected data after the JSON object"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("unexpected data after the JSON object"))
	}
	return nil
}

func decodeError(err error) error {
	const op errors.Op = "httpapi.decode"
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case stderrors.As(err, &syn):
		return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("malformed JSON at byte "+itoa(syn.Offset)))
	case stderrors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg("field "+field+" must be "+jsonType(typ.Type.Kind().String())+", not "+typ.Value))
	case stderrors.Is(err, io.ErrUnexpectedEOF) || stderrors.Is(err, io.EOF):
		return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("the JSON body ends too early"))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errors.E(op, errors.Invalid, errors.Field(name), errors.Msg("unknown field "+quoteField(name)))
	}
	return errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("the request body is not a valid JSON object of the expected shape"))
}

func quoteField(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "of another type"
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
