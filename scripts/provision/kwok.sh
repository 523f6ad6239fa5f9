#!/usr/bin/env bash
# kwok, which runs fake nodes and plays the kubelet's part for Pods on them (scheduled Pods turn
# Running and Ready) without a container runtime. Built from the Go module proxy, cached.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/kwok/v$KWOK_VERSION"
want="kwok=$KWOK_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/kwok"
  exit 0
fi
require_cmd go "install Go 1.26 or newer (https://go.dev/dl) to build kwok"

mkdir -p "$dest"
module="sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
log "go install $module"
GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$dest" nice -n 10 go install -trimpath -ldflags "-s -w" "$module"
"$dest/kwok" --version >&2
echo "$want" >"$dest/.stamp"
log "done: $dest/kwok"
