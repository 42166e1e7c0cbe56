#!/usr/bin/env bash
# Validates deploy/kubernetes/*.yaml against the Kubernetes API schemas with
# kubernetes-validate (PyPI; it ships the schemas, so no cluster and no network beyond the
# package install is needed). Installs it into target/tools/k8s-venv on first use; then
# `cargo test --test deploy` runs the same check.
#   scripts/validate-manifests.sh [--install-only]
set -euo pipefail
cd "$(dirname "$0")/.."
version="1.37.0"
venv="target/tools/k8s-venv"
bin="$venv/bin/kubernetes-validate"
if ! "$bin" --version 2>/dev/null | grep -q "$version"; then
    echo "validate-manifests: installing kubernetes-validate $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$version"
fi
[ "${1:-}" = "--install-only" ] && exit 0
"$bin" --strict deploy/kubernetes/*.yaml
