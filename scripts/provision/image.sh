#!/usr/bin/env bash
# The tools that build and run the runtime image without a Docker daemon (mmdebstrap, umoci,
# bubblewrap, from Debian), and the image's Debian base layer (scripts/image/base.sh), cached.
# The base layer is rebuilt when scripts/image/base.sh or image.env change.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

apt_install_for mmdebstrap mmdebstrap
apt_install_for umoci umoci
apt_install_for bwrap bubblewrap
image_dir="$(cd "$PROVISION_DIR/../image" && pwd)"
dest="$MLOPS_CACHE/image"
want="base $(cat "$image_dir/base.sh" "$image_dir/image.env" | sha256sum | cut -c1-16)"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/base.tar"
  exit 0
fi

mkdir -p "$dest"
rm -f "$dest/.stamp"
log "building the Debian base layer"
bash "$image_dir/base.sh" "$dest/base.tar.part"
mv "$dest/base.tar.part" "$dest/base.tar"
echo "$want" >"$dest/.stamp"
log "done: $dest/base.tar ($(du -m "$dest/base.tar" | cut -f1) MB)"
