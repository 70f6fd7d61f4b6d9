"""The UniFFI Python bindings against a real zego-room-server (contract §1, §3)."""
import gc
import json
import threading
import time
import weakref

import pytest

from conftest import Recorder, notify_config, unique_room, zr

R = zr.RoomStateChangedReason
S = zr.RoomState


def user(uid, name=""):
    return zr.User(user_id=uid, user_name=name)


def raises_code(code, fn, *args):
    with pytest.raises(zr.RoomError.Failed) as ei:
        fn(*args)
    assert ei.value.code == code, ei.value
    assert isinstance(ei.value, zr.RoomError)
    assert isinstance(ei.value.message, str) and ei.value.message
    return ei.value


# ---------------------------------------------------------------------------------------------
# Generated surface


def test_enum_discriminants_are_the_c_values():
    assert [r.value for r in R] == list(range(9))
    assert [r.name for r in R] == ["LOGINING", "LOGINED", "LOGIN_FAILED", "RECONNECTING", "RECONNECTED",
                                   "RECONNECT_FAILED", "KICK_OUT", "LOGOUT", "LOGOUT_FAILED"]
    assert (S.DISCONNECTED.value, S.CONNECTING.value, S.CONNECTED.value) == (0, 1, 2)
    assert (zr.UpdateType.ADD.value, zr.UpdateType.DELETE.value) == (0, 1)
    assert (zr.RoomMode.SINGLE_ROOM.value, zr.RoomMode.MULTI_ROOM.value) == (0, 1)


def test_records_have_the_contract_fields():
    u = zr.User(user_id="u", user_name="n")
    c = zr.RoomConfig(max_member_count=3, is_user_status_notify=True, token="t")
    p = zr.EngineProfile(app_id=7, server="ws://127.0.0.1:1", room_mode=zr.RoomMode.MULTI_ROOM)
    assert (u.user_id, u.user_name) == ("u", "n")
    assert (c.max_member_count, c.is_user_status_notify, c.token) == (3, True, "t")
    assert (p.app_id, p.server, p.room_mode) == (7, "ws://127.0.0.1:1", zr.RoomMode.MULTI_ROOM)


# ---------------------------------------------------------------------------------------------
# Login, legacy state, presence, logout


def test_login_logined_with_session_id_legacy_connected_and_count(server, make_engine):
    engine, h = make_engine(server.url)
    room = unique_room()
    engine.login_room(room, user("alice", "Alice"), None)

    i0, logining = h.wait_reason(R.LOGINING, room)
    assert logining.error_code == 0
    i1, logined = h.wait_reason(R.LOGINED, room, start=i0 + 1)
    assert logined.error_code == 0
    assert "room_session_id" in json.loads(logined.extended_data)

    # The legacy state follows the reason change it belongs to, with the same code and data.
    evs = h.snapshot()
    assert evs[i0 + 1].kind == "update" and evs[i0 + 1].state == S.CONNECTING and evs[i0 + 1].error_code == 0
    _, upd = h.wait(lambda e: e.kind == "update", start=i1 + 1)
    assert h.snapshot()[i1 + 1] is upd
    assert upd.state == S.CONNECTED and upd.error_code == logined.error_code
    assert json.loads(upd.extended_data) == json.loads(logined.extended_data)

    # Online user count within 1 s of Logined (the local user included).
    _, count = h.wait(lambda e: e.kind == "count" and e.room_id == room, timeout=3, start=i1)
    assert count.count == 1
    assert count.at - logined.at <= 1.0 + 0.2

    engine.logout_room(room)
    i2, out = h.wait_reason(R.LOGOUT, room, start=i1)
    assert out.error_code == 0
    _, upd = h.wait(lambda e: e.kind == "update", start=i2 + 1)
    assert upd.state == S.DISCONNECTED and upd.error_code == 0


def test_events_arrive_in_order_on_one_library_thread(server, make_engine):
    engine, h = make_engine(server.url)
    room = unique_room()
    engine.login_room(room, user("threads"), None)
    i, _ = h.wait_reason(R.LOGINED, room)
    engine.logout_room(None)
    j, _ = h.wait_reason(R.LOGOUT, room, start=i)
    h.wait(lambda e: e.kind == "update" and e.state == S.DISCONNECTED, start=j)
    evs = h.snapshot()
    threads = {e.thread for e in evs}
    assert len(threads) == 1, threads
    assert threading.get_ident() not in threads
    reasons = [e.reason for e in evs if e.kind == "changed"]
    assert reasons == [R.LOGINING, R.LOGINED, R.LOGOUT]
    legacy = [e.state for e in evs if e.kind == "update"]
    assert legacy == [S.CONNECTING, S.CONNECTED, S.DISCONNECTED]


