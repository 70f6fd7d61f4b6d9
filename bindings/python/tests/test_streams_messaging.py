"""Streams (contract §6) and messaging (§7) through the Python bindings.

The first part needs only the facade (generated surface, handler base class, synchronous codes);
the second part ("behaviour") needs the server side of streams and messaging.
"""
import inspect
import json
import time

import pytest

from conftest import notify_config, unique_room, zr
from zego_room_handler import RoomEventHandlerBase

R = zr.RoomStateChangedReason
CH = zr.PublishChannel


def user(uid, name=""):
    return zr.User(user_id=uid, user_name=name)


def code_of(fn, *args):
    with pytest.raises(zr.RoomError.Failed) as ei:
        fn(*args)
    assert ei.value.message, ei.value
    return ei.value.code


def joined(make_engine, url, room, uid, name="", mode=zr.RoomMode.SINGLE_ROOM):
    engine, h = make_engine(url, mode=mode)
    engine.login_room(room, user(uid, name), notify_config())
    h.wait_reason(R.LOGINED, room)
    return engine, h


# ---------------------------------------------------------------------------------------------
# Generated surface and the handler base class (facade only)


def test_stream_enums_have_the_c_discriminants():
    assert [(s.name, s.value) for s in zr.PublisherState] == [("NO_PUBLISH", 0), ("PUBLISH_REQUESTING", 1), ("PUBLISHING", 2)]
    assert [(s.name, s.value) for s in zr.PlayerState] == [("NO_PLAY", 0), ("PLAY_REQUESTING", 1), ("PLAYING", 2)]
    assert [(c.name, c.value) for c in CH] == [("MAIN", 0), ("AUX", 1), ("THIRD", 2), ("FOURTH", 3)]
    assert [(t.name, t.value) for t in zr.RoomStreamListType] == [("PLAY", 0), ("ALL", 1)]


def test_stream_and_message_records_have_the_contract_fields():
    u = user("u", "n")
    s = zr.Stream(user=u, stream_id="s1", extra_info="x")
    assert (s.user, s.stream_id, s.extra_info) == (u, "s1", "x")
    assert zr.PublisherConfig(room_id="r").room_id == "r"
    assert zr.PlayerConfig(room_id="r").room_id == "r"
    b = zr.BroadcastMessageInfo(message="m", message_id=2**63 + 1, send_time=1700000000000, from_user=u)
    assert (b.message, b.message_id, b.send_time, b.from_user) == ("m", 2**63 + 1, 1700000000000, u)
    g = zr.BarrageMessageInfo(message="m", message_id="id-1", send_time=1, from_user=u)
    assert (g.message, g.message_id, g.send_time, g.from_user) == ("m", "id-1", 1, u)
    x = zr.RoomExtraInfo(key="k", value="v", update_user=u, update_time=3)
    assert (x.key, x.value, x.update_user, x.update_time) == ("k", "v", u, 3)


def _handler_methods(cls):
    return {n for n, f in inspect.getmembers(cls, inspect.isfunction) if n.startswith("on_")}


def test_handler_base_has_a_noop_for_every_handler_method_with_the_same_signature():
    generated = _handler_methods(zr.RoomEventHandler)
    assert len(generated) == 5 + 6 + 8, sorted(generated)  # room §3, streams §6.2, messaging §7.2
    assert issubclass(RoomEventHandlerBase, zr.RoomEventHandler)
    base = RoomEventHandlerBase()
    for name in sorted(generated):
        own = RoomEventHandlerBase.__dict__.get(name)
        assert own is not None, f"RoomEventHandlerBase lacks {name}"
        want = list(inspect.signature(getattr(zr.RoomEventHandler, name)).parameters)
        assert list(inspect.signature(own).parameters) == want, name
        assert getattr(base, name)(*([None] * (len(want) - 1))) is None, name


def test_a_base_handler_overriding_one_method_receives_it(server, make_engine):
    class OnlyCount(RoomEventHandlerBase):
        counts = []

        def on_room_online_user_count_update(self, count, room_id):
            self.counts.append(count)

    h = OnlyCount()
    engine, _ = make_engine(server.url, h)
    engine.login_room(unique_room(), user("only-count"), None)
    deadline = time.monotonic() + 5
    while not h.counts and time.monotonic() < deadline:
        time.sleep(0.02)
    assert h.counts == [1]


