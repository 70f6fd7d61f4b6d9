"""A newcomer's script against the installed wheel: handler base class, login, logout.

Usage: python login_logout.py ws://127.0.0.1:PORT APP_ID
Prints one line per check; exits non-zero (AssertionError) on the first failure.
"""
import inspect
import json
import os
import sys
import threading
import uuid

import zego_room as zr
from zego_room_handler import RoomEventHandlerBase

URL, APP_ID = sys.argv[1], int(sys.argv[2])
R = zr.RoomStateChangedReason


def ok(msg):
    print(f"  ok: {msg}", flush=True)


# -- 1. What got imported is the installed package ----------------------------------------------
site = os.path.realpath(sys.prefix)
for mod in (zr, sys.modules["zego_room_handler"]):
    assert os.path.realpath(mod.__file__).startswith(site + os.sep), f"{mod.__name__} from {mod.__file__}, not {site}"
lib = os.path.join(os.path.dirname(zr.__file__), "libzego_room.so")
assert os.path.isfile(lib), lib
ok(f"zego_room and zego_room_handler imported from the venv ({os.path.dirname(zr.__file__)})")

# -- 2. RoomEventHandlerBase: every handler method of the contract, no-op ----------------------
# Contract section 3 (rooms), 6.2 (streams), 7.2 (messaging): name -> arguments, in order.
CONTRACT = {
    "on_room_state_changed": ["reason", "error_code", "extended_data", "room_id"],
    "on_room_state_update": ["state", "error_code", "extended_data", "room_id"],
    "on_room_user_update": ["update_type", "user_list", "room_id"],
    "on_room_online_user_count_update": ["count", "room_id"],
    "on_room_token_will_expire": ["remain_time_in_second", "room_id"],
    "on_room_stream_update": ["update_type", "stream_list", "extended_data", "room_id"],
    "on_room_stream_extra_info_update": ["stream_list", "room_id"],
    "on_publisher_state_update": ["state", "error_code", "extended_data", "stream_id"],
    "on_player_state_update": ["state", "error_code", "extended_data", "stream_id"],
    "on_publisher_update_stream_extra_info_result": ["error_code", "seq"],
    "on_player_recv_sei": ["data", "stream_id"],
    "on_im_send_broadcast_message_result": ["error_code", "message_id", "room_id", "seq"],
    "on_im_send_barrage_message_result": ["error_code", "message_id", "room_id", "seq"],
    "on_im_send_custom_command_result": ["error_code", "room_id", "seq"],
    "on_room_set_room_extra_info_result": ["error_code", "room_id", "key", "seq"],
    "on_im_recv_broadcast_message": ["message_list", "room_id"],
    "on_im_recv_barrage_message": ["message_list", "room_id"],
    "on_im_recv_custom_command": ["command", "from_user", "room_id"],
    "on_room_extra_info_update": ["room_extra_info_list", "room_id"],
}


def params(fn):
    return list(inspect.signature(fn).parameters)[1:]  # without self


assert issubclass(RoomEventHandlerBase, zr.RoomEventHandler)
base = RoomEventHandlerBase()
for name, args in CONTRACT.items():
    fn = getattr(RoomEventHandlerBase, name, None)
    assert fn is not None, f"RoomEventHandlerBase.{name} missing"
    assert fn.__qualname__ == f"RoomEventHandlerBase.{name}", f"{name} is inherited, not a no-op default"
    assert params(fn) == args, f"{name}{tuple(params(fn))} != contract {tuple(args)}"
    assert getattr(base, name)(*([None] * len(args))) is None
generated = sorted(n for n, f in vars(zr.RoomEventHandler).items() if n.startswith("on_") and callable(f))
for name in generated:
    assert name in CONTRACT, f"generated RoomEventHandler.{name} has no default in RoomEventHandlerBase"
    assert params(getattr(zr.RoomEventHandler, name)) == CONTRACT[name], f"generated {name} differs from the contract"
ok(f"RoomEventHandlerBase: {len(CONTRACT)} no-op methods with the contract's arguments "
   f"(covers all {len(generated)} methods of the generated RoomEventHandler)")


