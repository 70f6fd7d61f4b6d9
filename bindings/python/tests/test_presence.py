"""One client per user_id across the app (contract §1.6) and presence that converges (§1.7), from
Python over real sockets: a real zego-room-server (restarted with SIGKILL in one case) and the fault
proxy between the engine under test and the server.
"""
import os
import signal
import subprocess
import time

import zego_room as zr
from conftest import (APP_ID, HEARTBEAT_TIMEOUT, PING_INTERVAL, PROFILE_DIR, GENERATED, Proxy, Recorder,
                      notify_config, unique_room, wait_port, free_port)

R = zr.RoomStateChangedReason
ADD = zr.UpdateType.ADD
DELETE = zr.UpdateType.DELETE


def login(make_engine, url, room, user_id, user_name, mode=zr.RoomMode.SINGLE_ROOM):
    engine, rec = make_engine(url, mode=mode)
    engine.login_room(room, zr.User(user_id=user_id, user_name=user_name), notify_config())
    rec.wait_reason(R.LOGINED, room)
    return engine, rec


def user_updates(rec, room):
    return [(e.update_type, [(u.user_id, u.user_name) for u in e.user_list])
            for e in rec.snapshot() if e.kind == "users" and e.room_id == room]


def reasons(rec, room):
    return [(e.reason, e.error_code) for e in rec.snapshot() if e.kind == "changed" and e.room_id == room]


def described(server, room):
    v = server.admin("DescribeUsers", RoomId=room)
    assert v["Code"] == 0, v
    return sorted((u["UserId"], u["UserName"]) for u in v["Data"]["UserList"])


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_duplicate_user_in_another_room_kicks_the_earlier_engine(server, proxy, make_engine):
    r1, r2 = unique_room("r1"), unique_room("r2")
    a, ra = login(make_engine, proxy.url, r1, "dup-a", "A")
    b, rb = login(make_engine, server.url, r1, "dup-b", "B")
    rb.wait(lambda e: e.kind == "users" and e.update_type == ADD and any(u.user_id == "dup-a" for u in e.user_list))
    start = len(rb.snapshot())
    t0 = time.monotonic()
    c, rc = login(make_engine, server.url, r2, "dup-a", "C")
    ra.wait_reason(R.KICK_OUT, r1)
    assert reasons(ra, r1)[-1] == (R.KICK_OUT, 1002050)
    _, ev = rb.wait(lambda e: e.kind == "users" and e.update_type == DELETE and any(u.user_id == "dup-a" for u in e.user_list),
                    start=start)
    assert ev.at - t0 < 2.0, "Delete at once, not after the grace"
    time.sleep(1.5)
    assert reasons(rc, r2) == [(R.LOGINING, 0), (R.LOGINED, 0)], "the newer login is untouched"
    assert described(server, r1) == [("dup-b", "B")]
    assert described(server, r2) == [("dup-a", "C")]
    attempts = proxy.cmd("attempts")
    time.sleep(1.5)
    assert proxy.cmd("attempts") == attempts, "no attempt after KickOut"


def test_same_user_again_during_the_grace_with_a_new_name(server, proxy, make_engine):
    room = unique_room("rename")
    b, rb = login(make_engine, server.url, room, "ren-b", "B")
    a, ra = login(make_engine, proxy.url, room, "ren-a", "a-old")
    rb.wait(lambda e: e.kind == "users" and e.update_type == ADD)
    proxy.cmd("blackhole")
    time.sleep(1.0)
    a2, ra2 = login(make_engine, server.url, room, "ren-a", "a-new")
    # The old session's grace ends meanwhile: it must remove nothing.
    time.sleep(HEARTBEAT_TIMEOUT + 2)
    assert user_updates(rb, room)[1:] == [(DELETE, [("ren-a", "a-old")]), (ADD, [("ren-a", "a-new")])]
    assert described(server, room) == [("ren-a", "a-new"), ("ren-b", "B")]
    start = len(ra.snapshot())
    proxy.cmd("restore")
    ra.wait_reason(R.KICK_OUT, room, timeout=12, start=start)
    assert reasons(ra, room)[-1] == (R.KICK_OUT, 1002050)
    assert all(r != R.RECONNECTED for r, _ in reasons(ra, room))


class RestartableServer:
    """A zego-room-server that can be SIGKILLed and started again on the same ports."""

    def __init__(self, grace):
        self.port, self.admin_port = free_port(), free_port()
        self.grace = grace
        self.url = f"ws://127.0.0.1:{self.port}"
        self.start()

    def start(self):
        exe = os.path.join(PROFILE_DIR, "zego-room-server")
        self.log = open(os.path.join(GENERATED, "restart-server.log"), "a")
        self.proc = subprocess.Popen(
            [exe, "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             "--app-id", str(APP_ID), "--heartbeat-timeout", str(self.grace), "--ping-interval", str(PING_INTERVAL)],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.log.close()


def test_server_restart_within_the_grace_causes_no_flap(make_engine):
    srv = RestartableServer(grace=6)
    try:
        room = unique_room("restart")
        a, ra = login(make_engine, srv.url, room, "rs-a", "A")
        b, rb = login(make_engine, srv.url, room, "rs-b", "B")
        c, rc = login(make_engine, srv.url, room, "rs-c", "C")
        assert eventually(lambda: any(("rs-c", "C") in l for _, l in user_updates(ra, room)))
        assert eventually(lambda: any(("rs-c", "C") in l for _, l in user_updates(rb, room)))
        seen_a, seen_b = len(user_updates(ra, room)), len(user_updates(rb, room))
        srv.kill()
        c.destroy()  # c never comes back
        time.sleep(0.8)
        srv.start()
        restarted = time.monotonic()
        for rec in (ra, rb):
            rec.wait_reason(R.RECONNECTED, room, timeout=10)
        time.sleep(3.5)
        assert user_updates(ra, room)[seen_a:] == [], "no Delete/Add for users back within the grace"
        assert user_updates(rb, room)[seen_b:] == []
        for rec, seen in ((ra, seen_a), (rb, seen_b)):
            _, ev = rec.wait(lambda e: e.kind == "users" and e.update_type == DELETE, timeout=8,
                             start=[i for i, e in enumerate(rec.snapshot()) if e.kind == "changed" and e.reason == R.RECONNECTED][-1])
            assert ev.at - restarted >= 5.5, "not before the grace has passed since the restart"
            time.sleep(0.3)
            assert user_updates(rec, room)[seen:] == [(DELETE, [("rs-c", "C")])], "exactly one Delete"
        for rec in (ra, rb):
            assert [r for r, _ in reasons(rec, room)][2:] == [R.RECONNECTING, R.RECONNECTED]
    finally:
        srv.stop()
