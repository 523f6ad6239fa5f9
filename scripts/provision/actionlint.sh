#!/usr/bin/env bash
# actionlint, the GitHub Actions workflow checker, built from the Go module proxy, cached: it
# checks the workflow `mlops init` writes (syntax, expressions, the shell of every run step).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/actionlint/v$ACTIONLINT_VERSION"
want="actionlint=$ACTIONLINT_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/actionlint"
  exit 0
fi
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build actionlint"

mkdir -p "$dest"
module="github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
log "go install $module"
GOFLAGS=-buildvcs=false GOBIN="$dest" nice -n 10 go install -trimpath -ldflags "-s -w" "$module"
"$dest/actionlint" -version >&2
echo "$want" >"$dest/.stamp"
log "done: $dest/actionlint"
