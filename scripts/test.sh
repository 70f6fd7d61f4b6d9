#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what it needs, builds once (one
# profile: release, features server+cli), then runs the Rust unit and integration tests (which also
# compile and run the C and Objective-C tests against the built cdylib), then the Python and Kotlin
# suites against the same cdylib and a real zego-room-server, the admin console in headless
# Chromium (tests/console), the Swift defaults check (generated
# Swift vs RoomEventHandler+Defaults.swift; no Swift toolchain here), then the packages made from
# that build (Python wheel, JVM jar, C install), each tested from a clean consumer project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export CARGO_TERM_COLOR=never
FEATURES=server,cli
cargo build --release --features "$FEATURES" --lib --bins --examples
cargo test --release --features "$FEATURES"
# The admin console in headless Chromium against the release server (under a minute).
(cd tests/console && npm ci --no-audit --no-fund --silent && node console.test.mjs)
for suite in bindings/python/run-tests.sh bindings/kotlin/run-tests.sh bindings/swift/run-checks.sh; do
  if [ -x "$suite" ]; then "$suite"; fi
done
scripts/test-packages.sh
