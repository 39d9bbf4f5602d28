package privs

// Least privilege, decided: started as root, the daemon keeps CAP_NET_RAW
// and CAP_NET_ADMIN alone (effective, permitted, bounding), sets
// no_new_privs, and with -user becomes that user holding just those two.
// privs_linux.go does it, before the daemon touches the network.

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"ndpresponder/internal/errs"
)

// Capability numbers (linux/capability.h) the decisions need besides
// CAP_NET_RAW and CAP_NET_ADMIN.
const (
	capSetgid  = 6
	capSetuid  = 7
	capSetpcap = 8
)

// keepCaps is all the daemon ever needs.
const keepCaps = 1<<capNetRaw | 1<<capNetAdmin

// creds is what /proc/self/status says of a process's privileges.
type creds struct {
	uid, gid                [3]int // real, effective, saved
	inh, prm, eff, bnd, amb uint64
	noNewPrivs              bool
}

// parseCreds reads the Uid, Gid and Cap lines of /proc/PID/status;
// NoNewPrivs is the caller's to fill (older kernels do not show it).
func parseCreds(status string) (creds, error) {
	var c creds
	seen := 0
	for _, line := range strings.Split(status, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		var err error
		switch key {
		case "Uid", "Gid":
			ids := &c.uid
			if key == "Gid" {
				ids = &c.gid
			}
			if len(f) < 3 {
				return c, badLine(key, line)
			}
			for i := range ids {
				if ids[i], err = strconv.Atoi(f[i]); err != nil {
					return c, badLine(key, line)
				}
			}
			seen++
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb":
			p := &c.inh
			switch key {
			case "CapPrm":
				p = &c.prm
			case "CapEff":
				p = &c.eff
			case "CapBnd":
				p = &c.bnd
			case "CapAmb":
				p = &c.amb
			}
			if len(f) != 1 {
				return c, badLine(key, line)
			}
			if *p, err = strconv.ParseUint(f[0], 16, 64); err != nil {
				return c, badLine(key, line)
			}
			if key != "CapAmb" { // Linux 4.3 and later
				seen++
			}
		}
	}
	if seen != 6 {
		return c, errors.New("/proc/self/status: no Uid, Gid or Cap lines")
	}
	return c, nil
}

// user is whom -user names.
type user struct {
	name     string
	uid, gid int
}

// maxPasswd bounds what is read of /etc/passwd.
const maxPasswd = 1 << 20

// LookupUser reads -user: NAME, looked up in passwd (its uid and primary
// group), or UID[:GID] (the group defaults to the uid).
func LookupUser(spec string, passwd func() (io.ReadCloser, error)) (user, error) {
	u := user{name: spec}
	if spec == "" {
		return u, errors.New("-user: empty name")
	}
	if id, group, numeric := parseIDs(spec); numeric {
		u.uid, u.gid = id, group
		return u, nil
	}
	r, err := passwd()
	if err != nil {
		return u, errs.Wrap("-user "+spec, err)
	}
	defer r.Close()
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswd), 4096)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // no user of ours: skip it
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		f := strings.Split(strings.TrimRight(string(line), "\n"), ":")
		if len(f) >= 4 && f[0] == spec {
			uid, err1 := strconv.ParseUint(f[2], 10, 31)
			gid, err2 := strconv.ParseUint(f[3], 10, 31)
			if err1 != nil || err2 != nil {
				return u, errors.New("-user " + spec + ": bad line in /etc/passwd")
			}
			u.uid, u.gid = int(uid), int(gid)
			return u, nil
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return u, errs.Wrap("-user "+spec+": reading /etc/passwd", err)
		}
	}
	return u, errors.New("-user " + spec + ": no such user in /etc/passwd (give UID:GID to do without it)")
}

// parseIDs reads UID or UID:GID.
func parseIDs(s string) (uid, gid int, ok bool) {
	a, b, hasGID := strings.Cut(s, ":")
	u, err := strconv.ParseUint(a, 10, 31)
	if err != nil {
		return 0, 0, false
	}
	g := u
	if hasGID {
		if g, err = strconv.ParseUint(b, 10, 31); err != nil {
			return 0, 0, false
		}
	}
	return int(u), int(g), true
}

// privPlan is what to change, on one thread, before re-executing.
type privPlan struct {
	dropBounding uint64 // capabilities to drop from the bounding set
	setIDs       bool   // switch to uid, gid and groups
	uid, gid     int
	groups       []int
	caps         uint64 // permitted, effective, inheritable and ambient
}

// planPrivileges decides what to change from c so that only keepCaps (of
// those held) remain, with no_new_privs, and with u (when not nil) as the
// user; extraGroup, when not negative, is kept as a supplementary group.
// needed is false when c is that already.
func planPrivileges(c creds, u *user, extraGroup int) (p privPlan, needed bool, err error) {
	p.caps = c.prm & keepCaps
	if c.eff&(1<<capSetpcap) != 0 {
		p.dropBounding = c.bnd &^ keepCaps
	}
	if u != nil && (c.uid != [3]int{u.uid, u.uid, u.uid} || c.gid != [3]int{u.gid, u.gid, u.gid}) {
		const need = 1<<capSetuid | 1<<capSetgid
		if c.eff&need != need {
			return p, false, errors.New("-user " + u.name + ": switching users needs CAP_SETUID and CAP_SETGID (run as root; in a container, add them: they are dropped before the daemon starts)")
		}
		p.setIDs, p.uid, p.gid = true, u.uid, u.gid
		if extraGroup >= 0 {
			p.groups = []int{extraGroup}
		}
	}
	// A process that is not root keeps capabilities across execve only
	// through the ambient set.
	root := p.setIDs && p.uid == 0 || !p.setIDs && c.uid[1] == 0
	needed = p.setIDs || p.dropBounding != 0 || c.prm != p.caps || c.eff != p.caps || c.inh&^keepCaps != 0 ||
		c.amb&^keepCaps != 0 || !root && c.amb != p.caps || !c.noNewPrivs
	return p, needed, nil
}

// badLine is the error of a line of /proc/self/status that does not read.
func badLine(key, line string) error {
	return errors.New("/proc/self/status: bad " + key + " line " + strconv.Quote(line))
}

// ErrNotReexecuted is what Drop's error wraps when re-executing
// failed after every thread changed: the daemon may go on.
var ErrNotReexecuted = errors.New("going on with privileges dropped on every thread")
