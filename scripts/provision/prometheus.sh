#!/usr/bin/env bash
# Prometheus, from Debian's package, unpacked into the cache without installing it (no root, no
# service started): the tests run the binary themselves on 127.0.0.1.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/prometheus/v$PROMETHEUS_VERSION"
want="prometheus=$PROMETHEUS_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/prometheus"
  exit 0
fi
require_cmd apt-get "Prometheus is taken from Debian's package: install Prometheus $PROMETHEUS_VERSION by hand and put it in $dest"
require_cmd dpkg-deb "needed to unpack Debian's Prometheus package"

candidate() { apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ {print $2}'; }
version="$(candidate)"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  [ "$(id -u)" = 0 ] || die "apt has no 'prometheus' package listed; run 'apt-get update' as root first"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  version="$(candidate)"
fi
case "$version" in
  "$PROMETHEUS_VERSION"+*) ;;
  *) die "Debian offers prometheus '$version', not $PROMETHEUS_VERSION: change PROMETHEUS_VERSION in versions.env" ;;
esac

work="$(mktemp -d)"
# apt-get download hands the file to its own unprivileged user, who must be able to write here.
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
log "apt-get download prometheus=$version"
(cd "$work" && apt-get download -qq "prometheus=$version" >&2)
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$dest"
cp "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$dest/"
"$dest/prometheus" --version 2>&1 | sed -n 1p >&2
echo "$want" >"$dest/.stamp"
log "done: $dest/prometheus"
