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
# kwok acts only through Stages: the module's own "fast" set (nodes become Ready and keep their
# lease, pods become Running and Ready at once, and are deleted when asked), as one config file.
src="$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[ -d "$src" ] || die "could not find the sigs.k8s.io/kwok@v$KWOK_VERSION module source"
for f in "$src"/kustomize/stage/{node/fast,node/heartbeat-with-lease,pod/fast}/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] && continue
  printf -- '---\n'
  cat "$f"
done >"$dest/stages.yaml"
echo "$want" >"$dest/.stamp"
log "done: $dest/kwok"
