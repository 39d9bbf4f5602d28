package main

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"ndpresponder/internal/scope"
)

// TestSuperviseWatcher: a watcher that keeps failing is tried again with a
// growing backoff, its addresses are withdrawn once after the grace period,
// and its recovery is told to it; one that ends with its scope is not
// tried again.
func TestSuperviseWatcher(t *testing.T) {
	old := watchTimes
	defer func() { watchTimes = old }()
	watchTimes.grace, watchTimes.backoffMin, watchTimes.backoffMax = 300*time.Millisecond, 20*time.Millisecond, 80*time.Millisecond
	var (
		runs, withdrawn atomic.Int32
		healthy         atomic.Bool
		recovered       = make(chan bool, 10)
	)
	sc := scope.New()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		superviseWatcher(sc, "test", func(sc *scope.Scope, up func() bool) error {
			runs.Add(1)
			if !healthy.Load() {
				return errors.New("socket failed")
			}
			recovered <- up()
			<-sc.Done()
			return nil
		}, func() { withdrawn.Add(1) })
	}()
	time.Sleep(watchTimes.grace / 2)
	if n := withdrawn.Load(); n != 0 {
		t.Errorf("withdrawn %d times within the grace period, want 0", n)
	}
	time.Sleep(watchTimes.grace)
	if n := withdrawn.Load(); n != 1 {
		t.Errorf("withdrawn %d times after the grace period, want once", n)
	}
	// 20, 40, 80, 80... ms: about 8 tries in 450 ms; without backoff, thousands.
	if n, took := runs.Load(), time.Since(start); n < 4 || n > int32(took/watchTimes.backoffMin)/2+2 {
		t.Errorf("%d tries in %v, want a backoff from %v to %v", n, took, watchTimes.backoffMin, watchTimes.backoffMax)
	}
	healthy.Store(true)
	select {
	case was := <-recovered:
		if !was {
			t.Errorf("up() = false after failures, want true: the watcher recovered")
		}
	case <-time.After(time.Second):
		t.Fatal("the watcher was not tried again")
	}
	time.Sleep(watchTimes.grace + 100*time.Millisecond)
	if n := withdrawn.Load(); n != 1 {
		t.Errorf("withdrawn %d times in all, want once: a recovered watcher keeps its addresses", n)
	}
	n := runs.Load()
	sc.End()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("the supervisor did not return when its scope ended")
	}
	if m := runs.Load(); m != n {
		t.Errorf("%d runs after the scope ended, want none", m-n)
	}
}
