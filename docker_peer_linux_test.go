package main

// The Docker watcher against engines that lie or storm, and that go away:
// fake engines on unix sockets, in this process, no root needed.

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ndpresponder/internal/scope"
)

// dockerTestDaemon is a daemon following the engine at sock, started with
// args and the watchers' supervision; stop ends it.
func dockerTestDaemon(t *testing.T, sock string, args ...string) (d *daemon, stop func()) {
	t.Helper()
	cfg, err := parseArgs(append([]string{"-i", "eth0", "-N", "ndpr6"}, args...), func(k string) string {
		if k == "DOCKER_HOST" {
			return "unix://" + sock
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d = newDaemon(cfg)
	sc := scope.New()
	d.applyWatchers(sc, nil, cfg)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			d.applyWatchers(sc, cfg, nil)
			sc.End()
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// liveHas reports whether a is live now.
func liveHas(d *daemon, a netip.Addr) bool {
	l := d.r.live.Load()
	return l != nil && l.Has(a)
}

// waitUpTo waits up to timeout for cond.
func waitUpTo(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// lyingListing is a listing of network ndpr6 with a new ID each time, n,
// and a new address of the test range.
func lyingListing(n int) (string, netip.Addr) {
	a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0x64, 0x6f, 0x63, 0x6b, 0x65, 0x73, byte(n >> 8), byte(n)})
	return `{"Name":"ndpr6","Id":"` + fmt.Sprintf("%064x", n) + `","Driver":"bridge","Containers":{"c":{"Name":"c","IPv6Address":"` + a.String() + `/112"}}}`, a
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDockerLyingEngine: an engine that gives the network a new ID (and its
// container a new address) at each listing, and a storm of events. What the
// daemon keeps of it is what the latest listing says: its heap does not grow
// with the number of listings. And the storm makes one listing an interval,
// not one an event; the last event is followed by a listing all the same.
func TestDockerLyingEngine(t *testing.T) {
	var (
		listings  atomic.Int64
		mu        sync.Mutex
		lastAddr  netip.Addr               // of the latest listing
		lastEvent time.Time                // when the storm's last event was written
		streams   = make(chan chan int, 4) // each event stream's storms
		stormDone = make(chan struct{}, 1)
		afterLast atomic.Int64 // listings that began after the last event was written
	)
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			ev := []byte(fakeEvent("connect"))
			storm := make(chan int)
			streams <- storm
			for {
				select {
				case n := <-storm:
					for range n {
						if _, err := c.Write(ev); err != nil {
							return
						}
					}
					mu.Lock()
					lastEvent = time.Now()
					mu.Unlock()
					stormDone <- struct{}{}
				case <-done:
					return
				}
			}
		}
		n := int(listings.Add(1))
		body, a := lyingListing(n)
		mu.Lock()
		lastAddr = a
		if !lastEvent.IsZero() {
			afterLast.Add(1)
		}
		mu.Unlock()
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + body))
	})
	defer func(old time.Duration) { dockerRelistEvery = old }(dockerRelistEvery)

	// Each event is followed by a listing, as fast as they come: the
	// IDs of old listings are not kept.
	dockerRelistEvery = 0
	d, stop := dockerTestDaemon(t, e.sock, "-n", "2001:db8:1:2:646f:636b:6573::/112")
	defer stop()
	if !waitUpTo(5*time.Second, func() bool { return listings.Load() > 0 && d.r.live.Load() != nil }) {
		t.Fatal("the daemon did not list the network")
	}
	settle := func() int64 {
		for n := listings.Load(); ; {
			time.Sleep(100 * time.Millisecond)
			if m := listings.Load(); m == n {
				return m
			}
			n = listings.Load()
		}
	}
	storm := <-streams
	// A first storm grows the maps to their working size.
	storm <- 200
	<-stormDone
	before, heapBefore := settle(), heapInUse()
	storm <- 4000
	<-stormDone
	after, heapAfter := settle(), heapInUse()
	grew := int64(heapAfter) - int64(heapBefore)
	t.Logf("%d listings, each with a new network ID: heap %d -> %d bytes (%+d)", after-before, heapBefore, heapAfter, grew)
	if after-before < 1000 {
		t.Fatalf("only %d listings for 4,000 events with no interval; the test needs more", after-before)
	}
	if grew > 64<<10 {
		t.Errorf("the heap grew by %d bytes over %d listings of a lying engine, want at most 64 kB: its IDs are kept", grew, after-before)
	}
	mu.Lock()
	want := lastAddr
	mu.Unlock()
	if l := d.r.live.Load(); l == nil || !l.Has(want) || len(l.m) != 1 {
		t.Errorf("live after the storm = %v, want only the latest listing's %v", l, want)
	}
	stop()

	// With the interval of the daemon, a storm of events makes a listing
	// an interval, and its last event is followed by one.
	dockerRelistEvery = 200 * time.Millisecond
	mu.Lock()
	lastEvent = time.Time{}
	mu.Unlock()
	d, stop = dockerTestDaemon(t, e.sock, "-n", "2001:db8:1:2:646f:636b:6573::/112")
	defer stop()
	if !waitUpTo(5*time.Second, func() bool { return d.r.live.Load() != nil }) {
		t.Fatal("the daemon did not list the network")
	}
	storm = <-streams
	start, first := time.Now(), listings.Load()
	for range 10 { // 20,000 events over a second
		storm <- 2000
		<-stormDone
		time.Sleep(100 * time.Millisecond)
	}
	if !waitUpTo(2*time.Second, func() bool { return afterLast.Load() > 0 }) {
		t.Errorf("no listing after the storm's last event")
	}
	took, n := time.Since(start), listings.Load()-first
	max := int64(took/dockerRelistEvery) + 2
	t.Logf("20,000 events over %v: %d listings (at most %d allowed)", took, n, max)
	if n > max {
		t.Errorf("20,000 events over %v made %d listings, want at most %d: one an interval of %v", took, n, max, dockerRelistEvery)
	}
	mu.Lock()
	want = lastAddr
	mu.Unlock()
	if !waitUpTo(time.Second, func() bool { return liveHas(d, want) }) {
		t.Errorf("the latest listing's %v is not live after the storm", want)
	}
}

