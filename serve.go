package main

// The packet loop: read a solicitation, decide, answer.

import (
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// frameConn is the packet socket as the loop sees it.
type frameConn interface {
	read() ([]byte, error)
	write(frame []byte) error
}

// errLinkDown reports a transient error of the socket whose interface went
// down; the loop keeps reading.
var errLinkDown = errors.New("link down")

// toKeeper is what the packet loop hands the gateway keeper.
type toKeeper struct {
	view   *atomic.Pointer[gatewayView] // the keeper's; nil until it publishes
	nas    chan<- neighborAdvertisement // NAs that may answer its questions
	claims *mailbox[mac]                // another MAC named for the gateway
	log    logLimiter
}

// sortNA passes an NA for the gateway to the keeper if it may answer one
// of its questions; others are counted, logged (rate-limited) and, if they
// name another MAC for the gateway, reported as a claim. While the keeper
// follows a MAC only NAs naming it get through, so a flood of NAs naming
// others cannot crowd out the gateway's answer.
func (k *toKeeper) sortNA(na *neighborAdvertisement, c *counters) {
	v := k.view.Load()
	if v == nil || !v.addr.IsValid() || na.Target != v.addr {
		return
	}
	m, why := v.check(na)
	if why == reasonNone {
		select {
		case k.nas <- *na:
		default:
			// The keeper is behind: a keepalive from each of many live
			// addresses brings as many answers at once, and the first
			// that fit answer its question. Not a forgery: not logged.
			c.naRefused[reasonNAKeeperBusy].Add(1)
		}
		return
	}
	c.naRefused[why].Add(1)
	if v.claimsOther(na, m) {
		k.claims.put(m)
	}
	if ok, held := k.log.allow(time.Now()); ok {
		if held > 0 {
			warnf("gateway: %d more refusals not logged", held)
		}
		warnf("gateway: refused NA for %v from %v (%v) to %v naming %v: %v", na.Target, na.Src, na.EthSrc, na.Dst, m, why)
	}
}

// sortNS reports a claim when a solicitation that parsed comes from the
// gateway's address but names another MAC than the one followed (its
// source link-layer option, else the frame's source): a router whose MAC
// changed says so in every NS it sends, if in no NA. Like an NA's claim,
// it only makes the keeper check, by probes, that the MAC it follows
// still answers.
func (k *toKeeper) sortNS(ns *neighborSolicitation) {
	v := k.view.Load()
	if v == nil || v.follow == (mac{}) || ns.Src != v.addr {
		return
	}
	m := ns.EthSrc
	if ns.HasSourceLLA {
		m = ns.SourceLLA
	}
	if m.isUnicast() && m != v.follow {
		k.claims.put(m)
	}
}

// serve answers solicitations until the connection is closed. NAs for
// the gateway go to the keeper, without waiting.
func serve(conn frameConn, r *responder, c *counters, k *toKeeper) error {
	var (
		na      [naFrameLen]byte
		adv     neighborAdvertisement
		limiter = logLimiter{perSecond: 5, burst: 20}
	)
	for {
		frame, err := conn.read()
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return nil
			}
			if errors.Is(err, errLinkDown) {
				warnf("responder: %v", err)
				continue
			}
			return err
		}
		if len(frame) > ethIP6Len && frame[ethIP6Len+icmp6OffType] == icmp6TypeNA {
			c.nasSeen.Add(1)
			if parseNA(frame, &adv) == nil {
				k.sortNA(&adv, c)
			}
			continue
		}
		c.seen.Add(1)
		why := r.answer(frame, &na, monotonic())
		if why != reasonOwnFrame { // r.ns is this frame's, or zero
			k.sortNS(&r.ns)
		}
		if why == reasonNone {
			err = conn.write(na[:])
		}
		switch {
		case why != reasonNone:
			c.ignore(why)
		case !c.sent("responder", err):
		default:
			c.answered.Add(1)
		}
		if logEnabled(levelDebug) {
			logDecision(&limiter, &r.ns, why, err)
		}
	}
}

// logDecision writes a rate-limited line saying what became of one
// solicitation: answered, ignored and why, or not sent.
func logDecision(l *logLimiter, ns *neighborSolicitation, why reason, err error) {
	ok, held := l.allow(time.Now())
	if !ok {
		return
	}
	if held > 0 {
		debugf("responder: %d lines held back by the rate limit", held)
	}
	switch {
	case err != nil: // said once by sent; each frame at debug level
		debugf("responder: NA for %v to %v not sent: %v", ns.Target, ns.Src, err)
	case why == reasonNone:
		debugf("responder: answered NS from %v (%v) for %v", ns.Src, ns.EthSrc, ns.Target)
	case ns.Target.IsValid():
		debugf("responder: ignored NS from %v (%v) for %v: %v", ns.Src, ns.EthSrc, ns.Target, why)
	default:
		debugf("responder: ignored frame: %v", why)
	}
}