# ---------------------------------------------------------------------------------------------
# Synchronous codes (facade only)


def test_stream_calls_raise_their_codes_before_anything_happens(server, make_engine):
    engine, h = make_engine(server.url)
    assert code_of(engine.start_publishing_stream, "", None, CH.MAIN) == 1000015
    assert code_of(engine.start_publishing_stream, "s" * 256, None, CH.MAIN) == 1000014
    assert code_of(engine.start_publishing_stream, "a.b", None, CH.MAIN) == 1000016
    assert code_of(engine.start_publishing_stream, "s\u00e9", None, CH.MAIN) == 1000016
    assert code_of(engine.start_publishing_stream, "s" * 255, None, CH.FOURTH) == 1000002  # not joined
    assert code_of(engine.start_publishing_stream, "s1", zr.PublisherConfig(room_id="r"), CH.MAIN) == 1000002
    assert code_of(engine.start_playing_stream, "", None) == 1000015
    assert code_of(engine.start_playing_stream, "a b", None) == 1000016
    assert code_of(engine.start_playing_stream, "s1", zr.PlayerConfig(room_id="")) == 1000002
    assert code_of(engine.stop_playing_stream, "x" * 300) == 1000014
    engine.stop_playing_stream("never-played")
    engine.stop_publishing_stream(CH.AUX)
    assert code_of(engine.set_stream_extra_info, "x" * 1025, CH.MAIN) == 1000017
    assert code_of(engine.send_sei, b"", CH.MAIN) == 1000017
    assert code_of(engine.send_sei, bytes(4097), CH.MAIN) == 1000017
    assert code_of(engine.send_sei, bytes(4096), CH.MAIN) == 1003001  # not publishing; NULs are data
    assert code_of(engine.get_room_stream_list, "", zr.RoomStreamListType.ALL) == 1000002
    assert code_of(engine.get_room_stream_list, "r", zr.RoomStreamListType.PLAY) == 1000002
    time.sleep(0.2)
    assert h.snapshot() == [], "refused calls emit no event"
    # Extra info may be set before publishing: a seq, and its result with that seq.
    seq = engine.set_stream_extra_info("", CH.THIRD)
    assert isinstance(seq, int) and seq > 0
    _, res = h.wait_kind("publisher_update_stream_extra_info_result", seq=seq)
    assert res.error_code == 0


def test_message_calls_raise_their_codes_before_anything_happens(server, make_engine):
    engine, h = make_engine(server.url)
    assert code_of(engine.send_broadcast_message, "r", "") == 1009001
    assert code_of(engine.send_broadcast_message, "r", "m" * 1025) == 1009002
    assert code_of(engine.send_broadcast_message, "r", "\u00e9" * 513) == 1009002  # 1026 bytes
    assert code_of(engine.send_broadcast_message, "r", "hello") == 1009005
    assert code_of(engine.send_barrage_message, "r", "") == 1009001
    assert code_of(engine.send_barrage_message, "r", "hello") == 1009005
    assert code_of(engine.send_custom_command, "r", "", []) == 1009001
    assert code_of(engine.send_custom_command, "r", "c", [user("")]) == 1009011
    assert code_of(engine.send_custom_command, "r", "c", [user("u" * 64)]) == 1009012
    assert code_of(engine.send_custom_command, "r", "c", [user(f"u{i}") for i in range(6)]) == 1000017
    assert code_of(engine.send_custom_command, "r", "c", [user(f"u{i}") for i in range(5)]) == 1009005
    assert code_of(engine.set_room_extra_info, "r", "", "v") == 1002014
    assert code_of(engine.set_room_extra_info, "r", "k" * 11, "v") == 1002015
    assert code_of(engine.set_room_extra_info, "r", "k", "v" * 129) == 1002016
    assert code_of(engine.set_room_extra_info, "r", "k" * 10, "v" * 128) == 1002002
    time.sleep(0.2)
    assert h.snapshot() == [], "refused calls emit no event"


