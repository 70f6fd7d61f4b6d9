#!/usr/bin/env bash
# The installed C package as a newcomer uses it: examples/c/room_quickstart.c, copied out of the
# repository, built against PREFIX (scripts/package-c.sh PREFIX) once with pkg-config and once
# with CMake find_package (shared and static targets), each run against a real zego-room-server.
#
# Usage: tests/consumers/c/run.sh PREFIX
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
[ $# -eq 1 ] || fail "usage: $0 PREFIX"
PREFIX="$(cd "$1" && pwd)"
echo "C consumer (installed into ${PREFIX#"$ROOT"/}):"
consumer_workdir c

for f in include/zego_room.h lib/libzego_room.so lib/libzego_room.a lib/pkgconfig/zego_room.pc \
         lib/cmake/zego_room/zego_roomConfig.cmake lib/cmake/zego_room/zego_roomConfigVersion.cmake; do
  [ -f "$PREFIX/$f" ] || fail "$PREFIX/$f not installed"
done
cmp -s "$PREFIX/include/zego_room.h" "$ROOT/include/zego_room.h" || fail "installed header differs from include/zego_room.h"
cmp -s "$PREFIX/lib/libzego_room.so" "$PROFILE_DIR/libzego_room.so" || fail "installed libzego_room.so is not target/release's"
ok "header, shared + static library, zego_room.pc and the CMake package are installed"

SRC="$WORK/src"
mkdir -p "$SRC"
cp "$ROOT/examples/c/room_quickstart.c" "$ROOT/tests/consumers/c/CMakeLists.txt" "$SRC/"
start_server

# run_quickstart EXE LABEL: runs the example against the server; it must print Logined.
run_quickstart() {
  local out="$WORK/$2.out"
  if ! env -u LD_LIBRARY_PATH timeout 60 "$1" "$SERVER_URL" "c-consumer-$2" "c-user-$2" "" "$APP_ID" > "$out" 2>&1; then
    cat "$out" >&2
    fail "$2: room_quickstart failed"
  fi
  grep -q "^room c-consumer-$2: Logined (error 0) {\"room_session_id\":" "$out" || { cat "$out" >&2; fail "$2: no Logined line"; }
  grep -q "^room c-consumer-$2: Logout (error 0)" "$out" || { cat "$out" >&2; fail "$2: no Logout line"; }
  sed 's/^/    /' "$out"
}

# 1. pkg-config (relocatable .pc: only PKG_CONFIG_PATH points at the prefix).
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
[ "$(pkg-config --modversion zego_room)" = "$VERSION" ] || fail "pkg-config --modversion zego_room != $VERSION"
LIBDIR="$(pkg-config --variable=libdir zego_room)"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is intended
cc -std=c99 -Wall -Wextra -Werror "$SRC/room_quickstart.c" $(pkg-config --cflags --libs zego_room) \
  -Wl,-rpath,"$LIBDIR" -lpthread -o "$WORK/room_quickstart_pc" || fail "build with pkg-config"
resolved="$(env -u LD_LIBRARY_PATH ldd "$WORK/room_quickstart_pc" | awk '$1 == "libzego_room.so" {print $3}')"
[ "$(readlink -f "$resolved")" = "$(readlink -f "$PREFIX/lib/libzego_room.so")" ] || fail "pkg-config build loads libzego_room.so from '$resolved', not $PREFIX/lib"
ok "cc \$(pkg-config --cflags --libs zego_room): builds with -Werror, loads $PREFIX/lib/libzego_room.so"
run_quickstart "$WORK/room_quickstart_pc" pkg-config
ok "pkg-config build: Logined, Logout"

# 2. CMake find_package (shared and static imported targets).
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$PREFIX" -DZEGO_ROOM_WANTED="$VERSION" > "$WORK/cmake.log" 2>&1 \
  || { cat "$WORK/cmake.log" >&2; fail "cmake configure with find_package(zego_room $VERSION CONFIG REQUIRED)"; }
cmake --build "$WORK/build" > "$WORK/cmake-build.log" 2>&1 || { cat "$WORK/cmake-build.log" >&2; fail "cmake --build"; }
resolved="$(env -u LD_LIBRARY_PATH ldd "$WORK/build/room_quickstart" | awk '$1 == "libzego_room.so" {print $3}')"
[ "$(readlink -f "$resolved")" = "$(readlink -f "$PREFIX/lib/libzego_room.so")" ] || fail "CMake build loads libzego_room.so from '$resolved'"
env -u LD_LIBRARY_PATH ldd "$WORK/build/room_quickstart_static" | grep -q libzego_room && fail "the static build still needs libzego_room.so"
ok "find_package(zego_room $VERSION CONFIG REQUIRED): zego_room::zego_room and zego_room::zego_room_static build with -Werror"
run_quickstart "$WORK/build/room_quickstart" cmake-shared
run_quickstart "$WORK/build/room_quickstart_static" cmake-static
ok "CMake builds (shared, static): Logined, Logout"

# The version file refuses an incompatible request.
if cmake -S "$SRC" -B "$WORK/build-v" -DCMAKE_PREFIX_PATH="$PREFIX" -DZEGO_ROOM_WANTED=99.0 > "$WORK/cmake-v.log" 2>&1; then
  fail "find_package(zego_room 99.0) succeeded"
fi
grep -q "compatible with requested version \"99.0\"" "$WORK/cmake-v.log" || { cat "$WORK/cmake-v.log" >&2; fail "find_package(zego_room 99.0) failed for another reason"; }
ok "find_package(zego_room 99.0) is refused (zego_roomConfigVersion.cmake: same major.minor only)"
