"""wss:// from Python (contract §9): a zego-room-server started with --tls-cert/--tls-key from a
throwaway CA (examples/tls_certs), engines trusting that CA through the advanced config key
tls_ca_file, and an engine that does not trust it ending as LoginFailed 1002053."""
import time

import pytest

from conftest import notify_config, unique_room, zr
from test_room import raises_code, user

R = zr.RoomStateChangedReason


def test_login_over_wss_with_tls_ca_file_and_admin_over_https(tls_server, pki, make_engine):
    assert tls_server.url.startswith("wss://")
    room = unique_room("tls")
    a, ha = make_engine(tls_server.url)
    b, hb = make_engine(tls_server.url)
    for engine in (a, b):
        engine.set_engine_config(f"tls_ca_file={pki['ca']}")
    a.login_room(room, user("alice"), notify_config())
    ha.wait_reason(R.LOGINED, room)
    b.login_room(room, user("bob"), notify_config())
    hb.wait_reason(R.LOGINED, room)
    ha.wait(lambda e: e.kind == "users" and e.update_type == zr.UpdateType.ADD
            and [u.user_id for u in e.user_list] == ["bob"])
    answer = tls_server.admin("DescribeUsers", RoomId=room)  # https, trusting the test CA
    assert answer["Code"] == 0, answer
    assert sorted(u["UserId"] for u in answer["Data"]["UserList"]) == ["alice", "bob"]


def test_platform_roots_only_end_as_login_failed_1002053_after_the_window(tls_server, make_engine):
    engine, h = make_engine(tls_server.url)
    engine.set_engine_config("room_retry_time=2")
    room = unique_room("untrusted")
    started = time.monotonic()
    engine.login_room(room, user("carol"), notify_config())
    _, ev = h.wait_reason(R.LOGIN_FAILED, room, timeout=10)
    took = time.monotonic() - started
    assert ev.error_code == 1002053, ev
    assert 1.9 <= took < 5, took
    reasons = [e.reason for e in h.snapshot() if e.kind == "changed"]
    assert reasons == [R.LOGINING, R.LOGIN_FAILED], reasons


def test_an_unusable_tls_ca_file_raises_1000017(tls_server, pki, make_engine, tmp_path):
    engine, _ = make_engine(tls_server.url)
    raises_code(1000017, engine.set_engine_config, f"tls_ca_file={tmp_path / 'missing.pem'}")
    raises_code(1000017, engine.set_engine_config, f"tls_ca_file={pki['key']}")  # a key, not a certificate
    engine.set_engine_config(f"tls_ca_file={pki['ca']}")