def test_synchronous_stream_rules_in_a_joined_room(server, make_engine):
    room = unique_room("sync")
    engine, h = joined(make_engine, server.url, room, "sync-user")
    sid = f"s-{room}"
    engine.start_publishing_stream(sid, None, CH.MAIN)
    h.wait_kind("publisher_state_update", stream_id=sid, state=zr.PublisherState.PUBLISH_REQUESTING)
    engine.start_publishing_stream(sid, None, CH.MAIN)  # the same again: no-op
    assert code_of(engine.start_publishing_stream, sid + "-2", None, CH.MAIN) == 1003023
    assert code_of(engine.send_sei, b"\x00", CH.AUX) == 1003001
    for i in range(12):
        engine.start_playing_stream(f"p{i}-{room}", None)
    assert code_of(engine.start_playing_stream, f"p12-{room}", None) == 1004010
    assert engine.get_room_stream_list(room, zr.RoomStreamListType.PLAY) == []
    assert code_of(engine.get_room_stream_list, "elsewhere", zr.RoomStreamListType.ALL) == 1000002
    assert code_of(engine.set_room_extra_info, "elsewhere", "k", "v") == 1002002
    assert code_of(engine.send_broadcast_message, "elsewhere", "m") == 1009005
    engine.stop_publishing_stream(CH.MAIN)
    h.wait_kind("publisher_state_update", stream_id=sid, state=zr.PublisherState.NO_PUBLISH, error_code=0)

    multi, _ = joined(make_engine, server.url, unique_room("multi"), "multi-user", mode=zr.RoomMode.MULTI_ROOM)
    assert code_of(multi.start_publishing_stream, "m1", None, CH.MAIN) == 1003071
    assert code_of(multi.start_publishing_stream, "m1", zr.PublisherConfig(room_id=""), CH.MAIN) == 1003071
    assert code_of(multi.start_playing_stream, "m1", None) == 1004071


def test_every_stream_and_message_call_after_destroy_raises_1000001(server):
    engine = zr.RoomEngine(zr.EngineProfile(app_id=1, server=server.url, room_mode=zr.RoomMode.SINGLE_ROOM),
                           RoomEventHandlerBase())
    engine.destroy()
    calls = [
        (engine.start_publishing_stream, "s", None, CH.MAIN),
        (engine.stop_publishing_stream, CH.MAIN),
        (engine.set_stream_extra_info, "x", CH.MAIN),
        (engine.start_playing_stream, "s", None),
        (engine.stop_playing_stream, "s"),
        (engine.send_sei, b"x", CH.MAIN),
        (engine.get_room_stream_list, "", zr.RoomStreamListType.ALL),
        (engine.send_broadcast_message, "r", "m"),
        (engine.send_barrage_message, "r", "m"),
        (engine.send_custom_command, "r", "c", []),
        (engine.set_room_extra_info, "r", "k", "v"),
    ]
    for fn, *args in calls:
        assert code_of(fn, *args) == 1000001, fn


# ---------------------------------------------------------------------------------------------
# Behaviour (needs the server side of streams and messaging)


