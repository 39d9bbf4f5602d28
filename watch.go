package main

// The watchers of live addresses (-learn, -N, -auto) fail safe: one whose
// source fails (its socket errors, the engine goes away) is started again
// with backoff, and keeps its last addresses for a grace period only. If it
// has not recovered by then, they are withdrawn: no longer answered,
// announced or kept alive, until the source says afresh what is alive.
// Plain Go: the daemon hands it the watcher and the withdrawal.

import (
	"sync"
	"time"

	"ndpresponder/internal/scope"
)

const (
	// watchGrace is how long a failed watcher's last addresses stay
	// answered while it tries again: long enough for an engine's restart,
	// short enough that a container gone meanwhile is not claimed for long.
	watchGrace = 30 * time.Second
	// A failed watcher tries again after watchBackoffMin, doubling up to
	// watchBackoffMax.
	watchBackoffMin = time.Second
	watchBackoffMax = time.Minute
)

// watchTimes are the supervisor's intervals; tests shorten them.
var watchTimes = struct{ grace, backoffMin, backoffMax time.Duration }{watchGrace, watchBackoffMin, watchBackoffMax}

// superviseWatcher runs run until sc ends, and again after each failure
// (run returned before sc ended), after 1, 2, 4... s up to a minute. run
// calls up just before it publishes a state read afresh from its source;
// up reports whether the watcher was failing, so that run can say it
// recovered. When the watcher has failed and not called up within the grace
// period, withdraw takes its addresses away, once; the next up brings them
// back. withdraw and up never run at the same time, and once up returned, no
// withdrawal from before it follows.
func superviseWatcher(sc *scope.Scope, name string, run func(sc *scope.Scope, up func() bool) error, withdraw func()) {
	var (
		mu      sync.Mutex
		failing bool        // failed, and no fresh state since
		grace   *time.Timer // the pending withdrawal
		ended   bool        // the supervisor returned: no withdrawal
	)
	up := func() bool {
		mu.Lock()
		defer mu.Unlock()
		was := failing
		failing = false
		if grace != nil {
			grace.Stop()
			grace = nil
		}
		return was
	}
	defer func() {
		mu.Lock()
		ended = true
		if grace != nil {
			grace.Stop()
		}
		mu.Unlock()
	}()
	backoff := watchTimes.backoffMin
	for {
		err := run(sc, up)
		if sc.Ended() {
			return
		}
		if err == nil {
			err = errf("stopped")
		}
		mu.Lock()
		if !failing {
			failing, backoff = true, watchTimes.backoffMin
			warnf(name+": %v; keeping the known addresses, reconnecting", err)
			d := watchTimes.grace
			grace = time.AfterFunc(d, func() {
				mu.Lock()
				defer mu.Unlock()
				if failing && !ended {
					withdraw()
					warnf(name+": not recovered within %v; its addresses are no longer answered or announced", d)
				}
			})
		} else {
			debugf(name+": %v; trying again in %v", err, backoff)
		}
		mu.Unlock()
		wait := scope.NewAlarm(backoff)
		select {
		case <-sc.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
		backoff = min(2*backoff, watchTimes.backoffMax)
	}
}
