#!/usr/bin/env bash
# kube-apiserver, kubectl and etcd for end-to-end tests, built from the Go module proxy and cached
# separately (the apiserver build is the slow one).
# kube-apiserver comes from module k8s.io/kubernetes, whose staging modules (k8s.io/api, ...)
# are pinned at v0.0.0 and replaced by local paths in its own go.mod; a consumer module must
# replace each of them with its published v0.<minor>.<patch> release.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
require_cmd go "install Go 1.24 or newer (https://go.dev/dl) to build kube-apiserver and etcd"
# the harness makes a throwaway CA and serving certificate with openssl
apt_install_for openssl openssl

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A throwaway module that requires k8s.io/kubernetes and replaces its staging modules, in $1.
kubernetes_module() {
  local dir="$1" minor_patch="${KUBERNETES_VERSION#*.}"
  mkdir -p "$dir"
  cd "$dir"
  go mod init "provision.local/$(basename "$dir")" >/dev/null 2>&1
  log "fetching k8s.io/kubernetes v$KUBERNETES_VERSION go.mod"
  local gomod staging
  gomod="$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@v$KUBERNETES_VERSION"
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod")"
  [ -n "$staging" ] || die "no staging replaces found in $gomod"
  {
    echo "require k8s.io/kubernetes v$KUBERNETES_VERSION"
    for m in $staging; do echo "replace $m => $m v0.$minor_patch"; done
  } >>go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/%s"\n' "$(basename "$dir")" >tools.go
  log "resolving modules ($(echo "$staging" | wc -w) staging modules replaced by v0.$minor_patch)"
  go mod tidy 2>&1 | grep -v '^go: downloading' >&2 || true
}

# Builds k8s.io/kubernetes/cmd/$1 into the cache, stamped with the Kubernetes version.
build_kubernetes_command() {
  local cmd="$1" dest="$MLOPS_CACHE/$1/v$KUBERNETES_VERSION"
  local want="kubernetes=$KUBERNETES_VERSION" minor_patch="${KUBERNETES_VERSION#*.}"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest/$cmd"
    return
  fi
  mkdir -p "$dest"
  kubernetes_module "$work/$cmd"
  log "building $cmd v$KUBERNETES_VERSION"
  nice -n 10 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor_patch%%.*}" \
    -o "$dest/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  case "$cmd" in
    kubectl) "$dest/$cmd" version --client >&2 ;;
    *) "$dest/$cmd" --version >&2 ;;
  esac
  echo "$want" >"$dest/.stamp"
}

# etcd: a one-line main around the released server package (the etcd root module cannot be
# built with `go install` because its go.mod has replace directives).
build_etcd() {
  local dest="$MLOPS_CACHE/etcd/v$ETCD_VERSION"
  local want="etcd=$ETCD_VERSION"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest/etcd"
    return
  fi
  mkdir -p "$dest" "$work/etcd"
  cd "$work/etcd"
  go mod init provision.local/etcd >/dev/null 2>&1
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" 2>&1 | grep -v '^go: downloading' >&2 || true
  go mod tidy 2>&1 | grep -v '^go: downloading' >&2 || true
  log "building etcd v$ETCD_VERSION"
  nice -n 10 go build -trimpath -ldflags "-s -w" -o "$dest/etcd" .
  "$dest/etcd" --version >&2
  echo "$want" >"$dest/.stamp"
}

# kube-apiserver is the slow build (~10 min on 2 cores); kubectl (for `kubectl wait` in tests
# and by users) shares most of its packages and then takes a few minutes more.
build_kubernetes_command kube-apiserver
build_kubernetes_command kubectl
build_etcd
