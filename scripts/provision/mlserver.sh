#!/usr/bin/env bash
# MLServer with its scikit-learn and XGBoost runtimes in a Python virtualenv from PyPI, cached.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

apt_install_for python3 python3 python3-venv
py_version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
dest="$MLOPS_CACHE/mlserver/$MLSERVER_VERSION-py$py_version"
want="mlserver=$MLSERVER_VERSION scikit-learn=$SCIKIT_LEARN_VERSION xgboost=$XGBOOST_VERSION python=$py_version"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest"
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "python3 has no venv module: install python3-venv"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi

# An existing virtualenv of this MLServer and Python is completed in place (pip only adds what
# is missing), so a running MLServer keeps its files and an added runtime costs one download.
if [ ! -x "$dest/venv/bin/python" ]; then
  rm -rf "$dest" && mkdir -p "$dest"
  python3 -m venv "$dest/venv"
fi
pip=("$dest/venv/bin/pip" install -q --disable-pip-version-check)
log "installing mlserver $MLSERVER_VERSION, mlserver-sklearn, scikit-learn $SCIKIT_LEARN_VERSION"
"${pip[@]}" "mlserver==$MLSERVER_VERSION" "mlserver-sklearn==$MLSERVER_VERSION" "scikit-learn==$SCIKIT_LEARN_VERSION" >&2
# Without dependencies: they are in place already (mlserver, numpy, scipy), and the `xgboost`
# distribution would pull NVIDIA's NCCL (~200 MB); xgboost-cpu is the same module without CUDA.
log "installing mlserver-xgboost $MLSERVER_VERSION, xgboost-cpu $XGBOOST_VERSION"
"${pip[@]}" --no-deps "mlserver-xgboost==$MLSERVER_VERSION" "xgboost-cpu==$XGBOOST_VERSION" >&2
"$dest/venv/bin/mlserver" --version >&2
"$dest/venv/bin/python" -c 'import sklearn, joblib, mlserver_sklearn' || die "scikit-learn runtime does not import"
"$dest/venv/bin/python" -c 'import xgboost, mlserver_xgboost' || die "XGBoost runtime does not import"
echo "$want" >"$dest/.stamp"
log "done: $dest"
