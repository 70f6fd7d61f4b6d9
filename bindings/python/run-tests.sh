#!/usr/bin/env bash
# Generates the Python bindings from the built library (library mode, the crate's own
# uniffi-bindgen) into bindings/python/generated/ and runs the pytest suite against a real
# zego-room-server and the fault proxy.
#
# Needs a prior build (see ../common.sh); ZEGO_PROFILE_DIR selects it.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cd "$ROOT"

GEN="$ROOT/bindings/python/generated"
generate_bindings python "$GEN"
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
