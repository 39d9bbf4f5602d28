package main

import (
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// captureLog runs f with the log going to a pipe, and returns what it
// wrote.
func captureLog(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		out <- b.String()
	}()
	stderr := os.Stderr
	os.Stderr = w
	defer func() {
		os.Stderr = stderr
		w.Close()
	}()
	f()
	os.Stderr = stderr
	w.Close()
	return <-out
}

// spellConn is a packet socket whose writes fail while failing is set,
// with ENOBUFS, as a full transmit queue refuses frames.
type spellConn struct {
	scriptedConn
	failing *bool
}

func (c *spellConn) write(frame []byte) error {
	if *c.failing {
		return os.NewSyscallError("write", syscall.ENOBUFS)
	}
	return nil
}

// spellScript turns the writes of a spellConn off and on as frames are read.
type spellScript struct {
	*spellConn
	plan []bool // failing, for each frame read
}

func (s *spellScript) read() ([]byte, error) {
	if len(s.plan) > 0 {
		*s.failing = s.plan[0]
		s.plan = s.plan[1:]
	}
	return s.spellConn.read()
}

// TestSendFailureSaidOnce: a spell of failed sends is one warning, every
// frame counted in send-errors, and one line when sending works again,
// however many frames the spell refused; a second spell is said again.
func TestSendFailureSaidOnce(t *testing.T) {
	var plan []bool
	var script []any
	for i := range 250 {
		// Frames 0-9 go, 10-109 fail, 110-149 go, 150-249 fail.
		plan = append(plan, (i >= 10 && i < 110) || i >= 150)
		script = append(script, routerNS(otherContainer))
	}
	failing := false
	conn := &spellScript{spellConn: &spellConn{scriptedConn: scriptedConn{script: script}, failing: &failing}, plan: plan}
	r := testResponder(nil, sourceTarget, netip.Addr{}, false, testUplink())
	r.pol.Load().rateTarget = 0 // answer every one
	var c counters
	log := captureLog(t, func() {
		if err := serve(conn, r, &c, &toKeeper{view: &atomic.Pointer[gatewayView]{}}); err != nil {
			t.Errorf("serve = %v, want nil once the socket is closed", err)
		}
	})
	if n := strings.Count(log, "uplink: sending (responder): write: no buffer space available"); n != 2 {
		t.Errorf("two spells of ENOBUFS logged %d warnings, want 2:\n%s", n, log)
	}
	if !strings.Contains(log, "uplink: sending works again after 100 failed frame(s)") {
		t.Errorf("the end of the first spell not said:\n%s", log)
	}
	if n := strings.Count(log, "\n"); n > 3 {
		t.Errorf("%d log lines for two spells, want at most 3:\n%s", n, log)
	}
	if c.sendErrors.Load() != 200 || c.answered.Load() != 50 {
		t.Errorf("send-errors=%d answered=%d, want 200 and 50", c.sendErrors.Load(), c.answered.Load())
	}
}

// failingWire is the keeper's frame writer while the uplink refuses
// frames.
type failingWire struct{ failing bool }

func (w *failingWire) write([]byte) error {
	if w.failing {
		return os.NewSyscallError("write", syscall.ENOBUFS)
	}
	return nil
}

// TestKeeperSendFailureSaidOnce: the keeper's announcements into a full
// transmit queue are one warning, not one per frame.
func TestKeeperSendFailureSaidOnce(t *testing.T) {
	var addrs []netip.Addr
	for i := range 64 {
		addrs = append(addrs, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0x64, 0x6f, 0x63, 0x6b, 0x65, 0x72, 1, byte(i)}))
	}
	r := newTestKeeper(&config{pinGateway: true, announce: addrs})
	w := &failingWire{failing: true}
	r.out = w
	log := captureLog(t, func() {
		r.announceAll(addrs, at(time.Second))
		w.failing = false
		r.announceAll(addrs[:1], at(2*time.Second))
	})
	if n := strings.Count(log, "uplink: sending (gateway):"); n != 1 {
		t.Errorf("announcing %d addresses into a full queue logged %d warnings, want 1:\n%s", len(addrs), n, log)
	}
	if !strings.Contains(log, "uplink: sending works again after") {
		t.Errorf("the end of the spell not said:\n%s", log)
	}
	if got := r.c.sendErrors.Load(); got < uint64(len(addrs)) {
		t.Errorf("send-errors = %d, want every failed frame (at least %d)", got, len(addrs))
	}
}

// TestSentAllocs: a frame sent costs the packet loop no allocation.
func TestSentAllocs(t *testing.T) {
	var c counters
	if n := testing.AllocsPerRun(1000, func() { c.sent("responder", nil) }); n != 0 {
		t.Errorf("sent allocates %v times per frame sent, want 0", n)
	}
}
