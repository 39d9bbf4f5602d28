package rawio

import (
	"errors"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CloseFlag remembers that its owner closed a file on purpose. A read
// waiting on the file then returns the poller's "use of closed file", an
// error of an internal package that is not os.ErrClosed and can be told
// only by its text; the flag tells instead.
type CloseFlag struct{ closed atomic.Bool }

func (c *CloseFlag) Close(f *os.File) error {
	c.closed.Store(true)
	return f.Close()
}

// Err turns the error of an operation on the file into os.ErrClosed once
// the file was closed.
func (c *CloseFlag) Err(err error) error {
	if c.closed.Load() || errors.Is(err, os.ErrClosed) {
		return os.ErrClosed
	}
	return err
}

// Read and Write are read(2) and write(2) on a non-blocking socket
// without telling the scheduler: a call that cannot block needs no
// entersyscall, whose first call after an idle spell wakes the runtime's
// monitor thread (sysmon), which then polls every 20 µs to 10 ms until the
// process is idle again. At a few thousand solicitations a second that
// polling cost more CPU than the answers.
func Read(fd uintptr, b []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func Write(fd uintptr, b []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
