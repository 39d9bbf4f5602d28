//go:build !nonetns

package main

// The uplink comes and goes: the daemon waits on rtnetlink events without
// spending CPU, and answers again within 2 s of the link being back.

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuTime is the time the daemon's threads have spent on a CPU and the
// number of times they were put on one, from the scheduler's own account
// (/proc/PID/task/*/schedstat), to the nanosecond. The clock ticks of
// /proc/PID/stat are that same time rounded down to 10 ms, so a few
// microseconds of work can show as a whole tick.
func (d *daemonProc) cpuTime() (time.Duration, int) {
	d.t.Helper()
	dir := "/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		d.t.Fatalf("reading the daemon's threads: %v", err)
	}
	var sum time.Duration
	var runs int
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/schedstat")
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(b))
		if len(f) != 3 {
			d.t.Fatalf("schedstat of thread %s: %q", task.Name(), b)
		}
		ns, err1 := strconv.ParseInt(f[0], 10, 64)
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			d.t.Fatalf("schedstat of thread %s: %q", task.Name(), b)
		}
		sum += time.Duration(ns)
		runs += n
	}
	return sum, runs
}

// A waiting daemon may spend at most idleBudget and be woken at most
// idleWakeups times in a window of a few seconds: the Go runtime's own
// housekeeping (sysmon's minute-long sleep, the scavenger) wakes a thread
// rarely and costs microseconds; a loop that polls, even once a second,
// shows in the wake-ups, and one that polls often shows in the time.
const (
	idleBudget  = time.Millisecond
	idleWakeups = 2
)

// checkIdle lets the daemon finish what it started (the work around its
// last log line, a collection after start-up), then fails the test if in
// window it spends more CPU time or is woken more often than an idle daemon.
func (d *daemonProc) checkIdle(window time.Duration, while string) {
	d.t.Helper()
	prev, _ := d.cpuTime()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		now, _ := d.cpuTime()
		if now-prev < 50*time.Microsecond {
			break
		}
		prev = now
	}
	t0, r0 := d.cpuTime()
	time.Sleep(window)
	t1, r1 := d.cpuTime()
	d.t.Logf("%v %s: %v of CPU, woken %d times", window, while, t1-t0, r1-r0)
	if t1-t0 > idleBudget || r1-r0 > idleWakeups {
		d.t.Errorf("daemon used %v of CPU and was woken %d times in %v %s, want at most %v and %d",
			t1-t0, r1-r0, window, while, idleBudget, idleWakeups)
	}
}

// reachableWithin reports whether the router's ping to the container gets
// a reply within d.
func (n *testNet) reachableWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := n.tryIn("rt", "ping", "-n", "-c", "1", "-W", "0.5", container.String()); err == nil {
			return true
		}
	}
	return false
}

// waitLog waits up to d for the daemon's log to contain s n times.
func (d *daemonProc) waitLog(s string, n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for strings.Count(d.logText(), s) < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func TestUplinkCreatedLater(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof, noUplink: true})
	d := n.startDaemonWaiting("-i", "eth0", "-n", rangeArg)
	d.checkIdle(3*time.Second, "waiting for its uplink")
	n.addUplink()
	n.configureUplink(false)
	if !d.waitLog("responder: answering on eth0", 1, 2*time.Second) {
		t.Fatalf("daemon not answering 2 s after the uplink appeared:\n%s", d.logText())
	}
	if !n.reachableWithin(2 * time.Second) {
		t.Errorf("router cannot reach the container within 2 s of the uplink appearing")
	}
	d.stop()
}

func TestUplinkDownUp(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !n.reachableWithin(3 * time.Second) {
		t.Fatal("router cannot reach the container at first")
	}
	n.in("vps", "ip", "link", "set", "eth0", "down")
	d.checkIdle(2*time.Second, "with its uplink down")
	n.in("vps", "ip", "link", "set", "eth0", "up")
	n.configureUplink(false) // down took the address, the route and the pin with it
	n.flushRouterNeigh()
	if !n.reachableWithin(2 * time.Second) {
		t.Errorf("router cannot reach the container within 2 s of the uplink coming back up\n%s", d.logText())
	}
	d.stop()
}

func TestUplinkRecreated(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !n.reachableWithin(3 * time.Second) {
		t.Fatal("router cannot reach the container at first")
	}
	n.in("vps", "ip", "link", "del", "eth0")
	if !d.waitLog("is gone", 1, 2*time.Second) {
		t.Fatalf("daemon did not notice its uplink was deleted:\n%s", d.logText())
	}
	d.checkIdle(2*time.Second, "without its uplink")
	n.addUplink()
	n.configureUplink(false)
	n.flushRouterNeigh()
	if !d.waitLog("responder: answering on eth0", 2, 2*time.Second) {
		t.Fatalf("daemon not answering on the new uplink:\n%s", d.logText())
	}
	if !n.reachableWithin(2 * time.Second) {
		t.Errorf("router cannot reach the container within 2 s of the uplink being created again\n%s", d.logText())
	}
	d.stop()
}

func TestUplinkMACChanged(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !n.reachableWithin(3 * time.Second) {
		t.Fatal("router cannot reach the container at first")
	}
	newMAC := "02:00:00:00:00:22"
	n.in("vps", "ip", "link", "set", "eth0", "address", newMAC)
	n.flushRouterNeigh()
	if !n.reachableWithin(2 * time.Second) {
		t.Errorf("router cannot reach the container within 2 s of the uplink's MAC changing")
	}
	if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+newMAC) {
		t.Errorf("router's entry for the container = %q, want the new MAC %s", e, newMAC)
	}
	d.stop()
}
