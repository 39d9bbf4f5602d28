#!/usr/bin/env bash
# The tests on foreign CPUs, for real, under qemu-user: the unit tests
# (everything but the network-namespace tests, left out with -tags
# nonetns) on big-endian mips, mipsle, arm and arm64; then every binary of
# dist/ (./build.sh all) started to print its version. Needs
# qemu-user-static.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
qemu() { # GOARCH -> the qemu-user binary that runs it
	case $1 in
	# An x86_64 kernel runs both natively; Go's 386 runtime crashes under
	# qemu-i386 ("morestack on gsignal"), which says nothing of the binary.
	amd64 | 386) echo "" ;;
	arm64) echo qemu-aarch64-static ;;
	mipsle) echo qemu-mipsel-static ;;
	mips64le) echo qemu-mips64el-static ;;
	*) echo "qemu-$1-static" ;;
	esac
}
for arch in mips mipsle arm arm64; do
	echo "== go test on $arch, under $(qemu $arch)"
	GOARCH=$arch GOMIPS=softfloat GOARM=7 go test -count=1 -tags nonetns -exec "$(qemu $arch)" .
done
echo "== every binary prints its version under emulation"
for f in dist/ndpresponder-linux-*; do
	arch=${f#dist/ndpresponder-linux-}
	arch=${arch%v[567]}
	runner=$(qemu "$arch")
	out=$($runner "$f" -version)
	printf '%-34s %s\n' "${f#dist/}" "$out"
	case $out in "ndpresponder "*) ;; *) echo "$f does not print its version" >&2; exit 1 ;; esac
done