def test_user_updates_add_and_delete_between_two_engines(server, make_engine):
    room = unique_room()
    a, ha = make_engine(server.url)
    b, hb = make_engine(server.url)
    a.login_room(room, user("ua", "User A"), notify_config())
    ia, _ = ha.wait_reason(R.LOGINED, room)

    b.login_room(room, user("ub", "User B"), notify_config())
    ib, _ = hb.wait_reason(R.LOGINED, room)
    # B gets one Add with everyone already present, right after its Logined.
    _, add_for_b = hb.wait(lambda e: e.kind == "users", start=ib)
    assert add_for_b.update_type == zr.UpdateType.ADD
    assert add_for_b.user_list == [zr.User(user_id="ua", user_name="User A")]
    # A sees B arrive (never itself).
    _, add_for_a = ha.wait(lambda e: e.kind == "users", start=ia)
    assert add_for_a.update_type == zr.UpdateType.ADD
    assert add_for_a.user_list == [zr.User(user_id="ub", user_name="User B")]

    start = len(ha.snapshot())
    b.logout_room(room)
    _, delete = ha.wait(lambda e: e.kind == "users", start=start)
    assert delete.update_type == zr.UpdateType.DELETE
    assert [u.user_id for u in delete.user_list] == ["ub"]
    assert all(u.user_id != "ua" for e in ha.snapshot() if e.kind == "users" for u in e.user_list)


def test_switch_room_logs_out_then_in(server, make_engine):
    engine, h = make_engine(server.url)
    r1, r2 = unique_room("from"), unique_room("to")
    engine.login_room(r1, user("switcher"), None)
    i, _ = h.wait_reason(R.LOGINED, r1)
    engine.switch_room(r1, r2, None)
    j, _ = h.wait_reason(R.LOGINED, r2, start=i + 1)
    seq = [(e.reason, e.room_id) for e in h.snapshot()[i + 1:j + 1] if e.kind == "changed"]
    assert seq == [(R.LOGOUT, r1), (R.LOGINING, r2), (R.LOGINED, r2)]


def test_logout_of_a_room_not_joined_returns_normally_and_reports_logout_failed(server, make_engine):
    engine, h = make_engine(server.url)
    engine.logout_room("never-joined")  # no exception
    _, ev = h.wait_reason(R.LOGOUT_FAILED, "never-joined")
    assert ev.error_code == 1002002
    time.sleep(0.2)
    assert not [e for e in h.snapshot() if e.kind == "update"], "LogoutFailed has no legacy event"


# ---------------------------------------------------------------------------------------------
# Faults: proxy cut, admin kick


def test_reconnects_after_a_proxy_cut(server, proxy, make_engine):
    engine, h = make_engine(proxy.url)
    room = unique_room()
    engine.login_room(room, user("reco"), None)
    i, _ = h.wait_reason(R.LOGINED, room)

    proxy.cmd("close")  # FIN on every connection, refuse new ones until restore
    t0 = time.monotonic()
    j, rec = h.wait_reason(R.RECONNECTING, room, start=i + 1, timeout=5)
    proxy.cmd("restore")
    assert rec.error_code == 1002051
    assert rec.at - t0 <= 1.5, "a closed connection is reported within 1 s"
    _, upd = h.wait(lambda e: e.kind == "update", start=j + 1)
    assert upd.state == S.CONNECTING and upd.error_code == 1002051

    k, back = h.wait_reason(R.RECONNECTED, room, start=j + 1, timeout=10)
    assert back.error_code == 0
    assert "room_session_id" in json.loads(back.extended_data)
    _, upd = h.wait(lambda e: e.kind == "update", start=k + 1)
    assert upd.state == S.CONNECTED
    reasons = [e.reason for e in h.snapshot() if e.kind == "changed"]
    assert reasons == [R.LOGINING, R.LOGINED, R.RECONNECTING, R.RECONNECTED]


def test_admin_kick_reports_kickout_with_custom_message(server, make_engine):
    engine, h = make_engine(server.url)
    room = unique_room()
    engine.login_room(room, user("kickme"), None)
    i, _ = h.wait_reason(R.LOGINED, room)
    answer = server.admin("KickoutUser", RoomId=room, **{"UserId[]": ["kickme"]}, CustomReason="bye now")
    assert answer["Code"] == 0, answer
    j, kick = h.wait_reason(R.KICK_OUT, room, start=i + 1)
    assert kick.error_code == 1002055
    assert json.loads(kick.extended_data)["custom_kickout_message"] == "bye now"
    _, upd = h.wait(lambda e: e.kind == "update", start=j + 1)
    assert upd.state == S.DISCONNECTED and upd.error_code == 1002055
    # The room no longer counts as joined: a new login is allowed.
    engine.login_room(unique_room(), user("kickme"), None)


# ---------------------------------------------------------------------------------------------
# Synchronous errors


