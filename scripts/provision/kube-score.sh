#!/usr/bin/env bash
# kube-score, the workload policy linter, built from the Go module proxy (`go install`), cached.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/kube-score/v$KUBE_SCORE_VERSION"
want="kube-score=$KUBE_SCORE_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/kube-score"
  exit 0
fi
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build kube-score"

mkdir -p "$dest"
module="github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION"
log "go install $module"
GOFLAGS=-buildvcs=false GOBIN="$dest" nice -n 10 go install -trimpath -ldflags "-s -w" "$module"
"$dest/kube-score" version >&2
echo "$want" >"$dest/.stamp"
log "done: $dest/kube-score"
