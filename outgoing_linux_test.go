//go:build !nonetns

package main

// The daemon never reads the frames the host sends, with no help from
// PACKET_IGNORE_OUTGOING, which Linux before 4.20 and qemu-user refuse.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readAll returns every frame f reads within d.
func readAll(t *testing.T, f *os.File, d time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	f.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, nsSnapLen+1)
	for {
		n, err := f.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatalf("reading frames: %v", err)
		}
		got = append(got, bytes.Clone(buf[:n]))
	}
}

// TestOwnFramesKernel: on the VPS's uplink, a tap bound to every protocol
// (as tcpdump's) reads the frames the host sends: an NA and an NS written
// on the daemon's socket, and the kernel's multicast NS for an address
// whose solicited-node group the VPS has joined, which the kernel also
// loops back. The daemon's socket, with no option set, reads only the
// router's frames.
func TestOwnFramesKernel(t *testing.T) {
	n := newTestNet(t, true)
	var ifindex int
	var tap *os.File
	var sock *packetSocket
	inNetns(t, n.ns("vps"), func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ifindex = ifi.Index
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		tap = os.NewFile(uintptr(fd), "tap")
		filter := make([]unix.SockFilter, len(ndFilterProgram))
		for i, ins := range ndFilterProgram {
			filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
			return err
		}
		sock, err = openPacketSocket(ifindex, ndFilterProgram)
		return err
	})
	t.Cleanup(func() { tap.Close(); sock.Close() })

	// The daemon sends an NA and an NS; the kernel solicits an on-link
	// address whose solicited-node group is the VPS's own address's; the
	// router solicits the container.
	var na [naFrameLen]byte
	buildNA(&na, vpsMAC, routerMAC, container, routerLL, container, naFlagSolicited|naFlagOverride, vpsMAC)
	ownNS := appendNS(nil, vpsMAC, routerMAC, vpsAddr, routerLL, routerLL, [6]byte{})
	for _, f := range [][]byte{na[:], ownNS} {
		if err := sock.write(f); err != nil {
			t.Fatal(err)
		}
	}
	unknown := netip.MustParseAddr("2001:db8:1:2:1::2") // ff02::1:ff00:2, as vpsAddr
	n.tryIn("vps", "ping", "-n", "-c", "1", "-W", "1", unknown.String())
	w := n.openWire("rt", "rt0")
	peerNS := appendNS(nil, w.mac, multicastMAC(solicitedNode(container)), routerLL, solicitedNode(container), container, [6]byte{})
	w.send(peerNS)

	var ns neighborSolicitation
	var adv neighborAdvertisement
	names := func(frames [][]byte) string {
		var s []string
		for _, f := range frames {
			var name string
			switch {
			case bytes.Equal(f, na[:]):
				name = "our NA"
			case bytes.Equal(f, ownNS):
				name = "our NS"
			case bytes.Equal(f, peerNS):
				name = "router's NS"
			case parseNA(f, &adv) == nil && adv.EthSrc == w.mac && adv.Target == routerLL:
				name = "router's NA"
			case parseNS(f, &ns) == nil && ns.EthSrc == vpsMAC && ns.Target == unknown:
				name = "kernel's NS" // sent again after a second
			default:
				name = "other " + hex.EncodeToString(f)
			}
			if !slices.Contains(s, name) {
				s = append(s, name)
			}
		}
		slices.Sort(s) // the router's answer may come before or after its NS
		return strings.Join(s, ", ")
	}
	for _, c := range []struct {
		name string
		f    *os.File
		want string
	}{
		{"tap", tap, "kernel's NS, our NA, our NS, router's NA, router's NS"},
		{"daemon's", sock.f, "router's NA, router's NS"},
	} {
		if got := names(readAll(t, c.f, 500*time.Millisecond)); got != c.want {
			t.Errorf("%s socket read %q, want %q", c.name, got, c.want)
		}
	}
}

// TestOwnFramesDaemon: the daemon answers, announces and keeps the gateway
// alive, and reads none of the frames the host sends, its own or the
// kernel's: an NS among them would be counted as ignored.own-frame (as it
// is when the socket is bound to ETH_P_ALL), an NA as na-seen beyond the
// gateway's answers to its NS.
func TestOwnFramesDaemon(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-a", container.String(), "-keepalive", "1s")
	n.requirePinned()
	w := n.openWire("rt", "rt0")
	const targets = 40
	for i := range targets {
		a := containerRange.Addr().As16()
		a[15] = byte(0x10 + i)
		target := netip.AddrFrom16(a)
		w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(target)), routerLL, solicitedNode(target), target, [6]byte{}))
		if got := w.nas(target, 2*time.Second, 1); len(got) != 1 {
			t.Fatalf("NS for %v got %d NA, want 1", target, len(got))
		}
	}
	if !n.ping(container) {
		t.Errorf("router cannot ping the container")
	}
	log := d.stop()
	counters := log[strings.LastIndex(log, "counters:"):]
	if answered := counter(counters, "answered"); answered < targets {
		t.Errorf("answered=%d, want at least %d:\n%s", answered, targets, counters)
	}
	if counter(counters, "announced") < 1 || counter(counters, "ns-sent") < 1 {
		t.Errorf("the daemon sent no NS of its own, so the test proves nothing:\n%s", counters)
	}
	if strings.Contains(counters, "ignored.") {
		t.Errorf("the daemon ignored frames, its own among them:\n%s", counters)
	}
	if counter(counters, "na-seen") > counter(counters, "ns-sent") {
		t.Errorf("the daemon saw more NAs than it sent NS: its own NAs came back:\n%s", counters)
	}
}
