#!/usr/bin/env bash
# The tools that build and run the runtime image without a Docker daemon (mmdebstrap, umoci,
# bubblewrap, from Debian), and the image's Debian base layer (scripts/image/base.sh) as a
# one-layer OCI image layout (tag `base`) that scripts/image/build.sh adds the application to.
# Rebuilt when this script, scripts/image/base.sh or image.env change.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

apt_install_for mmdebstrap mmdebstrap
apt_install_for umoci umoci
apt_install_for bwrap bubblewrap
image_dir="$(cd "$PROVISION_DIR/../image" && pwd)"
dest="$MLOPS_CACHE/image"
want="base $(cat "$0" "$image_dir/base.sh" "$image_dir/image.env" | sha256sum | cut -c1-16)"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest/base"
  exit 0
fi

rm -rf "$dest" && mkdir -p "$dest"
log "building the Debian base layer"
bash "$image_dir/base.sh" "$dest/base.tar"
umoci init --layout "$dest/base"
umoci new --image "$dest/base:base"
# No timestamps, so the same packages give the same layer digest.
umoci raw add-layer --image "$dest/base:base" --history.created_by 'scripts/image/base.sh' \
  --history.created '1970-01-01T00:00:00Z' "$dest/base.tar"
log "base layer: $(($(stat -c %s "$dest/base.tar") / 1000000)) MB, $(($(du -sb "$dest/base/blobs" | cut -f1) / 1000000)) MB compressed"
rm "$dest/base.tar"
echo "$want" >"$dest/.stamp"
log "done: $dest/base"
