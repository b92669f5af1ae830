#!/usr/bin/env bash
# Installs the Debian packages libbitnet needs to build, test and cross-test. Idempotent.
set -euo pipefail
PACKAGES=(build-essential cmake git ccache libgtest-dev libgmock-dev googletest libbenchmark-dev
          libfmt-dev libcli11-dev nlohmann-json3-dev qemu-user g++-aarch64-linux-gnu)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
