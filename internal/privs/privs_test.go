package privs

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// rootStatus is /proc/self/status of a shell run as root on this machine
// (the lines that matter): every capability but CAP_SYS_RESOURCE.
const rootStatus = `Name:	grep
Umask:	0022
State:	R (running)
Uid:	0	0	0	0
Gid:	0	0	0	0
Groups:	 
CapInh:	0000000000000000
CapPrm:	000001fffeffffff
CapEff:	000001fffeffffff
CapBnd:	000001fffeffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
`

func TestParseCreds(t *testing.T) {
	c, err := parseCreds(rootStatus)
	want := creds{inh: 0, prm: 0x1fffeffffff, eff: 0x1fffeffffff, bnd: 0x1fffeffffff}
	if err != nil || c != want {
		t.Errorf("parseCreds(root) = %+v, %v; want %+v", c, err, want)
	}
	// The daemon after -user nobody, read from /proc/PID/status.
	c, err = parseCreds("Uid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\nCapInh:\t0000000000003000\nCapPrm:\t0000000000003000\n" +
		"CapEff:\t0000000000003000\nCapBnd:\t0000000000003000\nCapAmb:\t0000000000003000\nNoNewPrivs:\t1\n")
	want = creds{uid: [3]int{65534, 65534, 65534}, gid: [3]int{65534, 65534, 65534}, inh: keepCaps, prm: keepCaps, eff: keepCaps, bnd: keepCaps, amb: keepCaps}
	if err != nil || c != want {
		t.Errorf("parseCreds(nobody) = %+v, %v; want %+v", c, err, want)
	}
	for _, bad := range []string{"", "Uid:\t0\t0\nGid:\t0\t0\t0\t0\n", strings.Replace(rootStatus, "CapEff:\t000001fffeffffff", "CapEff:\tzz", 1),
		strings.Replace(rootStatus, "CapBnd:", "CapXxx:", 1), strings.Replace(rootStatus, "Uid:\t0", "Uid:\tx", 1)} {
		if c, err := parseCreds(bad); err == nil {
			t.Errorf("parseCreds(%.40q) = %+v, no error", bad, c)
		}
	}
}

