package scope

import (
	"errors"
	"sync"
)

// A Scope is the lifetime of a part of the daemon: it ends once, and what
// was started under it sees the end (Done) and stops. It is the part of
// context.Context the daemon uses: cancellation, sub-scopes and functions
// run at the end (context.AfterFunc). context itself is not linked: its
// Deadline method puts time.Time in an interface, and that keeps the time
// layouts and the time-zone loader in the binary (deps_test.go says what
// that costs), whose pages are the daemon's memory.
type Scope struct {
	done chan struct{}

	mu     sync.Mutex
	over   bool
	hooks  map[*func()]struct{} // to run when the scope ends
	detach func() bool          // a sub-scope's hook in its parent
}

// ErrEnded is what an operation cut short by the end of its scope returns.
var ErrEnded = errors.New("stopped")

func New() *Scope { return &Scope{done: make(chan struct{})} }

// Done is closed when the scope ends.
func (s *Scope) Done() <-chan struct{} { return s.done }

// Ended reports whether the scope has ended.
func (s *Scope) Ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// End ends the scope and its sub-scopes and starts the functions given to
// OnEnd, each in its own goroutine. Ending an ended scope does nothing.
func (s *Scope) End() {
	s.mu.Lock()
	if s.over {
		s.mu.Unlock()
		return
	}
	s.over = true
	close(s.done)
	hooks, detach := s.hooks, s.detach
	s.hooks, s.detach = nil, nil
	s.mu.Unlock()
	if detach != nil {
		detach() // the parent need not end this one any more
	}
	for f := range hooks {
		go (*f)()
	}
}

// OnEnd has f run in its own goroutine when the scope ends, at once if it
// has. stop takes f back and reports whether it did so before f started,
// as context.AfterFunc's stop does.
func (s *Scope) OnEnd(f func()) (stop func() bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over {
		go f()
		return func() bool { return false }
	}
	h := &f
	if s.hooks == nil {
		s.hooks = make(map[*func()]struct{})
	}
	s.hooks[h] = struct{}{}
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.hooks[h]
		delete(s.hooks, h)
		return ok
	}
}

// Sub is a scope that ends when s does, or before by its own end, which
// also takes it off s: sub-scopes made and ended over days leave nothing
// behind in s.
func (s *Scope) Sub() *Scope {
	c := New()
	detach := s.OnEnd(c.End)
	c.mu.Lock()
	if !c.over {
		c.detach = detach
	}
	c.mu.Unlock()
	return c
}
