//go:build !nonetns

package main

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDockerOnLinkOnly: -N without -n, and an engine whose network holds a
// neighbour's prefix. The uplink's on-link prefix is 2001:db8:1:2::/64: a
// container inside it is answered and announced, one outside is neither,
// and the daemon says so once and counts it.
func TestDockerOnLinkOnly(t *testing.T) {
	outside := netip.MustParseAddr("2001:db8:1:3::c1")
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			<-done
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + fakeListing(dockerC1, outside)))
	})
	n := newTestNet(t, false)
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName)
	w := n.openWire("rt", "rt0")
	if !w.answered(dockerC1, 5*time.Second) {
		t.Errorf("a container inside the uplink's on-link prefix is not answered:\n%s", d.logText())
	}
	if w.answered(outside, 2*time.Second) {
		t.Errorf("a container outside the uplink's on-link prefixes is answered:\n%s", d.logText())
	}
	log := d.stop()
	if !strings.Contains(log, "announce: 1 new live address(es), "+dockerC1.String()+" first") {
		t.Errorf("the daemon did not announce %v alone:\n%s", dockerC1, log)
	}
	if strings.Count(log, outside.String()+" is outside the uplink's on-link prefixes") != 1 {
		t.Errorf("the daemon did not say once that %v is held back:\n%s", outside, log)
	}
	if got := counter(log, "live-out-of-scope"); got != 1 {
		t.Errorf("live-out-of-scope = %d, want 1:\n%s", got, log)
	}
}
