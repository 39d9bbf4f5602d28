package privs

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"ndpresponder/internal/errs"

	"golang.org/x/sys/unix"
)

// Drop leaves the daemon with CAP_NET_RAW and CAP_NET_ADMIN alone
// (of those it holds), no_new_privs, and with -user that user's ids.
// Capabilities and ids belong to each thread, and the Go runtime has
// several: each change is made on every thread at once where the runtime
// can (a static build), on one locked thread otherwise (cgo), and that
// thread then re-executes the daemon, so that every thread of the new
// image starts from it. The new image finds nothing left to do. It returns
// when there was nothing to do, after the change where re-executing failed
// but every thread has changed (a binary run by qemu-user, which the
// kernel cannot execute; the error then wraps ErrNotReexecuted), or with
// an error; then the daemon must not go on. status is what the caller
// read of /proc/self/status, spec is -user's (none: ""), and extraGroup a
// supplementary group to keep with it (-1: none).
func Drop(status, spec string, extraGroup int) error {
	c, err := parseCreds(status)
	if err != nil {
		return err
	}
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return os.NewSyscallError("prctl PR_GET_NO_NEW_PRIVS", err)
	}
	c.noNewPrivs = nnp == 1
	var u *user
	if spec != "" {
		found, err := LookupUser(spec, OpenPasswd)
		if err != nil {
			return err
		}
		u = &found
	}
	plan, needed, err := planPrivileges(c, u, extraGroup)
	if err != nil || !needed {
		return err
	}
	const marker = "NDPRESPONDER_PRIVILEGES=dropped"
	env := os.Environ()
	for _, v := range env {
		if v == marker {
			return errors.New("dropping privileges: still uid " + strconv.Itoa(c.uid[1]) + ", CapEff " + strconv.FormatUint(c.eff, 16) + ", CapBnd " + strconv.FormatUint(c.bnd, 16) + " after re-executing")
		}
	}
	env = append(env, marker)
	if os.Getenv("GOMAXPROCS") == "" {
		env = append(env, "GOMAXPROCS=1") // what lean would do
	}
	exe, err := os.Executable()
	if err != nil {
		return errs.Wrap("dropping privileges", err)
	}
	// The thread is never unlocked: where the change is made on it alone,
	// its credentials are not the other threads' until the exec.
	runtime.LockOSThread()
	a := threads{all: true}
	if err := a.apply(plan); err != nil {
		return errs.Wrap("dropping privileges", err)
	}
	err = syscall.Exec(exe, os.Args, env)
	if a.all {
		return errs.WithMessage("re-executing "+exe+": "+err.Error(), ErrNotReexecuted)
	}
	return errs.Wrap("dropping privileges: re-executing "+exe, err)
}

// threads makes syscalls that change a thread's credentials: on every
// thread of the runtime while all is true, which it stays unless the
// runtime cannot (with cgo), and on the calling thread otherwise.
type threads struct{ all bool }

func (t *threads) sys(name string, trap, a1, a2, a3 uintptr) error {
	if t.all {
		_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
		if e != syscall.ENOTSUP {
			if e != 0 {
				return os.NewSyscallError(name, e)
			}
			return nil
		}
		t.all = false
	}
	if _, _, e := unix.RawSyscall(trap, a1, a2, a3); e != 0 {
		return os.NewSyscallError(name, e)
	}
	return nil
}

// apply changes the credentials as p says.
func (t *threads) apply(p privPlan) error {
	for bit := range 64 {
		if p.dropBounding&(1<<bit) != 0 {
			if err := t.sys("prctl PR_CAPBSET_DROP", unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(bit), 0); err != nil {
				return err
			}
		}
	}
	if p.setIDs {
		// Keep the permitted set through the change of uid. The ids change
		// on every thread (package syscall sees to it, with or without cgo).
		if err := t.sys("prctl PR_SET_KEEPCAPS", unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1, 0); err != nil {
			return err
		}
		if err := syscall.Setgroups(p.groups); err != nil {
			return os.NewSyscallError("setgroups", err)
		}
		if err := syscall.Setresgid(p.gid, p.gid, p.gid); err != nil {
			return os.NewSyscallError("setresgid", err)
		}
		if err := syscall.Setresuid(p.uid, p.uid, p.uid); err != nil {
			return os.NewSyscallError("setresuid", err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // bits 0-31, 32-63
	data[0].Effective = uint32(p.caps)
	data[0].Permitted = uint32(p.caps)
	data[0].Inheritable = uint32(p.caps)
	err := t.sys("capset", unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if err != nil {
		return err
	}
	// Ambient capabilities survive execve for a process that is not root.
	if err := t.sys("prctl PR_CAP_AMBIENT_CLEAR_ALL (Linux 4.3 or later)", unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); err != nil {
		return err
	}
	for bit := range 64 {
		if p.caps&(1<<bit) != 0 {
			if err := t.sys("prctl PR_CAP_AMBIENT_RAISE", unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(bit)); err != nil {
				return err
			}
		}
	}
	return t.sys("prctl PR_SET_NO_NEW_PRIVS", unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0)
}

// OpenPasswd opens the system's user database for LookupUser.
func OpenPasswd() (io.ReadCloser, error) { return os.Open("/etc/passwd") }
