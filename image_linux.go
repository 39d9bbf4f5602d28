package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// reclaimReadOnlyData lets go of the daemon's pages of its own binary's
// read-only data, and says how many bytes of mappings it went over.
//
// Starting touches pages all over the binary: the runtime's tables, option
// parsing, the privilege drop, the check of capabilities. On kernels that
// keep a file in the page cache as large folios, a touch maps the whole
// folio, so after start the whole file counts in the daemon's RSS (2.2 MB
// of its 3 MB budget) though little of it is read again. MADV_RANDOM stops
// read-ahead on the mapping of the read-only data (1.2 MB: the function
// tables, type descriptors and strings), and MADV_PAGEOUT reclaims its
// pages: from then on a page comes back, from the file, when it is read,
// and alone. The code stays: the packet path would wait for its pages to
// come back from the disk, and a burst at full speed right after start
// lost up to 13% of its solicitations that way. Kernels before 5.4 have no
// MADV_PAGEOUT; there MADV_DONTNEED unmaps the pages and leaves them in the
// page cache. The writable data mapping is left alone: dropping it would
// lose what was written.
func reclaimReadOnlyData() (released int, err error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	maps, err := readFile("/proc/self/maps", 256<<10)
	if err != nil {
		return 0, err
	}
	for _, m := range imageMappings(string(maps), exe) {
		n := m.end - m.start
		// Only a hint: a kernel that refuses it still reclaims.
		unix.Syscall(unix.SYS_MADVISE, m.start, n, unix.MADV_RANDOM)
		_, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, n, unix.MADV_PAGEOUT)
		if e == unix.EINVAL {
			_, _, e = unix.Syscall(unix.SYS_MADVISE, m.start, n, unix.MADV_DONTNEED)
		}
		if e != 0 {
			return released, os.NewSyscallError("madvise", e)
		}
		released += int(n)
	}
	return released, nil
}

// releaseImage lets go of what starting touched of the binary's read-only
// data (what is read from here on comes back by itself) and logs what was
// resident before and after: the peak of the daemon's memory is before,
// and VmHWM may not show it whole (the kernel records the high-water mark
// from per-CPU counters that lag by up to a few hundred kB), so bench.sh
// reads it from this line. status is /proc/self/status read before.
func (d *daemon) releaseImage(status string) {
	before, _ := statusKB(status, "VmRSS")
	n, err := reclaimReadOnlyData()
	if err != nil {
		warnf("memory: letting go of the binary's pages: %v", err)
		return
	}
	after := before
	if s, err := readFile("/proc/self/status", 64<<10); err == nil {
		after, _ = statusKB(string(s), "VmRSS")
	}
	infof("memory: %d kB resident at start, %d kB after letting go of the binary's pages (%d kB mapped)", before, after, n>>10)
}
