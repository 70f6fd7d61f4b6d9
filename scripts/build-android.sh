#!/usr/bin/env bash
# Builds the Android library of zego-room (needs the Android NDK and cargo-ndk; not verifiable on
# the Linux CI of this repo, which has no NDK):
#   target/android/aar/            an AAR layout:
#       AndroidManifest.xml
#       classes.jar                generated Kotlin (patched, see bindings/kotlin/patch-generated.py)
#                                  + RoomEventHandlerAdapter, compiled with kotlinc if available
#       jni/arm64-v8a/libzego_room.so
#       jni/armeabi-v7a/libzego_room.so
#       jni/x86_64/libzego_room.so
#   target/android/zego-room.aar   the zipped AAR (when classes.jar could be built)
#   target/android/kotlin/         the Kotlin sources, to drop into an Android module instead
#
# The app also needs `net.java.dev.jna:jna:5.14.0@aar` (JNA's Android AAR with its own native
# libs) and kotlinx-coroutines is NOT needed (the API has no async functions).
#
# TLS (wss://) on Android: certificates are checked by Android's own trust manager through
# rustls-platform-verifier, which calls into the JVM. The app must
#   1. call io.zegoroom.ZegoRoomAndroid.init(context) once before the first wss:// login (e.g. in
#      Application.onCreate; the class is in the Kotlin sources below, its native half is the JNI
#      export Java_io_zegoroom_ZegoRoomAndroid_nativeInit of libzego_room.so);
#   2. have the verifier's Kotlin component on its classpath: the Maven artifact
#      org.rustls:rustls-platform-verifier at exactly the version of the crate
#      rustls-platform-verifier-android in this repository's Cargo.lock (see docs/bindings.md for
#      the Gradle lines);
#   3. keep it from R8/ProGuard: -keep, includedescriptorclasses class org.rustls.platformverifier.** { *; }
# Without 1 or 2 every wss:// login ends as LoginFailed 1002053 with a log line naming the cause.
#
# Environment: ANDROID_NDK_HOME (required by cargo-ndk), ANDROID_API (default 24), JNA_JAR and
#              ANDROID_JAR (to compile classes.jar),
#              ZEGO_HOST_PROFILE_DIR (host build with --features cli, default target/release).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

API="${ANDROID_API:-24}"
ABIS=(arm64-v8a armeabi-v7a x86_64)
TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
OUT="$ROOT/target/android"
AAR="$OUT/aar"

command -v cargo-ndk >/dev/null || { echo "build-android.sh: install cargo-ndk (cargo install cargo-ndk)" >&2; exit 2; }
[ -n "${ANDROID_NDK_HOME:-}" ] || { echo "build-android.sh: set ANDROID_NDK_HOME to your NDK" >&2; exit 2; }

rustup target add "${TARGETS[@]}"
rm -rf "$AAR" && mkdir -p "$AAR/jni"

# 1. Native libraries (no server, no bindgen machinery), one per ABI.
ndk_args=()
for abi in "${ABIS[@]}"; do ndk_args+=(-t "$abi"); done
cargo ndk "${ndk_args[@]}" -P "$API" -o "$AAR/jni" build --release --lib

# 2. Kotlin sources: library mode, generated from a host build with the crate's own bindgen.
HOST="${ZEGO_HOST_PROFILE_DIR:-target/release}"
if [ ! -x "$HOST/uniffi-bindgen" ] || { [ ! -e "$HOST/libzego_room.so" ] && [ ! -e "$HOST/libzego_room.dylib" ]; }; then
  cargo build --release --features cli --lib --bin uniffi-bindgen
  HOST=target/release
fi
HOSTLIB="$HOST/libzego_room.so"
[ -e "$HOSTLIB" ] || HOSTLIB="$HOST/libzego_room.dylib"
KT="$OUT/kotlin"
rm -rf "$KT" && mkdir -p "$KT"
"$HOST/uniffi-bindgen" generate --library "$HOSTLIB" --language kotlin --no-format --out-dir "$KT"
python3 "$ROOT/bindings/kotlin/patch-generated.py" "$KT/io/zegoroom/zego_room.kt"
cp "$ROOT/bindings/kotlin/src/main/kotlin/io/zegoroom/RoomEventHandlerAdapter.kt" "$KT/io/zegoroom/"
# Android-only Kotlin (needs android.content.Context, so not part of the JVM test build).
cp "$ROOT/bindings/kotlin/android/io/zegoroom/ZegoRoomAndroid.kt" "$KT/io/zegoroom/"

# 3. The AAR layout.
cat > "$AAR/AndroidManifest.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="io.zegoroom">
    <uses-permission android:name="android.permission.INTERNET" />
</manifest>
XML
touch "$AAR/R.txt"

if command -v kotlinc >/dev/null && [ -n "${JNA_JAR:-}" ] && [ -n "${ANDROID_JAR:-}" ]; then
  # JNA_JAR: path to jna-5.14.0.jar (compile-time only; at run time the app's JNA AAR is used).
  # ANDROID_JAR: the SDK's platforms/android-NN/android.jar (ZegoRoomAndroid uses Context).
  kotlinc "$KT" -cp "$JNA_JAR:$ANDROID_JAR" -jvm-target 17 -d "$OUT/classes.jar"
  cp "$OUT/classes.jar" "$AAR/classes.jar"
  (cd "$AAR" && rm -f "$OUT/zego-room.aar" && zip -qr "$OUT/zego-room.aar" .)
  echo "built $OUT/zego-room.aar"
else
  echo "kotlinc, JNA_JAR or ANDROID_JAR not available: add $KT to your module's sources and $AAR/jni as jniLibs"
fi
echo "native libraries: $(cd "$AAR/jni" && ls -d */)"
