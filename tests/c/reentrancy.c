/* Reentrancy: from inside callbacks, logout_room, login_room, (un)registering callbacks, stream
 * and messaging calls (a stream list fetched and freed on the callback thread included) and
 * finally zego_engine_destroy all work without deadlock; destroy from a callback takes effect
 * when that callback returns, and nothing is delivered afterwards.
 * Usage: reentrancy WS_URL (a server without authentication) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "zego_room.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zego_engine *engine;
static int logined = 0, logouts = 0, destroyed_in_callback = 0, after_destroy = 0, legacy_after_unregister = 0;
static int legacy_unregistered = 0, reasons[32], n_reasons = 0, publisher_events = 0;

/* A stream callback that calls back into the engine (stream list) and re-registers itself. */
static void on_publisher(void *ctx, zego_publisher_state state, zego_error code, const char *ext, const char *id) {
  zego_stream *list = NULL;
  uint32_t n = 0;
  (void)ctx; (void)state; (void)code; (void)ext; (void)id;
  zego_engine_register_publisher_state_update_callback(engine, on_publisher, NULL);
  if (zego_engine_get_room_stream_list(engine, "", ZEGO_ROOM_STREAM_LIST_TYPE_ALL, &list, &n) == 0) {
    zego_stream_list_free(list, n);
  }
  pthread_mutex_lock(&lock);
  publisher_events++;
  pthread_mutex_unlock(&lock);
}

static void on_legacy(void *ctx, zego_room_state state, zego_error code, const char *ext, const char *room) {
  (void)ctx; (void)state; (void)code; (void)ext; (void)room;
  pthread_mutex_lock(&lock);
  if (legacy_unregistered) legacy_after_unregister++;
  if (destroyed_in_callback) after_destroy++;
  pthread_mutex_unlock(&lock);
}

static void on_state(void *ctx, zego_room_state_changed_reason reason, zego_error code, const char *ext,
                     const char *room) {
  zego_user u = { "reentrant", NULL };
  zego_seq seq = 0;
  int done;
  (void)ctx; (void)ext;
  pthread_mutex_lock(&lock);
  done = destroyed_in_callback;
  if (done) after_destroy++;
  if (n_reasons < 32) reasons[n_reasons++] = (int)reason;
  pthread_mutex_unlock(&lock);
  if (done) return;
  CHECK_EQ(code, 0);
  if (reason == ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED) {
    pthread_mutex_lock(&lock);
    logined++;
    pthread_mutex_unlock(&lock);
    if (logined == 1) {
      /* Unregister another callback from the callback thread: must not wait for itself. */
      zego_engine_register_room_state_update_callback(engine, NULL, NULL);
      pthread_mutex_lock(&lock);
      legacy_unregistered = 1;
      pthread_mutex_unlock(&lock);
      /* Streams and messaging from the callback thread. */
      {
        zego_stream *list = NULL;
        uint32_t n = 77;
        zego_engine_register_publisher_state_update_callback(engine, on_publisher, NULL);
        CHECK_EQ(zego_engine_start_publishing_stream(engine, "reentrant-s", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
        CHECK_EQ(zego_engine_set_stream_extra_info(engine, "x", ZEGO_PUBLISH_CHANNEL_MAIN, NULL), 0);
        CHECK_EQ(zego_engine_get_room_stream_list(engine, room, ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &n), 0);
        zego_stream_list_free(list, n);
        CHECK_EQ(zego_engine_send_broadcast_message(engine, room, "from a callback", &seq), 0);
        CHECK(seq > 0);
        CHECK_EQ(zego_engine_send_custom_command(engine, room, "cmd", NULL, 0, NULL), 0);
        CHECK_EQ(zego_engine_set_room_extra_info(engine, room, "k", "v", NULL), 0);
        CHECK_EQ(zego_engine_start_playing_stream(engine, "someone-else", NULL), 0);
        CHECK_EQ(zego_engine_stop_playing_stream(engine, "someone-else"), 0);
      }
      CHECK_EQ(zego_engine_logout_room(engine, NULL, &seq), 0);
      CHECK(seq > 0);
    } else {
      /* Destroy from inside the callback: deferred until it returns. */
      zego_engine_destroy(engine);
      CHECK_EQ(zego_engine_login_room(engine, "reentry-3", &u, NULL, NULL), 1000001);
      zego_engine_destroy(engine); /* twice: harmless */
      pthread_mutex_lock(&lock);
      destroyed_in_callback = 1;
      pthread_mutex_unlock(&lock);
    }
  } else if (reason == ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT) {
    pthread_mutex_lock(&lock);
    logouts++;
    pthread_mutex_unlock(&lock);
    /* Log in again from inside the Logout callback, and re-register ourselves. */
    zego_engine_register_room_state_changed_callback(engine, on_state, NULL);
    CHECK_EQ(zego_engine_login_room(engine, room, &u, NULL, &seq), 0);
  }
}

static int get(int *v) {
  int r;
  pthread_mutex_lock(&lock);
  r = *v;
  pthread_mutex_unlock(&lock);
  return r;
}

int main(int argc, char **argv) {
  zego_engine_profile p = { 1234567u, NULL, ZEGO_ROOM_MODE_SINGLE_ROOM };
  zego_user u = { "reentrant", "Re Entrant" };
  int i;
  if (argc < 2) return 2;
  p.server = argv[1];
  CHECK_EQ(zego_engine_create(&p, &engine), 0);
  zego_engine_register_room_state_changed_callback(engine, on_state, NULL);
  zego_engine_register_room_state_update_callback(engine, on_legacy, NULL);
  CHECK_EQ(zego_engine_login_room(engine, "reentry", &u, NULL, NULL), 0);
  WAIT_FOR(get(&destroyed_in_callback), 10.0);
  CHECK_EQ(get(&destroyed_in_callback), 1);
  sleep_ms(500);
  CHECK_EQ(get(&after_destroy), 0);
  CHECK_EQ(get(&legacy_after_unregister), 0);
  CHECK_EQ(get(&logined), 2);
  CHECK_EQ(get(&logouts), 1);
  CHECK(get(&publisher_events) >= 2); /* PublishRequesting, then NoPublish at the logout */
  /* Logining, Logined, Logout, Logining, Logined: in order. */
  CHECK_EQ(get(&n_reasons), 5);
  {
    static const int want[5] = { 0, 1, 7, 0, 1 };
    for (i = 0; i < 5 && i < n_reasons; i++) CHECK_EQ(reasons[i], want[i]);
  }
  /* The handle is dead for every caller; destroying again is harmless. */
  CHECK_EQ(zego_engine_login_room(engine, "reentry", &u, NULL, NULL), 1000001);
  zego_engine_destroy(engine);
  return check_report("reentrancy");
}
