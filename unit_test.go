package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// units are the systemd units shipped: the plain one and the template of
// one instance per uplink.
var units = []string{"init/ndpresponder.service", "init/ndpresponder@.service"}

// TestUnitSocketFamilies: every address family the daemon opens a socket
// of is one each systemd unit's RestrictAddressFamilies allows; a family
// left out fails only at run time, under systemd, and systemd-analyze
// verify cannot see it (the MLD joins' AF_INET6 was left out so).
func TestUnitSocketFamilies(t *testing.T) {
	for _, u := range units {
		unit, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		allowed := regexp.MustCompile(`(?m)^RestrictAddressFamilies=(.*)$`).FindSubmatch(unit)
		if allowed == nil {
			t.Fatalf("%s has no RestrictAddressFamilies line", u)
		}
		checkSocketFamilies(t, u, strings.Fields(string(allowed[1])))
	}
}

func checkSocketFamilies(t *testing.T, unit string, families []string) {
	t.Helper()
	// Every package of the daemon: the internal ones open sockets too.
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return err
	})
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
				t.Errorf("%s opens an %s socket, which the RestrictAddressFamilies of %s forbids (%v)", f, m[1], unit, families)
			}
		}
	}
	if seen < 4 {
		t.Errorf("found %d socket calls, want the packet, netlink, unix and MLD sockets at least", seen)
	}
}

// unitLines reads a unit's settings: each non-comment line, in order,
// with its section.
func unitLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			section = l
		default:
			lines = append(lines, section+l)
		}
	}
	return lines
}

// TestUnitTemplate: ndpresponder@.service is the plain unit per uplink.
// The instance is the uplink: its file is /etc/ndpresponder/%i.conf and
// -i %i wins over the file's; the -unpin after a run touches only that
// uplink, and needs no file; each instance writes in a runtime directory of
// its own. Every other setting, the sandbox above all, is the plain unit's,
// line for line, so that a hardening added to one cannot miss the other.
func TestUnitTemplate(t *testing.T) {
	plain, tmpl := unitLines(t, units[0]), unitLines(t, units[1])
	differ := map[string][2]string{
		"[Unit]Description=": {"IPv6 Neighbor Discovery responder for on-link prefixes", "IPv6 Neighbor Discovery responder on %i"},
		"[Service]ExecStart=": {"/usr/local/bin/ndpresponder -c /etc/ndpresponder.conf",
			"/usr/local/bin/ndpresponder -c /etc/ndpresponder/%i.conf -i %i"},
		"[Service]ExecStopPost=": {"/usr/local/bin/ndpresponder -c /etc/ndpresponder.conf -unpin",
			"/usr/local/bin/ndpresponder -i %i -unpin"},
		"[Service]RuntimeDirectory=": {"ndpresponder", "ndpresponder/%i"},
	}
	key := func(l string) string { k, _, _ := strings.Cut(l, "="); return k + "=" }
	if len(plain) != len(tmpl) {
		t.Fatalf("the template has %d settings, the plain unit %d:\n%s\n--\n%s", len(tmpl), len(plain),
			strings.Join(tmpl, "\n"), strings.Join(plain, "\n"))
	}
	for i := range plain {
		p, q := plain[i], tmpl[i]
		if key(p) != key(q) {
			t.Errorf("setting %d: the plain unit has %q, the template %q", i, p, q)
			continue
		}
		want, ok := differ[key(p)]
		if !ok {
			if p != q {
				t.Errorf("the template has %q, the plain unit %q: they must agree", q, p)
			}
			continue
		}
		delete(differ, key(p))
		if p != key(p)+want[0] || q != key(q)+want[1] {
			t.Errorf("%s: plain %q, template %q; want %q and %q", key(p), p, q, want[0], want[1])
		}
	}
	for k := range differ {
		t.Errorf("neither unit has %s", k)
	}
}
