#!/usr/bin/env bash
# Builds static, stripped ndpresponder binaries (CGO_ENABLED=0, -trimpath,
# -s -w, no build ID) with the version stamped in.
#   ./build.sh        this machine's, as ./ndpresponder, and prints its size
#   ./build.sh all    every platform into dist/, named by platform, and
#                     the packages, with dist/SHA256SUMS and a size table;
#                     two builds of one commit are byte-identical
#   ./build.sh packages  the .deb and .ipk packages (scripts/packages.sh)
#                     and the binaries they hold, into dist/ as above
set -euo pipefail
cd "$(dirname "$0")"
. scripts/need.sh
need_go
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
build() { # build OUTPUT [ENV...]
	local out=$1
	shift
	env CGO_ENABLED=0 "$@" go build -trimpath -buildvcs=false \
		-ldflags="-s -w -buildid= -X main.version=$version" -o "$out" .
}

# GOARCH[/GOARM]; the MIPS builds use soft float, as router SoCs have no FPU.
case ${1:-} in
"")
	build ndpresponder
	printf 'ndpresponder %s: %s bytes\n' "$version" "$(stat -c %s ndpresponder)"
	exit 0
	;;
all) platforms="amd64 386 arm64 arm/5 arm/6 arm/7 mips mipsle mips64 mips64le riscv64 ppc64le" ;;
packages) platforms="amd64 386 arm64 arm/5 arm/7 mips mipsle" ;;
*)
	echo "usage: ./build.sh [all|packages]" >&2
	exit 2
	;;
esac
rm -rf dist
mkdir dist
for p in $platforms; do
	arch=${p%/*} arm=
	[ "$p" = "$arch" ] || arm=${p#*/}
	build "dist/ndpresponder-linux-$arch${arm:+v$arm}" GOOS=linux GOARCH="$arch" GOARM="${arm:-7}" \
		GOMIPS=softfloat GOMIPS64=softfloat
done
scripts/packages.sh "$version"
(cd dist && sha256sum ndpresponder-linux-* ndpresponder_*.deb ndpresponder_*.ipk >SHA256SUMS)
printf '%-56s %10s\n' "ndpresponder $version" bytes
for f in dist/ndpresponder-linux-* dist/*.deb dist/*.ipk; do
	printf '%-56s %10s\n' "${f#dist/}" "$(stat -c %s "$f")"
done
