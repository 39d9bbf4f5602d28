# shellcheck shell=bash
# shellcheck disable=SC2034 # the addresses are for the scripts that source this
# The test network of demo.sh and the benchmarks, in network namespaces:
#
#   rt (router) rt0 -- hv-rt [hvbr in hv, the hypervisor] hv-vps -- eth0 (vps) br0 -- eth0 (c1)
#
# The router's rt0 has only a link-local address, so its solicitations come
# from fe80::, as a provider's router's do. The hypervisor's nftables bridge
# rule drops IPv6 frames from the VPS whose source is outside the VPS's /64.
# The same network as the Go integration tests (netns_linux_test.go).
# Addresses are from 2001:db8::/32 and fe80::/10 only.

TN=${TN:-ndpr$$}
RT=$TN-rt HV=$TN-hv VPS=$TN-vps C1=$TN-c1
VPS_PREFIX=2001:db8:1:2::/64
VPS_ADDR=2001:db8:1:2::2
CONTAINER_RANGE=2001:db8:1:2:646f:636b:6572::/112
BRIDGE_ADDR=2001:db8:1:2:646f:636b:6572:1
CONTAINER=2001:db8:1:2:646f:636b:6572:c1
OUTSIDE=2001:db8:ffff::1
ROUTER_MAC=02:00:00:00:00:01
ROUTER_LL=fe80::ff:fe00:1
VPS_MAC=02:00:00:00:00:02

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

testnet_down() {
	local ns
	for ns in "$RT" "$HV" "$VPS" "$C1"; do ip netns del "$ns" 2>/dev/null || true; done
}

# testnet_up builds the network; the hypervisor's filter is on.
testnet_up() {
	local ns
	for ns in "$RT" "$HV" "$VPS" "$C1"; do
		ip netns add "$ns"
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		in_ns "$ns" ip link set lo up
	done
	# The router forwards, so it sends no Router Solicitations.
	in_ns "$RT" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns "$HV" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add rt0 netns "$RT" address $ROUTER_MAC type veth peer name hv-rt netns "$HV"
	ip link add eth0 netns "$VPS" address $VPS_MAC type veth peer name hv-vps netns "$HV"
	ip link add vps-c1 netns "$VPS" type veth peer name eth0 netns "$C1"
	in_ns "$HV" ip link add hvbr type bridge mcast_snooping 0
	in_ns "$HV" ip link set hv-rt master hvbr up
	in_ns "$HV" ip link set hv-vps master hvbr up
	in_ns "$HV" ip link set hvbr up
	testnet_filter on

	in_ns "$RT" ip link set rt0 up
	in_ns "$RT" ip -6 addr add $OUTSIDE/128 dev lo
	in_ns "$RT" ip -6 route add $VPS_PREFIX dev rt0

	in_ns "$VPS" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns "$VPS" ip link set eth0 up
	in_ns "$VPS" ip -6 addr add $VPS_ADDR/64 dev eth0
	# Its MAC set, as Docker and LXC set theirs: otherwise it is the ports'
	# lowest, and a container port that goes could change it and make the
	# kernel flush every neighbour entry on the bridge.
	in_ns "$VPS" ip link add br0 address 02:00:00:00:0b:00 type bridge mcast_snooping 0
	in_ns "$VPS" ip link set vps-c1 master br0 up
	in_ns "$VPS" ip link set br0 up
	in_ns "$VPS" ip -6 addr add $BRIDGE_ADDR/112 dev br0
	in_ns "$VPS" ip -6 route add default via $ROUTER_LL dev eth0
	# Resolving the gateway would take an NS from the VPS's link-local
	# address, which the hypervisor drops: pin it.
	in_ns "$VPS" ip -6 neigh replace $ROUTER_LL lladdr $ROUTER_MAC dev eth0 nud permanent

	in_ns "$C1" ip link set eth0 up
	in_ns "$C1" ip -6 addr add $CONTAINER/112 dev eth0
	in_ns "$C1" ip -6 route add default via $BRIDGE_ADDR
}

# testnet_filter on|off puts the hypervisor's anti-spoofing rule in place
# or takes it away.
testnet_filter() {
	in_ns "$HV" nft delete table bridge hv 2>/dev/null || true
	[ "$1" = on ] || return 0
	in_ns "$HV" nft -f - <<NFT
table bridge hv {
	chain forwarding {
		type filter hook forward priority 0; policy accept;
		iifname "hv-vps" ether type ip6 ip6 saddr != $VPS_PREFIX icmpv6 type nd-neighbor-advert counter drop comment "spoofed NA"
		iifname "hv-vps" ether type ip6 ip6 saddr != $VPS_PREFIX counter drop comment "spoofed"
	}
}
NFT
}

# testnet_drops prints how many NAs the hypervisor dropped.
testnet_drops() {
	in_ns "$HV" nft list chain bridge hv forwarding | sed -n 's/.*counter packets \([0-9]*\).*spoofed NA.*/\1/p'
}
