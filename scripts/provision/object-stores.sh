#!/usr/bin/env bash
# Object-store servers speaking the real wire protocols, for the artifact e2e tests:
# s3rver (S3 API, npm), Azurite (Azure Blob, npm), fake-gcs-server (GCS JSON API, built from the
# Go module proxy); and rclone, the copier the agent runs (Debian package, as in the image).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
require_cmd npm "install Node.js 20 (npm installs s3rver and Azurite)"
require_cmd go "install Go 1.24 or newer to build fake-gcs-server"
apt_install_for rclone rclone

# npm_tool NAME PACKAGE VERSION: installs PACKAGE@VERSION into its own cached prefix.
npm_tool() {
  local name="$1" pkg="$2" version="$3"
  local dest="$MLOPS_CACHE/$name/$version" want="$pkg=$version"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest"
    return
  fi
  rm -rf "$dest" && mkdir -p "$dest"
  log "npm install $pkg@$version"
  npm install --prefix "$dest" --no-audit --no-fund --silent "$pkg@$version" >&2
  echo "$want" >"$dest/.stamp"
}

build_fake_gcs() {
  local dest="$MLOPS_CACHE/fake-gcs-server/v$FAKE_GCS_SERVER_VERSION"
  local want="fake-gcs-server=$FAKE_GCS_SERVER_VERSION"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest/fake-gcs-server"
    return
  fi
  mkdir -p "$dest"
  log "building fake-gcs-server v$FAKE_GCS_SERVER_VERSION"
  GOFLAGS="-buildvcs=false" CGO_ENABLED=0 GOBIN="$dest" nice -n 10 \
    go install -trimpath -ldflags "-s -w" "github.com/fsouza/fake-gcs-server@v$FAKE_GCS_SERVER_VERSION"
  [ -x "$dest/fake-gcs-server" ] || die "fake-gcs-server did not build"
  echo "$want" >"$dest/.stamp"
}

npm_tool s3rver s3rver "$S3RVER_VERSION"
npm_tool azurite azurite "$AZURITE_VERSION"
build_fake_gcs
# sed reads to the end: `head` would close the pipe early, and with pipefail rclone's SIGPIPE fails the script.
rclone version | sed -n 1p >&2
log "done"
