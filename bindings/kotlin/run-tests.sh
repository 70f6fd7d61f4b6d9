#!/usr/bin/env bash
# Generates the Kotlin bindings from the built library (library mode, the crate's own
# uniffi-bindgen) into bindings/kotlin/generated/, patches two known uniffi 0.29 Kotlin name
# clashes (see patch-generated.py), then compiles them with the adapter and runs the JUnit 5
# suite on the JVM against the cdylib, a real zego-room-server and the fault proxy.
#
# Needs a prior build:  cargo build --release --features server,cli --lib --bins --examples
# ZEGO_PROFILE_DIR selects the build (default target/release; e.g. target/debug while developing).
# Extra arguments go to Maven (e.g. -Dtest=RoomEngineTest#reconnects*).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PROFILE_DIR="${ZEGO_PROFILE_DIR:-target/release}"
case "$PROFILE_DIR" in /*) ;; *) PROFILE_DIR="$ROOT/$PROFILE_DIR" ;; esac

LIB="$PROFILE_DIR/libzego_room.so"
[ "$(uname)" = "Darwin" ] && LIB="$PROFILE_DIR/libzego_room.dylib"
for f in "$LIB" "$PROFILE_DIR/uniffi-bindgen" "$PROFILE_DIR/zego-room-server" "$PROFILE_DIR/examples/fault_proxy"; do
  if [ ! -e "$f" ]; then
    echo "run-tests.sh: missing $f" >&2
    echo "build first: cargo build --release --features server,cli --lib --bins --examples" >&2
    exit 2
  fi
done

GEN="$ROOT/bindings/kotlin/generated"
rm -rf "$GEN"
mkdir -p "$GEN"
"$PROFILE_DIR/uniffi-bindgen" generate --library "$LIB" --language kotlin --no-format --out-dir "$GEN"
python3 "$ROOT/bindings/kotlin/patch-generated.py" "$GEN/io/zegoroom/zego_room.kt"

cd "$ROOT/bindings/kotlin"
set +e
timeout 900 mvn -q -B -Dzego.profileDir="$PROFILE_DIR" test "$@"
rc=$?
set -e
REPORTS="$ROOT/bindings/kotlin/target/surefire-reports"
if [ "$rc" -eq 0 ]; then
  # A green run must have run tests (guards against an empty or mis-wired suite).
  ran=$(cat "$REPORTS"/TEST-*.xml 2>/dev/null | grep -o 'tests="[0-9]*"' | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}')
  if [ "${ran:-0}" -eq 0 ]; then
    echo "run-tests.sh: no Kotlin tests ran: failing" >&2
    exit 1
  fi
  echo "Kotlin: $ran tests passed"
fi
exit "$rc"
