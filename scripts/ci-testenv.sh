#!/usr/bin/env bash
# Everything the tests need besides npm packages, idempotent: Debian packages (the node's
# containerd, runc, CNI plugins, iptables, socat; tmux for the terminal tests; openssl for the
# cluster's certificates; the binaries the local Nixery serves, listed in
# testenv/nixery/debian-packages.txt), the cluster's binaries built from the official Go modules
# into a cache outside the repo, and the local Nixery's store paths.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "the local test cluster's node needs root (network namespaces, mounts, cgroups)" >&2; exit 1; }
command -v go >/dev/null || { echo "Go is required to build the test cluster" >&2; exit 1; }

# Packages, by a command each provides (dpkg -s is slower and stricter than needed here).
need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
want containerd containerd
want runc runc
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
want iptables iptables
want ip iproute2
want socat socat
want conntrack conntrack
want nsenter util-linux
want tmux tmux
want pgrep procps
want openssl openssl
want curl curl
want gcc gcc
# The linux-arm64 standalone binary is run once under qemu (test/e2e/access-dist.test.ts).
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
[ -f /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
# The local Nixery's content: every listed package that is not installed yet.
if [ -f testenv/nixery/debian-packages.txt ]; then
  while read -r pkg; do
    pkg=${pkg%%#*}; pkg=${pkg//[[:space:]]/}
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done < testenv/nixery/debian-packages.txt
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts the containerd service it installs where there is an init system; the node runs
# its own, so a system one is merely unused. Nothing here talks to /run/containerd.

time node_modules/.bin/node scripts/testenv.mjs build
if [ -f testenv/nixery/build.mjs ]; then
  time node_modules/.bin/node testenv/nixery/build.mjs
fi
