#!/usr/bin/env bash
# Builds the Kotlin/JVM jar of zego-room with Maven into target/jvm/ and installs it into the
# local Maven repository (~/.m2, as `mvn install` does), so a project can depend on
#   <dependency><groupId>io.zegoroom</groupId><artifactId>zego-room-kotlin</artifactId><version>VERSION</version></dependency>
# (JNA and the Kotlin standard library come with it as dependencies).
#
# The jar holds the generated UniFFI Kotlin (patched, bindings/kotlin/patch-generated.py), the
# RoomEventHandlerAdapter of bindings/kotlin/src/main/kotlin, and the native library of the
# project's one build (scripts/package-common.sh) as the classpath resource
# <jna-platform>/libzego_room.so, e.g. linux-x86-64/libzego_room.so, which JNA extracts and
# loads: nothing to put on java.library.path. One jar carries one platform's library (the
# host's); see docs/packaging.md for several.
#
# Output: target/jvm/zego-room-kotlin-VERSION.jar and .pom; Maven builds in target/jvm/build.
# Extra arguments go to Maven (e.g. -o when the Maven repository is already filled).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/package-common.sh"
ZEGO_PROFILE_DIR="$PROFILE_DIR" source "$ROOT/bindings/common.sh"

OUT="$ROOT/target/jvm"
mkdir -p "$OUT"
POM_VERSION="$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$ROOT/bindings/kotlin/pom.xml" | head -n1)"
[ "$POM_VERSION" = "$VERSION" ] || { echo "package-jvm: bindings/kotlin/pom.xml has version $POM_VERSION, Cargo.toml $VERSION" >&2; exit 1; }

# JNA's resource prefix for this host (com.sun.jna.Platform.RESOURCE_PREFIX).
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM=linux-x86-64 ;;
  Linux-aarch64) PLATFORM=linux-aarch64 ;;
  Darwin-x86_64) PLATFORM=darwin-x86-64 ;;
  Darwin-arm64) PLATFORM=darwin-aarch64 ;;
  *) echo "package-jvm: no JNA platform prefix known for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

GEN="$OUT/generated"
generate_bindings kotlin "$GEN"
python3 "$ROOT/bindings/kotlin/patch-generated.py" "$GEN/io/zegoroom/zego_room.kt"

NATIVE="$OUT/native"
rm -rf "$NATIVE" && mkdir -p "$NATIVE/$PLATFORM"
cp "$LIB" "$NATIVE/$PLATFORM/"

rm -f "$OUT"/zego-room-kotlin-*.jar "$OUT"/zego-room-kotlin-*.pom
# Maven 3.8 writes colour codes to stdout even with -q -B: keep its output for failures only.
timeout 900 mvn -q -B -f "$ROOT/bindings/kotlin/pom.xml" \
  -Dmaven.test.skip=true \
  -Dzego.generatedDir="$GEN" -Dzego.buildDir="$OUT/build" -Dzego.nativeDir="$NATIVE" \
  "$@" install > "$OUT/mvn.log" 2>&1 || { cat "$OUT/mvn.log" >&2; echo "package-jvm: mvn install failed" >&2; exit 1; }

JAR="$OUT/zego-room-kotlin-$VERSION.jar"
cp "$OUT/build/zego-room-kotlin-$VERSION.jar" "$JAR"
cp "$ROOT/bindings/kotlin/pom.xml" "$OUT/zego-room-kotlin-$VERSION.pom"
echo "package-jvm: built ${JAR#"$ROOT"/} ($PLATFORM/$(basename "$LIB") inside) and installed io.zegoroom:zego-room-kotlin:$VERSION into the local Maven repository"
