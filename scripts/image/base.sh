#!/usr/bin/env bash
# The runtime image's base layer: Node.js and the libraries it links, from Debian's packages and
# nothing else (no shell, no package manager), written as one tar with root-owned entries.
# Used by both ways of building the image: scripts/image/build.sh (daemonless, OCI layout) and the
# Dockerfile. Needs mmdebstrap; runs as root or, unprivileged, with user namespaces.
# Usage: scripts/image/base.sh OUT.tar
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=image.env
source "$here/image.env"
out="${1:?usage: base.sh OUT.tar}"
command -v mmdebstrap >/dev/null 2>&1 || { echo "base.sh: mmdebstrap not found (apt-get install mmdebstrap)" >&2; exit 1; }

# `extract` unpacks the packages and their hard dependencies without running maintainer scripts,
# so no shell or dpkg has to be in the image. The extract hooks (customize hooks do not run in
# this variant) do what those scripts would have done that Node needs: the CA bundle that
# update-ca-certificates writes (Debian's Node reads the system store). Documentation, manual
# pages and iconv modules are never read at run time.
# As root, `chrootless`: extracting runs nothing inside the tree, so it needs no namespaces (a
# `docker build` step may not create any); otherwise mmdebstrap's own choice (user namespaces).
mode=auto
[ "$(id -u)" != 0 ] || mode=chrootless
# shellcheck disable=SC2016 # the hook's "$1" is expanded by mmdebstrap, not here
mmdebstrap --quiet --mode="$mode" --format=tar --variant=extract --skip=output/dev --include="$IMAGE_PACKAGES" \
  --extract-hook='cat "$1"/usr/share/ca-certificates/mozilla/*.crt >"$1"/etc/ssl/certs/ca-certificates.crt' \
  --extract-hook='rm -rf "$1"/usr/share/doc "$1"/usr/share/man "$1"/usr/share/info "$1"/usr/share/lintian "$1"/usr/share/locale "$1"/usr/share/bash-completion "$1"/usr/share/gdb "$1"/usr/lib/x86_64-linux-gnu/gconv "$1"/usr/lib/aarch64-linux-gnu/gconv' \
  "$IMAGE_SUITE" "$out" "$IMAGE_MIRROR"

# mmdebstrap copies the build machine's /etc/hostname and /etc/resolv.conf; a container runtime
# provides its own.
tar --delete -f "$out" ./etc/hostname ./etc/resolv.conf
# /dev without device nodes: the container runtime mounts its own there.
empty="$(mktemp -d)"
trap 'rm -rf "$empty"' EXIT
mkdir "$empty/dev"
tar -rf "$out" -C "$empty" --owner=0 --group=0 --numeric-owner --mtime='@0' ./dev
