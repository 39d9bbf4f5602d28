package main

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeMetricsFile replaces the file name with b: it writes tmp (name.tmp,
// in the same directory) and renames it over name, so that a reader sees
// the old file or the new one, never a part; node_exporter reads only
// *.prom, so it never sees the temporary. Both paths are NUL-terminated.
// The calls are made on the paths as they are, where os.OpenFile and
// os.Rename would copy each path and allocate a File.
//
// Whatever is at tmp is removed first, and tmp is created anew, never
// opened: a symbolic link planted there (the directory may be one others
// can write) is neither followed nor its target truncated. If something
// comes back between the two, the write fails and the next one tries again.
func writeMetricsFile(name, tmp, b []byte) error {
	unlinkat(tmp)
	fd, err := openat(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return pathError("open", tmp, err)
	}
	for len(b) > 0 && err == nil {
		var n int
		if n, err = unix.Write(fd, b); n == 0 && err == nil {
			err = io.ErrShortWrite
		}
		b = b[n:]
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	op := "write"
	if err == nil {
		op, err = "rename", renameat(tmp, name)
	}
	if err != nil {
		unlinkat(tmp)
		return pathError(op, tmp, err)
	}
	return nil
}

func pathError(op string, path []byte, err error) error {
	return &os.PathError{Op: op, Path: string(path[:len(path)-1]), Err: err}
}

// atFDCWD is AT_FDCWD as a variable: the constant is negative, and a
// system call's arguments are uintptrs.
var atFDCWD = unix.AT_FDCWD

func openat(path []byte, flags, mode int) (int, error) {
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])), uintptr(flags), uintptr(mode), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// renameat renames with renameat2(2) and no flags, the call every Linux
// architecture has (riscv64 has no renameat). Kernels before 3.15 lack it;
// there syscall.Rename does the same, with an allocation or two.
func renameat(from, to []byte) error {
	_, _, errno := unix.Syscall6(unix.SYS_RENAMEAT2, uintptr(atFDCWD), uintptr(unsafe.Pointer(&from[0])),
		uintptr(atFDCWD), uintptr(unsafe.Pointer(&to[0])), 0, 0)
	switch errno {
	case 0:
		return nil
	case unix.ENOSYS:
		return syscall.Rename(string(from[:len(from)-1]), string(to[:len(to)-1]))
	}
	return errno
}

func unlinkat(path []byte) {
	unix.Syscall(unix.SYS_UNLINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])), 0)
}
