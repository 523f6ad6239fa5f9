#!/usr/bin/env bash
# Provisions every real component the end-to-end tests use, into
# ${MLOPS_CACHE:-$HOME/.cache/cdk8s-mlops}. Idempotent: a component whose cache entry matches
# scripts/provision/versions.env is skipped in well under a second.
# Usage: scripts/provision.sh [kafka|mlserver|kube|kube-score|image ...]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kafka mlserver kube kube-score image)

summary=()
for c in "${components[@]}"; do
  script="$here/provision/$c.sh"
  [ -f "$script" ] || { echo "unknown component '$c' (kafka, mlserver, kube, kube-score, image)" >&2; exit 2; }
  start=$(date +%s%N)
  bash "$script"
  ms=$((($(date +%s%N) - start) / 1000000))
  summary+=("$(printf '%-12s %4d.%01ds' "$c" $((ms / 1000)) $((ms % 1000 / 100)))")
done

echo "provisioned into ${MLOPS_CACHE:-$HOME/.cache/cdk8s-mlops}:"
printf '  %s\n' "${summary[@]}"
