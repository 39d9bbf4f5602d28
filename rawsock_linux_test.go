//go:build !nonetns

package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestMulticastReception: the socket makes sure the solicited-node groups
// reach it: groups joined one by one for a narrow range, all-multicast for
// a wide one, and nothing left behind after exit.
func TestMulticastReception(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", "2001:db8:1:2:646f:636b:6572:c0/124")
	maddr := n.in("vps", "ip", "maddr", "show", "dev", "eth0")
	for _, g := range []string{"33:33:ff:72:00:c0", "33:33:ff:72:00:c1", "33:33:ff:72:00:cf"} {
		if !strings.Contains(maddr, g) {
			t.Errorf("with a /124, eth0 has not joined %s:\n%s", g, maddr)
		}
	}
	d.stop()
	if maddr := n.in("vps", "ip", "maddr", "show", "dev", "eth0"); strings.Contains(maddr, "33:33:ff:72:00:c5") {
		t.Errorf("group still joined after exit:\n%s", maddr)
	}
	allmulti := func() string {
		m := regexp.MustCompile(`allmulti (\d+)`).FindStringSubmatch(n.in("vps", "ip", "-d", "link", "show", "eth0"))
		if m == nil {
			t.Fatal("ip -d link prints no allmulti count")
		}
		return m[1]
	}
	d = n.startDaemon("-i", "eth0", "-n", rangeArg)
	if c := allmulti(); c != "1" {
		t.Errorf("with a /112, eth0's allmulti count is %s, want 1", c)
	}
	d.stop()
	if c := allmulti(); c != "0" {
		t.Errorf("eth0's allmulti count after exit is %s, want 0", c)
	}
}
