#!/usr/bin/env bash
# Builds the static, stripped ndpresponder binary for this machine, with the
# version stamped in, and prints its size.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=$version" -o ndpresponder .
printf 'ndpresponder %s: %s bytes\n' "$version" "$(stat -c %s ndpresponder)"
