//go:build !nonetns

package main

// Least privilege, seen from /proc: started as root, the daemon keeps
// CAP_NET_RAW and CAP_NET_ADMIN alone on every thread, with no_new_privs,
// and with -user it is that user too; it still answers, pins the gateway
// and removes the pin.

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireLeastPrivilege checks every thread of process pid: its uids are
// uid, its effective, permitted and bounding sets CAP_NET_RAW and
// CAP_NET_ADMIN alone, and no_new_privs is set. It returns what it saw.
func requireLeastPrivilege(t *testing.T, pid, uid int) string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of process %d: %v", pid, err)
	}
	want := map[string]string{
		"Uid":        strings.Repeat(strconv.Itoa(uid)+"\t", 3) + strconv.Itoa(uid),
		"CapEff":     "0000000000003000",
		"CapPrm":     "0000000000003000",
		"CapBnd":     "0000000000003000",
		"NoNewPrivs": "1",
	}
	var seen string
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			t.Fatalf("reading %s: %v", task, err)
		}
		var got []string
		for _, line := range strings.Split(string(b), "\n") {
			key, value, _ := strings.Cut(line, ":")
			value = strings.TrimSpace(value)
			if w, ok := want[key]; ok {
				got = append(got, key+" "+value)
				if value != w {
					t.Errorf("%s: %s is %q, want %q", task, key, value, w)
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: saw only %v", task, got)
		}
		seen = strings.Join(got, ", ")
	}
	return strings.ReplaceAll(seen, "\t", " ") + " (each of " + strconv.Itoa(len(tasks)) + " threads)"
}

func TestPrivileges(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		uid  int
	}{
		{"as root", nil, 0},
		{"-user nobody", []string{"-user", "nobody"}, 65534},
		{"-user 4321:4321", []string{"-user", "4321:4321"}, 4321},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
			d := n.startDaemon(append([]string{"-i", "eth0", "-n", rangeArg}, c.args...)...)
			n.requirePinned()
			t.Logf("%s", requireLeastPrivilege(t, d.cmd.Process.Pid, c.uid))
			if !n.ping(container) {
				t.Errorf("router cannot reach the container\n%s", d.logText())
			}
			d.stop()
			if e := n.gatewayEntry(); strings.Contains(e, "NOARP") {
				t.Errorf("the gateway's pin is left behind: %q", e)
			}
		})
	}
}

// TestPrivilegesEngineGroup: with -N and -user, the group of the engine's
// socket (Docker's: root:docker, 0660) is kept, so the daemon still
// reaches the engine.
func TestPrivilegesEngineGroup(t *testing.T) {
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			<-done
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + fakeListing(dockerC1)))
	})
	for _, dir := range []string{filepath.Dir(e.sock), filepath.Dir(filepath.Dir(e.sock))} {
		os.Chmod(dir, 0o755)
	}
	const docker = 4242
	if err := os.Chown(e.sock, 0, docker); err != nil {
		t.Fatal(err)
	}
	os.Chmod(e.sock, 0o660)
	n := newTestNet(t, true)
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	d := n.startDaemon("-i", "eth0", "-N", dockerNetName, "-n", dockerRange, "-user", "nobody")
	requireLeastPrivilege(t, d.cmd.Process.Pid, 65534)
	st, err := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/status")
	if err != nil || !strings.Contains(string(st), "\nGroups:\t4242 \n") {
		t.Errorf("the daemon's groups are not the engine's socket's alone: %v\n%s", err, st)
	}
	w := n.openWire("rt", "rt0")
	if !w.answered(dockerC1, 5*time.Second) {
		t.Errorf("the daemon as nobody does not answer for the engine's container:\n%s", d.logText())
	}
	d.stop()
}

// TestPrivilegesWithoutExec: where the daemon cannot re-execute itself (here
// a binary that only root may run, with -user nobody; for real, a binary run
// by qemu-user), every thread has changed all the same. Under the race
// detector, with cgo, the change is made on one thread only, and the daemon
// refuses to go on.
func TestPrivilegesWithoutExec(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	bin := filepath.Join(t.TempDir(), "ndpresponder")
	b, err := os.ReadFile(daemonBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"netns", "exec", n.ns("vps"), bin, "-i", "eth0", "-n", rangeArg, "-user", "nobody"}
	if os.Getenv("NDPR_TEST_RACE") != "" {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "dropping privileges: re-executing") {
			t.Errorf("with cgo, a daemon that cannot re-execute itself: %v, %q; want it to refuse", err, out)
		}
		return
	}
	d := &daemonProc{t: t, done: make(chan struct{})}
	d.cmd = exec.Command("ip", args...)
	d.start(n, "responder: answering on")
	if !strings.Contains(d.logText(), "going on with them dropped on every thread") {
		t.Errorf("the daemon does not say it could not re-execute itself:\n%s", d.logText())
	}
	t.Logf("%s", requireLeastPrivilege(t, d.cmd.Process.Pid, 65534))
	if !n.ping(container) {
		t.Errorf("router cannot reach the container\n%s", d.logText())
	}
	d.stop()
}
