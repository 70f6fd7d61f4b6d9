"""A base class for zego_room event handlers with a no-op default for every method.

The generated ``zego_room.RoomEventHandler`` raises ``NotImplementedError`` from every method, so a
handler that subclasses it directly must implement all of them. Subclass
``RoomEventHandlerBase`` instead and override only the events you need::

    import zego_room as zr
    from zego_room_handler import RoomEventHandlerBase

    class Handler(RoomEventHandlerBase):
        def on_room_state_changed(self, reason, error_code, extended_data, room_id):
            print(room_id, reason.name, error_code)

        def on_im_recv_broadcast_message(self, message_list, room_id):
            for m in message_list:
                print(m.from_user.user_id, m.message)

    engine = zr.RoomEngine(zr.EngineProfile(app_id=1, server="ws://127.0.0.1:9100",
                                            room_mode=zr.RoomMode.SINGLE_ROOM), Handler())

Every method is called on the engine's own callback thread, one event at a time, in order; an
exception raised here is caught and logged by the library and later events keep arriving.
Method names and argument orders are those of the contract: room events (§3), streams (§6.2),
messaging and room extra info (§7.2).
"""

import zego_room as _zr

__all__ = ["RoomEventHandlerBase"]


class RoomEventHandlerBase(_zr.RoomEventHandler):
    """``zego_room.RoomEventHandler`` with every method a no-op: override what you need."""

    # ---- room (contract §3) ----

    def on_room_state_changed(self, reason, error_code, extended_data, room_id):
        """Why the room's state changed (RoomStateChangedReason); extended_data is JSON text."""

    def on_room_state_update(self, state, error_code, extended_data, room_id):
        """Legacy room state (RoomState), right after the reason change it belongs to."""

    def on_room_user_update(self, update_type, user_list, room_id):
        """Other users arrived (UpdateType.ADD) or left (DELETE): a list of User."""

    def on_room_online_user_count_update(self, count, room_id):
        """Users online in the room, the local user included."""

    def on_room_token_will_expire(self, remain_time_in_second, room_id):
        """The room's token expires in remain_time_in_second (<= 30): call renew_token."""

    # ---- streams (contract §6.2) ----

    def on_room_stream_update(self, update_type, stream_list, extended_data, room_id):
        """Other users' streams were added or deleted (list of Stream); on DELETE extended_data
        is {"stream_delete_reason":[{"stream_id": ..., "code": N}]}."""

    def on_room_stream_extra_info_update(self, stream_list, room_id):
        """Other users changed their streams' extra info (list of Stream with the new info)."""

    def on_publisher_state_update(self, state, error_code, extended_data, stream_id):
        """A stream this engine publishes changed state (PublisherState)."""

    def on_player_state_update(self, state, error_code, extended_data, stream_id):
        """A stream this engine plays changed state (PlayerState)."""

    def on_publisher_update_stream_extra_info_result(self, error_code, seq):
        """Result of set_stream_extra_info, with the seq it returned."""

    def on_player_recv_sei(self, data, stream_id):
        """One SEI frame (bytes, 1-4096) of a played stream, in the publisher's order."""

    # ---- messaging and room extra info (contract §7.2) ----

    def on_im_send_broadcast_message_result(self, error_code, message_id, room_id, seq):
        """Result of send_broadcast_message: 0 and the message id (int), or an error code."""

    def on_im_send_barrage_message_result(self, error_code, message_id, room_id, seq):
        """Result of send_barrage_message: 0 and the message id (str), or an error code."""

    def on_im_send_custom_command_result(self, error_code, room_id, seq):
        """Result of send_custom_command."""

    def on_room_set_room_extra_info_result(self, error_code, room_id, key, seq):
        """Result of set_room_extra_info."""

    def on_im_recv_broadcast_message(self, message_list, room_id):
        """1-50 BroadcastMessageInfo from others, in send order."""

    def on_im_recv_barrage_message(self, message_list, room_id):
        """1-50 BarrageMessageInfo from others, in send order."""

    def on_im_recv_custom_command(self, command, from_user, room_id):
        """A custom command (str) sent to this user, or to everyone, by from_user (User)."""

    def on_room_extra_info_update(self, room_extra_info_list, room_id):
        """The room's extra info changed: a list of RoomExtraInfo."""
