//go:build !nonetns

package main

// The router builds, end to end: the binaries for big-endian MIPS, MIPS
// little-endian and ARMv7, as ./build.sh all makes them, run under
// qemu-user as the daemon in the test network.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// routerBuilds are the builds for routers, each with the qemu-user that
// runs it here.
var routerBuilds = []struct {
	name, goarch, qemu string
}{
	{"mips", "mips", "qemu-mips-static"},
	{"mipsle", "mipsle", "qemu-mipsel-static"},
	{"armv7", "arm", "qemu-arm-static"},
}

var crossBuilt struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// crossDaemonBinary builds the daemon for goarch once, as build.sh does:
// static, soft float on MIPS, ARMv7.
func crossDaemonBinary(t *testing.T, goarch string) string {
	t.Helper()
	crossBuilt.Lock()
	defer crossBuilt.Unlock()
	if bin, ok := crossBuilt.bins[goarch]; ok {
		return bin
	}
	if crossBuilt.dir == "" {
		dir, err := os.MkdirTemp("", "ndpresponder-cross")
		if err != nil {
			t.Fatal(err)
		}
		crossBuilt.dir, crossBuilt.bins = dir, map[string]string{}
	}
	bin := filepath.Join(crossBuilt.dir, "ndpresponder-"+goarch)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOMIPS=softfloat", "GOARM=7")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", goarch, err, out)
	}
	crossBuilt.bins[goarch] = bin
	return bin
}

// startDaemonUnder runs bin under the qemu-user program qemu in the VPS
// and waits until it says it is answering. GOMAXPROCS is left out of its
// environment, so the daemon tries to re-execute itself (lean), which the
// host refuses for a foreign binary; it goes on as it is.
func (n *testNet) startDaemonUnder(qemu, bin string, args ...string) *daemonProc {
	n.t.Helper()
	d := &daemonProc{t: n.t, done: make(chan struct{})}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", n.ns("vps"), qemu, bin}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	d.start(n, "responder: answering on")
	return d
}

// TestRouterBuilds: each router build, under qemu-user, gets the router
// through the hypervisor's filter to the container: the router's ping is
// answered, its neighbour entry points at the VPS, and its NS is answered
// from the target address, which the filter, dropping NAs from link-local,
// lets through.
func TestRouterBuilds(t *testing.T) {
	requireRoot(t)
	for _, b := range routerBuilds {
		t.Run(b.name, func(t *testing.T) {
			if _, err := exec.LookPath(b.qemu); err != nil {
				t.Fatalf("%s: %v (test.sh installs qemu-user-static)", b.qemu, err)
			}
			bin := crossDaemonBinary(t, b.goarch)
			n := newTestNet(t, true)
			if n.ping(container) {
				t.Fatal("router reaches the container before the daemon runs; the test network is wrong")
			}
			n.flushRouterNeigh()
			before := n.drops()
			start := time.Now()
			d := n.startDaemonUnder(b.qemu, bin, "-i", "eth0", "-n", rangeArg)
			started := time.Since(start)
			if !n.ping(container) {
				t.Errorf("router cannot ping the container through the %s build", b.name)
			}
			if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+vpsMAC.String()) {
				t.Errorf("router's entry for the container = %q, want lladdr %v", e, vpsMAC)
			}
			if after := n.drops(); after != before {
				t.Errorf("hypervisor dropped %d NAs from the VPS", after-before)
			}
			w := n.openWire("rt", "rt0")
			w.send(appendNS(nil, w.mac, vpsMAC, routerLL, container, container, [6]byte{}))
			got := w.nas(container, 3*time.Second, 1)
			want := neighborAdvertisement{EthDst: w.mac, EthSrc: vpsMAC, Src: container, Dst: routerLL,
				Flags: naFlagSolicited | naFlagOverride, Target: container, TargetLLA: vpsMAC, HasTargetLLA: true}
			if len(got) != 1 || got[0] != want {
				t.Errorf("the router's probe got %+v, want one NA %+v", got, want)
			}
			log := d.stop()
			if counter(log, "answered") < 2 {
				t.Errorf("the %s build answered %d solicitations, want the ping's and the probe's:\n%s", b.name, counter(log, "answered"), log)
			}
			t.Logf("%s under %s: ready in %v; its log:\n%s", b.name, b.qemu, started.Round(time.Millisecond), indent(log))
		})
	}
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n\t")
}
