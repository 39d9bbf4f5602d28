//go:build !nonetns

package main

// The init scripts, checked as far as this machine allows: linted, the
// UCI translation run against sample configurations, and the BusyBox/SysV
// script started, reloaded and stopped for real.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("this test needs %s (.ci/run installs it): %v", name, err)
	}
	return p
}

// TestUCIToConf runs the OpenWrt UCI translation, with the system's awk and
// with BusyBox's (OpenWrt's own), over the sample configurations, and feeds
// what it writes to the daemon's own parser.
func TestUCIToConf(t *testing.T) {
	awks := [][]string{{needTool(t, "awk")}, {needTool(t, "busybox"), "awk"}}
	samples, _ := filepath.Glob("init/openwrt/testdata/*.uci")
	if len(samples) == 0 {
		t.Fatal("no sample UCI configurations")
	}
	shipped, _ := os.ReadFile("init/openwrt/files/ndpresponder.config")
	if sample, _ := os.ReadFile("init/openwrt/testdata/shipped.uci"); string(sample) != string(shipped) {
		t.Errorf("init/openwrt/testdata/shipped.uci is not the shipped init/openwrt/files/ndpresponder.config")
	}
	for _, awk := range awks {
		run := func(args ...string) string {
			t.Helper()
			out, err := exec.Command(awk[0], append(awk[1:], append([]string{"-f", "init/openwrt/files/uci2conf.awk"}, args...)...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v %v: %v\n%s", awk, args, err, out)
			}
			return string(out)
		}
		for _, uci := range samples {
			base := strings.TrimSuffix(uci, ".uci")
			want, _ := os.ReadFile(base + ".list")
			names := run("-v", "list=1", uci)
			if names != string(want) {
				t.Errorf("%v: sections of %s = %q, want %q", awk, uci, names, want)
			}
			// Every enabled section, and any other with an expected
			// translation: a disabled section translates all the same.
			sections := strings.Fields(names)
			confs, _ := filepath.Glob(base + ".*.conf")
			for _, c := range confs {
				if name := strings.TrimSuffix(strings.TrimPrefix(c, base+"."), ".conf"); !slices.Contains(sections, name) {
					sections = append(sections, name)
				}
			}
			for _, name := range sections {
				conf := run("-v", "section="+name, uci)
				want, _ := os.ReadFile(base + "." + name + ".conf")
				if conf != string(want) {
					t.Errorf("%v: section %s of %s =\n%s\nwant\n%s", awk, name, uci, conf, want)
				}
				f := filepath.Join(t.TempDir(), name+".conf")
				os.WriteFile(f, []byte(conf), 0o644)
				if _, err := parseArgs([]string{"-c", f}, func(string) string { return "" }, nil); err != nil {
					t.Errorf("the daemon refuses the translation of %s section %s: %v", uci, name, err)
				}
			}
		}
	}
}

// TestInitLint runs shellcheck over every shell script and systemd-analyze
// over the units.
func TestInitLint(t *testing.T) {
	shellcheck := needTool(t, "shellcheck")
	scripts := []string{"build.sh", "demo.sh", "test.sh", ".ci/run", "scripts/testnet.sh", "scripts/emulated.sh", "scripts/need.sh",
		"bench/bench.sh", "bench/compare.sh", "bench/setup.sh", "init/ndpresponder.sysv", "init/ndpresponder.openrc",
		"init/openwrt/files/ndpresponder.init", "scripts/packages.sh", "scripts/check-packages.sh", "scripts/check-metrics.sh",
		"init/debian/postinst", "init/debian/prerm", "init/debian/postrm", "init/openwrt/ipk/postinst", "init/openwrt/ipk/prerm"}
	for _, s := range scripts {
		if out, err := exec.Command(shellcheck, "-x", "-s", shellOf(s), s).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", s, err, out)
		}
	}
	analyze := needTool(t, "systemd-analyze")
	unit, err := os.ReadFile("init/ndpresponder.service")
	if err != nil {
		t.Fatal(err)
	}
	// The unit names the installed path; point it at the binary built here.
	dir := t.TempDir()
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/ndpresponder", daemonBinary(t))
	if err := os.WriteFile(filepath.Join(dir, "ndpresponder.service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// Documentation=man:ndpresponder(8) is looked up with man: the page
	// of the tree, as the package installs it.
	man := filepath.Join(dir, "man")
	if err := os.MkdirAll(filepath.Join(man, "man8"), 0o755); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("docs/ndpresponder.8")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man, "man8", "ndpresponder.8"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(unit string) *exec.Cmd {
		cmd := exec.Command(analyze, "verify", unit)
		cmd.Env = append(os.Environ(), "MANPATH="+man)
		return cmd
	}
	if out, err := verify(filepath.Join(dir, "ndpresponder.service")).CombinedOutput(); err != nil || strings.Contains(string(out), "ndpresponder.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The template, verified as the instances users start: an uplink, and
	// a VLAN on it, whose name holds a dot as a unit's suffix does.
	tmpl, err := os.ReadFile("init/ndpresponder@.service")
	if err != nil {
		t.Fatal(err)
	}
	text = strings.ReplaceAll(string(tmpl), "/usr/local/bin/ndpresponder", daemonBinary(t))
	if err := os.WriteFile(filepath.Join(dir, "ndpresponder@.service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, instance := range []string{"ndpresponder@eth0.service", "ndpresponder@eth0.100.service"} {
		out, err := verify(filepath.Join(dir, instance)).CombinedOutput()
		if err != nil || strings.Contains(string(out), "ndpresponder@") {
			t.Errorf("systemd-analyze verify %s: %v\n%s", instance, err, out)
		}
	}
}

func shellOf(script string) string {
	b, _ := os.ReadFile(script)
	if strings.HasPrefix(string(b), "#!/usr/bin/env bash") || strings.HasPrefix(string(b), "# shellcheck shell=bash") {
		return "bash"
	}
	return "sh"
}

// TestSysVScript starts the daemon with the BusyBox/SysV script in the VPS,
// sees it run as nobody with the two capabilities alone, kills it to see it
// restarted, reloads a changed file, and stops it.
func TestSysVScript(t *testing.T) {
	n := newTestNet(t, true)
	dir := t.TempDir()
	// The daemon runs as nobody: it must reach its file for a reload.
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	conf, log := filepath.Join(dir, "ndpresponder.conf"), filepath.Join(dir, "ndpresponder.log")
	os.WriteFile(conf, []byte("i eth0\nn 2001:db8:1:2:ffff::/112\npin-gateway false\n"), 0o644)
	script := func(action string) string {
		t.Helper()
		out, err := n.tryIn("vps", "env", "DAEMON="+daemonBinary(t), "CONF="+conf, "RUNDIR="+dir, "LOG="+log, "sh", "init/ndpresponder.sysv", action)
		if err != nil {
			t.Fatalf("ndpresponder.sysv %s: %v\n%s", action, err, out)
		}
		return out
	}
	logText := func() string { b, _ := os.ReadFile(log); return string(b) }
	waitFor := func(s string, count int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(logText(), s) < count {
			if time.Now().After(deadline) {
				t.Fatalf("the log does not say %q %d times:\n%s", s, count, logText())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	pidOf := func(name string) int {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return p
	}
	alive := func(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }
	t.Cleanup(func() {
		for _, f := range []string{"ndpresponder.supervisor.pid", "ndpresponder.pid"} {
			if p := pidOf(f); p > 0 {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	})

	script("start")
	waitFor("responder: answering on eth0", 1)
	first := pidOf("ndpresponder.pid")
	t.Logf("the daemon started by the script: %s", requireLeastPrivilege(t, first, 65534))
	syscall.Kill(first, syscall.SIGKILL)
	waitFor("responder: answering on eth0", 2)
	if second := pidOf("ndpresponder.pid"); second == first || !alive(second) {
		t.Errorf("after the daemon died, the supervisor did not start a new one (pid %d, was %d)", second, first)
	}
	if n.ping(container) {
		t.Errorf("router reaches the container before its range is configured")
	}
	os.WriteFile(conf, []byte("i eth0\nn "+rangeArg+"\npin-gateway false\n"), 0o644)
	script("reload")
	waitFor("reload: answering for", 1)
	n.flushRouterNeigh()
	if !n.ping(container) {
		t.Errorf("after reload with the container's range, the router cannot reach it\n%s", logText())
	}
	if out := script("status"); !strings.Contains(out, "is running") {
		t.Errorf("status = %q", out)
	}
	supervisor, daemon := pidOf("ndpresponder.supervisor.pid"), pidOf("ndpresponder.pid")
	script("stop")
	for deadline := time.Now().Add(5 * time.Second); (alive(supervisor) || alive(daemon)) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(supervisor) || alive(daemon) {
		t.Errorf("after stop: supervisor alive %v, daemon alive %v", alive(supervisor), alive(daemon))
	}
	if !strings.Contains(logText(), "counters:") {
		t.Errorf("the daemon did not stop cleanly (no counters in its log):\n%s", logText())
	}
}
