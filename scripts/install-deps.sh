#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine of this kind (idempotent, quiet).
set -euo pipefail
# Debian packages: C/Objective-C toolchains and checkers used by the C ABI and Objective-C tests,
# pkg-config and cmake for the C package test (scripts/test-packages.sh), redis-server for the
# cluster tests (the store tests and tests/cluster.rs start their own on a free port), chromium
# and nodejs (+ npm, unless the installed nodejs brings its own) for the admin console's browser
# test (tests/console: playwright-core drives Debian's chromium; no browser is downloaded).
APT_PACKAGES=(gcc g++ gobjc libgnustep-base-dev valgrind pkg-config cmake redis-server chromium nodejs)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
