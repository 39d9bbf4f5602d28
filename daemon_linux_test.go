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

// cpuTicks is the user and system time the daemon has used, in clock ticks.
func (d *daemonProc) cpuTicks() int {
	d.t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/stat")
	if err != nil {
		d.t.Fatalf("reading the daemon's CPU time: %v", err)
	}
	// Fields after the command name in parentheses; utime and stime are
	// the 14th and 15th of the whole line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
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
	before := d.cpuTicks()
	time.Sleep(3 * time.Second)
	if after := d.cpuTicks(); after != before {
		t.Errorf("daemon used %d CPU ticks in 3 s waiting for its uplink, want 0", after-before)
	}
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
	before := d.cpuTicks()
	time.Sleep(2 * time.Second)
	if after := d.cpuTicks(); after != before {
		t.Errorf("daemon used %d CPU ticks in 2 s with its uplink down, want 0", after-before)
	}
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
	before := d.cpuTicks()
	time.Sleep(2 * time.Second)
	if after := d.cpuTicks(); after != before {
		t.Errorf("daemon used %d CPU ticks in 2 s without its uplink, want 0", after-before)
	}
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
