//go:build !nonetns

package main

// -auto in the test network: a VPN client behind a tun device in the VPS,
// the same L3 shape as a WireGuard peer (no MAC, no neighbour table, a
// /128 route to it), reached by the router once its route exists, and
// answered no more once the route goes.

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The VPN clients' range: no prefix route of its own, so that only the
// clients' /128 routes make its addresses live.
var (
	vpnRange  = netip.MustParsePrefix("2001:db8:1:2:7775::/112")
	vpnClient = netip.MustParseAddr("2001:db8:1:2:7775::c")
)

// addTun makes a tun device in namespace ns, with a peer behind it that
// answers echo requests to addrs, as a VPN client would; it goes when the
// test ends.
func (n *testNet) addTun(ns, name string, addrs ...netip.Addr) {
	n.t.Helper()
	var fd int
	inNetns(n.t, n.ns(ns), func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("open /dev/net/tun", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		return os.NewSyscallError("TUNSETIFF", unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr))
	})
	f := os.NewFile(uintptr(fd), name)
	done := make(chan struct{})
	n.t.Cleanup(func() {
		f.Close()
		<-done
	})
	n.in(ns, "ip", "link", "set", name, "up")
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			k, err := f.Read(buf)
			if err != nil {
				if !errors.Is(err, os.ErrClosed) {
					n.t.Errorf("reading %s: %v", name, err)
				}
				return
			}
			if reply := echoReply(buf[:k], addrs); reply != nil {
				f.Write(reply)
			}
		}
	}()
}

// echoReply answers an ICMPv6 echo request (RFC 4443 §4.1) in an IPv6
// packet to one of addrs; nil for anything else.
func echoReply(p []byte, addrs []netip.Addr) []byte {
	if len(p) < ip6HdrLen+8 || p[0]>>4 != 6 || p[ip6OffNextHeader] != protoICMPv6 || p[ip6HdrLen] != 128 {
		return nil
	}
	src := netip.AddrFrom16([16]byte(p[ip6OffSrc:]))
	dst := netip.AddrFrom16([16]byte(p[ip6OffDst:]))
	if !slices.Contains(addrs, dst) {
		return nil
	}
	r := slices.Clone(p)
	copy(r[ip6OffSrc:], dst.AsSlice())
	copy(r[ip6OffDst:], src.AsSlice())
	r[ip6OffHopLimit] = 64
	icmp := r[ip6HdrLen:]
	icmp[0] = 129 // echo reply
	binary.BigEndian.PutUint16(icmp[2:], 0)
	binary.BigEndian.PutUint16(icmp[2:], icmp6Checksum(dst, src, icmp))
	return r
}

func TestAutoRouted(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
	d := n.startDaemon("-i", "eth0", "-n", vpnRange.String(), "-auto")
	n.requirePinned()

	// The client connects after the daemon started: its tun device, and
	// its route, as wg-quick adds one for each peer's AllowedIPs.
	n.addTun("vps", "wg0", vpnClient)
	n.in("vps", "ip", "-6", "route", "add", vpnClient.String()+"/128", "dev", "wg0")
	if !d.waitLog("new live address", 1, 3*time.Second) {
		t.Fatalf("the daemon did not take the new route:\n%s", d.logText())
	}
	// The hypervisor delivers nothing for an address the VPS has not sent
	// from: only the announcement makes the client reachable.
	if !n.reachable(vpnClient, 5*time.Second) {
		t.Fatalf("the router cannot reach the VPN client behind the announce-required hypervisor\n%s", d.logText())
	}

	// From here the hypervisor delivers every solicitation, so that what
	// is not answered is the daemon's doing.
	n.setHypervisor(hvSpoof)
	w := n.openWire("rt", "rt0")
	if !w.answered(vpnClient, time.Second) {
		t.Fatalf("the routed client is not answered")
	}
	noRoute := netip.MustParseAddr("2001:db8:1:2:7775::d")
	if w.answered(noRoute, time.Second) {
		t.Errorf("%v, in the range without a route, was answered", noRoute)
	}

	// The client goes: its route is deleted, and within 2 s the daemon
	// answers no more.
	n.in("vps", "ip", "-6", "route", "del", vpnClient.String()+"/128", "dev", "wg0")
	deleted := time.Now()
	for w.answered(vpnClient, 0) { // one try, 500 ms for its NA
		if time.Since(deleted) > 2*time.Second {
			t.Fatalf("still answered %v after the route was deleted", time.Since(deleted).Round(time.Millisecond))
		}
	}
	t.Logf("no longer answered %v after the route was deleted (each try waits 500 ms for the NA)", time.Since(deleted).Round(time.Millisecond))
	if w.answered(vpnClient, time.Second) {
		t.Errorf("answered again after the route was deleted")
	}
	d.checkHWM()
	log := d.stop()
	if counter(log, "ignored.not-live") < 2 {
		t.Errorf("the solicitations for addresses without a route were not counted as not-live:\n%s", log)
	}
}