def test_publish_play_lists_sei_and_extra_info_between_engines(server, make_engine):
    room = unique_room("streams")
    a, ha = joined(make_engine, server.url, room, "pub", "Publisher")
    b, hb = joined(make_engine, server.url, room, "player", "Player")
    sid = f"s-{room}"
    start_a, start_b = len(ha.snapshot()), len(hb.snapshot())

    a.start_publishing_stream(sid, zr.PublisherConfig(room_id=room), CH.AUX)
    i, req = ha.wait_kind("publisher_state_update", start=start_a, stream_id=sid)
    assert (req.state, req.error_code) == (zr.PublisherState.PUBLISH_REQUESTING, 0)
    _, pub = ha.wait_kind("publisher_state_update", start=i + 1, stream_id=sid)
    assert (pub.state, pub.error_code) == (zr.PublisherState.PUBLISHING, 0)
    _, add = hb.wait_kind("room_stream_update", start=start_b, room_id=room)
    assert add.update_type == zr.UpdateType.ADD and json.loads(add.extended_data) == {}
    assert add.stream_list == [zr.Stream(user=user("pub", "Publisher"), stream_id=sid, extra_info="")]
    assert not ha.kind("room_stream_update"), "never the local user's own streams"

    b.start_playing_stream(sid, None)
    j, _ = hb.wait_kind("player_state_update", stream_id=sid, state=zr.PlayerState.PLAY_REQUESTING, error_code=0)
    hb.wait_kind("player_state_update", start=j + 1, stream_id=sid, state=zr.PlayerState.PLAYING, error_code=0)

    # SEI: bytes in, the same bytes out, in order, each once; 1..4096 bytes, NULs included.
    frames = [b"\x00", b"\x00\xff\x00", bytes(range(256)), bytes(i * 7 % 256 for i in range(4096))]
    k0 = len(hb.snapshot())
    for f in frames:
        a.send_sei(f, CH.AUX)
    hb.wait(lambda e: e.kind == "player_recv_sei" and e.data == frames[-1], start=k0)
    time.sleep(0.3)
    got = [e for e in hb.snapshot()[k0:] if e.kind == "player_recv_sei"]
    assert [e.data for e in got] == frames and {e.stream_id for e in got} == {sid}
    assert all(isinstance(e.data, bytes) for e in got)
    assert not ha.kind("player_recv_sei"), "the publisher does not receive its own SEI"

    # Lists on demand.
    theirs = zr.Stream(user=user("pub", "Publisher"), stream_id=sid, extra_info="")
    assert b.get_room_stream_list(room, zr.RoomStreamListType.PLAY) == [theirs]
    assert b.get_room_stream_list("", zr.RoomStreamListType.ALL) == [theirs]
    assert a.get_room_stream_list(room, zr.RoomStreamListType.PLAY) == []
    assert a.get_room_stream_list(room, zr.RoomStreamListType.ALL) == [theirs]

    # Extra info: the result with the returned seq; the player's side gets the new info.
    k1 = len(hb.snapshot())
    seq = a.set_stream_extra_info('{"url":"rtmp://example/1"}', CH.AUX)
    _, res = ha.wait_kind("publisher_update_stream_extra_info_result", seq=seq)
    assert res.error_code == 0
    _, upd = hb.wait_kind("room_stream_extra_info_update", start=k1, room_id=room)
    assert [(s.stream_id, s.extra_info) for s in upd.stream_list] == [(sid, '{"url":"rtmp://example/1"}')]
    assert not ha.kind("room_stream_extra_info_update"), "the setter gets no update"

    # Stop: NoPublish 0; the others get Delete with reason 1; the player waits with 1004020.
    k2 = len(hb.snapshot())
    a.stop_publishing_stream(CH.AUX)
    ha.wait_kind("publisher_state_update", stream_id=sid, state=zr.PublisherState.NO_PUBLISH, error_code=0)
    _, delete = hb.wait_kind("room_stream_update", start=k2, update_type=zr.UpdateType.DELETE)
    assert [s.stream_id for s in delete.stream_list] == [sid]
    assert json.loads(delete.extended_data)["stream_delete_reason"] == [{"stream_id": sid, "code": 1}]
    hb.wait_kind("player_state_update", start=k2, stream_id=sid, state=zr.PlayerState.PLAY_REQUESTING, error_code=1004020)
    assert b.get_room_stream_list(room, zr.RoomStreamListType.PLAY) == []
    b.stop_playing_stream(sid)
    hb.wait_kind("player_state_update", start=k2, stream_id=sid, state=zr.PlayerState.NO_PLAY, error_code=0)


