#!/usr/bin/env bash
# Builds the Apple package of zego-room (macOS with Xcode only; not verifiable on Linux CI):
#   bindings/swift/zego_roomFFI.xcframework   static libraries + zego_roomFFI.h + module.modulemap
#       ios-arm64                  aarch64-apple-ios
#       ios-arm64_x86_64-simulator aarch64-apple-ios-sim + x86_64-apple-ios   (lipo)
#       macos-arm64_x86_64         aarch64-apple-darwin + x86_64-apple-darwin (lipo)
#   bindings/swift/Sources/ZegoRoom/generated/ZegoRoom.swift   (UniFFI, library mode)
# Then `swift build` in bindings/swift, or add the package to an Xcode project.
#
# Mobile libraries are built without `server`/`cli` (no room server, no bindgen machinery).
#
# `--generate-only` (any OS): only writes the generated Swift into
# bindings/swift/Sources/ZegoRoom/generated/ from an existing host build
# (ZEGO_PROFILE_DIR, default target/release, built with --features cli), header and modulemap
# into target/xcframework/Headers - a way to read and
# check the generated API where Xcode is not available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${1:-}" = "--generate-only" ]; then
  PROFILE_DIR="${ZEGO_PROFILE_DIR:-target/release}"
  HOSTLIB="$PROFILE_DIR/libzego_room.so"
  [ "$(uname)" = "Darwin" ] && HOSTLIB="$PROFILE_DIR/libzego_room.dylib"
  DEST="$ROOT/bindings/swift/Sources/ZegoRoom/generated"
  rm -rf "$DEST" && mkdir -p "$DEST"
  HDR="$ROOT/target/xcframework/Headers"
  rm -rf "$HDR" && mkdir -p "$HDR"
  "$PROFILE_DIR/uniffi-bindgen" generate --library "$HOSTLIB" --language swift --no-format --out-dir "$DEST"
  # The header and modulemap belong to the binary target, not to the Swift target's sources.
  mv "$DEST/zego_roomFFI.h" "$HDR/"
  mv "$DEST/zego_roomFFI.modulemap" "$HDR/module.modulemap"
  echo "generated $DEST/ZegoRoom.swift and $HDR/{zego_roomFFI.h,module.modulemap}"
  exit 0
fi

[ "$(uname)" = "Darwin" ] || { echo "build-xcframework.sh: needs macOS with Xcode (xcodebuild, lipo)" >&2; exit 2; }
command -v xcodebuild >/dev/null || { echo "build-xcframework.sh: xcodebuild not found" >&2; exit 2; }

LIB=libzego_room.a
FFI=zego_roomFFI              # = ffi_module_name in uniffi.toml
SWIFT_DIR="$ROOT/bindings/swift"
OUT="$SWIFT_DIR/$FFI.xcframework"
WORK="$ROOT/target/xcframework"
IOS=aarch64-apple-ios
SIMS=(aarch64-apple-ios-sim x86_64-apple-ios)
MACS=(aarch64-apple-darwin x86_64-apple-darwin)

export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-13.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-11.0}"

rustup target add "$IOS" "${SIMS[@]}" "${MACS[@]}"
for t in "$IOS" "${SIMS[@]}" "${MACS[@]}"; do
  cargo build --release --lib --target "$t"
done

# 1. Bindings: generated in library mode from a host build, with the crate's own uniffi-bindgen.
cargo build --release --features cli --lib --bin uniffi-bindgen
GEN="$WORK/generated"
rm -rf "$GEN" && mkdir -p "$GEN"
target/release/uniffi-bindgen generate --library target/release/libzego_room.dylib --language swift --out-dir "$GEN"
mkdir -p "$SWIFT_DIR/Sources/ZegoRoom/generated"
cp "$GEN/ZegoRoom.swift" "$SWIFT_DIR/Sources/ZegoRoom/generated/ZegoRoom.swift"

# 2. Headers directory shared by every slice: the C header and the modulemap as module.modulemap.
HEADERS="$WORK/Headers"
rm -rf "$HEADERS" && mkdir -p "$HEADERS"
cp "$GEN/$FFI.h" "$HEADERS/"
cp "$GEN/$FFI.modulemap" "$HEADERS/module.modulemap"

# 3. Fat libraries for the simulator and macOS slices.
mkdir -p "$WORK/ios-sim" "$WORK/macos"
lipo -create $(for t in "${SIMS[@]}"; do echo "target/$t/release/$LIB"; done) -output "$WORK/ios-sim/$LIB"
lipo -create $(for t in "${MACS[@]}"; do echo "target/$t/release/$LIB"; done) -output "$WORK/macos/$LIB"

# 4. The XCFramework.
rm -rf "$OUT"
xcodebuild -create-xcframework \
  -library "target/$IOS/release/$LIB" -headers "$HEADERS" \
  -library "$WORK/ios-sim/$LIB" -headers "$HEADERS" \
  -library "$WORK/macos/$LIB" -headers "$HEADERS" \
  -output "$OUT"

echo "built $OUT"
echo "generated $SWIFT_DIR/Sources/ZegoRoom/generated/ZegoRoom.swift"
echo "next: (cd bindings/swift && swift build)"
