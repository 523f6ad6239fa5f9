#!/usr/bin/env bash
# Builds the example apps' models into DIR (default: models/), for `mlops dev --models DIR`.
# Python: $MLOPS_PYTHON, else the virtualenv `npm run provision` builds for MLServer (it has
# scikit-learn and xgboost), else python3 (which then needs scikit-learn, xgboost and mlserver).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-models}"
python="${MLOPS_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in "${MLOPS_CACHE:-$HOME/.cache/cdk8s-mlops}"/mlserver/*/venv/bin/python; do
    [ -x "$candidate" ] && [ -f "$(dirname "$(dirname "$(dirname "$candidate")")")/.stamp" ] && python="$candidate"
  done
fi
python="${python:-python3}"
if ! "$python" -c 'import sklearn, joblib, mlserver, xgboost' 2>/dev/null; then
  echo "models: $python lacks scikit-learn, xgboost or mlserver; run \`npm run provision mlserver\` or set MLOPS_PYTHON" >&2
  exit 2
fi
mkdir -p "$out"
"$python" "$here/train.py" "$out"
echo "models in $out"
