# Sourced by scripts/package-*.sh: makes sure the project's one build exists and sets
#   ROOT, FEATURES, PROFILE_DIR, LIB (the cdylib), STATICLIB, VERSION.
#
# Every package is made from the build CI tests (scripts/test.sh):
#   cargo build --release --features server,cli --lib --bins --examples
# so a package holds exactly the library the test suites ran against, and packaging after the
# tests compiles nothing. The target selection matters: `--examples` pulls in dev-dependencies,
# and cargo unifies their features with the library's, so `cargo build --release --lib` alone
# would give different dependency builds and recompile most of them. When the build is already
# there this step takes about a second.
#
# ZEGO_FEATURES overrides the features (default server,cli, as in scripts/test.sh). The shipped
# library's exported symbols do not depend on them: `server` and `cli` add code that nothing
# exported reaches, so the linker drops it from the cdylib (docs/packaging.md).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FEATURES="${ZEGO_FEATURES-server,cli}"
PROFILE_DIR="$ROOT/target/release"

package_build() {
  (cd "$ROOT" && nice -n "${ZEGO_NICE:-0}" cargo build --quiet --release --features "$FEATURES" --lib --bins --examples)
}
package_build

case "$(uname)" in
  Darwin) LIB="$PROFILE_DIR/libzego_room.dylib" ;;
  *) LIB="$PROFILE_DIR/libzego_room.so" ;;
esac
STATICLIB="$PROFILE_DIR/libzego_room.a"
for f in "$LIB" "$STATICLIB" "$PROFILE_DIR/uniffi-bindgen"; do
  [ -e "$f" ] || { echo "package: $f missing after the build (features: $FEATURES; 'cli' is needed)" >&2; exit 2; }
done

# The crate's version, from Cargo.toml's [package] table.
VERSION="$(sed -n '/^\[package\]/,/^\[/{s/^version *= *"\(.*\)"/\1/p}' "$ROOT/Cargo.toml" | head -n1)"
[ -n "$VERSION" ] || { echo "package: no version in Cargo.toml" >&2; exit 2; }
