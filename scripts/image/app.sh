#!/usr/bin/env bash
# The runtime image's application layer: the compiled package under /app with its production
# dependencies only, written as one tar with root-owned entries (the runtime's user reads, never
# writes, it). Used by both scripts/image/build.sh and the Dockerfile.
# Needs lib/ (`npm run build`) and npm. Usage: scripts/image/app.sh REPO_DIR OUT.tar
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=image.env
source "$here/image.env"
repo="$(cd "${1:?usage: app.sh REPO_DIR OUT.tar}" && pwd)"
out="$(mkdir -p "$(dirname "${2:?usage: app.sh REPO_DIR OUT.tar}")" && cd "$(dirname "$2")" && pwd)/$(basename "$2")"
[ -f "$repo/lib/runtime/main.js" ] || { echo "app.sh: $repo/lib is not built: run \`npm run build\`" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/app"
# shellcheck disable=SC2086 # a list of names
(cd "$repo" && cp -R $IMAGE_APP_FILES "$stage/app/")

# No dev dependencies (TypeScript, vitest), no peers (cdk8s: only the constructs use it), no
# optional platform binaries (esbuild, which only `mlops synth` needs through tsx); no install
# scripts, nothing is built here.
(cd "$stage/app" && npm ci --omit=dev --omit=peer --omit=optional --ignore-scripts --prefer-offline \
  --no-audit --no-fund --loglevel=error >&2)
# Whatever npm runs this (Debian's npm 9 keeps some dev packages despite --omit=dev), nothing the
# lockfile marks as dev, optional or peer stays.
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const { rmSync } = require("node:fs");
  const app = process.argv[1];
  const { packages } = require(`${app}/package-lock.json`);
  for (const [path, p] of Object.entries(packages))
    if (path && (p.dev || p.devOptional || p.optional || p.peer)) rmSync(`${app}/${path}`, { recursive: true, force: true });
' "$stage/app"
find "$stage/app/node_modules" -mindepth 1 -maxdepth 1 -name '@*' -type d -empty -delete
# Type declarations, source maps and Markdown are never loaded at run time.
find "$stage/app" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.md' \) -delete

# Stable metadata, so the same inputs give the same layer.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' --mode='u+rwX,go+rX,go-w' \
  -C "$stage" -cf "$out" ./app
