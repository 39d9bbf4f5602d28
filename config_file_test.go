package main

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(string) string { return "" }
	good := file("good.conf", `# an example
-i eth0
n 2001:db8:1:2::/112   # containers
subnet=2001:db8:1:3::/112
router
pin-gateway=false
keepalive	30s
a = 2001:db8:1:2::10
`)
	cfg, err := parseArgs([]string{"-c", good}, env, io.Discard)
	if err != nil {
		t.Fatalf("parseArgs(-c good.conf) = %v", err)
	}
	wantRanges := []netip.Prefix{netip.MustParsePrefix("2001:db8:1:2::/112"), netip.MustParsePrefix("2001:db8:1:3::/112")}
	if cfg.iface != "eth0" || len(cfg.ranges) != 2 || cfg.announce[0] != netip.MustParseAddr("2001:db8:1:2::10") || cfg.ranges[0] != wantRanges[0] || cfg.ranges[1] != wantRanges[1] ||
		!cfg.router || cfg.pinGateway || cfg.keepalive != 30*time.Second || len(cfg.announce) != 1 || cfg.file != good {
		t.Errorf("parseArgs(-c good.conf) = %+v", cfg)
	}
	// The command line comes after the file: it adds to lists and wins
	// over single values.
	cfg, err = parseArgs([]string{"-c", good, "-i", "eth1", "-n", "2001:db8:1:4::/112"}, env, io.Discard)
	if err != nil || cfg.iface != "eth1" || len(cfg.ranges) != 3 {
		t.Errorf("parseArgs(-c good.conf -i eth1 -n ...) = %+v, %v; want eth1 and 3 ranges", cfg, err)
	}

	for _, c := range []struct{ name, text, want string }{
		{"bad-prefix.conf", "i eth0\n\n# comment\nn nonsense\n", "bad-prefix.conf:4:"},
		{"unknown.conf", "i eth0\nn 2001:db8::/112\nfrobnicate 3\n", "unknown.conf:3:"},
		{"nested.conf", "i eth0\nc other.conf\n", "nested.conf:2: -c is an action"},
		{"check.conf", "i eth0\nn 2001:db8::/112\ncheck\n", "check.conf:3: -check is an action"},
		{"check-config.conf", "i eth0\n--check-config\n", "check-config.conf:2: -check-config is an action"},
		{"version.conf", "version\n", "version.conf:1: -version is an action"},
		{"help.conf", "i eth0\nhelp\n", "help.conf:2: -help is an action"},
		{"h.conf", "-h=true\n", "h.conf:1: -h is an action"},
		{"control.conf", "i eth\x010\nn 2001:db8::/112\n", "control.conf:1:"},
		{"keepalive.conf", "i eth0\nn 2001:db8::/112\nkeepalive 1ns\n", "-keepalive 1ns"},
		{"huge.conf", "i eth0\n" + strings.Repeat("# a comment\n", 10000), "longer than"},
		{"wide.conf", "i eth0\nn 2001:db8::/48\n", "wide.conf: range 2001:db8::/48 is wider than /64"},
		{"no-iface.conf", "n 2001:db8::/112\n", "no-iface.conf: no uplink"},
	} {
		_, err := parseArgs([]string{"-c", file(c.name, c.text)}, env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseArgs(-c %s) = %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// -unpin needs the interface alone: lines it cannot read, which would
	// keep the daemon from starting, do not keep it from cleaning up.
	broken := file("broken.conf", "n nonsense\ni eth0\nfrobnicate 3\ncheck\n")
	cfg, err = parseArgs([]string{"-c", broken, "-unpin"}, env, io.Discard)
	if err != nil || !cfg.unpin || cfg.iface != "eth0" {
		t.Errorf("parseArgs(-c broken.conf -unpin) = %+v, %v; want -unpin on eth0", cfg, err)
	}
	// Its interface unreadable, the file must not widen -unpin to every
	// interface.
	noIface := file("no-iface-unpin.conf", "i eth\x010\nn 2001:db8::/112\n")
	if _, err := parseArgs([]string{"-c", noIface, "-unpin"}, env, io.Discard); err == nil || !strings.Contains(err.Error(), "no uplink for -unpin") {
		t.Errorf("parseArgs(-c no-iface-unpin.conf -unpin) = %v, want no uplink for -unpin", err)
	}
	if _, err := parseArgs([]string{"-c", broken}, env, io.Discard); err == nil {
		t.Errorf("parseArgs(-c broken.conf) gave no error")
	}
	if _, err := parseArgs([]string{"-c", filepath.Join(dir, "missing.conf")}, env, io.Discard); err == nil {
		t.Errorf("parseArgs(-c missing.conf) gave no error")
	}
}
