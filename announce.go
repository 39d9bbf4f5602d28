package main

// Announcements: for a router that learns an address only once the VPS
// has spoken from it, each address is announced in a few rounds, each a
// DAD-style NS for it and an NS from it to the gateway. What to send and
// when, as plain Go; the gateway keeper sends.

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// announceRounds is when each round of announcements goes out, counted
// from the first; each is jittered by up to a quarter either way so that a
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

// announceBatch is one round of announcements for some addresses, due at
// a time.
type announceBatch struct {
	addrs []netip.Addr
	round int
	at    time.Time
}

// announceQueue holds the rounds still to send.
type announceQueue struct {
	batches []announceBatch
	jitter  func(time.Duration) time.Duration
}

// add schedules the first round for addrs, at now give or take the jitter.
func (q *announceQueue) add(addrs []netip.Addr, now time.Time) {
	if len(addrs) > 0 {
		q.batches = append(q.batches, announceBatch{addrs: addrs, at: now.Add(q.jitter(announceRounds[0]))})
	}
}

// due removes and returns the batches due at now, and schedules their
// next rounds.
func (q *announceQueue) due(now time.Time) []announceBatch {
	var out []announceBatch
	keep := q.batches[:0]
	for _, b := range q.batches {
		if b.at.After(now) {
			keep = append(keep, b)
			continue
		}
		out = append(out, b)
		if next := b.round + 1; next < len(announceRounds) {
			keep = append(keep, announceBatch{addrs: b.addrs, round: next,
				at: b.at.Add(q.jitter(announceRounds[next] - announceRounds[b.round]))})
		}
	}
	clear(q.batches[len(keep):])
	q.batches = keep
	return out
}

// next is when the earliest batch is due; zero when none is queued.
func (q *announceQueue) next() time.Time {
	var t time.Time
	for _, b := range q.batches {
		if t.IsZero() || b.at.Before(t) {
			t = b.at
		}
	}
	return t
}
