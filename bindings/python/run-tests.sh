#!/usr/bin/env bash
# Generates the Python bindings from the built library (library mode, the crate's own
# uniffi-bindgen) into bindings/python/generated/ and runs the pytest suite against a real
# zego-room-server and the fault proxy.
#
# Needs a prior build:  cargo build --release --features server,cli --lib --bins --examples
# ZEGO_PROFILE_DIR selects the build (default target/release; e.g. target/debug while developing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PROFILE_DIR="${ZEGO_PROFILE_DIR:-target/release}"
case "$PROFILE_DIR" in /*) ;; *) PROFILE_DIR="$ROOT/$PROFILE_DIR" ;; esac
export ZEGO_PROFILE_DIR="$PROFILE_DIR"

LIB="$PROFILE_DIR/libzego_room.so"
[ "$(uname)" = "Darwin" ] && LIB="$PROFILE_DIR/libzego_room.dylib"
for f in "$LIB" "$PROFILE_DIR/uniffi-bindgen" "$PROFILE_DIR/zego-room-server" "$PROFILE_DIR/examples/fault_proxy"; do
  if [ ! -e "$f" ]; then
    echo "run-tests.sh: missing $f" >&2
    echo "build first: cargo build --release --features server,cli --lib --bins --examples" >&2
    exit 2
  fi
done

GEN="$ROOT/bindings/python/generated"
rm -rf "$GEN"
mkdir -p "$GEN"
"$PROFILE_DIR/uniffi-bindgen" generate --library "$LIB" --language python --no-format --out-dir "$GEN"
# The generated module loads the library from its own directory.
cp "$LIB" "$GEN/"
export ZEGO_PY_GENERATED="$GEN"

set +e
timeout 600 python3 -m pytest -q -p no:cacheprovider "$ROOT/bindings/python/tests" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
