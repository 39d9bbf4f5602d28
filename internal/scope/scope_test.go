package scope

import (
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond every millisecond for at most 2 s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestScopeEnd(t *testing.T) {
	s := New()
	if s.Ended() {
		t.Fatal("a new scope has ended")
	}
	select {
	case <-s.Done():
		t.Fatal("a new scope's Done is closed")
	default:
	}
	s.End()
	s.End() // a second end does nothing
	if !s.Ended() {
		t.Fatal("an ended scope has not ended")
	}
	<-s.Done()
}

func TestScopeOnEnd(t *testing.T) {
	s := New()
	var ran, kept atomic.Int32
	block := make(chan struct{})
	defer close(block)
	s.OnEnd(func() { ran.Add(1); <-block }) // end does not wait for it
	stop := s.OnEnd(func() { kept.Add(1) })
	if !stop() {
		t.Error("stop before the end = false, want true")
	}
	if stop() {
		t.Error("a second stop = true, want false")
	}
	late := s.OnEnd(func() { ran.Add(1) })
	s.End()
	if !waitFor(func() bool { return ran.Load() == 2 }) {
		t.Fatalf("%d of 2 functions ran after the end", ran.Load())
	}
	if late() {
		t.Error("stop after the function ran = true, want false")
	}
	s.OnEnd(func() { ran.Add(1) }) // on an ended scope: at once
	if !waitFor(func() bool { return ran.Load() == 3 }) {
		t.Error("a function given to an ended scope did not run")
	}
	time.Sleep(20 * time.Millisecond)
	if kept.Load() != 0 {
		t.Error("a function taken back ran")
	}
}

func TestScopeSub(t *testing.T) {
	parent := New()
	a, b := parent.Sub(), parent.Sub()
	a.End()
	if parent.Ended() || b.Ended() {
		t.Fatal("a sub-scope's end ended its parent or its sibling")
	}
	// Made and ended over days: nothing stays behind in the parent.
	for range 1000 {
		parent.Sub().End()
	}
	parent.mu.Lock()
	n := len(parent.hooks)
	parent.mu.Unlock()
	if n != 1 {
		t.Errorf("the parent holds %d hooks after its ended sub-scopes, want 1 (b's)", n)
	}
	parent.End()
	if !waitFor(b.Ended) {
		t.Error("the parent's end did not end its sub-scope")
	}
	if c := parent.Sub(); !waitFor(c.Ended) {
		t.Error("a sub-scope of an ended scope has not ended")
	}
}
