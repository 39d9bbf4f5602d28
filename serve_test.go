package main

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
)

// scriptedConn is a packet socket that hands out frames (or errors) from
// a script, records what is written, and ends with os.ErrClosed.
type scriptedConn struct {
	script  []any // []byte frames or errors
	written [][]byte
	failing bool // writes fail
}

func (c *scriptedConn) read() ([]byte, error) {
	if len(c.script) == 0 {
		return nil, os.ErrClosed
	}
	next := c.script[0]
	c.script = c.script[1:]
	if err, ok := next.(error); ok {
		return nil, err
	}
	return next.([]byte), nil
}

func (c *scriptedConn) write(frame []byte) error {
	if c.failing {
		return errors.New("no buffer space")
	}
	c.written = append(c.written, append([]byte(nil), frame...))
	return nil
}

// gatewayNA is the router's NA for itself to the VPS, as a frame.
func gatewayNA() []byte {
	var f [naFrameLen]byte
	buildNA(&f, routerMAC, vpsMAC, routerLL, uplinkGlobal, routerLL, naFlagSolicited|naFlagRouter, routerMAC)
	return f[:]
}

// TestServe: the loop answers what the policy answers, passes the NAs it
// sees to the keeper, counts everything, goes on after the link went down
// and ends when the socket is closed.
func TestServe(t *testing.T) {
	target := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
	conn := &scriptedConn{script: []any{
		routerNS(target),
		gatewayNA(),
		gatewayNA(), // the keeper's queue (1 here) is full: counted, dropped
		errf("%w: reading: network is down", errLinkDown),
		routerNS(netip.MustParseAddr("2001:db8:1:3::1")), // out of range
		[]byte{1, 2, 3},
		routerNS(otherContainer),
	}}
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	var c counters
	nas := make(chan neighborAdvertisement, 1)
	tk := &toKeeper{view: &atomic.Pointer[gatewayView]{}, nas: nas, claims: newMailbox[mac]()}
	tk.view.Store(&gatewayView{addr: routerLL, self: vpsMAC})
	if err := serve(conn, r, &c, tk); err != nil {
		t.Fatalf("serve: %v, want nil once the socket is closed", err)
	}
	if len(conn.written) != 2 {
		t.Fatalf("serve wrote %d frames, want the NAs for %v and %v", len(conn.written), target, otherContainer)
	}
	var na neighborAdvertisement
	if err := parseNA(conn.written[0], &na); err != nil || na.Target != target || na.Src != target || na.Dst != routerLL {
		t.Errorf("first frame written: parseNA = %v, %+v; want an NA for %v from it to %v", err, na, target, routerLL)
	}
	select {
	case got := <-nas:
		if got.Target != routerLL || got.TargetLLA != routerMAC {
			t.Errorf("the keeper was given %+v, want the router's NA", got)
		}
	default:
		t.Errorf("the router's NA did not reach the keeper")
	}
	for name, got := range map[string]uint64{
		"seen": c.seen.Load(), "answered": c.answered.Load(), "na-seen": c.nasSeen.Load(),
		"out-of-range": c.ignored[reasonOutOfRange].Load(), "truncated": c.ignored[reasonTruncated].Load(),
		"na-keeper-busy": c.naRefused[reasonNAKeeperBusy].Load(), "na-not-asked": c.naRefused[reasonNANotAsked].Load(),
	} {
		want := map[string]uint64{"seen": 4, "answered": 2, "na-seen": 2, "out-of-range": 1, "truncated": 1, "na-keeper-busy": 1}[name]
		if got != want {
			t.Errorf("counter %s = %d, want %d", name, got, want)
		}
	}
}

// TestServeErrors: a failed send is counted, not fatal; any other read
// error ends the loop with it.
func TestServeErrors(t *testing.T) {
	boom := errors.New("boom")
	conn := &scriptedConn{script: []any{routerNS(otherContainer), boom}, failing: true}
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	var c counters
	if err := serve(conn, r, &c, &toKeeper{view: &atomic.Pointer[gatewayView]{}}); err != boom {
		t.Errorf("serve = %v, want %v", err, boom)
	}
	if c.sendErrors.Load() != 1 || c.answered.Load() != 0 {
		t.Errorf("send-errors=%d answered=%d, want 1 and 0", c.sendErrors.Load(), c.answered.Load())
	}
}

// TestServeClaimsFromNS: an NS from the gateway's address naming another
// MAC than the one the keeper follows (in its source link-layer option, or
// the frame's source without one) is a claim the keeper checks; one naming
// the followed MAC, one from another address, our own frame looped back,
// and a frame that does not parse are not. Nothing allocates.
func TestServeClaimsFromNS(t *testing.T) {
	target := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
	moved := mac{0x02, 0, 0, 0, 0, 0x11}
	noSLLA := func(from mac) []byte { // a unicast reachability probe without the option
		f := make([]byte, ethIP6Len+nsLen)
		putEthIP6(f, from, vpsMAC, routerLL, target, nsLen)
		icmp := f[ethIP6Len:]
		icmp[icmp6OffType] = icmp6TypeNS
		tg := target.As16()
		copy(icmp[ndOffTarget:], tg[:])
		binary.BigEndian.PutUint16(icmp[icmp6OffChecksum:], icmp6Checksum(routerLL, target, icmp))
		return f
	}
	other := appendNS(nil, moved, multicastMAC(solicitedNode(target)), netip.MustParseAddr("fe80::66"), solicitedNode(target), target, [6]byte{})
	broken := routerNS(target)
	broken[len(broken)-1] ^= 0xff // bad checksum
	tests := []struct {
		name  string
		frame []byte
		claim bool
	}{
		{"the followed MAC", routerNS(target), false},
		{"another MAC in the source option", appendNS(nil, moved, multicastMAC(solicitedNode(target)), routerLL, solicitedNode(target), target, [6]byte{}), true},
		{"another MAC as the frame's source, no option", noSLLA(moved), true},
		{"from another address", other, false},
		{"a bad checksum", broken, false},
		{"our own frame", withEthSrc(routerNS(target), vpsMAC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
			tk := &toKeeper{view: &atomic.Pointer[gatewayView]{}, nas: make(chan neighborAdvertisement, 1), claims: newMailbox[mac]()}
			tk.view.Store(&gatewayView{addr: routerLL, self: vpsMAC, follow: routerMAC})
			var c counters
			if err := serve(&scriptedConn{script: []any{tt.frame}}, r, &c, tk); err != nil {
				t.Fatalf("serve: %v", err)
			}
			select {
			case m := <-tk.claims.c:
				if !tt.claim || m != moved {
					t.Errorf("claim of %v, want claim=%v of %v", m, tt.claim, moved)
				}
			default:
				if tt.claim {
					t.Errorf("no claim, want one of %v", moved)
				}
			}
		})
	}
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	tk := &toKeeper{view: &atomic.Pointer[gatewayView]{}, claims: newMailbox[mac]()}
	tk.view.Store(&gatewayView{addr: routerLL, self: vpsMAC, follow: routerMAC})
	var na [naFrameLen]byte
	ns := routerNS(target)
	if n := testing.AllocsPerRun(1000, func() {
		r.answer(ns, &na, 0)
		tk.sortNS(&r.ns)
	}); n != 0 {
		t.Errorf("answering and sorting an NS from the gateway allocates %v times, want 0", n)
	}
}
