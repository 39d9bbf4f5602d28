package main

import (
	"strconv"
	"strings"
)

// mapping is an address range of /proc/self/maps.
type mapping struct{ start, end uintptr }

// imageMappings returns the read-only, not executable, private mappings
// of the file exe in maps (the format of /proc/self/maps): its read-only
// data, which the kernel can map again from the file at any time. Lines it
// cannot read are skipped.
func imageMappings(maps, exe string) []mapping {
	var out []mapping
	for line := range strings.Lines(maps) {
		f := strings.Fields(line)
		if len(f) < 6 || strings.Join(f[5:], " ") != exe || f[1] != "r--p" {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, ok1 := parseHex(lo)
		end, ok2 := parseHex(hi)
		if !ok || !ok1 || !ok2 || end <= start {
			continue
		}
		out = append(out, mapping{start, end})
	}
	return out
}

// parseHex reads a hexadecimal number of at most 16 digits that fits an
// address of this platform.
func parseHex(s string) (uintptr, bool) {
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	if uint64(uintptr(v)) != v {
		return 0, false // past a 32-bit platform's addresses
	}
	return uintptr(v), true
}

// statusKB reads a "Name:   1234 kB" line of /proc/self/status.
func statusKB(status, name string) (int, bool) {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}
