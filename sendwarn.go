package main

// Sending fails in bursts: a full transmit queue (ENOBUFS) refuses every
// frame until it drains, and an uplink that goes refuses all of them. The
// daemon says so once per spell, counts every frame in send-errors, and
// says when sending works again.

// sent records the outcome of sending one frame for who ("responder",
// "gateway", "probe": the one that says the spell first) and reports
// whether it went. The first failure of a
// spell is logged, the others only counted; the first success after it
// says how many failed. The senders share the spell: they send on the
// same socket, which fails for all of them at once. A success costs one
// atomic load and allocates nothing.
func (c *counters) sent(who string, err error) bool {
	if err == nil {
		if c.sendFailing.Load() != 0 {
			if n := c.sendFailing.Swap(0); n != 0 {
				infof("uplink: sending works again after %d failed frame(s)", n)
			}
		}
		return true
	}
	c.sendErrors.Add(1)
	if c.sendFailing.Add(1) == 1 {
		warnf("uplink: sending (%s): %v; further failures are counted in send-errors, not logged, until sending works again", who, err)
	}
	return false
}
