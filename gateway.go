package main

// The gateway's health and the announcements of our addresses: what to
// send and when, as plain Go. gateway_linux.go does the sending and the
// pinning.

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// announceRounds is when each round of announcements goes out, counted
// from start; each is jittered by up to a quarter either way so that a
// fleet started together does not announce in step.
var announceRounds = []time.Duration{0, time.Second, 3 * time.Second}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/4 + rand.N(d/2+1)
}

// appendDADProbe appends a duplicate-address-detection-style NS for addr,
// as the kernel sends when an address is added (RFC 4862 §5.4.2): from ::
// to addr's solicited-node group, no source link-layer option, with a Nonce
// option (RFC 7527) as Linux adds.
func appendDADProbe(b []byte, self mac, addr netip.Addr) []byte {
	var nonce [6]byte
	for nonce == ([6]byte{}) {
		v := rand.Uint64()
		nonce = [6]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40)}
	}
	g := solicitedNode(addr)
	return appendNS(b, self, multicastMAC(g), netip.IPv6Unspecified(), g, addr, nonce)
}

// appendGatewayNS appends an NS for the gateway from src, to the gateway's
// solicited-node group, with our MAC in a source link-layer option: the
// router learns src is at our MAC, and answers with its own.
func appendGatewayNS(b []byte, self mac, src, gw netip.Addr) []byte {
	g := solicitedNode(gw)
	return appendNS(b, self, multicastMAC(g), src, g, gw, [6]byte{})
}

// solicitSources are the addresses we solicit the gateway from: every
// announced address, and the uplink's first global address, which passes
// a filter that drops link-local sources. Only with neither is the
// link-local address used.
func solicitSources(u *uplink, announce []netip.Addr) []netip.Addr {
	srcs := append([]netip.Addr(nil), announce...)
	if len(u.Global) > 0 && !slices.Contains(srcs, u.Global[0]) {
		srcs = append(srcs, u.Global[0])
	}
	if len(srcs) == 0 && u.LinkLocal.IsValid() {
		srcs = append(srcs, u.LinkLocal)
	}
	return srcs
}

// gatewayState follows what the gateway's NAs tell us.
type gatewayState struct {
	Addr     netip.Addr
	MAC      mac
	Known    bool
	LastSeen time.Time
	Silent   bool // warned that it stopped answering
}

// seen records an NA from the gateway at now carrying m, and says whether
// the MAC is new or changed (and so the pin must follow) and whether the
// gateway had been silent.
func (g *gatewayState) seen(m mac, now time.Time) (changed, wasSilent bool) {
	changed = !g.Known || g.MAC != m
	wasSilent = g.Silent
	g.MAC, g.Known, g.LastSeen, g.Silent = m, true, now, false
	return changed, wasSilent
}

// silent says, once, that the gateway has not answered for more than two
// keepalive intervals.
func (g *gatewayState) silent(now time.Time, interval time.Duration) bool {
	if !g.Known || g.Silent || now.Sub(g.LastSeen) <= 2*interval+time.Second {
		return false
	}
	g.Silent = true
	return true
}
