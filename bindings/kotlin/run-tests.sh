#!/usr/bin/env bash
# Generates the Kotlin bindings from the built library (library mode, the crate's own
# uniffi-bindgen) into bindings/kotlin/generated/, patches two known uniffi 0.29 Kotlin name
# clashes (see patch-generated.py), then compiles them with the adapter and runs the JUnit 5
# suite on the JVM against the cdylib, a real zego-room-server and the fault proxy.
#
# Needs a prior build (see ../common.sh); ZEGO_PROFILE_DIR selects it.
# Extra arguments go to Maven (e.g. -Dtest=RoomEngineTest#reconnects*).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cd "$ROOT"

GEN="$ROOT/bindings/kotlin/generated"
generate_bindings kotlin "$GEN"
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
