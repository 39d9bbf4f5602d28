//go:build !nonetns

package main

// The SysV script as shipped, under BusyBox init as PID 1: a root of
// Debian's static BusyBox and the static daemon, whose /etc/inittab starts
// /etc/init.d/ndpresponder at sysinit and stops it at shutdown, booted by
// podman in the test network's VPS namespace.

import (
	"debug/elf"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// busyboxRoot makes a root with BusyBox and its applets, the daemon as
// /usr/local/bin/ndpresponder, the script as /etc/init.d/ndpresponder, the
// configuration conf, and an inittab that runs the script.
func busyboxRoot(t *testing.T, conf string) string {
	t.Helper()
	busybox := needTool(t, "busybox")
	if f, err := elf.Open(busybox); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatalf("%s is linked dynamically: the root has no C library (Debian's busybox-static is static)", busybox)
			}
		}
		f.Close()
	}
	root := t.TempDir()
	// The daemon runs as nobody: it must reach its file for a reload.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc/init.d", "var/run", "var/log", "proc", "sys", "dev", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(from, to string, mode os.FileMode) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, to), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(busybox, "bin/busybox", 0o755)
	copyFile(staticDaemon(t), "usr/local/bin/ndpresponder", 0o755)
	copyFile("init/ndpresponder.sysv", "etc/init.d/ndpresponder", 0o755)
	if out, err := exec.Command("chroot", root, "/bin/busybox", "--install", "-s").CombinedOutput(); err != nil {
		t.Fatalf("busybox --install: %v\n%s", err, out)
	}
	files := map[string]string{
		"etc/inittab": "::sysinit:/etc/init.d/ndpresponder start\n" +
			"::shutdown:/etc/init.d/ndpresponder stop\n",
		"etc/passwd":            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":             "root:x:0:\nnogroup:x:65534:\n",
		"etc/ndpresponder.conf": conf,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestSysVBusyBoxInit: init/ndpresponder.sysv under BusyBox init as PID 1,
// started by the inittab's sysinit: the router's kernel reaches the
// container through the VPS, the gateway is pinned, the daemon runs as
// nobody with its two capabilities; a SIGKILL is restarted by the
// script's supervisor; reload applies a changed /etc/ndpresponder.conf;
// stop stops it cleanly and leaves no pin; and after the daemon and its
// supervisor were both killed, the poweroff's shutdown entry (the
// script's stop) takes away the pin the killed run left.
func TestSysVBusyBoxInit(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	root := busyboxRoot(t, "i eth0\nn "+rangeArg+"\n")
	logFile := filepath.Join(root, "var/log/ndpresponder.log")
	logText := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	waitLog := func(want string, count int, d time.Duration) bool {
		deadline := time.Now().Add(d)
		for strings.Count(logText(), want) < count {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(200 * time.Millisecond)
		}
		return true
	}
	pidOf := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(root, "var/run", name))
		return strings.TrimSpace(string(b))
	}
	s := n.newBox("busybox")
	s.must("run", "-d", "--name", s.name, "--privileged", "--network", "ns:/run/netns/"+n.ns("vps"),
		"--rootfs", root, "/bin/busybox", "init")
	if !waitLog("responder: answering on eth0", 1, 15*time.Second) {
		logs, _ := s.podman("logs", s.name)
		t.Fatalf("the sysinit entry did not start the daemon:\n%s\n%s", logText(), logs)
	}
	if got := s.pid1(); got != "/bin/busybox init" {
		t.Fatalf("PID 1 is %q, want BusyBox init", got)
	}
	script := func(action string) string {
		t.Helper()
		return s.mustExec("/etc/init.d/ndpresponder", action)
	}
	if out := script("status"); !strings.Contains(out, "is running") {
		t.Errorf("status = %q", out)
	}
	pid := pidOf("ndpresponder.pid")
	p, _ := strconv.Atoi(pid)
	s.requireLeastPrivilegeIn(p)
	n.requirePinned()
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("the router cannot reach the container; log:\n%s", logText())
	}
	if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+vpsMAC.String()) {
		t.Errorf("the router's entry for the container is %q, want the VPS's MAC %v", e, vpsMAC)
	}

	// A crash: the script's supervisor starts a new one, which pins
	// again.
	s.mustExec("kill", "-KILL", pid)
	if !waitLog("responder: answering on eth0", 2, 10*time.Second) {
		t.Fatalf("the daemon was not restarted after SIGKILL:\n%s", logText())
	}
	if again := pidOf("ndpresponder.pid"); again == pid {
		t.Errorf("after SIGKILL the pid file still names %s", pid)
	}
	n.requirePinned()
	if !n.reachable(container, 10*time.Second) {
		t.Errorf("after the restart the router cannot reach the container; log:\n%s", logText())
	}

	// reload: a new -a is announced to the router.
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:a0")
	if err := os.WriteFile(filepath.Join(root, "etc/ndpresponder.conf"), []byte("i eth0\nn "+rangeArg+"\na "+announced.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script("reload")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.routerNeigh(announced), "lladdr "+vpsMAC.String()) {
		if time.Now().After(deadline) {
			t.Errorf("after reload the router has %q for %v, want the VPS's MAC; log:\n%s", n.routerNeigh(announced), announced, logText())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// stop: a clean exit, no pin.
	supervisor, daemon := pidOf("ndpresponder.supervisor.pid"), pidOf("ndpresponder.pid")
	script("stop")
	for _, pid := range []string{supervisor, daemon} {
		if _, err := s.exec("kill", "-0", pid); err == nil {
			t.Errorf("after stop the supervisor %s or the daemon %s still runs: %s does", supervisor, daemon, pid)
		}
	}
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after stop the gateway's entry is %q, want no pin", e)
	}
	if !strings.Contains(logText(), "counters:") {
		t.Errorf("the daemon did not stop cleanly (no counters in its log):\n%s", logText())
	}

	// The daemon and its supervisor both killed: the pin stays, and the
	// shutdown entry of the inittab takes it away at poweroff.
	script("start")
	if !waitLog("responder: answering on eth0", 3, 10*time.Second) {
		t.Fatalf("the script did not start the daemon again:\n%s", logText())
	}
	n.requirePinned()
	s.mustExec("kill", "-KILL", pidOf("ndpresponder.supervisor.pid"), pidOf("ndpresponder.pid"))
	time.Sleep(500 * time.Millisecond)
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Fatalf("the killed run left no pin (%q): the shutdown would prove nothing", e)
	}
	s.mustExec("kill", "-USR2", "1") // BusyBox init's poweroff
	if !s.waitExit(30 * time.Second) {
		t.Fatalf("BusyBox init did not power off within 30 s")
	}
	if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
		t.Errorf("after poweroff the pin of the killed run is still there: %q", e)
	}
}
