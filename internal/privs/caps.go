package privs

// Least privilege: the daemon needs CAP_NET_RAW for its packet socket and,
// to pin the gateway, CAP_NET_ADMIN; it says which is missing before it
// starts, rather than failing somewhere later with EPERM.

import (
	"errors"
	"strconv"
	"strings"
)

// Capability numbers (linux/capability.h).
const (
	capNetAdmin = 12
	capNetRaw   = 13
)

// ParseCapEff reads the effective capability set from /proc/self/status.
func ParseCapEff(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

// CheckCaps says which needed capability the effective set lacks.
// With pinGateway, the gateway is to be pinned.
func CheckCaps(eff uint64, pinGateway bool) error {
	need := []struct {
		bit  uint
		name string
		why  string
	}{{capNetRaw, "CAP_NET_RAW", "for the packet socket"}}
	if pinGateway {
		need = append(need, struct {
			bit  uint
			name string
			why  string
		}{capNetAdmin, "CAP_NET_ADMIN", "to pin the gateway's neighbour entry (or pass -pin-gateway=false)"})
	}
	var missing []string
	for _, n := range need {
		if eff&(1<<n.bit) == 0 {
			missing = append(missing, n.name+" "+n.why)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("missing capability " + strings.Join(missing, ", and ") + "; run as root, or grant CAP_NET_RAW and CAP_NET_ADMIN (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN)")
}
