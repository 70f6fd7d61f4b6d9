#!/usr/bin/env bash
# The JVM jar as an app uses it: tests/consumers/jvm is a separate Maven project whose only
# dependency is io.zegoroom:zego-room-kotlin, installed into the local Maven repository by
# scripts/package-jvm.sh. Its program runs with plain `java` (no jna.library.path, no
# LD_LIBRARY_PATH), so JNA must load libzego_room.so from the jar, and logs in and out against a
# real zego-room-server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
echo "JVM consumer (Maven project depending on io.zegoroom:zego-room-kotlin:$VERSION):"
consumer_workdir jvm

JAR="$ROOT/target/jvm/zego-room-kotlin-$VERSION.jar"
[ -f "$JAR" ] || fail "$JAR missing (run scripts/package-jvm.sh)"

# Build the consumer from a copy outside the source tree (Maven writes target/ next to the pom).
cp -r "$ROOT/tests/consumers/jvm/pom.xml" "$ROOT/tests/consumers/jvm/src" "$WORK/"
timeout 600 mvn -q -B -f "$WORK/pom.xml" -Dzego.version="$VERSION" package > "$WORK/mvn.log" 2>&1 \
  || { cat "$WORK/mvn.log" >&2; fail "the consumer project does not build against io.zegoroom:zego-room-kotlin:$VERSION"; }
ls "$WORK/target/lib/zego-room-kotlin-$VERSION.jar" "$WORK"/target/lib/jna-*.jar "$WORK"/target/lib/kotlin-stdlib-*.jar > /dev/null \
  || fail "runtime classpath lacks zego-room-kotlin, jna or kotlin-stdlib: $(ls "$WORK/target/lib")"
# The installed jar is the one package-jvm.sh just built.
cmp -s "$JAR" "$WORK/target/lib/zego-room-kotlin-$VERSION.jar" || fail "Maven resolved a zego-room-kotlin jar other than $JAR"
ok "the project compiles against the installed jar; JNA and kotlin-stdlib arrive as its dependencies"

start_server
cd "$WORK"
set +e
env -u LD_LIBRARY_PATH timeout 60 java -Djna.debug_load=true -Djna.tmpdir="$WORK/jna" \
  -cp "$WORK/target/classes:$WORK/target/lib/*" io.zegoroom.consumer.LoginLogoutKt "$SERVER_URL" "$APP_ID" \
  > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
set -e
cat "$WORK/out.txt"
if [ "$rc" -ne 0 ]; then
  cat "$WORK/err.txt" >&2
  fail "the consumer program exited with $rc"
fi
grep -q '^Logined room=' "$WORK/out.txt" || fail "no Logined line"
grep -q '^Logout room=' "$WORK/out.txt" || fail "no Logout line"
grep -q "Found library resource at jar:file:.*zego-room-kotlin-$VERSION.jar!/[a-z0-9-]*/libzego_room.so" "$WORK/err.txt" \
  || { cat "$WORK/err.txt" >&2; fail "JNA did not load libzego_room.so from the jar"; }
if grep -E -q 'Exception|panicked' "$WORK/err.txt"; then
  cat "$WORK/err.txt" >&2
  fail "an exception or panic on stderr"
fi
ok "login/logout against zego-room-server at $SERVER_URL; JNA loaded libzego_room.so from the jar"
