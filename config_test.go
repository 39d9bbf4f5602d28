package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const (
	cfgRange = "2001:db8:1:2:646f:636b:6572::/112"
	cfgWide  = "2001:db8:1::/48"
)

// envOf returns a getenv that knows only NDPRESPONDER_LOG=level, or
// nothing when level is empty.
func envOf(level string) func(string) string {
	return func(k string) string {
		if k == "NDPRESPONDER_LOG" {
			return level
		}
		return ""
	}
}

func sameConfig(a, b *config) bool {
	return a.iface == b.iface && slices.Equal(a.ranges, b.ranges) && a.source == b.source &&
		a.fixed == b.fixed && a.router == b.router && a.level == b.level && a.allowWide == b.allowWide
}

// configString shows a config in failure messages.
func configString(c *config) string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{iface:%q ranges:%v source:%d fixed:%v router:%v level:%v allowWide:%v}",
		c.iface, c.ranges, c.source, c.fixed, c.router, c.level, c.allowWide)
}

func TestParseArgs(t *testing.T) {
	p := netip.MustParsePrefix
	base := func(change func(c *config)) *config {
		c := &config{iface: "eth0", ranges: []netip.Prefix{p(cfgRange)}, source: sourceTarget, level: levelInfo}
		if change != nil {
			change(c)
		}
		return c
	}
	tests := []struct {
		name string
		args string
		env  string // NDPRESPONDER_LOG
		want *config
	}{
		{"short names", "-i eth0 -n " + cfgRange, "", base(nil)},
		{"long aliases", "-ifname eth0 -subnet " + cfgRange, "", base(nil)},
		{"long aliases with two dashes", "--ifname eth0 --subnet " + cfgRange, "", base(nil)},
		{"two dashes and =", "--ifname=eth0 --subnet=" + cfgRange, "", base(nil)},
		{"prefix masked", "-i eth0 -n 2001:db8:1:2:646f:636b:6572:c1/112", "", base(nil)},
		{"prefix masked, /64", "-i eth0 -n 2001:db8:1:2::2/64", "", base(func(c *config) {
			c.ranges = []netip.Prefix{p("2001:db8:1:2::/64")}
		})},
		{"a /128", "-i eth0 -n 2001:db8:1:2::c1/128", "", base(func(c *config) {
			c.ranges = []netip.Prefix{p("2001:db8:1:2::c1/128")}
		})},
		{"repeated, mixing names, in order", "-i eth0 -n " + cfgRange + " -subnet 2001:db8:1:2:7777::1/80", "", base(func(c *config) {
			c.ranges = []netip.Prefix{p(cfgRange), p("2001:db8:1:2:7777::/80")}
		})},
		{"-router", "-i eth0 -n " + cfgRange + " -router", "", base(func(c *config) { c.router = true })},
		{"-source target", "-i eth0 -n " + cfgRange + " -source target", "", base(nil)},
		{"-source link-local", "-i eth0 -n " + cfgRange + " -source link-local", "", base(func(c *config) {
			c.source = sourceLinkLocal
		})},
		{"-source address", "-i eth0 -n " + cfgRange + " -source 2001:db8::1", "", base(func(c *config) {
			c.source, c.fixed = sourceFixed, netip.MustParseAddr("2001:db8::1")
		})},
		{"-source link-local address", "-i eth0 -n " + cfgRange + " -source fe80::1", "", base(func(c *config) {
			c.source, c.fixed = sourceFixed, netip.MustParseAddr("fe80::1")
		})},
		{"-allow-wide", "-i eth0 -n " + cfgWide + " -allow-wide", "", base(func(c *config) {
			c.ranges, c.allowWide = []netip.Prefix{p(cfgWide)}, true
		})},
		{"-allow-wide before -n", "-allow-wide -i eth0 -n 2001:db8::/32", "", base(func(c *config) {
			c.ranges, c.allowWide = []netip.Prefix{p("2001:db8::/32")}, true
		})},
		{"-log debug", "-i eth0 -n " + cfgRange + " -log debug", "", base(func(c *config) { c.level = levelDebug })},
		{"-log WARNING", "-i eth0 -n " + cfgRange + " -log WARNING", "", base(func(c *config) { c.level = levelWarn })},
		{"env DEBUG", "-i eth0 -n " + cfgRange, "DEBUG", base(func(c *config) { c.level = levelDebug })},
		{"env INFO", "-i eth0 -n " + cfgRange, "INFO", base(func(c *config) { c.level = levelInfo })},
		{"env WARN", "-i eth0 -n " + cfgRange, "WARN", base(func(c *config) { c.level = levelWarn })},
		{"env ERROR", "-i eth0 -n " + cfgRange, "ERROR", base(func(c *config) { c.level = levelError })},
		{"env FATAL", "-i eth0 -n " + cfgRange, "FATAL", base(func(c *config) { c.level = levelError })},
		{"env DPANIC", "-i eth0 -n " + cfgRange, "DPANIC", base(func(c *config) { c.level = levelError })},
		{"env PANIC", "-i eth0 -n " + cfgRange, "PANIC", base(func(c *config) { c.level = levelError })},
		{"env warning", "-i eth0 -n " + cfgRange, "warning", base(func(c *config) { c.level = levelWarn })},
		{"env empty", "-i eth0 -n " + cfgRange, "", base(func(c *config) { c.level = levelInfo })},
		{"-log wins over env", "-i eth0 -n " + cfgRange + " -log error", "DEBUG", base(func(c *config) { c.level = levelError })},
		{"-log wins over a bad env", "-i eth0 -n " + cfgRange + " -log debug", "loud", base(func(c *config) { c.level = levelDebug })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := strings.Fields(tt.args)
			var out bytes.Buffer
			got, err := parseArgs(args, envOf(tt.env), &out)
			if err != nil {
				t.Fatalf("parseArgs(%q) with NDPRESPONDER_LOG=%q = %v, want %v", args, tt.env, err, configString(tt.want))
			}
			if !sameConfig(got, tt.want) {
				t.Errorf("parseArgs(%q) with NDPRESPONDER_LOG=%q = %v, want %v", args, tt.env, configString(got), configString(tt.want))
			}
			if out.Len() != 0 {
				t.Errorf("parseArgs(%q) wrote %q, want nothing", args, out.String())
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		args string
		env  string
		want []string // each in the error message
	}{
		{"malformed prefix", "-i eth0 -n 2001:db8::zz/64", "", []string{"2001:db8::zz/64", "not a prefix"}},
		{"prefix without a length", "-i eth0 -n 2001:db8::1", "", []string{"not a prefix"}},
		{"prefix too long", "-i eth0 -n 2001:db8::/129", "", []string{"not a prefix"}},
		{"IPv4 prefix", "-i eth0 -n 192.0.2.0/24", "", []string{"192.0.2.0/24", "not an IPv6 prefix"}},
		{"IPv4-mapped prefix", "-i eth0 -n ::ffff:192.0.2.0/120", "", []string{"::ffff:192.0.2.0/120", "not an IPv6 prefix"}},
		{"IPv4-mapped /96", "-i eth0 -n ::ffff:0:0/96", "", []string{"not an IPv6 prefix"}},
		{"prefix with a zone", "-i eth0 -n fe80::%eth0/64", "", []string{"zone"}},
		{"no -n", "-i eth0", "", []string{"-n PREFIX is required"}},
		{"no -i", "-n " + cfgRange, "", []string{"-i IFACE is required"}},
		{"empty -i", "-i= -n " + cfgRange, "", []string{`"" is not a valid interface name`}},
		{"-i with a control character", "-i eth\x01 -n " + cfgRange, "", []string{"not a valid interface name"}},
		{"nothing at all", "", "", []string{"required"}},
		{"unknown -source", "-i eth0 -n " + cfgRange + " -source router", "", []string{`-source "router"`}},
		{"multicast -source", "-i eth0 -n " + cfgRange + " -source ff02::1", "", []string{`-source "ff02::1"`, "unicast"}},
		{"unspecified -source", "-i eth0 -n " + cfgRange + " -source ::", "", []string{`-source "::"`}},
		{"IPv4 -source", "-i eth0 -n " + cfgRange + " -source 192.0.2.1", "", []string{`-source "192.0.2.1"`, "IPv6"}},
		{"IPv4-mapped -source", "-i eth0 -n " + cfgRange + " -source ::ffff:192.0.2.1", "", []string{`-source "::ffff:192.0.2.1"`}},
		{"-source with a zone", "-i eth0 -n " + cfgRange + " -source fe80::1%eth0", "", []string{`-source "fe80::1%eth0"`}},
		{"empty -source", "-i eth0 -n " + cfgRange + " -source=", "", []string{`-source ""`}},
		{"unknown -log", "-i eth0 -n " + cfgRange + " -log verbose", "", []string{`unknown log level "verbose"`}},
		{"unknown level in env", "-i eth0 -n " + cfgRange, "loud", []string{`unknown log level "loud"`}},
		{"unknown flag", "-i eth0 -n " + cfgRange + " -proxy", "", []string{"flag provided but not defined", "-proxy"}},
		{"-n without a value", "-i eth0 -n", "", []string{"flag needs an argument", "-n"}},
		{"stray argument", "-i eth0 -n " + cfgRange + " eth1", "", []string{`unexpected argument "eth1"`}},
		{"argument before the flags", "eth0 -n " + cfgRange, "", []string{`unexpected argument "eth0"`}},
		{"wider than /64", "-i eth0 -n " + cfgWide, "", []string{cfgWide, "wider than /64", "-allow-wide"}},
		{"/63", "-i eth0 -n 2001:db8:1:2::/63", "", []string{"2001:db8:1:2::/63", "wider than /64"}},
		{"::/0", "-i eth0 -n ::/0", "", []string{"::/0", "not global unicast"}},
		{"::/0 with -allow-wide", "-i eth0 -allow-wide -n ::/0", "", []string{"::/0", "not global unicast"}},
		{"wider than /32 with -allow-wide", "-i eth0 -allow-wide -n 2000::/3", "", []string{"2000::/3", "wider than /32"}},
		{"link-local range", "-i eth0 -n fe80::/64", "", []string{"fe80::/64", "not global unicast"}},
		{"unspecified", "-i eth0 -n ::/128", "", []string{"::/128", "not global unicast"}},
		{"loopback", "-i eth0 -n ::1/128", "", []string{"::1/128", "not global unicast"}},
		{"multicast range", "-i eth0 -n ff02::1:ff00:0/104", "", []string{"ff02::1:ff00:0/104", "not global unicast"}},
		{"a range that runs into multicast", "-i eth0 -allow-wide -n fe00::/7", "", []string{"not global unicast"}},
		{"-announce-rate 0", "-i eth0 -n " + cfgRange + " -announce-rate 0", "", []string{"-announce-rate 0"}},
		{"-max-per-mac 0", "-i eth0 -n " + cfgRange + " -max-per-mac 0", "", []string{"-max-per-mac 0"}},
		{"-rate too high", "-i eth0 -n " + cfgRange + " -rate 10000000", "", []string{"-rate", "1000000"}},
		{"-rate-target too high", "-i eth0 -n " + cfgRange + " -rate-target 10000000000", "", []string{"-rate-target", "1000000"}},
		{"one wide range among narrow ones", "-i eth0 -n " + cfgRange + " -n " + cfgWide, "", []string{cfgWide, "wider than /64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := strings.Fields(tt.args)
			got, err := parseArgs(args, envOf(tt.env), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseArgs(%q) with NDPRESPONDER_LOG=%q = %v, want an error saying %q", args, tt.env, configString(got), tt.want)
			}
			if got != nil {
				t.Errorf("parseArgs(%q) = %v, %v; want no config with an error", args, configString(got), err)
			}
			if errors.Is(err, errHelp) || errors.Is(err, errVersion) {
				t.Errorf("parseArgs(%q) = %v, want an error that does not exit 0", args, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseArgs(%q) = %v, want an error saying %q", args, err, w)
				}
			}
		})
	}
}

func TestParseArgsVersion(t *testing.T) {
	for _, args := range [][]string{
		{"-version"},
		{"--version"},
		{"-i", "eth0", "-n", cfgRange, "-version"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			got, err := parseArgs(args, envOf(""), &out)
			if !errors.Is(err, errVersion) || got != nil {
				t.Errorf("parseArgs(%q) = %v, %v; want nil, %v", args, configString(got), err, errVersion)
			}
			if out.Len() != 0 {
				t.Errorf("parseArgs(%q) printed %q, want nothing (main prints the version)", args, out.String())
			}
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"-i", "eth0", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			got, err := parseArgs(args, envOf(""), &out)
			if !errors.Is(err, errHelp) || got != nil {
				t.Errorf("parseArgs(%q) = %v, %v; want nil, %v", args, configString(got), err, errHelp)
			}
			usage := out.String()
			example := false
			for _, line := range strings.Split(usage, "\n") {
				line = strings.TrimSpace(line)
				if strings.HasPrefix(line, "ndpresponder -i ") && strings.Contains(line, " -n ") {
					example = true
				}
			}
			if !example {
				t.Errorf("parseArgs(%q) printed %q, want an example line with -n", args, usage)
			}
			for _, f := range []string{"-i ", "-ifname", "-n ", "-subnet", "-source", "-router", "-log", "-allow-wide", "-version", "NDPRESPONDER_LOG"} {
				if !strings.Contains(usage, f) {
					t.Errorf("parseArgs(%q) printed usage without %q:\n%s", args, f, usage)
				}
			}
		})
	}
}
