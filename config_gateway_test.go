package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// The flags of the gateway keeper and the announcements: -a, -pin-gateway
// and -keepalive.

// gatewayConfigString shows the gateway fields of a config in failure
// messages.
func gatewayConfigString(c *config) string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s announce:%v pinGateway:%v keepalive:%v", configString(c), c.announce, c.pinGateway, c.keepalive)
}

func TestParseArgsGateway(t *testing.T) {
	a := netip.MustParseAddr
	in1, in2 := a("2001:db8:1:2:646f:636b:6572:10"), a("2001:db8:1:2:646f:636b:6572:11")
	const other = "2001:db8:1:2:7777::/80"
	tests := []struct {
		name       string
		args       string
		announce   []netip.Addr
		pinGateway bool
		keepalive  time.Duration
	}{
		{"defaults", "", nil, true, 0},
		{"one -a", "-a " + in1.String(), []netip.Addr{in1}, true, 0},
		{"-a repeated, in order", "-a " + in2.String() + " -a " + in1.String(), []netip.Addr{in2, in1}, true, 0},
		{"-a with =", "-a=" + in1.String(), []netip.Addr{in1}, true, 0},
		{"-a before -n", "-a " + in1.String() + " -n " + cfgRange, []netip.Addr{in1}, true, 0},
		{"-a in a second range", "-n " + other + " -a 2001:db8:1:2:7777::5", []netip.Addr{a("2001:db8:1:2:7777::5")}, true, 0},
		{"-a the range's first address", "-a 2001:db8:1:2:646f:636b:6572:0", []netip.Addr{a("2001:db8:1:2:646f:636b:6572:0")}, true, 0},
		{"-pin-gateway=false", "-pin-gateway=false", nil, false, 0},
		{"--pin-gateway=false", "--pin-gateway=false", nil, false, 0},
		{"-pin-gateway", "-pin-gateway", nil, true, 0},
		{"-pin-gateway=true", "-pin-gateway=true", nil, true, 0},
		{"-keepalive 30s", "-keepalive 30s", nil, true, 30 * time.Second},
		{"-keepalive=1m30s", "-keepalive=1m30s", nil, true, 90 * time.Second},
		{"-keepalive 0", "-keepalive 0", nil, true, 0},
		{"-keepalive 0s", "-keepalive 0s", nil, true, 0},
		{"all three", "-a " + in1.String() + " -pin-gateway=false -keepalive 10s", []netip.Addr{in1}, false, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-i", "eth0", "-n", cfgRange}, strings.Fields(tt.args)...)
			var out bytes.Buffer
			got, err := parseArgs(args, envOf(""), &out)
			if err != nil {
				t.Fatalf("parseArgs(%q) = %v, want announce %v, pinGateway %v, keepalive %v", args, err, tt.announce, tt.pinGateway, tt.keepalive)
			}
			if !slices.Equal(got.announce, tt.announce) || got.pinGateway != tt.pinGateway || got.keepalive != tt.keepalive {
				t.Errorf("parseArgs(%q) = %v, want announce %v, pinGateway %v, keepalive %v",
					args, gatewayConfigString(got), tt.announce, tt.pinGateway, tt.keepalive)
			}
			if got.iface != "eth0" || !slices.Contains(got.ranges, netip.MustParsePrefix(cfgRange)) {
				t.Errorf("parseArgs(%q) = %v, want -i and -n kept", args, gatewayConfigString(got))
			}
			if out.Len() != 0 {
				t.Errorf("parseArgs(%q) wrote %q, want nothing", args, out.String())
			}
		})
	}
}

func TestParseArgsGatewayErrors(t *testing.T) {
	tests := []struct {
		name string
		args string
		want []string // each in the error message
	}{
		{"-a outside every range", "-a 2001:db8:1:2::10", []string{"-a", "2001:db8:1:2::10", "outside"}},
		{"-a outside, after one inside", "-a 2001:db8:1:2:646f:636b:6572:10 -a 2001:db8:ffff::1", []string{"-a", "2001:db8:ffff::1", "outside"}},
		{"-a link-local", "-a fe80::1", []string{"-a", "fe80::1", "not a global IPv6 address"}},
		{"-a multicast", "-a ff02::1", []string{"-a", "ff02::1", "not a global IPv6 address"}},
		{"-a solicited-node multicast", "-a ff02::1:ff72:c1", []string{"-a", "not a global IPv6 address"}},
		{"-a unspecified", "-a ::", []string{"-a", "not a global IPv6 address"}},
		{"-a loopback", "-a ::1", []string{"-a", "not a global IPv6 address"}},
		{"-a IPv4", "-a 192.0.2.1", []string{"-a", "192.0.2.1", "not a global IPv6 address"}},
		{"-a IPv4-mapped", "-a ::ffff:192.0.2.1", []string{"-a", "not a global IPv6 address"}},
		{"-a with a zone", "-a 2001:db8:1:2:646f:636b:6572:10%eth0", []string{"-a", "not a global IPv6 address"}},
		{"-a malformed", "-a 2001:db8::zz", []string{"-a", "2001:db8::zz", "not a global IPv6 address"}},
		{"-a a prefix", "-a 2001:db8:1:2:646f:636b:6572:10/128", []string{"-a", "not a global IPv6 address"}},
		{"-a empty", "-a=", []string{"-a", "not a global IPv6 address"}},
		{"-a without a value", "-a", []string{"flag needs an argument", "-a"}},
		{"-pin-gateway with a space", "-pin-gateway false", []string{`unexpected argument "false"`}},
		{"-pin-gateway=maybe", "-pin-gateway=maybe", []string{"-pin-gateway"}},
		{"-keepalive negative", "-keepalive -30s", []string{"-keepalive", "-30s"}},
		{"-keepalive -1ns", "-keepalive=-1ns", []string{"-keepalive"}},
		{"-keepalive without a unit", "-keepalive 30", []string{"-keepalive", "30"}},
		{"-keepalive malformed", "-keepalive soon", []string{"-keepalive", "soon"}},
		{"-keepalive empty", "-keepalive=", []string{"-keepalive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-i", "eth0", "-n", cfgRange}, strings.Fields(tt.args)...)
			got, err := parseArgs(args, envOf(""), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseArgs(%q) = %v, want an error saying %q", args, gatewayConfigString(got), tt.want)
			}
			if got != nil {
				t.Errorf("parseArgs(%q) = %v, %v; want no config with an error", args, gatewayConfigString(got), err)
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

func TestParseArgsGatewayUsage(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseArgs([]string{"-h"}, envOf(""), &out); !errors.Is(err, errHelp) {
		t.Fatalf("parseArgs([-h]) = %v, want %v", err, errHelp)
	}
	for _, f := range []string{"-a ", "-pin-gateway", "-keepalive"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("parseArgs([-h]) printed usage without %q:\n%s", f, out.String())
		}
	}
}
