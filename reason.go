package main

// Why a frame got no answer: the checks of the wire format (frame.go) and
// the decisions of the policy (policy.go) name their reasons here, and the
// counters count them.

// reason says why a solicitation got no answer. It is an error so that
// parseNS can return it without allocating, and an index into the counters.
type reason uint8

const (
	reasonNone reason = iota
	// The frame is not a valid NS (RFC 4861 §7.1.1).
	reasonTruncated
	reasonWrongType
	reasonHopLimit
	reasonCode
	reasonChecksum
	reasonBadOption
	reasonMulticastTarget
	reasonMulticastSource
	reasonDADDestination
	reasonDADWithSLLA
	reasonSolicitedMulticast // an NA, solicited yet sent to a group
	// The NS is valid, but not ours to answer.
	reasonOwnFrame
	reasonNotForUs
	reasonDAD
	reasonOutOfRange
	reasonOwnAddress
	reasonGatewayAddress
	reasonBadLinkAddress
	reasonNoSource
	reasonSourceNotAllowed
	reasonRateLimited
	reasonNotLive
	reasonProbing // not live; the -learn bridges are asked
	// An NA for the gateway, not taken as its answer (gatewayView.check,
	// gatewayKeeper.onNA); the reasons before these are a solicitation's.
	reasonNAWrongSource
	reasonNABadMAC
	reasonNAUnsolicited
	reasonNANotToUs
	reasonNAOtherMAC
	reasonNANotAsked
	reasonNAConflict
	reasonNAKeeperBusy // more answers at once than the keeper's queue holds
	numReasons
)

// firstNAReason is where the reasons of NAs refused for the gateway begin;
// those before it are a solicitation's.
const firstNAReason = reasonNAWrongSource

var reasonNames = [numReasons]string{
	reasonNone:               "none",
	reasonTruncated:          "truncated",
	reasonWrongType:          "wrong-type",
	reasonHopLimit:           "hop-limit",
	reasonCode:               "icmp-code",
	reasonChecksum:           "checksum",
	reasonBadOption:          "bad-option",
	reasonMulticastTarget:    "multicast-target",
	reasonMulticastSource:    "multicast-source",
	reasonDADDestination:     "dad-destination",
	reasonDADWithSLLA:        "dad-with-slla",
	reasonSolicitedMulticast: "solicited-multicast",
	reasonOwnFrame:           "own-frame",
	reasonNotForUs:           "not-for-us",
	reasonDAD:                "dad-probe",
	reasonOutOfRange:         "out-of-range",
	reasonOwnAddress:         "own-address",
	reasonGatewayAddress:     "gateway-address",
	reasonBadLinkAddress:     "bad-link-address",
	reasonNoSource:           "no-source-address",
	reasonSourceNotAllowed:   "source-not-allowed",
	reasonRateLimited:        "rate-limited",
	reasonNotLive:            "not-live",
	reasonProbing:            "probing",
	reasonNAWrongSource:      "na-wrong-source",
	reasonNABadMAC:           "na-bad-mac",
	reasonNAUnsolicited:      "na-unsolicited",
	reasonNANotToUs:          "na-not-to-us",
	reasonNAOtherMAC:         "na-other-mac",
	reasonNANotAsked:         "na-not-asked",
	reasonNAConflict:         "na-conflict",
	reasonNAKeeperBusy:       "na-keeper-busy",
}

func (r reason) Error() string { return reasonNames[r] }
