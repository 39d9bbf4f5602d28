//go:build !nonetns

package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCommandLineErrors: each bad command line is refused with status 2
// and a message, before anything starts.
func TestCommandLineErrors(t *testing.T) {
	n := newTestNet(t, false)
	bin := daemonBinary(t)
	if out, err := exec.Command(bin, "-version").Output(); err != nil || !strings.HasPrefix(string(out), "ndpresponder ") {
		t.Errorf("ndpresponder -version: %q, %v; want the version on stdout and status 0", out, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-i", "no-such-interface0", "-n", rangeArg}, "not a valid interface name"},
		{[]string{"-i", "eth0", "-n", "2001:db8::/zz"}, "prefix"},
		{[]string{"-i", "eth0", "-n", "192.0.2.0/24"}, "not an IPv6 prefix"},
		{[]string{"-i", "eth0"}, "-n PREFIX is required"},
		{[]string{"-i", "eth0", "-n", "2001:db8::/48"}, "-allow-wide"},
		{[]string{"-i", "eth0", "-n", rangeArg, "-source", "elsewhere"}, "-source"},
		{[]string{"-i", "eth0", "-n", rangeArg, "-log", "loud"}, "log level"},
		{[]string{"-i", "eth0", "-n", rangeArg, "-bogus"}, "bogus"},
		{[]string{"-i", "eth0", "-n", rangeArg, "-user", "no-such-user-here", "-check-config"}, "no such user"},
	} {
		out, err := n.tryIn("vps", append([]string{bin}, c.args...)...)
		code := -1
		if ee, ok := err.(interface{ ExitCode() int }); ok {
			code = ee.ExitCode()
		}
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("ndpresponder %s: status %d, output %q; want status 2 and %q", strings.Join(c.args, " "), code, out, c.want)
		}
	}
}
