#!/usr/bin/env python3
"""Fixes two known uniffi-bindgen 0.29 Kotlin name clashes in the generated zego_room.kt.

Contract §3 fixes the names `RoomEngine.destroy()` and `RoomError.Failed.message`; in Kotlin both
collide with members UniFFI generates itself:

1. Every UniFFI object implements `Disposable.destroy()` (frees the native pointer), so the class
   gets two `override fun destroy()` (uniffi-rs #2377, #2955). We rename UniFFI's pointer-freeing
   one to `uniffiFree()`; our `destroy()` then implements both interfaces (stop the engine, release
   the handler; methods keep throwing RoomException 1000001 afterwards). `close()` (AutoCloseable)
   destroys the engine and then frees the native object; the Cleaner frees it otherwise.

2. A non-flat error variant with a field named `message` declares `val message` next to the
   generated `override val message` getter (Throwable.message). We make the field the override.

Usage: patch-generated.py path/to/io/zegoroom/zego_room.kt   (idempotent; fails loudly if the
generated code no longer looks as expected, so a uniffi upgrade cannot silently skip a fix).
"""
import re
import sys

MARK = "// zego-room: patched by bindings/kotlin/patch-generated.py\n"


def fail(msg):
    sys.exit(f"patch-generated.py: {msg}")


def patch(src: str) -> str:
    if MARK in src:
        return src

    # --- 1. RoomEngine: Disposable.destroy() vs the exported destroy() ---------------------------
    start = src.find("open class RoomEngine: Disposable, AutoCloseable, RoomEngineInterface")
    if start < 0:
        fail("class RoomEngine not found")
    end = src.find("public object FfiConverterTypeRoomEngine", start)
    if end < 0:
        fail("end of class RoomEngine not found")
    cls = src[start:end]

    free_old = (
        "    override fun destroy() {\n"
        "        // Only allow a single call to this method.\n"
    )
    if cls.count(free_old) != 1:
        fail("UniFFI's Disposable.destroy() in RoomEngine not found exactly once")
    cls = cls.replace(
        free_old,
        "    /** Frees the native object (what UniFFI calls `destroy()` elsewhere). */\n"
        "    private fun uniffiFree() {\n"
        "        // Only allow a single call to this method.\n",
    )

    close_old = (
        "    @Synchronized\n"
        "    override fun close() {\n"
        "        this.destroy()\n"
        "    }\n"
    )
    if cls.count(close_old) != 1:
        fail("RoomEngine.close() not found exactly once")
    cls = cls.replace(
        close_old,
        "    /** Destroys the engine (see [destroy]) and frees the native object; later calls throw IllegalStateException. */\n"
        "    @Synchronized\n"
        "    override fun close() {\n"
        "        if (!this.wasDestroyed.get()) {\n"
        "            this.destroy()\n"
        "        }\n"
        "        this.uniffiFree()\n"
        "    }\n",
    )
    if len(re.findall(r"override fun `?destroy`?\(\)", cls)) != 1:
        fail("expected exactly one destroy() override in RoomEngine after patching")
    src = src[:start] + cls + src[end:]

    # --- 2. RoomException.Failed: field `message` vs Throwable.message -------------------------
    pat = re.compile(
        r"(class Failed\(\s*val `code`: kotlin\.Int,\s*)val `message`: kotlin\.String(\s*\) : RoomException\(\) \{)\s*"
        r"override val message\s*get\(\) = \"[^\"]*\"\s*\}"
    )
    src, n = pat.subn(r"\1override val `message`: kotlin.String\2\n    }", src)
    if n != 1:
        fail("RoomException.Failed(code, message) not found exactly once")

    return MARK + src


def main():
    if len(sys.argv) != 2:
        fail("usage: patch-generated.py zego_room.kt")
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        src = f.read()
    out = patch(src)
    with open(path, "w", encoding="utf-8") as f:
        f.write(out)


if __name__ == "__main__":
    main()
