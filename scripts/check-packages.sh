#!/usr/bin/env bash
# Checks the packages that ./build.sh packages (or all) put in dist/, with
# the tools their users' systems read them with. Fails on the first problem.
#   .deb  dpkg-deb --info and --contents against what the package must hold;
#         lintian with no error; installed into a throwaway root (dpkg --root,
#         a static BusyBox for the maintainer scripts, systemctl recorded by a
#         stand-in), the unit checked there by systemd-analyze verify, the
#         example configuration by the daemon's -check-config; reinstalled,
#         removed (the edited configuration stays) and purged (it goes, an
#         administrator's /etc/ndpresponder/IFACE.conf stays). The
#         maintainer scripts may reload systemd, restart a running daemon or
#         ndpresponder@ instance on upgrade and stop them on removal; never
#         enable or start one.
#   .ipk  read as opkg reads it: a gzip'd tar holding debian-binary,
#         control.tar.gz and data.tar.gz, unpacked with BusyBox's tar; its
#         control fields and files checked; the procd init script run with
#         stand-ins for procd over the package's own UCI configuration (it
#         starts nothing until a section is enabled), and its translation
#         checked by the daemon's -check-config.
#   both  each binary built for the package's architecture (readelf and
#         the Go build settings in it), with the version stamp the package
#         version comes from.
# As root (dpkg --root, chroot). Usage: scripts/check-packages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/need.sh
need_go
need dpkg:dpkg-deb lintian:lintian busybox-static:need_static_busybox systemd:systemd-analyze man-db:man binutils:readelf
[ "$(id -u)" = 0 ] || { echo "check-packages.sh: run as root (dpkg --root, chroot)" >&2; exit 1; }

fail() { echo -e "check-packages.sh: $*" >&2; exit 1; }
export TZ=UTC
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
mtime=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M')
host=dist/ndpresponder-linux-amd64 # the daemon that checks configurations here
[ -x "$host" ] || fail "no $host: run ./build.sh packages first"
stamp=$("$host" -version | sed 's/^ndpresponder //')
version=$(scripts/packages.sh --version "$stamp")
echo "== packages of $stamp, version $version"

# The version mapping: each stamp's version, and the order dpkg (and
# opkg, which compares the same way) sees them in.
for pair in v1.2.3=1.2.3 v1.2.3-5-gabc1234=1.2.3+git5.abc1234 v1.2.3-5-gabc1234-dirty=1.2.3+git5.abc1234+dirty \
	abc1234=0~git$(git rev-list --count HEAD).abc1234; do
	got=$(scripts/packages.sh --version "${pair%%=*}")
	[ "$got" = "${pair#*=}" ] || fail "stamp ${pair%%=*} makes version $got, want ${pair#*=}"
done
if scripts/packages.sh --version devel 2>/dev/null; then fail "stamp devel made a version"; fi
order="0~git5.abc1234 1.2.3 1.2.3+git5.abc1234 1.2.3+git5.abc1234+dirty 1.2.4"
prev=
for v in $order; do
	[ -z "$prev" ] || dpkg --compare-versions "$prev" lt "$v" || fail "dpkg orders $prev after $v"
	prev=$v
done

# binary FILE GOARCH [SETTING...]: FILE is a static, stripped ndpresponder
# for GOARCH, built with the settings, stamped with $stamp.
binary() {
	local f=$1 arch=$2 machine
	shift 2
	case $arch in
	amd64) machine="ELF64 little Advanced Micro Devices X86-64" ;;
	386) machine="ELF32 little Intel 80386" ;;
	arm64) machine="ELF64 little AArch64" ;;
	arm) machine="ELF32 little ARM" ;;
	mips) machine="ELF32 big MIPS R3000" ;;
	mipsle) machine="ELF32 little MIPS R3000" ;;
	esac
	local hdr
	hdr=$(LC_ALL=C readelf -h "$f")
	got="$(sed -n 's/^ *Class: *//p' <<<"$hdr") $(sed -n 's/^ *Data: *2.s complement, \([a-z]*\) endian/\1/p' <<<"$hdr") $(sed -n 's/^ *Machine: *//p' <<<"$hdr")"
	[ "$got" = "$machine" ] || fail "$f: readelf says \"$got\", want \"$machine\""
	! LC_ALL=C readelf -l "$f" | grep -q -E 'INTERP|DYNAMIC' || fail "$f: dynamically linked"
	local info
	info=$(go version -m "$f")
	for s in "GOARCH=$arch" "$@"; do
		grep -q -P "^\tbuild\t\Q$s\E$" <<<"$info" || fail "$f: built without $s"
	done
	grep -a -q -F "$stamp" "$f" || fail "$f: the version $stamp is not stamped in"
}

