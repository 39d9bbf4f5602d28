#!/usr/bin/env bash
# The tests on foreign CPUs, for real, under qemu-user: the unit tests
# (everything but the network-namespace tests, left out with -tags
# nonetns) on big-endian mips, mipsle, arm and arm64. Then every binary of
# dist/ (./build.sh all) is inspected (ELF class, byte order and machine,
# static, stripped, the version stamped in) and, where this host can run
# its CPU's programs, natively or under qemu-user, started to print its
# version.
#
# Whether a host can run a CPU's programs is asked of a one-line Go
# program built for that CPU, never of the binary under test: some x86_64
# kernels refuse 32-bit programs, and qemu-i386 crashes Go's 386 runtime.
# Such a binary is inspected only, and the output says so.
# NDPR_CANNOT_RUN="386 ..." makes the script treat those CPUs as such a
# host would, to try that path on a host that runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/need.sh
need_go
need qemu-user-static:qemu-mips-static binutils:readelf groff-base:groff

probe_dir=$(mktemp -d) work=$(mktemp -d)
trap 'rm -rf "$probe_dir" "$work"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work"
printf 'module probe\n\ngo 1.21\n' >"$probe_dir/go.mod"
printf 'package main\n\nfunc main() { println("probe ok") }\n' >"$probe_dir/main.go"

# find_runner GOARCH sets r to how this host runs that CPU's programs
# ("native", or a qemu-user binary), or to nothing when it cannot. The
# answer is kept for each GOARCH.
declare -A runners=()
find_runner() {
	local arch=$1 probe cand
	if [ -z "${runners[$arch]+set}" ]; then
		runners[$arch]=
		case " ${NDPR_CANNOT_RUN:-} " in *" $arch "*) cand=none ;; *) cand= ;; esac
		probe=$probe_dir/probe-$arch
		[ -n "$cand" ] || (cd "$probe_dir" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOARM=7 GOMIPS=softfloat \
			GOMIPS64=softfloat go build -o "$probe" .)
		for cand in ${cand:-native $(qemu_for "$arch")}; do
			[ "$cand" != none ] || break
			[ "$cand" = native ] || command -v "$cand" >/dev/null 2>&1 || continue
			if [ "$(run_with "$cand" "$probe" 2>&1)" = "probe ok" ]; then
				runners[$arch]=$cand
				break
			fi
		done
	fi
	r=${runners[$arch]}
}

qemu_for() {
	case $1 in
	386) echo qemu-i386-static ;;
	amd64) echo qemu-x86_64-static ;;
	arm64) echo qemu-aarch64-static ;;
	mipsle) echo qemu-mipsel-static ;;
	mips64le) echo qemu-mips64el-static ;;
	*) echo "qemu-$1-static" ;;
	esac
}

# how RUNNER GOARCH: says how a program was run.
how() {
	case $1 in
	native) case $(uname -m):$2 in x86_64:amd64 | x86_64:386 | aarch64:arm64 | aarch64:arm) echo natively ;; *) echo "directly (binfmt_misc)" ;; esac ;;
	*) echo "under $1" ;;
	esac
}

run_with() { # run_with RUNNER PROGRAM ARGS...
	local r=$1
	shift
	if [ "$r" = native ]; then timeout 20 "$@"; else timeout 60 "$r" "$@"; fi
}

# What readelf must say of each GOARCH's binaries: class, byte order, machine.
elf_want() {
	case $1 in
	amd64) echo "ELF64 little Advanced Micro Devices X86-64" ;;
	386) echo "ELF32 little Intel 80386" ;;
	arm64) echo "ELF64 little AArch64" ;;
	arm) echo "ELF32 little ARM" ;;
	mips) echo "ELF32 big MIPS R3000" ;;
	mipsle) echo "ELF32 little MIPS R3000" ;;
	mips64) echo "ELF64 big MIPS R3000" ;;
	mips64le) echo "ELF64 little MIPS R3000" ;;
	riscv64) echo "ELF64 little RISC-V" ;;
	ppc64le) echo "ELF64 little PowerPC64" ;;
	*) echo "unknown GOARCH $1" ;;
	esac
}

# inspect FILE GOARCH: checks what can be checked without running it;
# prints what it found, and fails on anything wrong.
inspect() {
	local f=$1 arch=$2 hdr class data machine got want
	hdr=$(LC_ALL=C readelf -h "$f")
	class=$(sed -n 's/^ *Class: *//p' <<<"$hdr")
	data=$(sed -n 's/^ *Data: *2.s complement, \([a-z]*\) endian/\1/p' <<<"$hdr")
	machine=$(sed -n 's/^ *Machine: *//p' <<<"$hdr")
	got="$class $data $machine" want=$(elf_want "$arch")
	if [ "$got" != "$want" ]; then
		echo "$f: readelf says \"$got\", want \"$want\"" >&2
		return 1
	fi
	if LC_ALL=C readelf -l "$f" | grep -q -E 'INTERP|DYNAMIC'; then
		echo "$f: dynamically linked" >&2
		return 1
	fi
	if LC_ALL=C readelf -S -W "$f" | grep -q -E '\.symtab|\.debug_'; then
		echo "$f: not stripped" >&2
		return 1
	fi
	if ! grep -a -q -F "$version" "$f"; then
		echo "$f: the version $version is not stamped in" >&2
		return 1
	fi
	echo "$got, static, stripped, version inside"
}

for arch in mips mipsle arm arm64; do
	find_runner $arch
	if [ -z "$r" ]; then
		echo "== go test on $arch: NOT RUN, this host runs no $arch programs, natively or under $(qemu_for $arch)"
		continue
	fi
	echo "== go test on $arch, $(how "$r" $arch)"
	exec_flag=()
	[ "$r" = native ] || exec_flag=(-exec "$r")
	# In a copy of the tree: runs under qemu-user have left empty files
	# with garbage names in the working directory, now and then.
	(cd "$work" && GOARCH=$arch GOMIPS=softfloat GOARM=7 go test -count=1 -tags nonetns "${exec_flag[@]}" ./...)
done

echo "== every binary of dist/: inspected, and executed where this host can"
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
executed=0 inspected=0
for f in dist/ndpresponder-linux-*; do
	arch=${f#dist/ndpresponder-linux-}
	arch=${arch%v[567]}
	elf=$(inspect "$f" "$arch")
	find_runner "$arch"
	if [ -z "$r" ]; then
		printf '%-30s inspected only, NOT EXECUTED (this host runs no %s programs): %s\n' "${f#dist/}" "$arch" "$elf"
		inspected=$((inspected + 1))
		continue
	fi
	out=$(run_with "$r" "$f" -version)
	if [ "$out" != "ndpresponder $version" ]; then
		echo "$f -version printed \"$out\", want \"ndpresponder $version\"" >&2
		exit 1
	fi
	printf '%-30s executed %-22s "%s"; %s\n' "${f#dist/}" "$(how "$r" "$arch"):" "$out" "$elf"
	executed=$((executed + 1))
done
echo "$executed binaries executed, $inspected inspected only"