func TestLookupUser(t *testing.T) {
	const passwd = "root:x:0:0:root:/root:/bin/bash\n# a comment\nbroken\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
		"bad:x:1:x:::\nndpr:x:999:998::/:/bin/false\n"
	open := func(text string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
	}
	for spec, want := range map[string]user{
		"nobody": {"nobody", 65534, 65534}, "ndpr": {"ndpr", 999, 998}, "root": {"root", 0, 0},
		"65534": {"65534", 65534, 65534}, "1000:100": {"1000:100", 1000, 100}, "0": {"0", 0, 0},
	} {
		if got, err := LookupUser(spec, open(passwd)); got != want || err != nil {
			t.Errorf("lookupUser(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "nosuch", "bad", "-1", "1:x", "99999999999", "#"} {
		if got, err := LookupUser(spec, open(passwd)); err == nil {
			t.Errorf("lookupUser(%q) = %+v, no error", spec, got)
		}
	}
	// A line longer than the reader's buffer is skipped, not fatal.
	if got, err := LookupUser("nobody", open("long:x:1:1:"+strings.Repeat("y", 10000)+"\n"+passwd)); got.uid != 65534 || err != nil {
		t.Errorf("lookupUser(nobody after a long line) = %+v, %v", got, err)
	}
	// Only the first MiB of the file is read.
	long := strings.Repeat("x:x:1:1:"+strings.Repeat("y", 100)+":/:/bin/false\n", maxPasswd/100) + "late:x:5:5::/:/bin/false\n"
	if got, err := LookupUser("late", open(long)); err == nil {
		t.Errorf("lookupUser(late, after %d bytes) = %+v, no error", len(long), got)
	}
	if _, err := LookupUser("nobody", func() (io.ReadCloser, error) { return nil, errors.New("no file") }); err == nil || !strings.Contains(err.Error(), "no file") {
		t.Errorf("lookupUser without /etc/passwd: %v", err)
	}
}

func TestPlanPrivileges(t *testing.T) {
	const (
		all    = 0x1fffeffffff
		setids = 1<<capSetuid | 1<<capSetgid
	)
	root, _ := parseCreds(rootStatus)
	nobody := &user{"nobody", 65534, 65534}
	ids := func(id int) [3]int { return [3]int{id, id, id} }
	for _, c := range []struct {
		name   string
		c      creds
		u      *user
		group  int
		want   privPlan
		needed bool
		err    string
	}{
		{"root", root, nil, -1, privPlan{dropBounding: all &^ keepCaps, caps: keepCaps}, true, ""},
		{"root, -user nobody, the engine's group", root, nobody, 998,
			privPlan{dropBounding: all &^ keepCaps, setIDs: true, uid: 65534, gid: 65534, groups: []int{998}, caps: keepCaps}, true, ""},
		{"root, -user root", root, &user{"root", 0, 0}, -1, privPlan{dropBounding: all &^ keepCaps, caps: keepCaps}, true, ""},
		{"root after the drop", creds{inh: keepCaps, prm: keepCaps, eff: keepCaps, bnd: keepCaps, amb: keepCaps, noNewPrivs: true}, nil, -1,
			privPlan{caps: keepCaps}, false, ""},
		{"nobody after the drop", creds{uid: ids(65534), gid: ids(65534), inh: keepCaps, prm: keepCaps, eff: keepCaps, bnd: keepCaps, amb: keepCaps, noNewPrivs: true}, nobody, 998,
			privPlan{caps: keepCaps}, false, ""},
		// docker run --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN:
		// root with the two, no CAP_SETPCAP to drop anything else.
		{"container with the two", creds{prm: keepCaps, eff: keepCaps, bnd: keepCaps}, nil, -1, privPlan{caps: keepCaps}, true, ""},
		{"container with the two, -user", creds{prm: keepCaps, eff: keepCaps, bnd: keepCaps}, nobody, -1, privPlan{}, false, "needs CAP_SETUID and CAP_SETGID"},
		{"container with SETUID and SETGID, -user", creds{prm: keepCaps | setids, eff: keepCaps | setids, bnd: keepCaps | setids}, nobody, -1,
			privPlan{setIDs: true, uid: 65534, gid: 65534, caps: keepCaps}, true, ""},
		// systemd's DynamicUser with AmbientCapabilities, NoNewPrivileges
		// and CapabilityBoundingSet.
		{"systemd", creds{uid: ids(61234), gid: ids(61234), prm: keepCaps, eff: keepCaps, bnd: keepCaps, amb: keepCaps, noNewPrivs: true}, nil, -1,
			privPlan{caps: keepCaps}, false, ""},
		// setpriv --ambient-caps as another user: no no_new_privs yet.
		{"setpriv", creds{uid: ids(65534), gid: ids(65534), inh: keepCaps, prm: keepCaps, eff: keepCaps, bnd: all, amb: keepCaps}, nil, -1,
			privPlan{caps: keepCaps}, true, ""},
		// File capabilities on the binary: nothing ambient to keep them
		// through the re-execution yet.
		{"file capabilities", creds{uid: ids(1000), gid: ids(1000), prm: keepCaps, eff: keepCaps, bnd: all, noNewPrivs: true}, nil, -1,
			privPlan{caps: keepCaps}, true, ""},
		{"one of the two", creds{uid: ids(1000), gid: ids(1000), prm: 1 << capNetRaw, eff: 1 << capNetRaw, amb: 1 << capNetRaw, bnd: keepCaps, noNewPrivs: true}, nil, -1,
			privPlan{caps: 1 << capNetRaw}, false, ""},
		{"another user without root", creds{uid: ids(1000), gid: ids(1000), prm: keepCaps, eff: keepCaps, amb: keepCaps, noNewPrivs: true}, nobody, -1,
			privPlan{}, false, "needs CAP_SETUID"},
	} {
		p, needed, err := planPrivileges(c.c, c.u, c.group)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: planPrivileges = %+v, %v; want the error %q", c.name, p, err, c.err)
			}
			continue
		}
		if err != nil || needed != c.needed || p.dropBounding != c.want.dropBounding || p.setIDs != c.want.setIDs || p.uid != c.want.uid ||
			p.gid != c.want.gid || !slices.Equal(p.groups, c.want.groups) || p.caps != c.want.caps {
			t.Errorf("%s: planPrivileges = %+v, needed %v, %v; want %+v, needed %v", c.name, p, needed, err, c.want, c.needed)
		}
	}
}
