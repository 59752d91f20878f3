// Package yamlsafe decodes YAML from untrusted sources (job specs, config
// files, uploaded documents) with goccy/go-yaml, refusing what that decoder
// handles badly: anchors and aliases, which let a small document expand
// exponentially ("billion laughs"), and deeply nested flow collections,
// whose decoding time grows quadratically with depth. The decoder's panics
// on some malformed documents (found by fuzzing go-yaml v1.19.2) become
// errors. Every error message is safe to show the document's author.
package yamlsafe

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// MaxFlowDepth bounds the nesting of [ ] and { }.
const MaxFlowDepth = 32

// Check returns why data is refused before decoding, or "".
func Check(data []byte) (msg string) {
	defer func() {
		if recover() != nil {
			msg = "malformed YAML"
		}
	}()
	depth := 0
	for _, tk := range lexer.Tokenize(string(data)) {
		switch tk.Type {
		case token.AnchorType, token.AliasType:
			return "YAML anchors and aliases are not allowed"
		case token.SequenceStartType, token.MappingStartType:
			if depth++; depth > MaxFlowDepth {
				return fmt.Sprintf("nested deeper than %d levels", MaxFlowDepth)
			}
		case token.SequenceEndType, token.MappingEndType:
			depth--
		}
	}
	return ""
}

// Error is a document Check refused.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

// Unmarshal checks data, then decodes it into v with opts (yaml.Strict()
// to refuse unknown fields), turning decoder panics into errors.
func Unmarshal(data []byte, v any, opts ...yaml.DecodeOption) error {
	if msg := Check(data); msg != "" {
		return &Error{Reason: msg}
	}
	return Decode(data, v, opts...)
}

// Decode is Unmarshal without Check, for documents already checked.
func Decode(data []byte, v any, opts ...yaml.DecodeOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML (decoder panic: %v)", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, v, opts...)
}

// UnknownField returns the field a yaml.Strict() decode refused as unknown
// (as the decoder names it), or "".
func UnknownField(err error) string {
	var uf *yaml.UnknownFieldError
	if errors.As(err, &uf) {
		if m := unknownFieldRE.FindStringSubmatch(uf.GetMessage()); m != nil {
			return m[1]
		}
	}
	return ""
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

// Message is a decode error's first line (at most 200 bytes), without the
// source excerpt yaml.FormatError adds: safe and short enough to show.
func Message(err error) string {
	s := strings.TrimSpace(yaml.FormatError(err, false, false))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
