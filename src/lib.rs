//! zego-room: the room-connection layer of the ZEGO Express SDK, rebuilt in the open.
//!
//! Layers (see `docs/` and the README): [`core`] is a sans-I/O state machine per room; [`engine`]
//! drives it over WebSockets and delivers each engine's events on one of a few shared callback threads; the room server
//! (feature `server`) is in [`server`]. The wire format shared by both sides is [`protocol`].

pub mod core;
pub mod engine;
pub mod error_codes;
pub mod events;
pub mod ffi;
pub mod protocol;
pub mod types;

#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod token04;

pub use engine::{EventHandler, RoomEngine};
pub use events::{Event, Seq};
pub use types::*;

uniffi::setup_scaffolding!();
