#!/usr/bin/env bash
# Makes each package from the project's one build and tests it from a clean consumer, as a
# newcomer would use it (tests/consumers/): the Python wheel in a fresh venv, the JVM jar from a
# separate Maven project, the C install with pkg-config and CMake find_package. Each consumer
# logs in and out against a real zego-room-server on 127.0.0.1.
#
# Needs the build of scripts/test.sh (cargo build --release --features server,cli --lib --bins
# --examples); run after it, it compiles no Rust. Prints what each step checked and its time.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
  local start=$SECONDS
  "$@"
  echo "($* took $((SECONDS - start)) s)"
}

step scripts/package-python.sh
step tests/consumers/python/run.sh

step scripts/package-jvm.sh
step tests/consumers/jvm/run.sh

# Installed into one prefix and then moved: the consumers also check the install is relocatable.
rm -rf target/pack/c-staged target/pack/c-prefix
step scripts/package-c.sh target/pack/c-staged
mv target/pack/c-staged target/pack/c-prefix
step tests/consumers/c/run.sh target/pack/c-prefix
