#!/usr/bin/env bash
# Builds ndpresponder and shows, in network namespaces on this machine, what
# it is for: behind a hypervisor that drops frames from link-local sources,
# the router cannot reach a container until ndpresponder answers its
# Neighbor Solicitations from the container's address. As root; on Debian
# and Ubuntu it installs iproute2, nftables and ping when missing. Touches
# nothing outside the namespaces it makes.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/need.sh
need_go
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it builds network namespaces)" >&2; exit 1; }
need iproute2:ip nftables:nft iputils-ping:ping procps:sysctl
./build.sh
. scripts/testnet.sh
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; testnet_down; }
trap cleanup EXIT
testnet_up

ping_container() {
	if in_ns "$RT" ping -n -c 3 -i 0.3 -w 4 $CONTAINER >/dev/null 2>&1; then echo "replies"; else echo "no reply"; fi
}
echo
echo "router (NS from $ROUTER_LL) -> hypervisor (drops VPS frames from outside $VPS_PREFIX) -> VPS -> container $CONTAINER"
echo
echo "1. kernel proxy_ndp on the VPS (its NA leaves from link-local):"
in_ns "$VPS" sysctl -qw net.ipv6.conf.eth0.proxy_ndp=1
in_ns "$VPS" ip -6 neigh add proxy $CONTAINER dev eth0
d0=$(testnet_drops)
echo "   router pings the container: $(ping_container); hypervisor dropped $(( $(testnet_drops) - d0 )) NAs"
in_ns "$VPS" ip -6 neigh del proxy $CONTAINER dev eth0
in_ns "$VPS" sysctl -qw net.ipv6.conf.eth0.proxy_ndp=0
in_ns "$RT" ip -6 neigh flush dev rt0

echo "2. ndpresponder -i eth0 -n $CONTAINER_RANGE (its NA leaves from the target):"
ip netns exec "$VPS" ./ndpresponder -i eth0 -n $CONTAINER_RANGE -log warn &
pid=$!
sleep 0.5
d0=$(testnet_drops)
echo "   router pings the container: $(ping_container); hypervisor dropped $(( $(testnet_drops) - d0 )) NAs"
echo "   router's neighbour entry: $(in_ns "$RT" ip -6 neigh show $CONTAINER dev rt0)"
kill "$pid"; wait "$pid" || true; pid=
