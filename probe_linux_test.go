//go:build !nonetns

package main

// -learn's probes, in the test network: containers that have sent nothing
// since they started are reached, an address with no container behind it
// is never answered, and a scan of the range costs a bounded number of
// probes, counted on the bridge by the container's side of the wire.

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// checkHWM logs the daemon's peak resident memory, and fails the test if
// what it owns now, its RssAnon, is over the budget (checkAnonBudget).
func (d *daemonProc) checkHWM() {
	d.t.Helper()
	d.t.Logf("the daemon's VmHWM: %d kB", d.vmHWM())
	d.checkAnonBudget()
}

// requireSilent fails the test if the VPS has a neighbour entry for a on
// br0: the container has shown itself.
func (n *testNet) requireSilent(a netip.Addr) {
	n.t.Helper()
	if e := strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", a.String(), "dev", "br0", "nud", "all")); e != "" {
		n.t.Fatalf("the VPS has an entry for %v before the test: %q", a, e)
	}
}

func TestSilentContainers(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	c2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	n.addContainer("c2", c2)
	n.in("vps", "ip", "-6", "neigh", "flush", "dev", "br0")
	n.requireSilent(container)
	n.requireSilent(c2)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-learn", "br0")
	n.requirePinned()
	w := n.openWire("rt", "rt0")

	// The router's first solicitation for a silent container is answered
	// before the router would ask again, a second later.
	w.drain()
	start := time.Now()
	w.send(routerNS(container))
	if got := w.nas(container, time.Second, 1); len(got) == 0 {
		t.Errorf("a silent container was not answered within 1 s of the first solicitation\n%s", d.logText())
	} else {
		t.Logf("the silent %v answered %v after the first solicitation", container, time.Since(start).Round(10*time.Microsecond))
		if na := got[0]; na.Src != container || na.TargetLLA != vpsMAC || na.Flags&naFlagSolicited == 0 {
			t.Errorf("the NA for %v is %+v, want one from the target naming the VPS's MAC, solicited", container, na)
		}
	}

	// The router's own kernel reaches the other silent container.
	if !n.reachable(c2, 5*time.Second) {
		t.Errorf("the router cannot reach the silent %v\n%s", c2, d.logText())
	}

	// An address of the range with no container: probed, never answered.
	nobody := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:99")
	for i := range 4 {
		w.send(routerNS(nobody))
		if got := w.nas(nobody, time.Second, 1); len(got) > 0 {
			t.Errorf("solicitation %d for %v, where there is no container, got an NA", i, nobody)
		}
	}
	if e := n.in("vps", "ip", "-6", "neigh", "show", nobody.String(), "dev", "br0", "nud", "all"); !strings.Contains(e, "FAILED") && !strings.Contains(e, "INCOMPLETE") {
		t.Errorf("the VPS's entry for %v is %q, want the kernel's probe of it (INCOMPLETE or FAILED)", nobody, e)
	}
	d.checkHWM()
	log := d.stop()
	if got := counter(log, "probed"); got < 3 {
		t.Errorf("probed=%d, want one for each of the two containers and the empty address at least\n%s", got, log)
	}
}

// nsCounter counts the NS the VPS sends on br0 for targets in the range,
// as a container's side of the bridge receives them.
type nsCounter struct {
	sock    *packetSocket
	frames  int
	targets map[netip.Addr]bool
	done    chan struct{}
}

func (n *testNet) countBridgeNS(ns string) *nsCounter {
	n.t.Helper()
	c := &nsCounter{targets: map[netip.Addr]bool{}, done: make(chan struct{})}
	inNetns(n.t, n.ns(ns), func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c.sock, err = openPacketSocket(ifi.Index, ndFilterProgram)
		return err
	})
	n.t.Cleanup(func() { c.sock.Close() })
	go func() {
		defer close(c.done)
		var s neighborSolicitation
		for {
			b, err := c.sock.read()
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed) {
					n.t.Error(err)
				}
				return
			}
			if parseNS(b, &s) == nil && containerRange.Contains(s.Target) && s.Target != container {
				c.frames++
				c.targets[s.Target] = true
			}
		}
	}()
	return c
}

// stop ends the count after d.
func (c *nsCounter) stop(d time.Duration) {
	c.sock.f.SetReadDeadline(time.Now().Add(d))
	<-c.done
}

