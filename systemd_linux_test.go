//go:build !nonetns

package main

// The package as users install it: the .deb of scripts/packages.sh, put in
// with dpkg in a minimal Debian root whose PID 1 is systemd, started with
// systemctl, in the test network's VPS namespace. The root is made once by
// debootstrap from Debian's packages and kept in debianRootCache; podman
// boots it (--systemd=always) joined to the VPS's namespace, so that the
// daemon the unit starts answers the test network's router.

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// debianRootCache is the Debian root the systemd tests boot, as a tar
// podman imports: debootstrap takes minutes, so it is made once per host.
const debianRootCache = "/var/cache/ndpresponder-test/bookworm-systemd.tar"

// debianRoot returns the cached root, making it first if it is missing.
// minbase has no procps, which is what a slim system lacks.
func debianRoot(t *testing.T) string {
	return cachedRoot(t, debianRootCache, "systemd,systemd-sysv,dbus,iproute2")
}

// cachedRoot returns cache, a tar of a minbase Debian 12 root with the
// packages of include, making it first with debootstrap if it is missing.
func cachedRoot(t *testing.T, cache, include string) string {
	t.Helper()
	if _, err := os.Stat(cache); err == nil {
		return cache
	}
	needTool(t, "debootstrap")
	dir := filepath.Dir(cache)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp(dir, "root-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	cmd := exec.Command("timeout", "900", "debootstrap", "--variant=minbase",
		"--include="+include, "bookworm", root, "http://deb.debian.org/debian")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, tail(out, 2000))
	}
	// A tar of its own, renamed into place whole: another test run
	// making the root at the same time writes its own.
	tmp := root + ".tar"
	defer os.Remove(tmp)
	if out, err := exec.Command("tar", "-C", root, "-cf", tmp, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, cache); err != nil {
		t.Fatal(err)
	}
	return cache
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// buildDeb builds this tree's amd64 .deb as build.sh does, into a
// directory of the test's, and returns its path.
func buildDeb(t *testing.T) string {
	t.Helper()
	dist := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid= -X main.version=test",
		"-o", filepath.Join(dist, "ndpresponder-linux-amd64"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pkg := exec.Command("scripts/packages.sh", "v0.0.1")
	pkg.Env = append(os.Environ(), "NDPR_DIST="+dist, "NDPR_DEBS=amd64:amd64", "NDPR_IPKS=")
	if out, err := pkg.CombinedOutput(); err != nil {
		t.Fatalf("scripts/packages.sh: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dist, "ndpresponder_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("scripts/packages.sh made %v, want one amd64 .deb", debs)
	}
	return debs[0]
}

// sysbox is a Debian root booted with systemd as PID 1 in the VPS's
// network namespace.
type sysbox struct {
	n    *testNet
	dir  string
	name string
}

// bootSystemd boots the Debian root under podman, with the .deb at
// /root/ndpresponder.deb, and waits until systemd has started.
func (n *testNet) bootSystemd(deb string) *sysbox {
	n.t.Helper()
	needTool(n.t, "podman")
	tarball := debianRoot(n.t)
	dir, err := os.MkdirTemp("", "ndpr-systemd")
	if err != nil {
		n.t.Fatal(err)
	}
	s := &sysbox{n: n, dir: dir, name: "ndpr-sd-" + n.suffix}
	// runc refuses the ping_group_range sysctl podman sets by default in a
	// network namespace it did not make, and may not raise the open files
	// and processes limits to podman's defaults.
	conf := "[containers]\ndefault_sysctls = []\ndefault_ulimits = []\n[engine]\nevents_logger = \"file\"\nevents_logfile_path = \"" + dir + "/events.log\"\n"
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o644); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		s.podman("rm", "-f", "-t", "0", s.name)
		exec.Command("sh", "-c", "umount -R "+dir+"/root/* "+dir+"/run/* 2>/dev/null; rm -rf "+dir).Run()
	})
	s.must("import", tarball, "ndpr-debian:systemd")
	// A cgroup namespace of its own: without one, on a cgroup v1 (or
	// hybrid) host, the system sees its cgroups at the host's paths,
	// which are not where podman mounts them, makes no cgroup of a unit's
	// own in the memory and cpu hierarchies, and every unit's MemoryMax
	// and CPUQuota are silently not applied (the daemon sat in the
	// container's unlimited cgroup).
	s.must("run", "-d", "--name", s.name, "--privileged", "--systemd=always", "--cgroupns=private",
		"--network", "ns:/run/netns/"+n.ns("vps"), "-v", deb+":/root/ndpresponder.deb:ro",
		"ndpr-debian:systemd", "/lib/systemd/systemd")
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := s.exec("systemctl", "is-system-running")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			break
		}
		if time.Now().After(deadline) {
			failed, _ := s.exec("systemctl", "--failed", "--no-legend")
			n.t.Fatalf("systemd has not started after 60 s: %q\n%s", state, failed)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return s
}

