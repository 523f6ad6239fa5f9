#!/usr/bin/env bash
# kube-linter from the Go module proxy (`go install`), cached.
# Where the proxy refuses the module (some networks allow only listed module hosts), the reason is
# recorded in <cache>/kube-linter/UNAVAILABLE and the script exits 0, so the other components
# stay usable; the kube-linter suite reports that reason instead of running. Every run retries.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

root="$MLOPS_CACHE/kube-linter"
dest="$root/v$KUBE_LINTER_VERSION"
want="kube-linter=$KUBE_LINTER_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/kube-linter"
  exit 0
fi
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build kube-linter"

mkdir -p "$dest"
module="golang.stackrox.io/kube-linter/cmd/kube-linter@v$KUBE_LINTER_VERSION"
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
log "go install $module"
if GOFLAGS=-buildvcs=false GOBIN="$dest" nice -n 10 go install -trimpath \
  -ldflags "-s -w -X golang.stackrox.io/kube-linter/internal/version.version=$KUBE_LINTER_VERSION" \
  "$module" 2>"$errors"; then
  "$dest/kube-linter" version >&2
  echo "$want" >"$dest/.stamp"
  rm -f "$root/UNAVAILABLE"
  log "done: $dest/kube-linter"
elif grep -qE '403 Forbidden|not permitted|410 Gone' "$errors"; then
  {
    echo "go install $module was refused by the Go module proxy ($(go env GOPROXY)):"
    cat "$errors"
  } >"$root/UNAVAILABLE"
  log "WARNING: kube-linter cannot be had here; recorded in $root/UNAVAILABLE:"
  cat "$errors" >&2
else
  cat "$errors" >&2
  die "go install $module failed"
fi
