#!/usr/bin/env bash
# A Kubernetes control plane for end-to-end tests: kube-apiserver, etcd, and (in a third cache
# entry) kube-controller-manager, kube-scheduler and kubectl, all built from the Go module proxy.
# The Kubernetes commands come from module k8s.io/kubernetes, whose staging modules (k8s.io/api, ...)
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

# A throwaway module in "$1" that requires k8s.io/kubernetes and imports the given commands.
kubernetes_module() {
  local dir="$1"; shift
  local minor_patch="${KUBERNETES_VERSION#*.}"
  mkdir -p "$dir"
  cd "$dir"
  go mod init provision.local/kubernetes >/dev/null 2>&1
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
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
    printf ')\n'
  } >tools.go
  log "resolving modules ($(echo "$staging" | wc -w) staging modules replaced by v0.$minor_patch)"
  go mod tidy 2>&1 | grep -v '^go: downloading' >&2 || true
}

# Builds the given commands of k8s.io/kubernetes into "$1" with the version stamped in.
build_kubernetes_cmds() {
  local dest="$1"; shift
  local minor_patch="${KUBERNETES_VERSION#*.}"
  local pkgs=()
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  nice -n 10 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor_patch%%.*}" \
    -o "$dest/" "${pkgs[@]}"
}

build_apiserver() {
  local dest="$MLOPS_CACHE/kube-apiserver/v$KUBERNETES_VERSION"
  local want="kubernetes=$KUBERNETES_VERSION"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest/kube-apiserver"
    return
  fi
  mkdir -p "$dest"
  kubernetes_module "$work/apiserver" kube-apiserver
  log "building kube-apiserver v$KUBERNETES_VERSION (the slow step: ~10 min on 2 cores)"
  build_kubernetes_cmds "$dest" kube-apiserver
  "$dest/kube-apiserver" --version >&2
  echo "$want" >"$dest/.stamp"
}

# The rest of a control plane, so Deployments become Pods and Pods get nodes: controller
# manager, scheduler, and the kubectl users apply with. One `go build` of the same module and
# version as the apiserver, so the packages they share come from Go's build cache.
CONTROL_PLANE_CMDS=(kube-controller-manager kube-scheduler kubectl)
build_control_plane() {
  local dest="$MLOPS_CACHE/kube-control-plane/v$KUBERNETES_VERSION"
  local want="kubernetes=$KUBERNETES_VERSION ${CONTROL_PLANE_CMDS[*]}"
  if stamp_ok "$dest/.stamp" "$want"; then
    log "cached: $dest/{${CONTROL_PLANE_CMDS[*]}}"
    return
  fi
  mkdir -p "$dest"
  kubernetes_module "$work/control-plane" "${CONTROL_PLANE_CMDS[@]}"
  log "building ${CONTROL_PLANE_CMDS[*]} v$KUBERNETES_VERSION"
  build_kubernetes_cmds "$dest" "${CONTROL_PLANE_CMDS[@]}"
  "$dest/kube-scheduler" --version >&2
  "$dest/kubectl" version --client >&2
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

build_apiserver
build_etcd
build_control_plane
