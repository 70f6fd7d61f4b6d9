/* Every function of the C ABI with NULL and bad inputs: each returns its ZEGO code (contract
 * §1.4, §2), writes no out-parameter, delivers no event and changes no state; then the same
 * engine still works. Needs no server (the engine points at a closed port).
 * Usage: inputs EXPECTED_VERSION */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "zego_room.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int events = 0, logining = 0, logs = 0;

static void on_state(void *ctx, zego_room_state_changed_reason reason, zego_error code, const char *ext,
                     const char *room) {
  (void)code; (void)ext; (void)room;
  pthread_mutex_lock(&lock);
  events++;
  if (reason == ZEGO_ROOM_STATE_CHANGED_REASON_LOGINING && ctx == (void *)&events) logining++;
  pthread_mutex_unlock(&lock);
}

static void on_any_result(void *ctx, zego_error code, const char *ext, const char *room, zego_seq seq) {
  (void)ctx; (void)code; (void)ext; (void)room; (void)seq;
  pthread_mutex_lock(&lock);
  events++;
  pthread_mutex_unlock(&lock);
}

static void on_log(void *ctx, int32_t level, const char *target, const char *message) {
  CHECK(ctx == (void *)&logs);
  CHECK(level >= 1 && level <= 5 && target != NULL && message != NULL);
  pthread_mutex_lock(&lock);
  logs++;
  pthread_mutex_unlock(&lock);
}

