//go:build !nonetns

package main

// ndpresponder@.service as users run it: the .deb installed in the booted
// Debian root (systemd_linux_test.go), and one instance per uplink of a
// VPS that has two, each uplink on its own segment with its own router,
// hypervisor filter and range.

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The second segment: the VPS's second uplink, named eth0.100 as the VLAN
// 100 on eth0 would be, and what is behind it.
//
// It is a veth into a bridge of its own in the hypervisor's namespace, not
// a VLAN: the kernel this was written on has no 802.1Q (CONFIG_VLAN_8021Q is
// not set, and it loads no modules), so "ip link add link eth0 name
// eth0.100 type vlan id 100" fails with "Unknown device type". A macvlan on
// eth0, which this kernel has, would share eth0's segment and router,
// which is not what a second uplink is. What the test is after holds all
// the same: a second interface, whose name holds a dot as a VLAN's does
// (the instance ndpresponder@eth0.100 and its file eth0.100.conf), with a
// router, a filter and a range of its own.
const uplink2 = "eth0.100"

var (
	prefix2     = netip.MustParsePrefix("2001:db8:1:3::/64")
	vps2Addr    = netip.MustParseAddr("2001:db8:1:3::2")
	range2      = netip.MustParsePrefix("2001:db8:1:3:646f:636b:6572::/112")
	bridge2Addr = netip.MustParseAddr("2001:db8:1:3:646f:636b:6572:1")
	container2  = netip.MustParseAddr("2001:db8:1:3:646f:636b:6572:c1")
	outside2    = netip.MustParseAddr("2001:db8:fffe::1") // router 2's, on its loopback
	router2MAC  = mac{0x02, 0, 0, 0, 0x01, 0x01}
	router2LL   = netip.MustParseAddr("fe80::ff:fe00:101") // the kernel's, from router2MAC
	vps2MAC     = mac{0x02, 0, 0, 0, 0x01, 0x02}
)

