package main

// Counters of what the daemon saw and did. The packet loop updates them;
// a signal handler may read them from another goroutine.

import (
	"strings"
	"sync/atomic"
	"time"

	"ndpresponder/internal/rtnl"
)

type counters struct {
	seen             atomic.Uint64 // frames that passed the socket filter
	answered         atomic.Uint64 // NAs sent
	sendErrors       atomic.Uint64
	sendFailing      atomic.Uint64             // frames failed since the last one sent; see sent
	ignored          [numReasons]atomic.Uint64 // solicitations, by why
	naRefused        [numReasons]atomic.Uint64 // NAs for the gateway not taken, by why
	nasSeen          atomic.Uint64             // NAs that passed the socket filter
	nsSent           atomic.Uint64             // our NS to the gateway
	announced        atomic.Uint64             // our DAD-style NS for announced addresses
	learned          atomic.Uint64             // live addresses learned from the bridges
	learnHeldBack    atomic.Uint64             // neighbour entries not learned: a cap was reached
	announceDeferred atomic.Uint64             // announcements held back by -announce-rate
	probed           atomic.Uint64             // targets the kernel was asked to resolve on a -learn bridge
	docker           atomic.Uint64             // live addresses of the Docker networks' containers
	dockerNotGlobal  atomic.Uint64             // container addresses refused: not global unicast
	dockerHeldBack   atomic.Uint64             // container addresses of the latest listing not answered: over the cap
	auto             atomic.Uint64             // live host routes of -auto
	liveOutOfScope   atomic.Uint64             // addresses a source said were live, held back (each counted as it came): outside -n, or without it the uplink's on-link prefixes
	gateway          atomic.Pointer[string]

	// The gateway's state for -metrics, as the gateway keeper last saw it.
	gwKnown      atomic.Bool
	gwPinned     atomic.Bool  // by us, or PERMANENT by the administrator
	gwLastAnswer atomic.Int64 // Unix nanoseconds of its last NA; 0: never
}

// setGateway records the gateway's state.
func (c *counters) setGateway(known, pinned bool, lastAnswer time.Time) {
	c.gwKnown.Store(known)
	c.gwPinned.Store(pinned)
	var ns int64
	if !lastAnswer.IsZero() {
		ns = lastAnswer.UnixNano()
	}
	c.gwLastAnswer.Store(ns)
}

func (c *counters) ignore(r reason) { c.ignored[r].Add(1) }

// String renders the counters on one line, ignored reasons that are zero
// left out.
func (c *counters) String() string {
	var b strings.Builder
	b.WriteString(sprintf("seen=%d answered=%d send-errors=%d na-seen=%d ns-sent=%d announced=%d",
		c.seen.Load(), c.answered.Load(), c.sendErrors.Load(), c.nasSeen.Load(), c.nsSent.Load(), c.announced.Load()))
	// The counters that are often zero, said only when they are not.
	for _, o := range [...]struct {
		name string
		n    uint64
	}{
		{"learned", c.learned.Load()},
		{"learn-held-back", c.learnHeldBack.Load()},
		{"announce-deferred", c.announceDeferred.Load()},
		{"docker-not-global", c.dockerNotGlobal.Load()},
		{"docker-held-back", c.dockerHeldBack.Load()},
		{"live-out-of-scope", c.liveOutOfScope.Load()},
		{"probed", c.probed.Load()},
		{"netlink-cut", rtnl.Cut.Load()},
	} {
		if o.n != 0 {
			b.WriteString(sprintf(" %s=%d", o.name, o.n))
		}
	}
	if g := c.gateway.Load(); g != nil {
		b.WriteString(" gateway=" + *g)
	}
	for r := reasonNone + 1; r < firstNAReason; r++ {
		if n := c.ignored[r].Load(); n != 0 {
			b.WriteString(sprintf(" ignored.%s=%d", r, n))
		}
	}
	for r := firstNAReason; r < numReasons; r++ {
		if n := c.naRefused[r].Load(); n != 0 {
			b.WriteString(sprintf(" refused.%s=%d", r, n))
		}
	}
	return b.String()
}
