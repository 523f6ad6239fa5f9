# Shared by the provisioning scripts: versions, cache location, small helpers.
# shellcheck shell=bash
PROVISION_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$PROVISION_DIR/versions.env"
COMPONENT="$(basename "$0" .sh)"
MLOPS_CACHE="${MLOPS_CACHE:-$HOME/.cache/cdk8s-mlops}"
mkdir -p "$MLOPS_CACHE"

log() { printf '[provision %s] %s\n' "${COMPONENT:-}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A component is provisioned when its stamp holds exactly the expected content (versions).
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

apt_updated=0
# Installs Debian packages only when the given command is missing.
apt_install_for() {
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "'$cmd' is missing and apt-get is not available: install $* by hand"
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"
}