def test_bad_input_raises_room_error_with_zego_codes(server, make_engine):
    engine, h = make_engine(server.url)
    u = user("valid")
    raises_code(1002011, engine.login_room, "", u, None)
    raises_code(1002012, engine.login_room, "bad room|id", u, None)
    raises_code(1002012, engine.login_room, "room\u00e9", u, None)
    raises_code(1002013, engine.login_room, "r" * 128, u, None)
    raises_code(1002005, engine.login_room, "room", user(""), None)
    raises_code(1002006, engine.login_room, "room", user("bad user"), None)
    raises_code(1002007, engine.login_room, "room", user("u" * 64), None)
    raises_code(1002010, engine.login_room, "room", user("ok", "n" * 256), None)
    raises_code(1000017, engine.set_engine_config, "room_retry_time=soon")
    raises_code(1002002, engine.renew_token, "not-joined", "token")
    time.sleep(0.2)
    assert h.snapshot() == [], "refused calls emit no event"

    room = unique_room()
    engine.login_room(room, u, None)
    i, _ = h.wait_reason(R.LOGINED, room)
    engine.renew_token(room, "new-token")  # joined: fine
    raises_code(1002001, engine.login_room, unique_room("second"), u, None)
    time.sleep(0.2)
    assert all(e.room_id == room for e in h.snapshot()), "a refused second login emits no event"
    # Limits at the edge are accepted.
    engine.set_engine_config("room_retry_time=30;unknown_key=1")


@pytest.mark.parametrize("server_url", ["", "   ", "not a url", "http://127.0.0.1:1", "ws://"])
def test_bad_server_url_raises_illegal_param(server_url):
    with pytest.raises(zr.RoomError.Failed) as ei:
        zr.RoomEngine(zr.EngineProfile(app_id=1, server=server_url, room_mode=zr.RoomMode.SINGLE_ROOM), Recorder())
    assert ei.value.code == 1000017


def test_every_call_after_destroy_raises_engine_not_created_and_releases_handler(server):
    class Holder(Recorder):
        engine = None  # the handler holds its engine: a cycle only destroy() breaks

    h = Holder()
    engine = zr.RoomEngine(zr.EngineProfile(app_id=1234567, server=server.url, room_mode=zr.RoomMode.SINGLE_ROOM), h)
    h.engine = engine
    room = unique_room()
    engine.login_room(room, user("gone"), None)
    h.wait_reason(R.LOGINED, room)
    engine.destroy()
    engine.destroy()  # twice: harmless
    n = len(h.snapshot())
    raises_code(1000001, engine.set_engine_config, "room_retry_time=5")
    raises_code(1000001, engine.login_room, room, user("gone"), None)
    raises_code(1000001, engine.logout_room, None)
    raises_code(1000001, engine.logout_room, room)
    raises_code(1000001, engine.switch_room, room, "other", None)
    raises_code(1000001, engine.renew_token, room, "t")
    time.sleep(0.3)
    assert len(h.snapshot()) == n, "no callback after destroy returned"

    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is None, "destroy() released the handler (no reference cycle keeps it alive)"


# ---------------------------------------------------------------------------------------------
# Host exceptions and re-entrancy


def test_a_throwing_handler_does_not_stop_later_events(server, make_engine):
    class Throwing(Recorder):
        def on_room_state_changed(self, reason, error_code, extended_data, room_id):
            super().on_room_state_changed(reason, error_code, extended_data, room_id)
            raise RuntimeError(f"host bug on {reason}")

        def on_room_state_update(self, state, error_code, extended_data, room_id):
            super().on_room_state_update(state, error_code, extended_data, room_id)
            raise ValueError("legacy handler bug")

    engine, h = make_engine(server.url, Throwing())
    room = unique_room()
    engine.login_room(room, user("thrower"), None)
    i, _ = h.wait_reason(R.LOGINED, room)
    h.wait(lambda e: e.kind == "count", start=i)
    engine.logout_room(room)
    j, _ = h.wait_reason(R.LOGOUT, room, start=i)
    h.wait(lambda e: e.kind == "update" and e.state == S.DISCONNECTED, start=j)
    kinds = [(e.kind, getattr(e, "reason", getattr(e, "state", None))) for e in h.snapshot() if e.kind in ("changed", "update")]
    assert kinds == [("changed", R.LOGINING), ("update", S.CONNECTING), ("changed", R.LOGINED), ("update", S.CONNECTED),
                     ("changed", R.LOGOUT), ("update", S.DISCONNECTED)]
    # The engine still works.
    engine.login_room(unique_room(), user("thrower"), None)


def test_handler_may_call_back_into_the_engine_and_destroy_it(server):
    done = threading.Event()

    class Reentrant(Recorder):
        engine = None

        def on_room_state_changed(self, reason, error_code, extended_data, room_id):
            super().on_room_state_changed(reason, error_code, extended_data, room_id)
            if reason == R.LOGINED:
                self.engine.logout_room(room_id)  # no deadlock
            elif reason == R.LOGOUT:
                self.engine.destroy()  # takes effect when this callback returns
                done.set()

    h = Reentrant()
    engine = zr.RoomEngine(zr.EngineProfile(app_id=1234567, server=server.url, room_mode=zr.RoomMode.SINGLE_ROOM), h)
    h.engine = engine
    engine.login_room(unique_room(), user("reentrant"), None)
    assert done.wait(10)
    raises_code(1000001, engine.logout_room, None)
    h.engine = None
