package main

import (
	"slices"
	"strings"
	"testing"
)

// mapsGolden is /proc/self/maps of the daemon as Linux 6.18 shows it
// (addresses of one run), with lines the parser must skip added.
const mapsGolden = `00400000-004ea000 r-xp 00000000 fe:00 9978727                            /usr/sbin/ndpresponder
004ea000-0061d000 r--p 000ea000 fe:00 9978727                            /usr/sbin/ndpresponder
0061d000-0062a000 rw-p 0021d000 fe:00 9978727                            /usr/sbin/ndpresponder
0062a000-00660000 rw-p 00000000 00:00 0 
1c2085800000-1c2085c00000 rw-p 00000000 00:00 0 
7efc021e4000-7efc021e6000 r-xp 00000000 00:00 0                          [vdso]
7f0000000000-7f0000001000 r--p 00000000 fe:00 1234                       /usr/sbin/ndpresponder.old
7f0000001000-7f0000002000 r--s 00000000 fe:00 9978727                    /usr/sbin/ndpresponder
zzzz-7f0000003000 r--p 00000000 fe:00 9978727                            /usr/sbin/ndpresponder
7f0000004000-7f0000003000 r--p 00000000 fe:00 9978727                    /usr/sbin/ndpresponder
7ffee0070000-7ffee0091000 rw-p 00000000 00:00 0                          [stack]
`

func TestImageMappings(t *testing.T) {
	got := imageMappings(mapsGolden, "/usr/sbin/ndpresponder")
	want := []mapping{{0x4ea000, 0x61d000}}
	if !slices.Equal(got, want) {
		t.Errorf("imageMappings = %x, want %x: the read-only data, not the code, nothing writable, shared or another file's", got, want)
	}
	// A binary replaced on disk while it runs, and a path with a space.
	for _, exe := range []string{"/usr/sbin/ndpresponder (deleted)", "/opt/my tools/ndpresponder"} {
		maps := strings.ReplaceAll(mapsGolden, "/usr/sbin/ndpresponder\n", exe+"\n")
		if got := imageMappings(maps, exe); !slices.Equal(got, want) {
			t.Errorf("imageMappings for %q = %x, want %x", exe, got, want)
		}
	}
	if got := imageMappings(mapsGolden, "/usr/sbin/other"); len(got) != 0 {
		t.Errorf("imageMappings of a file not mapped = %x, want none", got)
	}
}

func TestParseHex(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"004ea000", 0x4ea000, true}, {"ffffffff", 0xffffffff, true},
		{"7ffee0091000", 0x7ffee0091000, true}, // only where addresses have 64 bits
		{"", 0, false}, {"4EA000", 0, false}, {"-1", 0, false}, {"12345678901234567", 0, false},
	} {
		if tt.want > uint64(^uintptr(0)) {
			tt.want, tt.ok = 0, false
		}
		if got, ok := parseHex(tt.in); uint64(got) != tt.want || ok != tt.ok {
			t.Errorf("parseHex(%q) = %#x, %v; want %#x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatusKB(t *testing.T) {
	const status = "Name:\tndpresponder\nVmHWM:\t    2792 kB\nVmRSS:\t    1072 kB\nThreads:\t5\nBad:\t12x kB\n"
	for _, tt := range []struct {
		name string
		want int
		ok   bool
	}{{"VmRSS", 1072, true}, {"VmHWM", 2792, true}, {"Threads", 5, true}, {"Bad", 0, false}, {"RssAnon", 0, false}} {
		if got, ok := statusKB(status, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("statusKB(%s) = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzImageMappings: whatever maps says, only ranges that end after they
// start come out, and only from lines of exe.
func FuzzImageMappings(f *testing.F) {
	f.Add(mapsGolden)
	f.Add("00400000-004ea000 r-xp 0 fe:00 1 /x\n")
	f.Fuzz(func(t *testing.T, maps string) {
		for _, m := range imageMappings(maps, "/usr/sbin/ndpresponder") {
			if m.end <= m.start || !strings.Contains(maps, "/usr/sbin/ndpresponder") {
				t.Fatalf("imageMappings(%q) gave %x", maps, m)
			}
		}
	})
}