def test_messages_commands_results_limits_and_room_extra_info(server, make_engine):
    room = unique_room("im")
    a, ha = joined(make_engine, server.url, room, "im-a", "A")
    b, hb = joined(make_engine, server.url, room, "im-b", "B")
    c, hc = joined(make_engine, server.url, room, "im-c", "C")

    # Broadcast: result with the seq and an increasing id; the others receive it, the sender not.
    s1 = a.send_broadcast_message(room, "hello \u4e16\u754c")
    s2 = a.send_broadcast_message(room, "second")
    _, r1 = ha.wait_kind("im_send_broadcast_message_result", seq=s1)
    _, r2 = ha.wait_kind("im_send_broadcast_message_result", seq=s2)
    assert (r1.error_code, r2.error_code, r1.room_id) == (0, 0, room)
    assert r2.message_id > r1.message_id
    for h in (hb, hc):
        h.wait(lambda e: e.kind == "im_recv_broadcast_message" and e.message_list[-1].message_id == r2.message_id)
        got = [m for e in h.kind("im_recv_broadcast_message") for m in e.message_list]
        assert [(m.message, m.message_id, m.from_user) for m in got] == [
            ("hello \u4e16\u754c", r1.message_id, user("im-a", "A")), ("second", r2.message_id, user("im-a", "A"))]
        assert all(abs(m.send_time - time.time() * 1000) < 60_000 for m in got), "server time in ms"

    # Barrage: a string id.
    s3 = a.send_barrage_message(room, "flying")
    _, r3 = ha.wait_kind("im_send_barrage_message_result", seq=s3)
    assert r3.error_code == 0 and isinstance(r3.message_id, str) and r3.message_id
    _, got = hb.wait_kind("im_recv_barrage_message", room_id=room)
    assert [(m.message, m.message_id, m.from_user.user_id) for m in got.message_list] == [("flying", r3.message_id, "im-a")]

    # Custom commands: to one user, and to everyone (empty list).
    s4 = a.send_custom_command(room, "to b", [user("im-b")])
    ha.wait_kind("im_send_custom_command_result", seq=s4, error_code=0)
    _, cmd = hb.wait_kind("im_recv_custom_command", command="to b")
    assert cmd.from_user == user("im-a", "A") and cmd.room_id == room
    s5 = b.send_custom_command(room, "to all", [])
    hb.wait_kind("im_send_custom_command_result", seq=s5, error_code=0)
    ha.wait_kind("im_recv_custom_command", command="to all")
    hc.wait_kind("im_recv_custom_command", command="to all")
    time.sleep(0.3)
    assert not hc.kind("im_recv_custom_command", command="to b")
    assert not ha.kind("im_recv_broadcast_message") and not ha.kind("im_recv_barrage_message")
    assert not hb.kind("im_recv_custom_command", command="to all")

    # Room extra info: result with key and seq; the others get it; one key per room.
    s6 = a.set_room_extra_info(room, "topic", "music")
    ha.wait_kind("room_set_room_extra_info_result", seq=s6, error_code=0, key="topic")
    _, upd = hb.wait_kind("room_extra_info_update", room_id=room)
    [info] = upd.room_extra_info_list
    assert (info.key, info.value, info.update_user.user_id) == ("topic", "music", "im-a")
    assert abs(info.update_time - time.time() * 1000) < 60_000
    hc.wait_kind("room_extra_info_update", room_id=room)
    assert code_of(b.set_room_extra_info, room, "mood", "calm") == 1002017
    assert not ha.kind("room_extra_info_update"), "the setter gets no update"

    # A later joiner gets the current value right after Logined.
    d, hd = make_engine(server.url)
    d.login_room(room, user("im-d"), None)
    i, _ = hd.wait_reason(R.LOGINED, room)
    _, late = hd.wait_kind("room_extra_info_update", start=i, room_id=room)
    assert [(x.key, x.value) for x in late.room_extra_info_list] == [("topic", "music")]

    # Over 2 broadcasts per second from one sender: the excess gets 1009015 and is not delivered.
    time.sleep(1.1)
    k = len(hb.snapshot())
    seqs = [c.send_broadcast_message(room, f"burst {i}") for i in range(6)]
    codes = [hc.wait_kind("im_send_broadcast_message_result", seq=s)[1].error_code for s in seqs]
    assert set(codes) <= {0, 1009015} and 2 <= codes.count(0) <= 4, codes
    sent = [f"burst {i}" for i, code in enumerate(codes) if code == 0]
    hb.wait(lambda e: e.kind == "im_recv_broadcast_message" and e.message_list[-1].message == sent[-1], start=k)
    time.sleep(0.3)
    assert [m.message for e in hb.kind("im_recv_broadcast_message", start=k) for m in e.message_list] == sent
