# shellcheck shell=bash
# need PACKAGE:PROBE ...: makes sure the programs a script runs are here.
# PROBE is a command looked up in PATH, or an absolute path that must be a
# file. On Debian and Ubuntu the missing packages are installed with
# apt-get, once, saying so; elsewhere the script stops and names them.
# Sourced, from the repository's top, by build.sh, test.sh, demo.sh, bench/
# and the scripts in scripts/.

# need_static_busybox is a probe: Debian's busybox-static, not the
# dynamically linked busybox, which cannot go into a FROM-scratch image.
# Elsewhere any /bin/busybox passes here, and the test that needs it checks
# that it is static.
need_static_busybox() {
	if command -v dpkg-query >/dev/null 2>&1; then
		[ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null)" = installed ]
	else
		[ -x /bin/busybox ]
	fi
}

need() {
	local spec pkg probe missing=()
	for spec in "$@"; do
		pkg=${spec%%:*} probe=${spec#*:}
		case $probe in
		/*) [ -e "$probe" ] && continue ;;
		need_*) "$probe" && continue ;;
		*) command -v "$probe" >/dev/null 2>&1 && continue ;;
		esac
		missing+=("$pkg")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "${0##*/}: missing packages (Debian names): ${missing[*]}; install them and run again" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "${0##*/}: missing packages: ${missing[*]}; run as root to install them with apt-get" >&2
		exit 1
	fi
	echo "${0##*/}: installing ${missing[*]} with apt-get, without starting their services" >&2
	export DEBIAN_FRONTEND=noninteractive
	# The packages' services stay stopped: Debian's docker.io would start
	# dockerd, which sets the host's FORWARD policy to DROP and cuts off
	# its VMs and containers. The tests start their own, in namespaces.
	local policy=/usr/sbin/policy-rc.d made='' status=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# need.sh: no service starts while it installs\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made=1
	fi
	# Another installer may hold dpkg's lock for a while: wait for it.
	apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || status=$?
	[ $status != 0 ] || apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
	[ -z "$made" ] || rm -f "$policy"
	[ $status = 0 ] || { echo "${0##*/}: apt-get failed with status $status" >&2; exit $status; }
	for spec in "$@"; do
		pkg=${spec%%:*} probe=${spec#*:}
		case $probe in
		/*) [ -e "$probe" ] ;;
		need_*) "$probe" ;;
		*) command -v "$probe" >/dev/null 2>&1 ;;
		esac || { echo "${0##*/}: $pkg is installed but $probe is still missing" >&2; exit 1; }
	done
}

# need_podman_network is a probe: a network backend for podman, netavark
# (podman 5 has only that) or the CNI plugins (podman 4); without either,
# need installs netavark, which Debian 12 and 13 both have.
need_podman_network() {
	local f
	for f in /usr/libexec/podman/netavark /usr/lib/podman/netavark /usr/lib/cni/bridge /usr/libexec/cni/bridge /opt/cni/bin/bridge; do
		[ -x "$f" ] && return 0
	done
	return 1
}

# need_go puts Go's default install on PATH when it is not there already.
need_go() {
	command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin
	command -v go >/dev/null 2>&1 || { echo "${0##*/}: needs Go (https://go.dev/dl/), not found in PATH or /usr/local/go/bin" >&2; exit 1; }
}

# trust_repo lets git read this repository, the working directory, when
# another user owns it: CI runs as root in a clone it did not make, where
# git refuses "dubious ownership" and the version stamp, the packages and
# the tree test fail. It changes no configuration file: the setting lives
# in the environment of this script and the commands it runs. Whoever owns
# the clone already wrote the scripts that root is running.
trust_repo() {
	local n=${GIT_CONFIG_COUNT:-0}
	export "GIT_CONFIG_KEY_$n=safe.directory" "GIT_CONFIG_VALUE_$n=$PWD"
	export GIT_CONFIG_COUNT=$((n + 1))
}
trust_repo
