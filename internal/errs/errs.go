// Package errs makes the errors the rooms return: a message of their own
// around the error that caused it, as fmt.Errorf's %w does, without fmt
// (deps_test.go says what fmt would cost). errors.Is and errors.As see
// through them, so a kernel's errno stays testable as unix.ENODEV.
//
// It owns nothing and knows nothing of the daemon: every package may
// import it, and it imports none of theirs.
package errs

// wrapped is an error with a message of its own around another.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// Wrap says what failed in front of err: "what: err".
func Wrap(what string, err error) error { return &wrapped{what + ": " + err.Error(), err} }

// WithMessage is err under a message of its own, which need not name it.
func WithMessage(msg string, err error) error { return &wrapped{msg, err} }
