#!/usr/bin/env bash
# The Open Inference Protocol clients users call models with, for the client e2e suite:
# tritonclient (HTTP and gRPC) and the KServe SDK in a Python virtualenv from PyPI, and grpcurl
# built from the Go module proxy. Cached; a second run with the same versions takes well under a second.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

apt_install_for python3 python3 python3-venv
require_cmd go "install Go (https://go.dev/dl) to build grpcurl from the Go module proxy"
py_version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
dest="$MLOPS_CACHE/oip-clients/py$py_version"
want="tritonclient=$TRITONCLIENT_VERSION kserve=$KSERVE_VERSION grpcurl=$GRPCURL_VERSION python=$py_version"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest"
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "python3 has no venv module: install python3-venv"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi

rm -rf "$dest" && mkdir -p "$dest/bin"
# A virtualenv of its own: the KServe SDK pins libraries (fastapi, protobuf) that MLServer pins differently.
python3 -m venv "$dest/venv"
log "installing tritonclient $TRITONCLIENT_VERSION and kserve $KSERVE_VERSION"
"$dest/venv/bin/pip" install -q --disable-pip-version-check \
  "tritonclient[http,grpc]==$TRITONCLIENT_VERSION" "kserve==$KSERVE_VERSION" >&2
# Separately: both register the same inference.* protobuf symbols, so one process can import only one.
"$dest/venv/bin/python" -c 'import tritonclient.http, tritonclient.grpc' || die "tritonclient does not import"
"$dest/venv/bin/python" -c 'import kserve' || die "kserve does not import"
log "building grpcurl $GRPCURL_VERSION from the Go module proxy"
GOBIN="$dest/bin" GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" >&2
"$dest/bin/grpcurl" -version >&2
echo "$want" >"$dest/.stamp"
log "done: $dest"
