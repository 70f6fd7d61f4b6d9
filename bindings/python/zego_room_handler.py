"""A base class for zego-room event handlers: every method is a no-op, override what you need.

    import zego_room as zr
    from zego_room_handler import RoomEventHandlerBase

    class Handler(RoomEventHandlerBase):
        def on_room_state_changed(self, reason, error_code, extended_data, room_id):
            print(room_id, reason.name, error_code, extended_data)

    engine = zr.RoomEngine(zr.EngineProfile(app_id=1, server="ws://127.0.0.1:9100",
                                            room_mode=zr.RoomMode.SINGLE_ROOM), Handler())

The generated `zego_room.RoomEventHandler` raises NotImplementedError from every method it does
not get from you, and the library logs that as a failed callback. `RoomEventHandlerBase`
implements all of them, including the stream (docs/reference.md "Streams") and messaging
("Messaging and room extra info") events, so a script written today keeps working when the
library delivers more kinds of events.

Names and argument orders are those of the UniFFI surface (the Rust trait `RoomEventHandler`);
the behaviour behind each event is described in docs/reference.md of the zego-room repository.

Threading: every method runs on the engine's own callback thread (never the thread that called
the engine), one call at a time, in order. Hop to your event loop yourself, e.g. with
`loop.call_soon_threadsafe(...)`. A method may call back into the engine, `destroy()` included.
An exception raised here is caught and logged by the library; later events keep arriving.

Argument shapes: `error_code` is a ZEGO error code (int, 0 = success); `extended_data` is JSON
object text (`"{}"` at least); `*_list` arguments are Python lists of the generated records
(`zego_room.User`, `zego_room.Stream`, ...); `seq` is the int an engine call returned.
"""

import zego_room

__all__ = ["RoomEventHandlerBase"]


class RoomEventHandlerBase(zego_room.RoomEventHandler):
    """`zego_room.RoomEventHandler` with a no-op default for every method."""

    # -- Rooms (docs/reference.md "Room states", "Presence", "Tokens") ---------------------------

    def on_room_state_changed(self, reason, error_code, extended_data, room_id):
        """`reason`: zego_room.RoomStateChangedReason; `error_code`: 0, or the reason's code
        (1002033 token, 1002034 room full, 1002051 reconnecting, 1002053 retry window over,
        1002050/1002055 kicked, 1002002 logout of a room not joined); `extended_data`: JSON
        object text, with "room_session_id" on Logined/Reconnected and
        "custom_kickout_message" on an admin kick."""

    def on_room_state_update(self, state, error_code, extended_data, room_id):
        """Legacy state (zego_room.RoomState), right after the reason change it belongs to,
        with the same error code and extended data; only when the legacy state changes."""

    def on_room_user_update(self, update_type, user_list, room_id):
        """Other users (never the local one) added or deleted: `update_type` is
        zego_room.UpdateType, `user_list` a non-empty list of zego_room.User. Only for logins
        made with `is_user_status_notify=True`."""

    def on_room_online_user_count_update(self, count, room_id):
        """Users in the room, the local one included (int): within 1 s of Logined, then every
        30 s while it changes."""

    def on_room_token_will_expire(self, remain_time_in_second, room_id):
        """The room's token expires in `remain_time_in_second` seconds (30 or less): call
        `engine.renew_token(room_id, new_token)`."""

    # -- Streams (docs/reference.md "Streams") ----------------------------------------------------

    def on_room_stream_update(self, update_type, stream_list, extended_data, room_id):
        """Other users' streams added or deleted (zego_room.UpdateType, list of
        zego_room.Stream). On Delete, `extended_data` is
        {"stream_delete_reason":[{"stream_id":..,"code":N}]} with N = 1 stopped, 2 publisher
        lost past the grace, 3 duplicate login, 4 admin kick, 5 engine destroyed, 6 forbidden by
        the admin API; on Add it is "{}"."""

    def on_room_stream_extra_info_update(self, stream_list, room_id):
        """Streams of others whose extra info changed (list of zego_room.Stream, new info)."""

    def on_publisher_state_update(self, state, error_code, extended_data, stream_id):
        """Local publisher state (zego_room.PublisherState): 1003020 while the room reconnects,
        1003021 when `av_retry_time` ran out, 1003028 ID taken, 1003072 token forbids
        publishing, 1003025 forbidden by the admin API."""

    def on_player_state_update(self, state, error_code, extended_data, stream_id):
        """Local player state (zego_room.PlayerState): 1004020 interrupted (or NoPlay when
        `av_retry_time` ran out), 1004025 forbidden by the admin API."""

    def on_publisher_update_stream_extra_info_result(self, error_code, seq):
        """Outcome of `set_stream_extra_info` (the `seq` it returned)."""

    def on_player_recv_sei(self, data, stream_id):
        """One side-data frame (bytes, 1-4096) from the publisher of `stream_id`, in order."""

    # -- Messaging and room extra info (docs/reference.md "Messaging") ---------------------------

    def on_im_send_broadcast_message_result(self, error_code, message_id, room_id, seq):
        """Outcome of `send_broadcast_message` (`message_id`: int, increasing per room;
        1009015 over 2 per second, 1009010 room ended before it could be sent)."""

    def on_im_send_barrage_message_result(self, error_code, message_id, room_id, seq):
        """Outcome of `send_barrage_message` (`message_id`: str)."""

    def on_im_send_custom_command_result(self, error_code, room_id, seq):
        """Outcome of `send_custom_command`."""

    def on_room_set_room_extra_info_result(self, error_code, room_id, key, seq):
        """Outcome of `set_room_extra_info`."""

    def on_im_recv_broadcast_message(self, message_list, room_id):
        """1-50 zego_room.BroadcastMessageInfo (message, message_id, send_time ms, from_user),
        in send order."""

    def on_im_recv_barrage_message(self, message_list, room_id):
        """1-50 zego_room.BarrageMessageInfo, in send order (best effort: may be dropped)."""

    def on_im_recv_custom_command(self, command, from_user, room_id):
        """A custom command (str) from `from_user` (zego_room.User)."""

    def on_room_extra_info_update(self, room_extra_info_list, room_id):
        """The room's extra info changed (list of zego_room.RoomExtraInfo: key, value,
        update_user, update_time ms)."""
