package scope

import (
	"sync/atomic"
	"time"
)

// An Alarm is a timer whose channel carries no time. time.NewTimer,
// NewTicker and After hand their channel to the runtime as an interface
// value, and that is enough for the linker to keep time.Time's String
// method (the runtime prints a panic value through its String method), and
// with it the time layouts and the time-zone loader: 82 kB of binary in a
// program that does nothing else, and on the boxes this daemon is made for
// the whole binary is resident. time.AfterFunc hands the runtime a func.
//
// A ring that was on its way when the alarm was stopped or reset can still
// arrive once: the readers act on what is due at time.Now(), not on the
// ring itself.
type Alarm struct {
	C     <-chan struct{} // one ring at a time; rings while one waits are dropped
	c     chan struct{}
	t     *time.Timer
	every time.Duration // > 0: rings every this long
	off   atomic.Bool   // a ticker stopped: the ring in progress re-arms nothing
}

// NewAlarm rings once, after d.
func NewAlarm(d time.Duration) *Alarm { return startAlarm(d, 0) }

// NewTicker rings every d until stopped; it is not reset.
func NewTicker(d time.Duration) *Alarm { return startAlarm(d, d) }

func startAlarm(d, every time.Duration) *Alarm {
	c := make(chan struct{}, 1)
	a := &Alarm{C: c, c: c, every: every}
	a.t = time.AfterFunc(1<<63-1, a.ring) // armed once a.t is set: ring reads it
	a.t.Reset(d)
	return a
}

func (a *Alarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
	if a.every > 0 && !a.off.Load() {
		a.t.Reset(a.every)
	}
}

// Reset makes the alarm ring once after d, dropping a ring not yet read.
func (a *Alarm) Reset(d time.Duration) {
	a.t.Stop()
	a.drain()
	a.t.Reset(d)
}

// Stop silences the alarm and drops a ring not yet read.
func (a *Alarm) Stop() {
	a.off.Store(true)
	a.t.Stop()
	a.drain()
}

func (a *Alarm) drain() {
	select {
	case <-a.c:
	default:
	}
}
