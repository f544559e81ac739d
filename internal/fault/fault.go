// Package fault defines the closed set of error kinds that every layer of
// mspauthz speaks, and the one error type that carries them.
package fault

import (
	"errors"
	"fmt"
	"slices"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, from the caller's point of view.
const (
	// Internal is a bug or an unexpected failure; its message is not shown to callers.
	Internal Kind = iota
	// Invalid is bad input: a malformed id, a missing or repeated value.
	Invalid
	// NotFound is an object that does not exist, or that the caller may not know exists.
	NotFound
	// AlreadyExists is a creation of an object that exists.
	AlreadyExists
	// Blocked is a well-formed request refused by a rule of the domain (a guard).
	Blocked
	// Conflict is a save that lost a race with another save and may be retried.
	Conflict
	// Unauthenticated is a missing, unknown or revoked credential.
	Unauthenticated
	// PermissionDenied is an authenticated caller who may not do this.
	PermissionDenied
	// Unavailable is a dependency (SpiceDB, its datastore) that cannot be reached.
	Unavailable
)

var kindNames = map[Kind]string{
	Internal:         "internal",
	Invalid:          "invalid",
	NotFound:         "not found",
	AlreadyExists:    "already exists",
	Blocked:          "blocked",
	Conflict:         "conflict",
	Unauthenticated:  "unauthenticated",
	PermissionDenied: "permission denied",
	Unavailable:      "unavailable",
}

func (k Kind) String() string { return kindNames[k] }

// Error is an error of a known kind. Details carry structured data for the
// caller (for example the blocks of a guard).
type Error struct {
	Kind    Kind
	Message string
	Details any
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

// Unwrap returns the error this one wraps, if any.
func (e *Error) Unwrap() error { return e.cause }

// New returns an error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k whose message is formatted and whose cause is err.
func Wrap(err error, k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), cause: err}
}

// WithDetails returns e carrying details.
func (e *Error) WithDetails(details any) *Error {
	e.Details = details
	return e
}

// KindOf is the kind of err: the kind of the outermost *Error it wraps, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// IsAny reports whether err is a fault of one of the kinds.
func IsAny(err error, kinds ...Kind) bool {
	return err != nil && slices.Contains(kinds, KindOf(err))
}
