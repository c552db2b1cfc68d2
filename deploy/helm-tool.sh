#!/usr/bin/env bash
# Prints the path of a helm binary, building it once from the Go module proxy (no GitHub release
# downloads, which this network refuses). Cached under $WHARF_TOOLS/bin; a lock keeps concurrent
# callers (parallel test files) from building it twice.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/env.sh
source "$root/deploy/env.sh"

version=v3.22.0
# The Kubernetes version helm's release binaries assume when no cluster is asked (`helm template`,
# `helm lint`): 1.<minor of the client-go it builds with>, v0.37 for helm 3.22. Without these
# flags a source build reports v3.22 and assumes Kubernetes 1.20.
k8s_minor=37
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
stamp="$version k8s-1.$k8s_minor"
bin="$WHARF_TOOLS/bin"
helm="$bin/helm"
installed() { [ -x "$helm" ] && [ "$(cat "$helm.version" 2>/dev/null)" = "$stamp" ]; }

if ! installed; then
  command -v go >/dev/null || { echo "helm-tool: Go is needed to build helm $version" >&2; exit 1; }
  mkdir -p "$bin"
  exec 9>"$bin/.helm.lock"
  flock 9
  if ! installed; then
    echo "[helm-tool] building helm $version with go install (a few minutes, once)" >&2
    # -modcacherw keeps the module cache deletable; GOTOOLCHAIN=auto fetches a newer Go from the
    # module proxy if helm's go.mod asks for one.
    GOBIN="$bin" GOFLAGS=-modcacherw GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
      go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version" >&2
    echo "$stamp" > "$helm.version"
  fi
fi
echo "$helm"
