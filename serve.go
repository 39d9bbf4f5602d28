package main

// The packet loop: read a solicitation, decide, answer.

import (
	"errors"
	"os"
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

// serve answers solicitations until the connection is closed. Valid NAs
// go to nas, without waiting, for the gateway keeper.
func serve(conn frameConn, r *responder, c *counters, nas chan<- neighborAdvertisement) error {
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
				select {
				case nas <- adv:
				default:
				}
			}
			continue
		}
		c.seen.Add(1)
		why := r.answer(frame, &na, monotonic())
		if why == reasonNone {
			err = conn.write(na[:])
		}
		switch {
		case why != reasonNone:
			c.ignore(why)
		case err != nil:
			c.sendErrors.Add(1)
		default:
			c.answered.Add(1)
		}
		if logEnabled(levelDebug) || err != nil {
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
	case err != nil:
		warnf("responder: NA for %v to %v not sent: %v", ns.Target, ns.Src, err)
	case why == reasonNone:
		debugf("responder: answered NS from %v (%v) for %v", ns.Src, ns.EthSrc, ns.Target)
	case ns.Target.IsValid():
		debugf("responder: ignored NS from %v (%v) for %v: %v", ns.Src, ns.EthSrc, ns.Target, why)
	default:
		debugf("responder: ignored frame: %v", why)
	}
}
