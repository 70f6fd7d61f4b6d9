// swift-tools-version:5.9
// ZegoRoom for Apple platforms: the Rust library as an XCFramework binary target (static
// libraries + the C header/modulemap UniFFI generates) and the generated Swift on top of it.
//
// Nothing here is committed pre-built: run `scripts/build-xcframework.sh` on a Mac first. It
// writes `zego_roomFFI.xcframework` next to this file and the generated Swift into
// `Sources/ZegoRoom/generated/`. To ship a remote package instead, replace the `path:` binary
// target with `url:` + `checksum:` (`swift package compute-checksum zego_roomFFI.xcframework.zip`).
import PackageDescription

let package = Package(
    name: "ZegoRoom",
    platforms: [.iOS(.v13), .macOS(.v11)],
    products: [
        .library(name: "ZegoRoom", targets: ["ZegoRoom"]),
    ],
    targets: [
        // Module name must match `ffi_module_name` in uniffi.toml (the generated Swift does
        // `import zego_roomFFI`).
        .binaryTarget(name: "zego_roomFFI", path: "zego_roomFFI.xcframework"),
        // generated/ZegoRoom.swift (UniFFI) + RoomEventHandler+Defaults.swift (hand-written).
        .target(name: "ZegoRoom", dependencies: ["zego_roomFFI"], path: "Sources/ZegoRoom"),
        // The example handler (mirrors the Objective-C sample of room-connection-status).
        .target(name: "ZegoRoomExample", dependencies: ["ZegoRoom"], path: "Sources/ZegoRoomExample"),
    ]
)