// addSecondUplink builds the second segment beside the test network's:
//
//	rt2 rt0 ── hv-rt2 [hvbr2 in hv] hv-vps2 ── eth0.100 (vps) br1 ── eth0 (c2)
//
// The hypervisor filters it as hvAnnounce does the first (no MLD
// snooping: the first segment has that): frames from outside prefix2 are
// dropped, and nothing reaches the VPS for an address it has not sent
// from. The VPS has a default route through it, after eth0's, so that its
// instance has a gateway to pin, and router 2's address is routed back
// through it; its gateway entry is left to the daemon, whose pin is the
// only way to resolve it (the kernel's NS comes from the VPS's link-local
// address, which the filter drops).
func (n *testNet) addSecondUplink() {
	n.t.Helper()
	for _, ns := range []string{"rt2", "c2"} {
		n.run("ip", "netns", "add", n.ns(ns))
		n.t.Cleanup(func() { n.try("ip", "netns", "del", n.ns(ns)) })
		n.in(ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		n.in(ns, "ip", "link", "set", "lo", "up")
	}
	n.in("rt2", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	n.run("ip", "link", "add", "rt0", "netns", n.ns("rt2"), "address", router2MAC.String(), "type", "veth", "peer", "name", "hv-rt2", "netns", n.ns("hv"))
	n.run("ip", "link", "add", uplink2, "netns", n.ns("vps"), "address", vps2MAC.String(), "type", "veth", "peer", "name", "hv-vps2", "netns", n.ns("hv"))
	n.in("hv", "ip", "link", "add", "hvbr2", "type", "bridge", "mcast_snooping", "0")
	for _, port := range []string{"hv-rt2", "hv-vps2"} {
		n.in("hv", "ip", "link", "set", port, "master", "hvbr2", "up")
	}
	n.in("hv", "ip", "link", "set", "hvbr2", "up")
	rules := fmt.Sprintf(`table bridge hv2 {
	set learned {
		typeof @nh,64,128
		size 1024
		flags dynamic
	}
	chain forwarding {
		type filter hook forward priority 0; policy accept;
		iifname "hv-vps2" ether type ip6 ip6 saddr != %[1]s counter drop comment "spoofed"
		iifname "hv-vps2" ether type ip6 update @learned { @nh,64,128 }
		oifname "hv-vps2" ether type ip6 icmpv6 type nd-neighbor-solicit @th,64,128 != @learned counter drop comment "unannounced NS"
		oifname "hv-vps2" ether type ip6 ip6 daddr %[1]s @nh,192,128 != @learned counter drop comment "unannounced"
	}
}
`, prefix2)
	cmd := exec.Command("ip", "netns", "exec", n.ns("hv"), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("nft -f: %v\n%s", err, out)
	}

	n.in("rt2", "ip", "link", "set", "rt0", "up")
	n.in("rt2", "ip", "-6", "addr", "add", outside2.String()+"/128", "dev", "lo")
	n.in("rt2", "ip", "-6", "route", "add", prefix2.String(), "dev", "rt0")

	n.in("vps", "ip", "link", "set", uplink2, "up")
	n.in("vps", "ip", "-6", "addr", "add", vps2Addr.String()+"/64", "dev", uplink2)
	n.in("vps", "ip", "-6", "route", "add", "default", "via", router2LL.String(), "dev", uplink2, "metric", "2048")
	n.in("vps", "ip", "-6", "route", "add", outside2.String()+"/128", "via", router2LL.String(), "dev", uplink2)
	n.in("vps", "ip", "link", "add", "br1", "address", "02:00:00:00:0b:01", "type", "bridge", "mcast_snooping", "0")
	n.run("ip", "link", "add", "vps-c2", "netns", n.ns("vps"), "type", "veth", "peer", "name", "eth0", "netns", n.ns("c2"))
	n.in("vps", "ip", "link", "set", "vps-c2", "master", "br1", "up")
	n.in("vps", "ip", "link", "set", "br1", "up")
	n.in("vps", "ip", "-6", "addr", "add", bridge2Addr.String()+"/112", "dev", "br1")

	n.in("c2", "ip", "link", "set", "eth0", "up")
	n.in("c2", "ip", "-6", "addr", "add", container2.String()+"/112", "dev", "eth0")
	n.in("c2", "ip", "-6", "route", "add", "default", "via", bridge2Addr.String())
}

// gatewayOn is the VPS's neighbour entry for gw on dev, as ip prints it
// ("nud all": ip hides NOARP entries otherwise).
func (n *testNet) gatewayOn(dev string, gw netip.Addr) string {
	n.t.Helper()
	return strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", gw.String(), "dev", dev, "nud", "all"))
}

// waitPinned waits up to d for the entry of gw on dev to be pinned
// (NOARP), or with !pinned to be no pin, and returns it as last seen.
func (n *testNet) waitPinned(dev string, gw netip.Addr, pinned bool, d time.Duration) (string, bool) {
	n.t.Helper()
	deadline := time.Now().Add(d)
	for {
		e := n.gatewayOn(dev, gw)
		if strings.Contains(e, "NOARP") == pinned {
			return e, true
		}
		if time.Now().After(deadline) {
			return e, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reachableFrom reports whether router ns's ping to a gets a reply within
// d, and then what the router's neighbour table holds for a.
func (n *testNet) reachableFrom(ns string, a netip.Addr, d time.Duration) (bool, string) {
	n.t.Helper()
	ok := n.pingsFrom(ns, a, d)
	return ok, strings.TrimSpace(n.in(ns, "ip", "-6", "neigh", "show", a.String(), "dev", "rt0"))
}

// TestTemplateUnderSystemd: the .deb installed with dpkg, and
// ndpresponder@eth0 and ndpresponder@eth0.100 enabled and started with
// their files in /etc/ndpresponder/, serving the VPS's two uplinks at once
// (eth0.100.conf, copied from a file for eth0, still names eth0: the
// instance wins). Each router's kernel reaches the container of its own
// range through the VPS, its neighbour entry at the VPS's MAC on its
// segment, and each instance pins its own uplink's gateway. Each writes
// its metrics in its own runtime directory and holds its unit's MemoryMax
// and CPUQuota in the kernel. An upgrade restarts both. systemctl stop of
// one takes its pin away and leaves the other's pin, runtime directory and
// service; the -unpin after an instance's killed run removes its pin and
// no other uplink's; the purge stops both and leaves no pin.
func TestTemplateUnderSystemd(t *testing.T) {
	deb := buildDeb(t)
	n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
	n.snoopMLD()
	n.addSecondUplink()
	s := n.bootSystemd(deb)
	s.mustExec("dpkg", "-i", "/root/ndpresponder.deb")
	if out, err := s.exec("test", "-d", "/etc/ndpresponder"); err != nil {
		t.Fatalf("the package made no /etc/ndpresponder/: %v %s", err, out)
	}
	unit1, unit2 := "ndpresponder@eth0", "ndpresponder@"+uplink2
	confs := map[string]string{
		"eth0": "n " + rangeArg + "\na " + container.String() + "\nmetrics /run/ndpresponder/eth0/ndpresponder.prom\n",
		uplink2: "# copied from eth0's\ni eth0\nn " + range2.String() + "\na " + container2.String() +
			"\nmetrics /run/ndpresponder/" + uplink2 + "/ndpresponder.prom\n",
	}
	for name, conf := range confs {
		s.mustExec("sh", "-c", "cat >/etc/ndpresponder/"+name+".conf <<'EOF'\n"+conf+"EOF")
	}
	s.mustExec("systemctl", "enable", "--now", unit1, unit2)
	journals := func() string {
		return "journal of " + unit1 + ":\n" + s.journalOf(unit1) + "journal of " + unit2 + ":\n" + s.journalOf(unit2)
	}
	for _, c := range []struct{ unit, uplink string }{{unit1, "eth0"}, {unit2, uplink2}} {
		if !s.waitJournalOf(c.unit, "responder: answering on "+c.uplink, 1, 10*time.Second) {
			status, _ := s.exec("systemctl", "status", "--no-pager", c.unit)
			t.Fatalf("%s does not answer on %s:\n%s\n%s", c.unit, c.uplink, journals(), status)
		}
	}
	for _, l := range []string{"multi-user.target.wants/" + unit1 + ".service", "multi-user.target.wants/" + unit2 + ".service"} {
		if out, err := s.exec("test", "-L", "/etc/systemd/system/"+l); err != nil {
			t.Errorf("systemctl enable made no /etc/systemd/system/%s: %s", l, out)
		}
	}

	// Each uplink's gateway pinned by its instance; each router reaches
	// its container through the VPS, which answered for it on its segment.
	for _, g := range []struct {
		dev string
		gw  netip.Addr
	}{{"eth0", routerLL}, {uplink2, router2LL}} {
		if e, ok := n.waitPinned(g.dev, g.gw, true, 10*time.Second); !ok {
			t.Fatalf("the gateway on %s is not pinned: %q\n%s", g.dev, e, journals())
		}
	}
	if !n.waitGroup(container, true, 5*time.Second) {
		t.Errorf("the group of %v is not registered on the snooping bridge\n%s", container, journals())
	}
	for _, r := range []struct {
		rt  string
		a   netip.Addr
		mac mac
	}{{"rt", container, vpsMAC}, {"rt2", container2, vps2MAC}} {
		ok, neigh := n.reachableFrom(r.rt, r.a, 15*time.Second)
		if !ok || !strings.Contains(neigh, "lladdr "+r.mac.String()) {
			t.Errorf("router %s reaches %v: %v, its entry %q, want the VPS's %v\n%s", r.rt, r.a, ok, neigh, r.mac, journals())
		}
	}

	// Each instance: the two capabilities, and the unit's limits in the
	// kernel; its metrics file in its own runtime directory.
	pids := map[string]string{}
	for _, u := range []string{unit1, unit2} {
		pids[u] = s.showUnit(u, "MainPID")
		status := s.mustExec("cat", "/proc/"+pids[u]+"/status")
		for _, want := range []string{"CapEff:\t0000000000003000", "NoNewPrivs:\t1"} {
			if !strings.Contains(status, want) {
				t.Errorf("%s's status lacks %q:\n%s", u, want, status)
			}
		}
		s.requireLimits(u, pids[u])
	}
	metricsOf := func(uplink string) string {
		m, _ := s.exec("cat", "/run/ndpresponder/"+uplink+"/ndpresponder.prom")
		return m
	}
	waitMetrics := func(unit, uplink string) bool {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(metricsOf(uplink), "ndpresponder_advertisements_sent_total") {
			if time.Now().After(deadline) {
				return false
			}
			s.exec("systemctl", "kill", "-s", "USR1", "--kill-whom=main", unit)
			time.Sleep(500 * time.Millisecond)
		}
		return true
	}
	for _, c := range []struct{ unit, uplink string }{{unit1, "eth0"}, {unit2, uplink2}} {
		if !waitMetrics(c.unit, c.uplink) {
			t.Errorf("%s wrote no /run/ndpresponder/%s/ndpresponder.prom: %q\n%s", c.unit, c.uplink, metricsOf(c.uplink), journals())
		}
	}

	// An upgrade (here a reinstall) restarts both running instances
	// (deb-systemd-invoke try-restart of ndpresponder@*.service), which
	// answer again.
	s.mustExec("dpkg", "-i", "/root/ndpresponder.deb")
	for _, c := range []struct{ unit, uplink string }{{unit1, "eth0"}, {unit2, uplink2}} {
		if !s.waitJournalOf(c.unit, "responder: answering on "+c.uplink, 2, 10*time.Second) {
			t.Errorf("%s was not restarted by the upgrade, or does not answer again:\n%s", c.unit, journals())
		}
		pid := s.showUnit(c.unit, "MainPID")
		if pid == pids[c.unit] || s.showUnit(c.unit, "ActiveState") != "active" {
			t.Errorf("after the upgrade %s is %s with MainPID %s, was %s: want it restarted", c.unit, s.showUnit(c.unit, "ActiveState"), pid, pids[c.unit])
		}
		pids[c.unit] = pid
	}
	for _, g := range []struct {
		dev string
		gw  netip.Addr
	}{{"eth0", routerLL}, {uplink2, router2LL}} {
		if e, ok := n.waitPinned(g.dev, g.gw, true, 10*time.Second); !ok {
			t.Fatalf("after the upgrade the gateway on %s is not pinned: %q\n%s", g.dev, e, journals())
		}
	}

	// systemctl stop of eth0's instance: its pin goes, eth0.100's stays
	// and still serves; each runtime directory stays, and eth0.100's
	// instance still writes in its own.
	s.mustExec("systemctl", "stop", unit1)
	if e, ok := n.waitPinned("eth0", routerLL, false, 5*time.Second); !ok {
		t.Errorf("after systemctl stop %s the gateway's entry on eth0 is %q, want no pin", unit1, e)
	}
	if e := n.gatewayOn(uplink2, router2LL); !strings.Contains(e, "NOARP") {
		t.Errorf("systemctl stop %s took %s's pin away: %q", unit1, uplink2, e)
	}
	if got := s.showUnit(unit2, "ActiveState"); got != "active" || s.showUnit(unit2, "MainPID") != pids[unit2] {
		t.Errorf("after systemctl stop %s, %s is %s, MainPID %s (was %s)", unit1, unit2, got, s.showUnit(unit2, "MainPID"), pids[unit2])
	}
	n.in("rt2", "ip", "-6", "neigh", "flush", "dev", "rt0")
	if ok, neigh := n.reachableFrom("rt2", container2, 10*time.Second); !ok {
		t.Errorf("after systemctl stop %s router 2 cannot reach %v (entry %q)\n%s", unit1, container2, neigh, journals())
	}
	if !strings.Contains(metricsOf("eth0"), "ndpresponder_advertisements_sent_total") {
		t.Errorf("the stopped %s's last metrics are gone: %q", unit1, metricsOf("eth0"))
	}
	s.mustExec("rm", "/run/ndpresponder/"+uplink2+"/ndpresponder.prom")
	if !waitMetrics(unit2, uplink2) {
		t.Errorf("after systemctl stop %s, %s writes no metrics in /run/ndpresponder/%s: %s", unit1, unit2, uplink2,
			s.mustExec("ls", "-la", "/run/ndpresponder", "/run/ndpresponder/"+uplink2))
	}

	// A run on eth0 killed outside systemd's care leaves its pin there.
	run := exec.Command("ip", "netns", "exec", n.ns("vps"), daemonBinary(t), "-i", "eth0", "-n", rangeArg)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	if e, ok := n.waitPinned("eth0", routerLL, true, 5*time.Second); !ok {
		t.Fatalf("the run by hand did not pin the gateway on eth0: %q", e)
	}
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()
	if e := n.gatewayOn("eth0", routerLL); !strings.Contains(e, "NOARP") {
		t.Fatalf("the killed run left no pin on eth0 (%q): what follows would prove nothing", e)
	}

	// eth0.100's instance stopped with SIGKILL, as the OOM killer or
	// MemoryMax would end it: it cannot unpin, and the -unpin after it
	// (ExecStopPost) takes its pin away, and eth0's left pin it leaves.
	s.mustExec("mkdir", "-p", "/run/systemd/system/"+unit2+".service.d")
	s.mustExec("sh", "-c", "printf '[Service]\\nKillSignal=SIGKILL\\n' >/run/systemd/system/"+unit2+".service.d/kill.conf")
	s.mustExec("systemctl", "daemon-reload")
	unpinned := strings.Count(s.journalOf(unit2), "gateway: unpinned") // by its clean exits so far
	s.mustExec("systemctl", "stop", unit2)
	if j := s.journalOf(unit2); strings.Count(j, "removed 1 pin(s)") != 1 || strings.Count(j, "gateway: unpinned") != unpinned {
		t.Errorf("%s's killed run: want its pin left and removed by the -unpin after it, not by itself; journal:\n%s", unit2, j)
	}
	if e := n.gatewayOn(uplink2, router2LL); strings.Contains(e, "NOARP") {
		t.Errorf("after %s's killed run and its -unpin, the gateway's entry on %s is %q, want no pin", unit2, uplink2, e)
	}
	if e := n.gatewayOn("eth0", routerLL); !strings.Contains(e, "NOARP") {
		t.Errorf("%s's -unpin removed eth0's pin (%q): it must touch only its own uplink", unit2, e)
	}

	// Both instances running again (eth0's takes the left pin over), the
	// purge stops them: it leaves no pin on either uplink, no runtime
	// directory, and the administrator's files.
	s.mustExec("rm", "-r", "/run/systemd/system/"+unit2+".service.d")
	s.mustExec("systemctl", "daemon-reload")
	s.mustExec("systemctl", "start", unit1, unit2)
	for _, c := range []struct{ unit, uplink string }{{unit1, "eth0"}, {unit2, uplink2}} {
		if !s.waitJournalOf(c.unit, "responder: answering on "+c.uplink, 3, 10*time.Second) {
			t.Fatalf("%s does not answer again after systemctl start:\n%s", c.unit, journals())
		}
	}
	if e, ok := n.waitPinned(uplink2, router2LL, true, 10*time.Second); !ok {
		t.Fatalf("the gateway on %s is not pinned again: %q\n%s", uplink2, e, journals())
	}
	for _, u := range []string{unit1, unit2} {
		pids[u] = s.showUnit(u, "MainPID")
	}
	s.mustExec("dpkg", "--purge", "ndpresponder")
	for _, u := range []string{unit1, unit2} {
		if out, err := s.exec("test", "-e", "/proc/"+pids[u]); err == nil || pids[u] == "0" {
			t.Errorf("the purge did not stop %s (MainPID %s): %s", u, pids[u], out)
		}
	}
	for _, g := range []struct {
		dev string
		gw  netip.Addr
	}{{"eth0", routerLL}, {uplink2, router2LL}} {
		if e := n.gatewayOn(g.dev, g.gw); strings.Contains(e, "NOARP") {
			t.Errorf("after dpkg --purge the gateway's entry on %s is %q, want no pin", g.dev, e)
		}
	}
	if out, err := s.exec("test", "-e", "/run/ndpresponder"); err == nil {
		t.Errorf("the purge left /run/ndpresponder: %s", out)
	}
	for name := range confs {
		if out, err := s.exec("test", "-f", "/etc/ndpresponder/"+name+".conf"); err != nil {
			t.Errorf("the purge removed the administrator's /etc/ndpresponder/%s.conf: %s", name, out)
		}
	}
	for _, u := range []string{unit1, unit2} {
		if out, err := s.exec("test", "-L", "/etc/systemd/system/multi-user.target.wants/"+u+".service"); err == nil {
			t.Errorf("the purge left the enable link of %s: %s", u, out)
		}
	}
}
