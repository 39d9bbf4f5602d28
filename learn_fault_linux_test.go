//go:build !nonetns

package main

import (
	"errors"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndpresponder/internal/scope"
)

// runLearn and runAuto are the -learn and -auto watchers as the supervisor
// runs them.
var (
	runLearn = func(d *daemon, sc *scope.Scope, cfg *config, up func() bool) error { return d.learn(sc, cfg, up) }
	runAuto  = func(d *daemon, sc *scope.Scope, cfg *config, up func() bool) error { return d.auto(sc, cfg, up) }
)

// TestLearnSocketFails: the -learn watcher's rtnetlink socket fails, and
// opening a new one fails too for a while (fault injected: the kernel cannot
// be made to). The learned address stays answered for the grace period,
// then no longer is; once a socket opens again, the kernel's fresh dump
// makes it live again.
func TestLearnSocketFails(t *testing.T) {
	learned := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c9")
	watcherSocketFails(t, learned, runLearn, []string{"-learn", "br0"},
		"ip", "-6", "neigh", "replace", learned.String(), "lladdr", "02:00:00:00:0c:09", "dev", "br0", "nud", "permanent")
}

// TestAutoSocketFails: the same for -auto, whose address is live by a host
// route through the container bridge.
func TestAutoSocketFails(t *testing.T) {
	routed := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:ca")
	watcherSocketFails(t, routed, runAuto, []string{"-auto"}, "ip", "-6", "route", "add", routed.String()+"/128", "dev", "br0")
}

// watcherSocketFails runs the watcher run with args in the VPS, setup
// making a live; its socket fails, and then opens again.
func watcherSocketFails(t *testing.T, a netip.Addr, run func(*daemon, *scope.Scope, *config, func() bool) error, args []string, setup ...string) {
	shortWatchTimes(t)
	n := newTestNet(t, false)
	learned := a
	n.in("vps", setup...)

	var (
		failing atomic.Bool
		mu      sync.Mutex
		cur     watchEvents // the watcher's socket of the moment
	)
	old := openWatchEvents
	t.Cleanup(func() { openWatchEvents = old })
	openWatchEvents = func(groups uint32) (watchEvents, error) {
		if failing.Load() {
			return nil, errors.New("injected: no socket")
		}
		e, err := old(groups)
		if err == nil {
			mu.Lock()
			cur = e
			mu.Unlock()
		}
		return e, err
	}
	cfg, err := parseArgs(append([]string{"-i", "eth0", "-n", rangeArg}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(cfg)
	sc := scope.New()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The watcher's sockets are the VPS's: it runs, and runs again,
		// on a thread in its namespace.
		inNetns(t, n.ns("vps"), func() error {
			superviseWatcher(sc, "watcher", func(sc *scope.Scope, up func() bool) error { return run(d, sc, cfg, up) }, func() {
				d.setLive(liveLearn, nil)
				d.setLive(liveAuto, nil)
			})
			return nil
		})
	}()
	defer func() { sc.End(); <-done }()

	if !waitUpTo(5*time.Second, func() bool { return liveHas(d, learned) }) {
		t.Fatalf("%v is not live", learned)
	}
	failing.Store(true)
	mu.Lock()
	cur.Close() // the read fails
	mu.Unlock()
	failed := time.Now()
	time.Sleep(watchTimes.grace / 3)
	if !liveHas(d, learned) {
		t.Errorf("%v went %v after the socket failed, within the grace period of %v", learned, time.Since(failed), watchTimes.grace)
	}
	if !waitUpTo(3*time.Second, func() bool { return !liveHas(d, learned) }) {
		t.Fatalf("%v is still answered %v after the socket failed (grace %v)", learned, time.Since(failed), watchTimes.grace)
	}
	t.Logf("withdrawn %v after the socket failed", time.Since(failed))
	failing.Store(false)
	if !waitUpTo(3*time.Second, func() bool { return liveHas(d, learned) }) {
		t.Fatalf("the socket opens again, and %v is not live again", learned)
	}
}