func (s *sysbox) podman(args ...string) (string, error) {
	cmd := exec.Command("podman", append([]string{"--root", filepath.Join(s.dir, "root"), "--runroot", filepath.Join(s.dir, "run"),
		"--tmpdir", filepath.Join(s.dir, "tmp"), "--cgroup-manager", "cgroupfs"}, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(s.dir, "containers.conf"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *sysbox) must(args ...string) string {
	s.n.t.Helper()
	out, err := s.podman(args...)
	if err != nil {
		s.n.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// exec runs a command in the booted system.
func (s *sysbox) exec(args ...string) (string, error) {
	return s.podman(append([]string{"exec", s.name}, args...)...)
}

func (s *sysbox) mustExec(args ...string) string {
	s.n.t.Helper()
	out, err := s.exec(args...)
	if err != nil {
		s.n.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// show reads one property of the unit.
func (s *sysbox) show(prop string) string {
	s.n.t.Helper()
	return s.showUnit("ndpresponder", prop)
}

// showUnit reads one property of a unit.
func (s *sysbox) showUnit(unit, prop string) string {
	s.n.t.Helper()
	return strings.TrimSpace(s.mustExec("systemctl", "show", "-p", prop, "--value", unit))
}

// journal is what the unit logged since the system started.
func (s *sysbox) journal() string { return s.journalOf("ndpresponder") }

// journalOf is what a unit logged since the system started.
func (s *sysbox) journalOf(unit string) string {
	out, _ := s.exec("journalctl", "-u", unit, "--no-pager", "-o", "cat")
	return out
}

// waitJournal waits up to d for the journal to contain want n times.
func (s *sysbox) waitJournal(want string, n int, d time.Duration) bool {
	return s.waitJournalOf("ndpresponder", want, n, d)
}

// waitJournalOf waits up to d for a unit's journal to contain want n
// times.
func (s *sysbox) waitJournalOf(unit, want string, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for strings.Count(s.journalOf(unit), want) < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(300 * time.Millisecond)
	}
	return true
}

// Where MemoryMax=32M and CPUQuota=20% land in the kernel: cgroup v1's
// memory.limit_in_bytes and cpu.cfs_quota_us over cpu.cfs_period_us, or
// v2's memory.max and cpu.max.
const (
	wantMemoryLimit = "33554432"
	wantCPULimit    = "20000 100000"
)

// cgroupLimits reads the memory and CPU limits the kernel holds for the
// cgroup of process pid in the booted system, whichever cgroup version it
// runs, and the cgroups' paths: what systemd applied of a unit's MemoryMax
// and CPUQuota, not what its properties say.
func (s *sysbox) cgroupLimits(pid string) (memory, cpu string, paths []string) {
	s.n.t.Helper()
	fs := strings.TrimSpace(s.mustExec("stat", "-fc", "%T", "/sys/fs/cgroup"))
	groups := s.mustExec("cat", "/proc/"+pid+"/cgroup")
	path := func(controller string) string {
		for _, l := range strings.Split(strings.TrimSpace(groups), "\n") {
			f := strings.SplitN(l, ":", 3)
			if len(f) == 3 && slices.Contains(strings.Split(f[1], ","), controller) {
				return f[2]
			}
		}
		s.n.t.Fatalf("process %s is in no %q cgroup:\n%s", pid, controller, groups)
		return ""
	}
	read := func(f string) string {
		out, err := s.exec("cat", f)
		if err != nil {
			return "(no " + f + ")"
		}
		return strings.TrimSpace(out)
	}
	if fs == "cgroup2fs" {
		p := path("")
		d := "/sys/fs/cgroup" + p
		return read(d + "/memory.max"), read(d + "/cpu.max"), []string{p}
	}
	m, c := path("memory"), path("cpu")
	dm, dc := "/sys/fs/cgroup/memory"+m, "/sys/fs/cgroup/cpu"+c
	return read(dm + "/memory.limit_in_bytes"), read(dc+"/cpu.cfs_quota_us") + " " + read(dc+"/cpu.cfs_period_us"), []string{m, c}
}

// requireLimits fails the test unless process pid is in the unit's own
// cgroups, and the kernel holds the unit's MemoryMax and CPUQuota there.
func (s *sysbox) requireLimits(unit, pid string) {
	s.n.t.Helper()
	m, c, paths := s.cgroupLimits(pid)
	for _, p := range paths {
		if !strings.HasSuffix(p, "/"+unit+".service") {
			s.n.t.Errorf("%s: its process is in cgroup %s, not one of the unit's own: systemd cannot apply MemoryMax and CPUQuota there", unit, p)
		}
	}
	if m != wantMemoryLimit || c != wantCPULimit {
		s.n.t.Errorf("%s: the kernel limits its cgroup to memory %s and CPU %q, want %s (MemoryMax=32M) and %q (CPUQuota=20%%)",
			unit, m, c, wantMemoryLimit, wantCPULimit)
	}
}

// TestPackageUnderSystemd: the .deb installed with dpkg, started with
// systemctl enable --now, on an anti-spoofing, announce-learning,
// MLD-snooping network, with -learn: a container present at start and one
// plugged in later are reached, their groups joined; the daemon holds only
// its two capabilities, and its cgroup the unit's MemoryMax and CPUQuota;
// systemctl reload applies a changed configuration (with the shell's
// kill: the root has no procps); the metrics file is written; a crash is
// restarted and its pin taken away and made again; a flood passes
// MemoryMax and CPUQuota without a restart; systemctl stop and the
// package's purge leave no pin behind.
func TestPackageUnderSystemd(t *testing.T) {
	deb := buildDeb(t)
	n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
	n.snoopMLD()
	n.speak("c1") // c1 has spoken
	s := n.bootSystemd(deb)
	if _, err := s.exec("sh", "-c", "command -v kill >/dev/null && test ! -e /bin/kill"); err != nil {
		t.Fatalf("the root has /bin/kill, so it cannot show that reload works without procps")
	}
	s.mustExec("dpkg", "-i", "/root/ndpresponder.deb")
	conf := "i eth0\nn " + rangeArg + "\nlearn br0\nmetrics /run/ndpresponder/ndpresponder.prom\n"
	s.mustExec("sh", "-c", "cat >/etc/ndpresponder.conf <<'EOF'\n"+conf+"EOF")
	s.mustExec("systemctl", "enable", "--now", "ndpresponder")
	if !s.waitJournal("responder: answering on", 1, 10*time.Second) {
		status, _ := s.exec("systemctl", "status", "--no-pager", "ndpresponder")
		t.Fatalf("the unit did not start answering:\n%s\n%s", s.journal(), status)
	}

	// The container present at start, then one plugged in later.
	if !n.waitGroup(container, true, 5*time.Second) {
		t.Errorf("the group of %v is not registered; journal:\n%s", container, s.journal())
	}
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("the router cannot reach the container present at start; journal:\n%s", s.journal())
	}
	c2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	n.addContainer("c2", c2)
	n.speak("c2")
	if !n.waitGroup(c2, true, 5*time.Second) {
		t.Errorf("the group of the hot-plugged %v is not registered; journal:\n%s", c2, s.journal())
	}
	if !n.reachable(c2, 10*time.Second) {
		t.Errorf("the router cannot reach the hot-plugged container; journal:\n%s", s.journal())
	}
	if j := s.journal(); strings.Contains(j, "not supported") || strings.Contains(j, "not joined") {
		t.Errorf("the unit's sandbox is in the daemon's way:\n%s", j)
	}

	// Two capabilities, no new privileges; the unit's limits in the
	// kernel.
	pid := s.show("MainPID")
	s.requireLimits("ndpresponder", pid)
	status := s.mustExec("cat", "/proc/"+pid+"/status")
	for _, want := range []string{"CapEff:\t0000000000003000", "NoNewPrivs:\t1"} {
		if !strings.Contains(status, want) {
			t.Errorf("the daemon's status lacks %q:\n%s", want, status)
		}
	}

	// The metrics file, where the unit lets it write.
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, _ := s.exec("cat", "/run/ndpresponder/ndpresponder.prom")
		if strings.Contains(m, "ndpresponder_advertisements_sent_total") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("no metrics file after 20 s: %q; journal:\n%s", m, s.journal())
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	// A reload applies a changed configuration: a new -a is announced to
	// the router, which then has the address at the VPS's MAC.
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:a0")
	s.mustExec("sh", "-c", "echo 'a "+announced.String()+"' >>/etc/ndpresponder.conf")
	s.mustExec("systemctl", "reload", "ndpresponder")
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(n.routerNeigh(announced), "lladdr "+vpsMAC.String()) {
		if time.Now().After(deadline) {
			t.Errorf("after systemctl reload the router has %q for %v, want the VPS's MAC; journal:\n%s", n.routerNeigh(announced), announced, s.journal())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := s.show("MainPID"); got != pid {
		t.Errorf("the reload restarted the daemon: MainPID %s, was %s", got, pid)
	}

	// A flood within MemoryMax and CPUQuota: no restart, and the router
	// still reaches the container.
	w := n.openWire("rt", "rt0")
	g := solicitedNode(container)
	frame := appendNS(nil, w.mac, multicastMAC(g), routerLL, g, container, [6]byte{})
	for range 20000 {
		if err := w.sock.write(frame); err != nil && !strings.Contains(err.Error(), "no buffer space") {
			t.Fatalf("flood: %v", err)
		}
	}
	time.Sleep(time.Second)
	if got := s.show("NRestarts"); got != "0" {
		t.Errorf("after the flood NRestarts = %s, want 0; journal:\n%s", got, s.journal())
	}
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("after the flood the router cannot reach the container; gateway %q; journal:\n%s", n.gatewayEntry(), s.journal())
	}

	// A crash: systemd restarts the daemon; the pin the killed run left
	// is taken away (ExecStopPost) and made again by the new run.
	if e := n.waitGateway("NOARP", 5*time.Second); !strings.Contains(e, "NOARP") {
		t.Fatalf("before the crash the gateway is not pinned: %q; journal:\n%s", e, s.journal())
	}
	s.mustExec("systemctl", "kill", "-s", "KILL", "ndpresponder")
	deadline = time.Now().Add(15 * time.Second)
	for {
		if got := s.show("MainPID"); got != pid && got != "0" && s.show("ActiveState") == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon was not restarted after SIGKILL: %s; journal:\n%s", s.show("ActiveState"), s.journal())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if got := s.show("NRestarts"); got != "1" {
		t.Errorf("NRestarts = %s after one crash, want 1", got)
	}
	if e := n.waitGateway("NOARP", 5*time.Second); !strings.Contains(e, "NOARP") {
		t.Fatalf("after the restart the gateway is not pinned: %q; journal:\n%s", e, s.journal())
	}
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("after the restart the router cannot reach the container; journal:\n%s", s.journal())
	}

	// systemctl stop leaves no pin.
	s.mustExec("systemctl", "stop", "ndpresponder")
	// (The kernel may have made its own entry since, resolving the
	// gateway for traffic: that is no pin.)
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after systemctl stop the gateway's entry is %q, want no pin", e)
	}

	// A run killed outside systemd's care leaves its pin; the package's
	// purge removes it.
	run := exec.Command("ip", "netns", "exec", n.ns("vps"), daemonBinary(t), "-i", "eth0", "-n", rangeArg)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	n.requirePinned()
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Fatalf("the killed run left no pin (%q): the purge would prove nothing", e)
	}
	s.mustExec("dpkg", "--purge", "ndpresponder")
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after dpkg --purge the gateway's entry is %q, want no pin", e)
	}
	if out, err := s.exec("test", "-e", "/usr/sbin/ndpresponder"); err == nil {
		t.Errorf("the purge left the binary: %s", out)
	}
}