# field FILE NAME: a control field's value.
field() { sed -n "s/^$2: //p" "$1"; }

# The .deb's files: mode, owner, path; every mtime the commit's.
deb_files="drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
-rw-r--r-- root/root ./etc/ndpresponder.conf
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/systemd/
drwxr-xr-x root/root ./usr/lib/systemd/system/
-rw-r--r-- root/root ./usr/lib/systemd/system/ndpresponder.service
-rw-r--r-- root/root ./usr/lib/systemd/system/ndpresponder@.service
drwxr-xr-x root/root ./usr/sbin/
-rwxr-xr-x root/root ./usr/sbin/ndpresponder
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/ndpresponder/
-rw-r--r-- root/root ./usr/share/doc/ndpresponder/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/ndpresponder/copyright
drwxr-xr-x root/root ./usr/share/doc/ndpresponder/examples/
-rw-r--r-- root/root ./usr/share/doc/ndpresponder/examples/ndpresponder.openrc
-rw-r--r-- root/root ./usr/share/doc/ndpresponder/examples/ndpresponder.rules.yml
-rw-r--r-- root/root ./usr/share/doc/ndpresponder/examples/ndpresponder.sysv
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/ndpresponder
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/ndpresponder.8.gz"

# throwaway_root DIR: an empty dpkg database, a static BusyBox as /bin/sh
# for the maintainer scripts, /dev/null, and stand-ins for systemctl and
# deb-systemd-invoke that record their arguments in /calls.log, with
# /run/systemd/system present so that the scripts believe systemd runs.
throwaway_root() {
	local r=$1 s
	mkdir -p "$r/bin" "$r/usr/bin" "$r/dev" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/run/systemd/system"
	touch "$r/var/lib/dpkg/status"
	cp /bin/busybox "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s /bin
	mknod -m 666 "$r/dev/null" c 1 3
	for s in systemctl deb-systemd-invoke; do
		printf '#!/bin/sh\necho "%s $*" >>/calls.log\n' "$s" >"$r/usr/bin/$s"
		chmod 755 "$r/usr/bin/$s"
	done
}

# dpkg_in ROOT ARGS...: dpkg on the throwaway root; its chatter is shown
# only when it fails.
dpkg_in() {
	local r=$1
	shift
	dpkg --root="$r" "$@" >"$work/dpkg.log" 2>&1 || fail "dpkg $*:\n$(cat "$work/dpkg.log")"
}

# calls ROOT WANT...: the systemd calls since the last look were WANT.
calls() {
	local r=$1 got want
	shift
	got=$(cat "$r/calls.log" 2>/dev/null || true)
	want=$(printf '%s\n' "$@")
	rm -f "$r/calls.log"
	[ "$got" = "$want" ] || fail "maintainer scripts called:\n$got\nwant:\n$want"
}

reload="systemctl --system daemon-reload"

