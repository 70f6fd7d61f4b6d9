#!/usr/bin/env bash
# Builds the Python wheel of zego-room with maturin (UniFFI bindings mode) into target/wheels/:
#   target/wheels/zego_room-<version>-py3-none-<platform>.whl
# Install it with `pip install target/wheels/zego_room-*.whl` (any CPython >= 3.8; the module
# uses ctypes, so one wheel serves every Python version of that platform).
#
# maturin is installed by this script (pinned, into target/pack/tools, a venv of its own).
# The wheel packages the project's one build (scripts/package-common.sh): maturin runs with
# bindings/python/maturin-cargo.sh as its `cargo`, so neither its library build nor its
# `cargo run --bin uniffi-bindgen` step compiles anything a second time (see that file).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/package-common.sh"

MATURIN_VERSION=1.14.1
TOOLS="$ROOT/target/pack/tools"
OUT="$ROOT/target/wheels"

if [ ! -x "$TOOLS/bin/maturin" ] || [ "$("$TOOLS/bin/maturin" --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]; then
  echo "package-python: installing maturin $MATURIN_VERSION into $TOOLS"
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

# maturin's view of cargo (see bindings/python/maturin-cargo.sh).
SHIM="$ROOT/target/pack/shim"
rm -rf "$SHIM" && mkdir -p "$SHIM"
ln -s "$ROOT/bindings/python/maturin-cargo.sh" "$SHIM/cargo"
export ZEGO_PACK_CARGO="$(command -v cargo)"
export ZEGO_PACK_BINDGEN="$PROFILE_DIR/uniffi-bindgen"
export ZEGO_PACK_LOG="$ROOT/target/pack/maturin-cargo.log"
: > "$ZEGO_PACK_LOG"

rm -f "$OUT"/zego_room-*.whl
features=()
[ -n "$FEATURES" ] && features=(--features "$FEATURES")
# maturin reports progress on stderr even with --quiet: keep it for failures only.
(cd "$ROOT/bindings/python" &&
  PATH="$SHIM:$PATH" "$TOOLS/bin/maturin" build --release --quiet "${features[@]}" --out "$OUT") \
  > "$ROOT/target/pack/maturin.log" 2>&1 || {
  cat "$ROOT/target/pack/maturin.log" >&2
  echo "package-python: maturin build failed" >&2
  exit 1
}

# Both of maturin's cargo calls must have gone to the shared build (else it compiled twice).
grep -q '^rustc -> build' "$ZEGO_PACK_LOG" && grep -q '^run uniffi-bindgen ->' "$ZEGO_PACK_LOG" || {
  echo "package-python: maturin's cargo calls were not the expected ones:" >&2
  cat "$ZEGO_PACK_LOG" >&2
  exit 1
}

shopt -s nullglob
wheels=("$OUT"/zego_room-"$VERSION"-*.whl)
[ ${#wheels[@]} -eq 1 ] || { echo "package-python: expected one zego_room-$VERSION wheel in $OUT, got ${wheels[*]:-none}" >&2; exit 1; }
echo "package-python: built ${wheels[0]#"$ROOT"/} (library: $(basename "$LIB") of target/release, features: ${FEATURES:-default})"
