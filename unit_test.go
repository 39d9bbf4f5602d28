package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestUnitSocketFamilies: every address family the daemon opens a socket
// of is one the systemd unit's RestrictAddressFamilies allows; a family
// left out fails only at run time, under systemd, and systemd-analyze
// verify cannot see it (the MLD joins' AF_INET6 was left out so).
func TestUnitSocketFamilies(t *testing.T) {
	unit, err := os.ReadFile("init/ndpresponder.service")
	if err != nil {
		t.Fatal(err)
	}
	allowed := regexp.MustCompile(`(?m)^RestrictAddressFamilies=(.*)$`).FindSubmatch(unit)
	if allowed == nil {
		t.Fatal("the unit has no RestrictAddressFamilies line")
	}
	families := strings.Fields(string(allowed[1]))
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	opened := regexp.MustCompile(`unix\.Socket\(unix\.(AF_[A-Z0-9]+)`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range opened.FindAllSubmatch(b, -1) {
			seen++
			if !slices.Contains(families, string(m[1])) {
				t.Errorf("%s opens an %s socket, which the unit's RestrictAddressFamilies=%s forbids", f, m[1], allowed[1])
			}
		}
	}
	if seen < 4 {
		t.Errorf("found %d socket calls, want the packet, netlink, unix and MLD sockets at least", seen)
	}
}
