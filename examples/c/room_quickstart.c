/* zego-room from C: create an engine, watch the room state, log in, log out, destroy.
 *
 * Build (from the repository root, after `cargo build --release`):
 *   cc -std=c99 -Wall -Iinclude examples/c/room_quickstart.c -Ltarget/release \
 *      -Wl,-rpath,$PWD/target/release -lzego_room -lpthread -o room_quickstart
 * or with the Makefile next to this file: `make -C examples/c`.
 *
 * Run against a server (`cargo run --release --features server --bin zego-room-server`):
 *   ./room_quickstart ws://127.0.0.1:9100 [room_id] [user_id] [token]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "zego_room.h"

static const char *reason_name(zego_room_state_changed_reason r) {
  static const char *names[] = { "Logining", "Logined", "LoginFailed", "Reconnecting", "Reconnected",
                                 "ReconnectFailed", "KickOut", "Logout", "LogoutFailed" };
  return (r >= 0 && r <= 8) ? names[r] : "?";
}

/* Shared between the callback thread and main: protect it. */
typedef struct app {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  zego_room_state_changed_reason last;
  int events;
} app;

/* Runs on the engine's callback thread. The strings are valid only during the call. */
static void on_room_state_changed(void *user_context, zego_room_state_changed_reason reason,
                                  zego_error error_code, const char *extended_data, const char *room_id) {
  app *a = user_context;
  printf("room %s: %s (error %d) %s\n", room_id, reason_name(reason), (int)error_code, extended_data);
  fflush(stdout);
  pthread_mutex_lock(&a->lock);
  a->last = reason;
  a->events++;
  pthread_cond_broadcast(&a->changed);
  pthread_mutex_unlock(&a->lock);
}

/* Waits up to `seconds` for a state change with one of the two reasons. */
static int wait_for(app *a, zego_room_state_changed_reason r1, zego_room_state_changed_reason r2, int seconds) {
  struct timespec until;
  int ok;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock(&a->lock);
  while (a->last != r1 && a->last != r2) {
    if (pthread_cond_timedwait(&a->changed, &a->lock, &until) != 0) break;
  }
  ok = a->last == r1 || a->last == r2;
  pthread_mutex_unlock(&a->lock);
  return ok;
}

int main(int argc, char **argv) {
  const char *server = argc > 1 ? argv[1] : "ws://127.0.0.1:9100";
  const char *room_id = argc > 2 ? argv[2] : "room-1";
  zego_engine_profile profile = { 1u, NULL, ZEGO_ROOM_MODE_SINGLE_ROOM };
  zego_user user = { argc > 3 ? argv[3] : "user-1", "C user" };
  zego_room_config config = { 0u, true, argc > 4 ? argv[4] : NULL };
  zego_engine *engine = NULL;
  zego_seq seq = 0;
  zego_error err;
  app a;
  int ok;

  pthread_mutex_init(&a.lock, NULL);
  pthread_cond_init(&a.changed, NULL);
  a.last = ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT;
  a.events = 0;

  printf("zego_room %s\n", zego_version());
  profile.server = server;
  if (argc > 5) sscanf(argv[5], "%u", &profile.app_id);
  err = zego_engine_create(&profile, &engine);
  if (err != 0) {
    fprintf(stderr, "zego_engine_create: %d\n", (int)err);
    return 1;
  }
  zego_engine_register_room_state_changed_callback(engine, on_room_state_changed, &a);

  err = zego_engine_login_room(engine, room_id, &user, &config, &seq);
  if (err != 0) {
    fprintf(stderr, "zego_engine_login_room: %d\n", (int)err);
    zego_engine_destroy(engine);
    return 1;
  }
  printf("login started (seq %d)\n", (int)seq);
  ok = wait_for(&a, ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED, ZEGO_ROOM_STATE_CHANGED_REASON_LOGIN_FAILED, 30) &&
       a.last == ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED;

  if (ok) {
    zego_engine_logout_room(engine, room_id, NULL);
    wait_for(&a, ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT, ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT_FAILED, 5);
  }
  /* After destroy returns no callback runs again, so `a` may go away. */
  zego_engine_destroy(engine);
  pthread_cond_destroy(&a.changed);
  pthread_mutex_destroy(&a.lock);
  return ok ? 0 : 1;
}