static int get(int *v) {
  int r;
  pthread_mutex_lock(&lock);
  r = *v;
  pthread_mutex_unlock(&lock);
  return r;
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

#define SENTINEL ((zego_engine *)(uintptr_t)0xdeadbee0u)

int main(int argc, char **argv) {
  zego_engine_profile p = { 1u, "ws://127.0.0.1:1", ZEGO_ROOM_MODE_SINGLE_ROOM };
  zego_engine *e = SENTINEL, *multi = NULL;
  zego_user u = { "user1", "User One" };
  zego_room_config c = { 0u, true, NULL };
  zego_seq seq = -7;
  char *room128 = repeat('r', 128), *room127 = repeat('r', 127), *huge = repeat('x', 1u << 20);
  char *user64 = repeat('u', 64), *name256 = repeat('n', 256), *token9k = repeat('t', 9000);
  int before;

  /* Version: a static string equal to the crate version. */
  CHECK(argc > 1 && strcmp(zego_version(), argv[1]) == 0);
  CHECK(zego_version() == zego_version());

  /* create: NULL and unusable profiles -> 1000017, out-parameter untouched. */
  CHECK_EQ(zego_engine_create(NULL, &e), 1000017);
  CHECK_EQ(zego_engine_create(&p, NULL), 1000017);
  p.server = NULL;
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = "";
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = "http://127.0.0.1:1";
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = "not a url";
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = "ws://\xff\xfe:1";
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = huge;
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.server = "ws://127.0.0.1:1";
  p.room_mode = (zego_room_mode)7;
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  p.room_mode = (zego_room_mode)-1;
  CHECK_EQ(zego_engine_create(&p, &e), 1000017);
  CHECK(e == SENTINEL);

  /* NULL engine -> 1000001 everywhere; void functions ignore it. */
  CHECK_EQ(zego_engine_set_engine_config(NULL, "room_retry_time=5"), 1000001);
  CHECK_EQ(zego_engine_login_room(NULL, "r", &u, NULL, &seq), 1000001);
  CHECK_EQ(zego_engine_logout_room(NULL, NULL, &seq), 1000001);
  CHECK_EQ(zego_engine_switch_room(NULL, "a", "b", NULL), 1000001);
  CHECK_EQ(zego_engine_renew_token(NULL, "r", "t"), 1000001);
  CHECK_EQ(seq, -7);
  zego_engine_register_room_state_changed_callback(NULL, on_state, NULL);
  zego_engine_register_room_state_update_callback(NULL, NULL, NULL);
  zego_engine_register_room_user_update_callback(NULL, NULL, NULL);
  zego_engine_register_room_online_user_count_update_callback(NULL, NULL, NULL);
  zego_engine_register_room_token_will_expire_callback(NULL, NULL, NULL);
  zego_engine_register_room_login_result_callback(NULL, on_any_result, NULL);
  zego_engine_register_room_logout_result_callback(NULL, NULL, NULL);
  zego_engine_destroy(NULL);
  /* A stray handle value is not dereferenced: 1000001 as well. */
  CHECK_EQ(zego_engine_login_room(SENTINEL, "r", &u, NULL, &seq), 1000001);
  zego_engine_destroy(SENTINEL);

  p.room_mode = ZEGO_ROOM_MODE_SINGLE_ROOM;
  CHECK_EQ(zego_engine_create(&p, &e), 0);
  CHECK(e != NULL && e != SENTINEL);
  zego_engine_register_room_state_changed_callback(e, on_state, &events);
  zego_engine_register_room_login_result_callback(e, on_any_result, NULL);
  zego_engine_register_room_logout_result_callback(e, on_any_result, NULL);

  /* Logging bridge: an unknown config key is logged; level 0 forwards nothing. */
  zego_set_log_callback(on_log, &logs, 5);
  CHECK_EQ(zego_engine_set_engine_config(e, "some_unknown_key=1"), 0);
  CHECK(get(&logs) > 0);
  zego_set_log_callback(on_log, &logs, 0);
  before = get(&logs);
  CHECK_EQ(zego_engine_set_engine_config(e, "some_unknown_key=2"), 0);
  CHECK_EQ(get(&logs), before);
  zego_set_log_callback(NULL, NULL, 5);
  CHECK_EQ(zego_engine_set_engine_config(e, "some_unknown_key=3"), 0);
  CHECK_EQ(get(&logs), before);

  /* set_engine_config */
  CHECK_EQ(zego_engine_set_engine_config(e, NULL), 1000017);
  CHECK_EQ(zego_engine_set_engine_config(e, "room_retry_time=abc"), 1000017);
  CHECK_EQ(zego_engine_set_engine_config(e, "room_retry_time=\xff"), 1000017);
  CHECK_EQ(zego_engine_set_engine_config(e, huge), 1000017);
  CHECK_EQ(zego_engine_set_engine_config(e, "room_retry_time=30"), 0);

  /* login_room: NULL required pointers, then every §1.4 code. */
  CHECK_EQ(zego_engine_login_room(e, NULL, &u, &c, &seq), 1000017);
  CHECK_EQ(zego_engine_login_room(e, "r", NULL, &c, &seq), 1000017);
  u.user_id = NULL;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1000017);
  u.user_id = "user1";
  CHECK_EQ(zego_engine_login_room(e, "", &u, &c, &seq), 1002011);
  CHECK_EQ(zego_engine_login_room(e, "a b", &u, &c, &seq), 1002012);
  CHECK_EQ(zego_engine_login_room(e, "r\xff", &u, &c, &seq), 1002012);
  CHECK_EQ(zego_engine_login_room(e, "r\xc3\xa9", &u, &c, &seq), 1002012);
  CHECK_EQ(zego_engine_login_room(e, room128, &u, &c, &seq), 1002013);
  CHECK_EQ(zego_engine_login_room(e, huge, &u, &c, &seq), 1002013);
  u.user_id = "";
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002005);
  u.user_id = "a:b";
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002006);
  u.user_id = "a\xc3\x28";
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002006);
  u.user_id = user64;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002007);
  u.user_id = huge;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002007);
  u.user_id = "user1";
  u.user_name = "bad\xc3";
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002009);
  u.user_name = name256;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002010);
  u.user_name = huge;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1002010);
  u.user_name = "Zo\xc3\xab";
  c.token = "04\xff";
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1000017);
  c.token = token9k;
  CHECK_EQ(zego_engine_login_room(e, "r", &u, &c, &seq), 1000017);
  c.token = NULL;
  CHECK_EQ(seq, -7);

  /* logout_room / switch_room / renew_token */
  CHECK_EQ(zego_engine_logout_room(e, "", &seq), 1002011);
  CHECK_EQ(zego_engine_logout_room(e, "a b", &seq), 1002012);
  CHECK_EQ(zego_engine_logout_room(e, "\xff", &seq), 1002012);
  CHECK_EQ(zego_engine_logout_room(e, room128, &seq), 1002013);
  CHECK_EQ(seq, -7);
  CHECK_EQ(zego_engine_switch_room(e, NULL, "b", NULL), 1000017);
  CHECK_EQ(zego_engine_switch_room(e, "a", NULL, NULL), 1000017);
  CHECK_EQ(zego_engine_switch_room(e, "", "b", NULL), 1002011);
  CHECK_EQ(zego_engine_switch_room(e, "a", "b c", NULL), 1002012);
  CHECK_EQ(zego_engine_switch_room(e, "a", room128, NULL), 1002013);
  c.token = "\xff";
  CHECK_EQ(zego_engine_switch_room(e, "a", "b", &c), 1000017);
  c.token = NULL;
  CHECK_EQ(zego_engine_renew_token(e, NULL, "t"), 1000017);
  CHECK_EQ(zego_engine_renew_token(e, "r", NULL), 1000017);
  CHECK_EQ(zego_engine_renew_token(e, "", "t"), 1002011);
  CHECK_EQ(zego_engine_renew_token(e, "r", "\xff"), 1000017);
  CHECK_EQ(zego_engine_renew_token(e, "r", "t"), 1002002); /* valid input, room not joined */

  /* None of that delivered an event. */
  sleep_ms(200);
  CHECK_EQ(get(&events), 0);

  /* The engine still works: a valid login (127-byte room id, UTF-8 name) starts. */
  CHECK_EQ(zego_engine_login_room(e, room127, &u, &c, &seq), 0);
  CHECK(seq > 0);
  WAIT_FOR(get(&logining) == 1, 5.0);
  CHECK_EQ(get(&logining), 1);
  /* A second login in single-room mode is refused synchronously and emits nothing. */
  sleep_ms(100);
  before = get(&events);
  seq = -7;
  CHECK_EQ(zego_engine_login_room(e, "other", &u, NULL, &seq), 1002001);
  CHECK_EQ(seq, -7);
  sleep_ms(200);
  CHECK_EQ(get(&events), before);

  /* Multi-room engines refuse switch_room. */
  p.room_mode = ZEGO_ROOM_MODE_MULTI_ROOM;
  CHECK_EQ(zego_engine_create(&p, &multi), 0);
  CHECK_EQ(zego_engine_switch_room(multi, "a", "b", NULL), 1002019);
  zego_engine_destroy(multi);

  /* Destroy, twice; afterwards the handle answers 1000001. */
  zego_engine_destroy(e);
  before = get(&events);
  zego_engine_destroy(e);
  CHECK_EQ(zego_engine_login_room(e, "r", &u, NULL, &seq), 1000001);
  CHECK_EQ(zego_engine_logout_room(e, NULL, NULL), 1000001);
  CHECK_EQ(zego_engine_set_engine_config(e, "room_retry_time=5"), 1000001);
  CHECK_EQ(zego_engine_switch_room(e, "a", "b", NULL), 1000001);
  CHECK_EQ(zego_engine_renew_token(e, "r", "t"), 1000001);
  zego_engine_register_room_state_changed_callback(e, NULL, NULL);
  sleep_ms(100);
  CHECK_EQ(get(&events), before);

  free(room128); free(room127); free(huge); free(user64); free(name256); free(token9k);
  return check_report("inputs");
}