# -- 3. Login and logout against a real server, overriding only what the script needs ----------
class Events:
    def __init__(self):
        self.items = []
        self.cv = threading.Condition()

    def push(self, item):
        with self.cv:
            self.items.append(item)
            self.cv.notify_all()

    def wait(self, pred, what, timeout=10.0):
        with self.cv:
            if not self.cv.wait_for(lambda: any(pred(i) for i in self.items), timeout):
                raise AssertionError(f"no {what} within {timeout}s; got {self.items}")
            return next(i for i in self.items if pred(i))


class StateOnly(RoomEventHandlerBase):
    """Overrides one method; the engine still delivers legacy states, counts, user lists."""

    def __init__(self):
        self.events = Events()

    def on_room_state_changed(self, reason, error_code, extended_data, room_id):
        print(f"  event: {room_id}: {reason.name} (error {error_code}) {extended_data}", flush=True)
        self.events.push((reason, error_code, json.loads(extended_data), room_id))


class UsersOnly(RoomEventHandlerBase):
    def __init__(self):
        self.events = Events()

    def on_room_user_update(self, update_type, user_list, room_id):
        self.events.push((update_type, [u.user_id for u in user_list], room_id))


def profile():
    return zr.EngineProfile(app_id=APP_ID, server=URL, room_mode=zr.RoomMode.SINGLE_ROOM)


def config():
    return zr.RoomConfig(max_member_count=0, is_user_status_notify=True, token="")


room = f"py-consumer-{uuid.uuid4().hex[:8]}"
alice_h, bob_h = StateOnly(), UsersOnly()
alice = zr.RoomEngine(profile(), alice_h)
bob = zr.RoomEngine(profile(), bob_h)
try:
    alice.login_room(room, zr.User(user_id="alice", user_name="Alice"), config())
    reason, code, data, _ = alice_h.events.wait(lambda e: e[0] in (R.LOGINED, R.LOGIN_FAILED), "Logined")
    assert (reason, code) == (R.LOGINED, 0), (reason, code)
    assert data.get("room_session_id"), data
    print(f"Logined room={room} room_session_id={data['room_session_id']}", flush=True)
    ok("alice: Logining -> Logined with a room_session_id")

    # bob's handler only overrides the user list; alice's gets bob's Add and the online count
    # through RoomEventHandlerBase's no-ops (run.sh checks nothing was raised on either side).
    bob.login_room(room, zr.User(user_id="bob", user_name="Bob"), config())
    update_type, users, _ = bob_h.events.wait(lambda e: True, "user update")
    assert (update_type, users) == (zr.UpdateType.ADD, ["alice"]), (update_type, users)
    ok("bob (overriding only on_room_user_update) sees alice added")

    alice.logout_room(room)
    reason, code, _, _ = alice_h.events.wait(lambda e: e[0] == R.LOGOUT, "Logout")
    assert code == 0
    _, users, _ = bob_h.events.wait(lambda e: e[0] == zr.UpdateType.DELETE, "alice deleted")
    assert users == ["alice"], users
    print(f"Logout room={room}", flush=True)
    ok("alice: Logout (0); bob sees alice deleted")

    try:
        alice.logout_room("no-such-room")
    except zr.RoomError.Failed as e:  # noqa: F841 - the contract says it must not throw
        raise AssertionError(f"logout_room of a room not joined threw {e.code}")
    reason, code, _, _ = alice_h.events.wait(lambda e: e[0] == R.LOGOUT_FAILED, "LogoutFailed")
    assert code == 1002002, code
    ok("logout_room of a room not joined: LogoutFailed 1002002 event, no exception")
finally:
    alice.destroy()
    bob.destroy()

try:
    alice.login_room(room, zr.User(user_id="alice", user_name="Alice"), config())
    raise AssertionError("login_room after destroy() did not throw")
except zr.RoomError.Failed as e:
    assert e.code == 1000001, e.code
ok("after destroy(): RoomError.Failed 1000001")
