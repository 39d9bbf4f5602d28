// Package scope is the daemon's lifetimes and timers: a Scope ends once,
// with its sub-scopes, and runs what was hooked on its end (the part of
// context.Context the daemon uses); an Alarm rings after a while, or every
// while (what it used of time.Timer and time.Ticker).
//
// They stand in for context and time.NewTimer because those put a
// time.Time in an interface, which keeps the time layouts and the
// time-zone loader in the binary (deps_test.go says what that costs). It
// owns no part of the daemon's state and must not know what is started
// under a scope: every room may import it, and it imports none.
package scope