// TestSilentScan: 10,000 solicitations for distinct addresses of the range,
// where no container is, cost probeBurst probes and probeRate a second,
// each up to three NS of the kernel's on the bridge, and no answer.
func TestSilentScan(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-learn", "br0")
	n.requirePinned()
	w := n.openWire("rt", "rt0")
	seen := n.countBridgeNS("c1")
	before := d.vmHWM()
	const count = 10000
	target := func(i int) netip.Addr {
		a := containerRange.Addr().As16()
		a[14], a[15] = byte((0x1000+i)>>8), byte(0x1000+i)
		return netip.AddrFrom16(a)
	}
	answered := make(chan int)
	go func() {
		// Any NA for an address of the range, until the deadline.
		n := 0
		w.sock.f.SetReadDeadline(time.Now().Add(probeWait + 2*time.Second))
		var na neighborAdvertisement
		for {
			b, err := w.sock.read()
			if err != nil {
				answered <- n
				return
			}
			if parseNA(b, &na) == nil && containerRange.Contains(na.Target) {
				n++
			}
		}
	}()
	start := time.Now()
	for i := range count {
		w.send(routerNS(target(i)))
	}
	scan := time.Since(start)
	// The kernel's last NS for a probe comes two retrans_times after it.
	seen.stop(probeWait + time.Second)
	if got := <-answered; got != 0 {
		t.Errorf("the scan of addresses with no container got %d NA", got)
	}
	bound := probeBurst + probeRate*int(math.Ceil(scan.Seconds()))
	t.Logf("a scan of %d addresses in %v: %d targets probed, %d NS of the kernel's on the bridge (budget %d probes)",
		count, scan.Round(time.Millisecond), len(seen.targets), seen.frames, bound)
	if len(seen.targets) == 0 || len(seen.targets) > bound {
		t.Errorf("%d targets probed on the bridge, want 1 to %d", len(seen.targets), bound)
	}
	if seen.frames > 3*len(seen.targets) {
		t.Errorf("%d NS on the bridge for %d targets, want at most 3 each (mcast_solicit)", seen.frames, len(seen.targets))
	}
	// The probes cost fixed memory: the scan grows nothing.
	if after := d.vmHWM(); after-before > 64 && os.Getenv("NDPR_TEST_RACE") == "" {
		t.Errorf("VmHWM grew from %d kB to %d kB with the scan, want at most 64 kB more", before, after)
	}
	d.checkHWM()
	log := d.stop()
	if got := counter(log, "probed"); got != len(seen.targets) {
		t.Errorf("probed=%d, but %d targets were probed on the bridge\n%s", got, len(seen.targets), log)
	}
	if got := counter(log, "ignored.probing") + counter(log, "ignored.not-live"); got < count*9/10 {
		t.Errorf("ignored.probing + ignored.not-live = %d, want most of the %d solicitations", got, count)
	}
}

// TestNeighProber: the kernel takes the probe (an entry for the target,
// resolving or failed) and refuses one for an interface that does not
// exist; a probe allocates nothing.
func TestNeighProber(t *testing.T) {
	n := newTestNet(t, false)
	nobody := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:77")
	inNetns(t, n.ns("vps"), func() error {
		br0, err := net.InterfaceByName("br0")
		if err != nil {
			return err
		}
		p, err := openNeighProber()
		if err != nil {
			return err
		}
		defer p.Close()
		if err := p.probe(br0.Index, nobody); err != nil {
			return err
		}
		if allocs := testing.AllocsPerRun(100, func() { p.probe(br0.Index, nobody) }); allocs != 0 {
			t.Errorf("probe: %v allocations per run, want 0", allocs)
		}
		if err := p.refused(); err != nil {
			t.Errorf("the kernel refused probes on br0: %v", err)
		}
		if err := p.probe(1<<30, nobody); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		if err := p.refused(); !errors.Is(err, unix.ENODEV) {
			t.Errorf("a probe on no interface: refused() = %v, want ENODEV", err)
		}
		return nil
	})
	if e := n.in("vps", "ip", "-6", "neigh", "show", nobody.String(), "dev", "br0", "nud", "all"); !strings.Contains(e, "INCOMPLETE") && !strings.Contains(e, "FAILED") {
		t.Errorf("after the probe, the entry for %v is %q, want the kernel resolving it", nobody, e)
	}
}
