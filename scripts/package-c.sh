#!/usr/bin/env bash
# Installs zego-room's C library into PREFIX (as `cmake --install` of bindings/c does):
#   PREFIX/include/zego_room.h
#   PREFIX/lib/libzego_room.so, PREFIX/lib/libzego_room.a
#   PREFIX/lib/pkgconfig/zego_room.pc
#   PREFIX/lib/cmake/zego_room/zego_roomConfig.cmake, zego_roomConfigVersion.cmake
# ("lib" is GNUInstallDirs' CMAKE_INSTALL_LIBDIR: lib/<multiarch> under /usr on Debian.)
# The libraries are those of the project's one build (scripts/package-common.sh).
#
# Usage: scripts/package-c.sh PREFIX        e.g. /usr/local (may need sudo), or ~/.local
# Then:  cc app.c $(pkg-config --cflags --libs zego_room)       (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig)
#   or:  find_package(zego_room CONFIG REQUIRED) + zego_room::zego_room   (CMAKE_PREFIX_PATH=PREFIX)
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
PREFIX="$1"
source "$(dirname "${BASH_SOURCE[0]}")/package-common.sh"
case "$PREFIX" in /*) ;; *) PREFIX="$PWD/$PREFIX" ;; esac

BUILD="$ROOT/target/c-install"
rm -rf "$BUILD"
cmake -S "$ROOT/bindings/c" -B "$BUILD" -DZEGO_ROOM_LIB_DIR="$PROFILE_DIR" \
  -DZEGO_ROOM_VERSION="$VERSION" -DCMAKE_INSTALL_PREFIX="$PREFIX" > "$BUILD.log" 2>&1 \
  || { cat "$BUILD.log" >&2; echo "package-c: cmake configure failed" >&2; exit 1; }
cmake --install "$BUILD" | sed 's/^/package-c: /'
echo "package-c: installed zego_room $VERSION into $PREFIX"
