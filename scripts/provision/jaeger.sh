#!/usr/bin/env bash
# Jaeger all-in-one, the OTLP trace receiver of the tracing end-to-end tests: built from the Go
# module proxy as a Go tool (`go get -tool`) in a throwaway module, cached. The tests run it with
# in-memory storage on loopback ports and read traces back through its HTTP query API.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/jaeger/v$JAEGER_VERSION"
want="jaeger=$JAEGER_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/jaeger"
  exit 0
fi
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build Jaeger"

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# a large build: one or two compiler threads leave the machine usable
export GOMAXPROCS="${GOMAXPROCS:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
go mod init provision.local/jaeger >/dev/null 2>&1
module="github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION"
log "go get -tool $module"
go get -tool "$module" 2>&1 | grep -v '^go: downloading' >&2 || true
mkdir -p "$dest"
log "building jaeger v$JAEGER_VERSION (GOMAXPROCS=$GOMAXPROCS)"
nice -n 10 go build -trimpath -ldflags "-s -w" -o "$dest/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
"$dest/jaeger" version >/dev/null
echo "$want" >"$dest/.stamp"
log "done: $dest/jaeger"
