#!/usr/bin/env bash
# What can be checked of the Swift package without a Swift toolchain: generates the Swift from
# the built library (library mode, the crate's own uniffi-bindgen) and checks that
# RoomEventHandler+Defaults.swift gives every generated handler method an empty default with the
# same signature. Needs a prior build (see ../common.sh); ZEGO_PROFILE_DIR selects it.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cd "$ROOT"

GEN="$ROOT/target/swift-generated"
generate_bindings swift "$GEN"
python3 "$ROOT/bindings/swift/check-defaults.py" "$GEN/ZegoRoom.swift" \
  "$ROOT/bindings/swift/Sources/ZegoRoom/RoomEventHandler+Defaults.swift"
