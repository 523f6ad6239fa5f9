#!/usr/bin/env bash
# Builds the runtime image without a Docker daemon, as an OCI image layout tagged with the
# package's version: the cached Debian base layer (scripts/provision/image.sh runs base.sh), the
# application layer from app.sh, and the configuration (ENV, WORKDIR, USER, ENTRYPOINT) read from
# the Dockerfile's final stage, so `docker build` and this script give the same image.
# Needs lib/ (`npm run build`), umoci and npm. Prints the layout's path and the image's sizes.
# Usage: scripts/image/build.sh OUT_DIR   (e.g. `skopeo copy oci:OUT_DIR:0.1.0 docker://REGISTRY/...`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:?usage: build.sh OUT_DIR}"
cache="${MLOPS_CACHE:-$HOME/.cache/cdk8s-mlops}"
log() { printf '[image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bash "$repo/scripts/provision/image.sh"
tag="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "application layer"
bash "$here/app.sh" "$repo" "$work/app.tar"

# The final stage's configuration, one `umoci config` option per instruction.
config=()
# shellcheck disable=SC2016 # JavaScript, not shell
while IFS= read -r -d '' arg; do config+=("$arg"); done < <(
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const lines = readFileSync(process.argv[1], "utf8").split("\n");
    const final = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)) + 1);
    const opts = [];
    for (const line of final) {
      const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line.trim()) ?? [];
      if (op === "ENV") {
        if (!/^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(rest)) throw new Error(`ENV ${rest}: write one KEY=value per ENV line`);
        opts.push("--config.env", rest);
      } else if (op === "WORKDIR") opts.push("--config.workingdir", rest);
      else if (op === "USER") opts.push("--config.user", rest);
      else if (op === "ENTRYPOINT") {
        for (const a of JSON.parse(rest)) opts.push("--config.entrypoint", a);
      } else if (op && !["COPY", "ARG"].includes(op)) throw new Error(`Dockerfile final stage: ${op} is not mirrored by build.sh`);
    }
    process.stdout.write(opts.map((o) => `${o}\0`).join(""));
  ' "$repo/Dockerfile"
)
[ ${#config[@]} -gt 0 ] || die "no configuration read from the Dockerfile's final stage"

rm -rf "$out"
cp -R "$cache/image/base" "$out"
# The history records what made each layer; no timestamps, so the same inputs give the same image.
umoci raw add-layer --image "$out:base" --tag "$tag" --history.created_by 'scripts/image/app.sh' \
  --history.created '1970-01-01T00:00:00Z' "$work/app.tar"
umoci rm --image "$out:base"
umoci config --image "$out:$tag" --no-history --created '1970-01-01T00:00:00Z' \
  --architecture "$(node -p 'process.arch === "x64" ? "amd64" : process.arch')" --os linux "${config[@]}"
umoci gc --layout "$out"

# shellcheck disable=SC2016 # JavaScript, not shell
layers="$(node -p '
  const dir = process.argv[1];
  const fs = require("node:fs");
  const blob = (d) => JSON.parse(fs.readFileSync(`${dir}/blobs/${d.replace(":", "/")}`, "utf8"));
  const index = JSON.parse(fs.readFileSync(`${dir}/index.json`, "utf8"));
  blob(index.manifests[0].digest).layers.reduce((n, l) => n + l.size, 0)
' "$out")"
log "built $out:$tag — layers $((layers / 1000000)) MB compressed (application layer $(($(stat -c %s "$work/app.tar") / 1000000)) MB unpacked)"
echo "$out:$tag"
