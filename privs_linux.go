package main

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// dropPrivileges leaves the daemon with CAP_NET_RAW and CAP_NET_ADMIN alone
// (of those it holds), no_new_privs, and with -user that user's ids.
// Capabilities and ids belong to each thread, and the Go runtime has
// several: the change is made on one locked thread, which then re-executes
// the daemon, so that every thread of the new image starts from it. The
// new image finds nothing left to do. It returns only when there was
// nothing to do, or with an error; then the daemon must not go on.
func dropPrivileges(cfg *config) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	c, err := parseCreds(string(status))
	if err != nil {
		return err
	}
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return os.NewSyscallError("prctl PR_GET_NO_NEW_PRIVS", err)
	}
	c.noNewPrivs = nnp == 1
	var u *user
	if cfg.user != "" {
		found, err := lookupUser(cfg.user, func() (io.ReadCloser, error) { return os.Open("/etc/passwd") })
		if err != nil {
			return err
		}
		u = &found
	}
	plan, needed, err := planPrivileges(c, u, engineGroup(cfg))
	if err != nil || !needed {
		return err
	}
	const marker = "NDPRESPONDER_PRIVILEGES=dropped"
	env := os.Environ()
	for _, v := range env {
		if v == marker {
			return errf("dropping privileges: still uid %d, CapEff %s, CapBnd %s after re-executing", c.uid[1], strconv.FormatUint(c.eff, 16), strconv.FormatUint(c.bnd, 16))
		}
	}
	env = append(env, marker)
	if os.Getenv("GOMAXPROCS") == "" {
		env = append(env, "GOMAXPROCS=1") // what lean would do
	}
	exe, err := os.Executable()
	if err != nil {
		return errf("dropping privileges: %w", err)
	}
	// The thread is never unlocked: until the exec, its credentials are
	// not the other threads'.
	runtime.LockOSThread()
	if err := applyPlan(plan); err != nil {
		return errf("dropping privileges: %w", err)
	}
	return errf("dropping privileges: re-executing %s: %w", exe, syscall.Exec(exe, os.Args, env))
}

// applyPlan changes the calling thread's credentials.
func applyPlan(p privPlan) error {
	for bit := range 64 {
		if p.dropBounding&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(bit), 0, 0, 0); err != nil {
				return os.NewSyscallError("prctl PR_CAPBSET_DROP", err)
			}
		}
	}
	if p.setIDs {
		// Keep the permitted set through the change of uid.
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_SET_KEEPCAPS", err)
		}
		if err := unix.Setgroups(p.groups); err != nil {
			return os.NewSyscallError("setgroups", err)
		}
		if err := unix.Setresgid(p.gid, p.gid, p.gid); err != nil {
			return os.NewSyscallError("setresgid", err)
		}
		if err := unix.Setresuid(p.uid, p.uid, p.uid); err != nil {
			return os.NewSyscallError("setresuid", err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // bits 0-31, 32-63
	data[0].Effective = uint32(p.caps)
	data[0].Permitted = uint32(p.caps)
	data[0].Inheritable = uint32(p.caps)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	// Ambient capabilities survive execve for a process that is not root.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_CAP_AMBIENT_CLEAR_ALL (Linux 4.3 or later)", err)
	}
	for bit := range 64 {
		if p.caps&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(bit), 0, 0); err != nil {
				return os.NewSyscallError("prctl PR_CAP_AMBIENT_RAISE", err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_SET_NO_NEW_PRIVS", err)
	}
	return nil
}

// engineGroup is the group through which -N reaches the engine's socket,
// to keep as a supplementary group with -user: Docker's socket belongs to
// root and the group docker, mode 0660. -1 when there is none to keep:
// no -N or -user, no socket yet, a socket the group cannot use, or the
// group root.
func engineGroup(cfg *config) int {
	if len(cfg.docker) == 0 || cfg.user == "" {
		return -1
	}
	sock, err := dockerSocket(cfg.dockerHost)
	if err != nil {
		return -1
	}
	var st unix.Stat_t
	if err := unix.Stat(sock, &st); err != nil || st.Mode&0o060 != 0o060 || st.Gid == 0 {
		return -1
	}
	return int(st.Gid)
}