check_deb() { # check_deb DEBARCH GOARCH [SETTING...]
	local arch=$1 goarch=$2 deb=dist/ndpresponder_${version}_$1.deb r=$work/root-$1 x=$work/x-$1
	shift 2
	echo "== $deb"
	[ -f "$deb" ] || fail "no $deb"
	dpkg-deb --info "$deb" >/dev/null
	dpkg-deb --field "$deb" >"$work/control"
	[ "$(field "$work/control" Package)" = ndpresponder ] || fail "$deb: Package"
	[ "$(field "$work/control" Version)" = "$version" ] || fail "$deb: Version $(field "$work/control" Version), want $version"
	[ "$(field "$work/control" Architecture)" = "$arch" ] || fail "$deb: Architecture"
	[ -z "$(field "$work/control" Depends)" ] || fail "$deb: a static binary depends on nothing"
	got=$(dpkg-deb --contents "$deb" | awk '{ print $1, $2, $6 }')
	[ "$got" = "$deb_files" ] || fail "$deb holds:\n$got\nwant:\n$deb_files"
	if dpkg-deb --contents "$deb" | awk -v t="$mtime" '$4 " " $5 != t' | grep -q .; then
		fail "$deb: an mtime is not the commit's ($mtime)"
	fi
	dpkg-deb --ctrl-tarfile "$deb" | tar -t | sort | tr '\n' ' ' | grep -qx './ ./conffiles ./control ./md5sums ./postinst ./postrm ./prerm ' ||
		fail "$deb: control files: $(dpkg-deb --ctrl-tarfile "$deb" | tar -t | tr '\n' ' ')"
	dpkg-deb --extract "$deb" "$x"
	binary "$x/usr/sbin/ndpresponder" "$goarch" "$@"
	grep -q '^ExecStart=/usr/sbin/ndpresponder -c /etc/ndpresponder.conf$' "$x/usr/lib/systemd/system/ndpresponder.service" ||
		fail "$deb: the unit does not start /usr/sbin/ndpresponder"
	grep -q '^ExecStart=/usr/sbin/ndpresponder -c /etc/ndpresponder/%i.conf -i %i$' "$x/usr/lib/systemd/system/ndpresponder@.service" ||
		fail "$deb: the template does not start /usr/sbin/ndpresponder"
	! grep -r -l -I /usr/local "$x" || fail "$deb: files name /usr/local"
	zcat "$x/usr/share/doc/ndpresponder/changelog.gz" | head -1 | grep -qF "ndpresponder ($version)" || fail "$deb: changelog"
	out=$(lintian --fail-on error "$deb" 2>&1) || fail "$deb: lintian reports errors:\n$out"
	grep -v 'running with root privileges' <<<"$out" || true

	# Install into a throwaway root: systemd is reloaded, nothing enabled
	# or started; /etc/ndpresponder/ is made, for the instances' files.
	local force=()
	[ "$arch" = "$(dpkg --print-architecture)" ] || force=(--force-architecture)
	throwaway_root "$r"
	dpkg_in "$r" "${force[@]}" -i "$deb"
	calls "$r" "$reload"
	[ "$(dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${db:Status-Status} ${Version}' ndpresponder)" = "installed $version" ] ||
		fail "$deb: not installed"
	dpkg_in "$r" --verify ndpresponder
	[ "$(cat "$r/var/lib/dpkg/info/ndpresponder.conffiles")" = /etc/ndpresponder.conf ] || fail "$deb: conffiles"
	[ ! -e "$r/etc/systemd/system/multi-user.target.wants/ndpresponder.service" ] || fail "$deb: the unit was enabled"
	[ "$(stat -c '%F %a %U:%G' "$r/etc/ndpresponder" 2>/dev/null)" = "directory 755 root:root" ] ||
		fail "$deb: no /etc/ndpresponder/ (755 root:root) for the instances' files"
	# systemd-analyze verify with the root's unit and binary; systemd's own
	# targets, which the package does not ship, come from this host.
	cp -a /lib/systemd/system/*.target /lib/systemd/system/*.slice "$r/usr/lib/systemd/system/"
	for u in ndpresponder.service ndpresponder@eth0.service; do
		# Its Documentation= is looked up by man: in the root's pages.
		out=$(MANPATH="$r/usr/share/man" systemd-analyze verify --root="$r" "/usr/lib/systemd/system/$u" 2>&1) ||
			fail "$deb: systemd-analyze verify $u: $out"
		! grep -q 'ndpresponder' <<<"$out" || fail "$deb: systemd-analyze verify $u: $out"
	done
	"$host" -c "$r/etc/ndpresponder.conf" -check-config >/dev/null || fail "$deb: the example configuration is refused"
	if [ -z "${force[*]}" ]; then
		"$r/usr/sbin/ndpresponder" -version | grep -qxF "ndpresponder $stamp" || fail "$deb: the installed binary's version"
	fi

	# An upgrade (here a reinstall) restarts a running daemon and running
	# instances, and only those (try-restart; systemctl matches the
	# pattern against the units it has loaded).
	dpkg_in "$r" "${force[@]}" -i "$deb"
	calls "$r" "$reload" "deb-systemd-invoke try-restart ndpresponder.service ndpresponder@*.service"

	# Removal stops the daemon and every instance, and keeps the edited
	# configuration and an instance's file; purge removes the package's,
	# the links of `systemctl enable`, and the runtime directories the
	# units kept, and leaves the administrator's instance file.
	echo "i eth1 # edited" >>"$r/etc/ndpresponder.conf"
	echo "n 2001:db8:1:2::/112" >"$r/etc/ndpresponder/eth1.conf"
	dpkg_in "$r" -r ndpresponder
	calls "$r" "deb-systemd-invoke stop ndpresponder.service ndpresponder@*.service" "$reload"
	grep -q edited "$r/etc/ndpresponder.conf" || fail "$deb: removal lost the edited configuration"
	[ -f "$r/etc/ndpresponder/eth1.conf" ] || fail "$deb: removal lost /etc/ndpresponder/eth1.conf"
	for f in usr/sbin/ndpresponder usr/lib/systemd/system/ndpresponder.service usr/share/doc/ndpresponder; do
		[ ! -e "$r/$f" ] || fail "$deb: /$f stays after removal"
	done
	mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
	ln -s /usr/lib/systemd/system/ndpresponder.service "$r/etc/systemd/system/multi-user.target.wants/ndpresponder.service"
	ln -s /usr/lib/systemd/system/ndpresponder@.service "$r/etc/systemd/system/multi-user.target.wants/ndpresponder@eth1.service"
	mkdir -p "$r/run/ndpresponder/eth1" && echo "# last figures" >"$r/run/ndpresponder/eth1/ndpresponder.prom"
	dpkg_in "$r" -P ndpresponder
	calls "$r" "$reload"
	[ ! -e "$r/etc/ndpresponder.conf" ] || fail "$deb: purge left /etc/ndpresponder.conf"
	for l in ndpresponder.service ndpresponder@eth1.service; do
		[ ! -L "$r/etc/systemd/system/multi-user.target.wants/$l" ] || fail "$deb: purge left the enable link of $l"
	done
	[ ! -e "$r/run/ndpresponder" ] || fail "$deb: purge left /run/ndpresponder"
	[ -f "$r/etc/ndpresponder/eth1.conf" ] || fail "$deb: purge removed the administrator's /etc/ndpresponder/eth1.conf"
	[ -z "$(dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${db:Status-Status}' ndpresponder 2>/dev/null)" ] ||
		fail "$deb: still known to dpkg after purge"
	# Without the administrator's files, purge leaves no /etc/ndpresponder/.
	rm "$r/etc/ndpresponder/eth1.conf"
	dpkg_in "$r" "${force[@]}" -i "$deb"
	dpkg_in "$r" -P ndpresponder
	calls "$r" "$reload" "deb-systemd-invoke stop ndpresponder.service ndpresponder@*.service" "$reload" "$reload"
	[ ! -e "$r/etc/ndpresponder" ] || fail "$deb: purge left an empty /etc/ndpresponder/"
	echo "$(stat -c %s "$deb") bytes; lintian: no error; installed, verified, reinstalled, removed, purged"
}

# The .ipk's data files: mode, owner (numeric, as OpenWrt's ipkg-build
# writes them), path.
ipk_files="drwxr-xr-x 0/0 ./
drwxr-xr-x 0/0 ./etc/
drwxr-xr-x 0/0 ./etc/config/
-rw------- 0/0 ./etc/config/ndpresponder
drwxr-xr-x 0/0 ./etc/init.d/
-rwxr-xr-x 0/0 ./etc/init.d/ndpresponder
drwxr-xr-x 0/0 ./usr/
drwxr-xr-x 0/0 ./usr/sbin/
-rwxr-xr-x 0/0 ./usr/sbin/ndpresponder
drwxr-xr-x 0/0 ./usr/share/
drwxr-xr-x 0/0 ./usr/share/ndpresponder/
-rw-r--r-- 0/0 ./usr/share/ndpresponder/uci2conf.awk"

# run_init ROOT UCI CONFDIR CALLS: the package's init script's
# start_service, under BusyBox's sh and awk as on OpenWrt, over the UCI
# configuration UCI, writing into CONFDIR; stand-ins for procd record each
# instance it opens, and its command, in CALLS.
run_init() {
	: >"$4"
	PATH=$work/busybox:$PATH CALLS=$4 busybox sh -c '
procd_open_instance() { echo "instance $1" >>"$CALLS"; }
procd_set_param() { [ "$1" != command ] || { shift; echo "command $*" >>"$CALLS"; }; }
procd_close_instance() { :; }
. "$1/etc/init.d/ndpresponder"
UCI_CONFIG=$2 UCI2CONF=$1/usr/share/ndpresponder/uci2conf.awk CONF_DIR=$3
start_service' sh "$@"
}

check_ipk() { # check_ipk OPENWRTARCH GOARCH [SETTING...]
	local arch=$1 goarch=$2 ipk=dist/ndpresponder_${version}_$1.ipk u=$work/ipk-$1
	shift 2
	echo "== $ipk"
	[ -f "$ipk" ] || fail "no $ipk"
	mkdir -p "$u/control" "$u/data"
	# opkg reads the outer archive as a gzip'd tar, in the ustar or GNU
	# format, with ./-prefixed names.
	[ "$(gzip -dc "$ipk" | head -c 263 | tail -c 6 | tr -d '\0 ')" = ustar ] || fail "$ipk: the outer archive is not a gzip'd tar"
	got=$(busybox tar -tzf "$ipk" | tr '\n' ' ')
	[ "$got" = "./debian-binary ./data.tar.gz ./control.tar.gz " ] || fail "$ipk holds: $got"
	busybox tar -xzf "$ipk" -C "$u"
	[ "$(cat "$u/debian-binary")" = 2.0 ] || fail "$ipk: debian-binary"
	busybox tar -xzf "$u/control.tar.gz" -C "$u/control"
	busybox tar -xzf "$u/data.tar.gz" -C "$u/data"
	local c=$u/control/control
	for f in "Package=ndpresponder" "Version=$version" "Architecture=$arch" "Section=net" "License=ISC" \
		"SourceDateEpoch=$SOURCE_DATE_EPOCH" "Installed-Size=$(busybox gzip -dc "$u/data.tar.gz" | wc -c)"; do
		[ "$(field "$c" "${f%%=*}")" = "${f#*=}" ] || fail "$ipk: control field ${f%%=*} is \"$(field "$c" "${f%%=*}")\", want \"${f#*=}\""
	done
	if [ -z "$(field "$c" Maintainer)" ] || [ -z "$(field "$c" Description)" ]; then
		fail "$ipk: no Maintainer or Description"
	fi
	[ "$(cat "$u/control/conffiles")" = /etc/config/ndpresponder ] || fail "$ipk: conffiles"
	for s in postinst prerm; do
		cmp -s "$u/control/$s" "init/openwrt/ipk/$s" || fail "$ipk: $s is not init/openwrt/ipk/$s"
		[ -x "$u/control/$s" ] || fail "$ipk: $s is not executable"
	done
	got=$(busybox tar -tvzf "$u/data.tar.gz" | awk '{ print $1, $2, $6 }')
	[ "$got" = "$ipk_files" ] || fail "$ipk data holds:\n$got\nwant:\n$ipk_files"
	binary "$u/data/usr/sbin/ndpresponder" "$goarch" "$@"

	# The init script over the package's own configuration starts nothing:
	# its uplink section is disabled until the administrator enables it.
	local d=$u/data conf=$u/conf
	mkdir -p "$conf"
	run_init "$d" "$d/etc/config/ndpresponder" "$conf" "$u/calls"
	[ ! -s "$u/calls" ] || fail "$ipk: the shipped configuration starts an instance: $(cat "$u/calls")"
	# Enabled, it starts one instance, whose translated configuration the
	# daemon accepts.
	sed "s/option enabled '0'/option enabled '1'/" "$d/etc/config/ndpresponder" >"$u/enabled"
	run_init "$d" "$u/enabled" "$conf" "$u/calls"
	got=$(tr '\n' ' ' <"$u/calls")
	[ "$got" = "instance wan6 command /usr/sbin/ndpresponder -c $conf/wan6.conf -user nobody " ] || fail "$ipk: enabled, the init script starts: $got"
	"$host" -c "$conf/wan6.conf" -user nobody -check-config >/dev/null || fail "$ipk: the daemon refuses the translated configuration: $(cat "$conf/wan6.conf")"
	echo "$(stat -c %s "$ipk") bytes; read as opkg does; init script and translation checked"
}

# BusyBox's awk, as OpenWrt has, for the init script's translator.
mkdir -p "$work/busybox"
ln -s /bin/busybox "$work/busybox/awk"

check_deb amd64 amd64
check_deb arm64 arm64
check_deb armhf arm GOARM=7
check_deb i386 386
check_ipk mips_24kc mips GOMIPS=softfloat
check_ipk mipsel_24kc mipsle GOMIPS=softfloat
check_ipk arm_cortex-a7 arm GOARM=5
check_ipk aarch64_generic arm64
check_ipk x86_64 amd64
n=$(find dist -maxdepth 1 \( -name '*.deb' -o -name '*.ipk' \) | wc -l)
[ "$n" = 9 ] || fail "dist holds $n packages, want 9"
(cd dist && sha256sum --quiet -c SHA256SUMS) || fail "dist/SHA256SUMS does not match"
grep -c -E '\.(deb|ipk)$' dist/SHA256SUMS | grep -qx 9 || fail "dist/SHA256SUMS does not cover the 9 packages"
echo "== every package checked"
