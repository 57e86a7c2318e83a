package roster

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error so that each wire format (SCIM, OAuth, management JSON) can map it
// to a status code without inspecting driver or library errors. The set is closed on purpose.
type Kind int

// The error kinds. Internal is the zero value so that an unclassified error is never
// mistaken for a client error.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Stale
	Unauthenticated
	Forbidden
	TooLarge
	RateLimited
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "stale",
	"unauthenticated", "forbidden", "too_large", "rate_limited"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// HTTPStatus is the HTTP status of an error of kind k in Roster's APIs. Stale is a failed
// precondition (If-Match, RFC 9110 section 13.1.1); an unclassified error is a 500.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Stale:
		return http.StatusPreconditionFailed
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case RateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Error is a domain error: a Kind, a message safe to show to the caller, and an optional
// wrapped cause that is logged but never shown.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

// E builds an *Error with a formatted message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause to a new *Error of kind k.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Msg: msg, Err: err}
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Kind.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a bare kind sentinel (an *Error with no message and no cause)
// of the same kind, so errors.Is(err, store.ErrNotFound) holds for every NotFound error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Err == nil && t.Kind == e.Kind
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the caller-safe message of err: the message of its first *Error, or a
// generic text for anything unclassified (whose details must not leak).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Msg != "" {
			return e.Msg
		}
		return e.Kind.String()
	}
	return "internal error"
}
