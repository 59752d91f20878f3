// Package errors is Genesis's one error type, in the style of Upspin's
// upspin.io/errors: an error carries the operation that failed, a Kind that
// callers and the HTTP layer switch on, an optional user-safe message, and the
// underlying cause.
//
// The rule that matters most for security: a caller who may not read an object
// gets NotExist, never Permission, and never a message that names the object.
// Only Error.Msg (set with Msg or Safe) ever crosses the API boundary; the
// wrapped cause goes to the server log.
package errors

import (
	stderrors "errors"
	"fmt"
	"strings"
)

// Kind classifies an error. The list is append-only: kinds are matched by
// value in other processes (problem document "kind" members, CLI exit paths).
type Kind uint8

const (
	Other            Kind = iota // unclassified; treated as Internal at the API
	Invalid                      // bad input: malformed, out of range, unknown field
	NotExist                     // no such object, or one the caller may not see
	Exist                        // an object with that identity already exists
	Conflict                     // state changed underneath: retry or reconcile
	Permission                   // authenticated, but not allowed; only for objects whose existence is public
	Unauthenticated              // no or bad credentials
	Transient                    // try again later: a dependency is unavailable
	Internal                     // a bug or a broken invariant
	Unavailable                  // the service is shutting down or not ready
	TooLarge                     // the request body or object exceeds a limit
	Canceled                     // the caller's context ended
	UnsupportedMedia             // the request body's media type is not one the endpoint reads
)

// LastKind is the highest Kind, for code that lists them all.
const LastKind = UnsupportedMedia

var kindNames = [...]string{
	Other:            "other",
	Invalid:          "invalid",
	NotExist:         "not-exist",
	Exist:            "exist",
	Conflict:         "conflict",
	Permission:       "permission",
	Unauthenticated:  "unauthenticated",
	Transient:        "transient",
	Internal:         "internal",
	Unavailable:      "unavailable",
	TooLarge:         "too-large",
	Canceled:         "canceled",
	UnsupportedMedia: "unsupported-media-type",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Op names an operation, conventionally "package.Function".
type Op string

// Msg is a message that is safe to show to the caller.
type Msg string

// Error is the error type used throughout Genesis.
type Error struct {
	Op   Op
	Kind Kind
	// Msg is shown to the API caller; it must not reveal anything the caller
	// may not know (object names, internal paths, SQL).
	Msg string
	// Field names the offending input field for Invalid errors, if any.
	Field string
	Err   error
}

// E builds an *Error from its arguments, which may be, in any order:
// an Op, a Kind, a Msg, a Field, a string (a cause made with errors.New), or
// an error (the cause). If the cause is an *Error and no Kind is given, the
// Kind is inherited. E with no error and no Kind still returns an error.
func E(args ...any) error {
	if len(args) == 0 {
		panic("errors.E called with no arguments")
	}
	e := &Error{}
	for _, a := range args {
		switch a := a.(type) {
		case Op:
			e.Op = a
		case Kind:
			e.Kind = a
		case Msg:
			e.Msg = string(a)
		case Field:
			e.Field = string(a)
		case string:
			e.Err = stderrors.New(a)
		case *Error:
			cp := *a
			e.Err = &cp
		case error:
			e.Err = a
		case nil:
		default:
			e.Err = fmt.Errorf("errors.E: bad argument of type %T: %v", a, a)
		}
	}
	var inner *Error
	if e.Err != nil && stderrors.As(e.Err, &inner) {
		if e.Kind == Other {
			e.Kind = inner.Kind
		}
		if e.Field == "" {
			e.Field = inner.Field
		}
		if e.Msg == "" {
			e.Msg = inner.Msg
		}
	}
	if e.Kind == Other && e.Err != nil {
		switch {
		case stderrors.Is(e.Err, errContextCanceled), stderrors.Is(e.Err, errDeadline):
			e.Kind = Canceled
		}
	}
	return e
}

// Field names the input field an Invalid error is about, e.g. "body.name".
type Field string

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(string(e.Op))
		b.WriteString(": ")
	}
	if e.Kind != Other {
		b.WriteString(e.Kind.String())
	}
	if e.Field != "" {
		if e.Kind != Other {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "field %q", e.Field)
	}
	if e.Msg != "" {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), ": ") {
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		inner := e.Err.Error()
		if e.Msg == "" || !strings.Contains(inner, e.Msg) {
			if b.Len() > 0 && !strings.HasSuffix(b.String(), ": ") {
				b.WriteString(": ")
			}
			b.WriteString(inner)
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether err (or anything it wraps) is an *Error of kind k.
// For kinds assigned by the standard library (context cancellation), it also
// matches the sentinel errors.
func Is(k Kind, err error) bool {
	if err == nil {
		return false
	}
	return KindOf(err) == k
}

// KindOf returns the Kind of the outermost *Error in err's chain with a
// non-Other kind, or Other. Context errors map to Canceled.
func KindOf(err error) Kind {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Kind != Other {
			return e.Kind
		}
		if stderrors.Is(err, errContextCanceled) || stderrors.Is(err, errDeadline) {
			// A deadline is the caller's decision too.
			if _, ok := err.(*Error); !ok {
				return Canceled
			}
		}
		err = stderrors.Unwrap(err)
	}
	return Other
}

// SafeMessage returns the user-safe message carried by err, or "".
func SafeMessage(err error) string {
	var e *Error
	for err != nil {
		if stderrors.As(err, &e) {
			if e.Msg != "" {
				return e.Msg
			}
			err = e.Err
			continue
		}
		return ""
	}
	return ""
}

// FieldOf returns the offending field recorded in err, or "".
func FieldOf(err error) string {
	var e *Error
	if stderrors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Re-exports so that callers import only this package.
var (
	New    = stderrors.New
	As     = stderrors.As
	Unwrap = stderrors.Unwrap
	Join   = stderrors.Join
)

// IsErr is the standard library's errors.Is, under a name that does not
// clash with Is(Kind, error).
func IsErr(err, target error) bool { return stderrors.Is(err, target) }

// Errorf is fmt.Errorf, for wrapping causes with %w.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