// shortWatchTimes makes the watchers' grace and backoff short for a test.
func shortWatchTimes(t *testing.T) {
	old := watchTimes
	watchTimes.grace, watchTimes.backoffMin, watchTimes.backoffMax = 600*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
	t.Cleanup(func() { watchTimes = old })
}

// TestDockerEngineGone: the engine goes away. Its containers' addresses
// stay answered for the grace period, then no longer are; when it comes
// back, what its fresh listing says is answered.
func TestDockerEngineGone(t *testing.T) {
	shortWatchTimes(t)
	a1, a2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c1"), netip.MustParseAddr("2001:db8:1:2:646f:636b:6573:c2")
	var (
		up     atomic.Bool
		listed atomic.Pointer[netip.Addr]
		kill   = make(chan struct{}) // closed: the engine's event streams end
	)
	up.Store(true)
	listed.Store(&a1)
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if !up.Load() {
			return // accepted and closed: the engine is going
		}
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			select {
			case <-kill:
			case <-done:
			}
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + fakeListing(*listed.Load())))
	})
	d, _ := dockerTestDaemon(t, e.sock, "-n", "2001:db8:1:2:646f:636b:6573::/112")
	if !waitUpTo(5*time.Second, func() bool { return liveHas(d, a1) }) {
		t.Fatal("the container is not live")
	}
	up.Store(false)
	gone := time.Now()
	close(kill)
	time.Sleep(200 * time.Millisecond)
	if !liveHas(d, a1) {
		t.Errorf("the container's address went %v after the engine, before the grace period of %v", time.Since(gone), watchTimes.grace)
	}
	if !waitUpTo(3*time.Second, func() bool { return !liveHas(d, a1) }) {
		t.Fatalf("the container's address is still answered %v after the engine went (grace %v)", time.Since(gone), watchTimes.grace)
	}
	t.Logf("withdrawn %v after the engine went", time.Since(gone))
	if n := d.c.docker.Load(); n != 0 {
		t.Errorf("docker = %d after the withdrawal, want 0", n)
	}
	listed.Store(&a2)
	up.Store(true)
	if !waitUpTo(3*time.Second, func() bool { return liveHas(d, a2) }) {
		t.Fatal("the engine is back, and its fresh listing is not answered")
	}
	if liveHas(d, a1) {
		t.Errorf("%v, gone while the engine was away, is answered again", a1)
	}
}
