#!/usr/bin/env bash
# Everything the tests need besides npm packages, idempotent: Debian packages (tmux for the
# terminal tests, openssl for the test cluster's certificates), and the binaries the e2e tests use
# (etcd, kube-apiserver, kube-scheduler, the fake kubelet, kwok, kubectl, krew), built from the
# official Go modules into a cache outside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tmux >/dev/null || need_apt+=(tmux)
command -v pgrep >/dev/null || need_apt+=(procps)
command -v openssl >/dev/null || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is required to build the test cluster" >&2; exit 1; }

time node_modules/.bin/node scripts/testenv.mjs build
