#!/usr/bin/env bash
# glua, the command-line front end of gopher-lua — the Lua VM Argo CD embeds to run
# `resource.customizations.health` scripts — built from the Go module proxy (`go install`),
# cached. The Argo CD health checks shipped in argocd/ are tested with it, so they are run by the
# same Lua dialect (5.1) Argo CD uses.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/gopher-lua/v$GOPHER_LUA_VERSION"
want="gopher-lua=$GOPHER_LUA_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/glua"
  exit 0
fi
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build glua"

mkdir -p "$dest"
module="github.com/yuin/gopher-lua/cmd/glua@v$GOPHER_LUA_VERSION"
log "go install $module"
GOFLAGS=-buildvcs=false GOBIN="$dest" nice -n 10 go install -trimpath -ldflags "-s -w" "$module"
"$dest/glua" -v >&2
echo "$want" >"$dest/.stamp"
log "done: $dest/glua"
