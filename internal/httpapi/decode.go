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
// Invalid (or TooLarge) and name the offending field.
func decodeJSON(r *http.Request, v any) error {
	const op errors.Op = "httpapi.decode"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errors.E(op, errors.Invalid, errors.Field("Content-Type"), errors.Msg("the request body must be application/json"))
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("cannot read the request body"), err)
	}
	if len(body) > MaxJSONBody {
		return errors.E(op, errors.TooLarge, errors.Msg("the request body exceeds 1 MiB"))
	}
	return DecodeStrict(body, v)
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
