#!/usr/bin/env bash
# Size of the library a mobile app ships: the default features (no server, no bindgen), release
# profile, stripped. Built in its own target dir so it never replaces the test build's cdylib.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
export CARGO_TARGET_DIR=target/size
cargo build --profile "$PROFILE" --lib >/dev/null 2>&1 || cargo build --profile "$PROFILE" --lib
so="$CARGO_TARGET_DIR/$PROFILE/libzego_room.so"
cp "$so" "$CARGO_TARGET_DIR/libzego_room.stripped.so"
strip --strip-all "$CARGO_TARGET_DIR/libzego_room.stripped.so"
printf 'profile %s: cdylib %s bytes, stripped %s bytes\n' "$PROFILE" "$(stat -c %s "$so")" "$(stat -c %s "$CARGO_TARGET_DIR/libzego_room.stripped.so")"
# What the mobile library must not carry.
if nm -D --defined-only "$so" | grep -qiE 'hyper|clap|uniffi_bindgen|token04'; then
  echo "ERROR: server or bindgen code in the mobile library" >&2; exit 1
fi
nm -D --defined-only "$so" | grep -c ' T zego_' | xargs printf '%s exported zego_* functions\n'
