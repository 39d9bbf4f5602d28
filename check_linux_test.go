//go:build !nonetns

package main

// ndpresponder -check in the test network, with each fault set up on
// purpose: the check must name it, and pass only a healthy setup.

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runCheckIn runs -check in the VPS while the router pings the container
// (so that its solicitations arrive), and returns the output and status.
func (n *testNet) runCheckIn(args ...string) (string, int) {
	n.t.Helper()
	// Pings for longer than the check takes on a loaded machine, so that
	// the router keeps soliciting while it listens; stopped when it ends.
	pinger := exec.Command("ip", "netns", "exec", n.ns("rt"), "ping", "-n", "-c", "40", "-i", "0.5", container.String())
	pinger.Start()
	defer func() {
		pinger.Process.Kill()
		pinger.Wait()
	}()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.ns("vps"), daemonBinary(n.t), "-check", "-check-listen", "2s"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatal(err)
	}
	return string(out), code
}

func TestCheck(t *testing.T) {
	args := []string{"-i", "eth0", "-n", rangeArg}
	cases := []struct {
		name  string
		fault func(n *testNet)
		want  string // a PROBLEM line containing this; "" for a healthy host
	}{
		{"healthy", func(*testNet) {}, ""},
		{"forwarding off", func(n *testNet) { n.in("vps", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0") }, "IPv6 forwarding is off"},
		{"proxy_ndp on", func(n *testNet) { n.in("vps", "sysctl", "-qw", "net.ipv6.conf.eth0.proxy_ndp=1") }, "proxy_ndp is on"},
		{"range not routed to the bridge", func(n *testNet) {
			n.in("vps", "ip", "-6", "addr", "del", bridgeAddr.String()+"/112", "dev", "br0")
		}, "leaves by the uplink eth0"},
		{"gateway unresolved", func(n *testNet) {
			n.in("vps", "ip", "-6", "neigh", "del", routerLL.String(), "dev", "eth0")
		}, "cannot resolve it"},
		{"no default route", func(n *testNet) { n.in("vps", "ip", "-6", "route", "del", "default") }, "no IPv6 default route"},
		{"gateway silent", func(n *testNet) {
			n.in("hv", "nft", "add", "table", "bridge", "mute")
			n.in("hv", "nft", "add", "chain", "bridge", "mute", "forwarding", "{ type filter hook forward priority -10; }")
			n.in("hv", "nft", "add", "rule", "bridge", "mute", "forwarding", "iifname", "hv-rt", "drop")
		}, "did not answer an NS"},
		{"a client routed by a tun device", func(n *testNet) {
			n.addTun("vps", "wg0")
			n.in("vps", "ip", "-6", "route", "add", "2001:db8:1:2:646f:636b:6572:77/128", "dev", "wg0")
		}, "routes leave by wg0"},
		{"forward policy drop, nftables", func(n *testNet) {
			n.in("vps", "nft", "add", "table", "ip6", "filter")
			n.in("vps", "nft", "add", "chain", "ip6", "filter", "FORWARD", "{ type filter hook forward priority 0; policy drop; }")
		}, "nftables chain ip6 filter FORWARD drops"},
		{"forward policy drop, ip6tables-legacy", func(n *testNet) {
			n.in("vps", "ip6tables-legacy", "-P", "FORWARD", "DROP")
		}, "ip6tables filter FORWARD drops"},
		{"default route from router advertisements, accept_ra 1", func(n *testNet) {
			n.in("vps", "ip", "-6", "route", "replace", "default", "via", routerLL.String(), "dev", "eth0", "proto", "ra")
		}, "accept_ra on eth0 is 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newTestNet(t, true)
			c.fault(n)
			out, code := n.runCheckIn(args...)
			switch {
			case c.want == "" && (code != 0 || strings.Contains(out, "PROBLEM")):
				t.Errorf("a healthy host: status %d\n%s", code, out)
			case c.want == "" && !strings.Contains(out, "from fe80::ff:fe00:1") && !strings.Contains(out, "link-local"):
				t.Errorf("the router's solicitations were not reported:\n%s", out)
			case c.want != "" && (code != 1 || !problemLine(out, c.want)):
				t.Errorf("status %d, want 1 and a PROBLEM line with %q:\n%s", code, c.want, out)
			}
		})
	}
	t.Run("no uplink", func(t *testing.T) {
		n := newTestNetWith(t, netOpts{hypervisor: hvSpoof, noUplink: true})
		out, code := n.runCheckIn(args...)
		if code != 1 || !problemLine(out, "uplink eth0") {
			t.Errorf("status %d:\n%s", code, out)
		}
	})
	t.Run("no solicitations", func(t *testing.T) {
		n := newTestNet(t, true)
		start := time.Now()
		out, err := exec.Command("ip", "netns", "exec", n.ns("vps"), daemonBinary(t), "-check", "-check-listen", "1s", "-i", "eth0", "-n", rangeArg).CombinedOutput()
		if err == nil || !problemLine(string(out), "no solicitation for the ranges arrived") || time.Since(start) > 5*time.Second {
			t.Errorf("%v:\n%s", err, out)
		}
	})
}
