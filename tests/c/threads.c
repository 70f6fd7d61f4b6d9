/* Threads: API calls from 4 pthreads while events flow, then destroy from the main thread:
 * no callback after destroy returns, every later call returns 1000001, no crash. Then, on a
 * second engine, callbacks are re-registered (and unregistered with NULL) while events flow:
 * once a registration returns, the previous function is never called with the previous context.
 * Usage: threads WS_URL (a server without authentication) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "zego_room.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zego_engine *engine;
static int destroyed = 0, stop = 0, callbacks = 0, late_callbacks = 0, after_destroy_ok = 0, after_destroy_bad = 0;

static int get(int *v) {
  int r;
  pthread_mutex_lock(&lock);
  r = *v;
  pthread_mutex_unlock(&lock);
  return r;
}

static void count_callback(void) {
  pthread_mutex_lock(&lock);
  callbacks++;
  if (destroyed) late_callbacks++;
  pthread_mutex_unlock(&lock);
}

static void on_state(void *c, zego_room_state_changed_reason r, zego_error e, const char *x, const char *room) {
  (void)c; (void)r; (void)e; (void)x; (void)room;
  count_callback();
}
static void on_legacy(void *c, zego_room_state s, zego_error e, const char *x, const char *room) {
  (void)c; (void)s; (void)e; (void)x; (void)room;
  count_callback();
}
static void on_users(void *c, zego_update_type t, const zego_user *l, uint32_t n, const char *room) {
  uint32_t i;
  (void)c; (void)t; (void)room;
  for (i = 0; i < n; i++) CHECK(l[i].user_id != NULL && l[i].user_name != NULL);
  count_callback();
}
static void on_result(void *c, zego_error e, const char *x, const char *room, zego_seq seq) {
  (void)c; (void)e; (void)x; (void)room; (void)seq;
  count_callback();
}

static void *worker(void *arg) {
  int k = (int)(size_t)arg, i = 0;
  char room[32], other[32];
  zego_user u = { "worker", NULL };
  zego_room_config c = { 0u, true, NULL };
  snprintf(room, sizeof room, "t%d", k);
  snprintf(other, sizeof other, "t%d-x", k);
  while (!get(&stop)) {
    zego_error r[6];
    int was_destroyed = get(&destroyed);
    r[0] = zego_engine_login_room(engine, room, &u, &c, NULL);
    r[1] = zego_engine_renew_token(engine, room, "token");
    r[2] = zego_engine_set_engine_config(engine, "room_retry_time=30");
    r[3] = zego_engine_logout_room(engine, (i % 3 == 0) ? other : room, NULL);
    r[4] = zego_engine_switch_room(engine, room, other, NULL);
    if (i % 2) zego_engine_register_room_user_update_callback(engine, on_users, NULL);
    else zego_engine_register_room_user_update_callback(engine, NULL, NULL);
    r[5] = zego_engine_logout_room(engine, NULL, NULL);
    if (was_destroyed) {
      int j, all = 1;
      for (j = 0; j < 6; j++) all &= (r[j] == 1000001);
      pthread_mutex_lock(&lock);
      if (all) after_destroy_ok++;
      else after_destroy_bad++;
      pthread_mutex_unlock(&lock);
    }
    if (k == 3 && i == 40) {
      /* One worker also races a destroy of its own against the main thread's. */
      zego_engine_destroy(NULL);
    }
    i++;
    sleep_ms(2);
  }
  return NULL;
}

/* ---- part 2: registration while events flow ---- */
#define CTXS 200
typedef struct reg_ctx {
  int retired;
  int calls;
} reg_ctx;
static reg_ctx ctxs[CTXS];
static zego_engine *engine2;
static int stale_calls = 0, total_calls = 0;

static void on_state2(void *c, zego_room_state_changed_reason r, zego_error e, const char *x, const char *room) {
  reg_ctx *ctx = c;
  (void)r; (void)e; (void)x; (void)room;
  pthread_mutex_lock(&lock);
  if (ctx->retired) stale_calls++;
  ctx->calls++;
  total_calls++;
  pthread_mutex_unlock(&lock);
  sleep_ms(1); /* widen the window in which a registration must wait for this call */
  pthread_mutex_lock(&lock);
  if (ctx->retired) stale_calls++;
  pthread_mutex_unlock(&lock);
}

static void *churn(void *arg) {
  zego_user u = { "churner", NULL };
  int i = 0;
  (void)arg;
  while (!get(&stop)) {
    zego_engine_login_room(engine2, "churn", &u, NULL, NULL);
    sleep_ms(3);
    zego_engine_logout_room(engine2, (i++ % 2) ? "churn" : "not-joined", NULL);
    sleep_ms(3);
  }
  return NULL;
}

int main(int argc, char **argv) {
  zego_engine_profile p = { 1234567u, NULL, ZEGO_ROOM_MODE_MULTI_ROOM };
  pthread_t t[4], c;
  int i, before;
  if (argc < 2) return 2;
  p.server = argv[1];

  /* Part 1 */
  CHECK_EQ(zego_engine_create(&p, &engine), 0);
  zego_engine_register_room_state_changed_callback(engine, on_state, NULL);
  zego_engine_register_room_state_update_callback(engine, on_legacy, NULL);
  zego_engine_register_room_login_result_callback(engine, on_result, NULL);
  zego_engine_register_room_logout_result_callback(engine, on_result, NULL);
  for (i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
  WAIT_FOR(get(&callbacks) >= 200, 10.0);
  CHECK(get(&callbacks) >= 200); /* events really were flowing */
  zego_engine_destroy(engine);
  pthread_mutex_lock(&lock);
  destroyed = 1;
  pthread_mutex_unlock(&lock);
  sleep_ms(300);
  pthread_mutex_lock(&lock);
  stop = 1;
  pthread_mutex_unlock(&lock);
  for (i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK_EQ(get(&late_callbacks), 0);
  CHECK(get(&after_destroy_ok) > 0);
  CHECK_EQ(get(&after_destroy_bad), 0);
  printf("part 1: %d callbacks before destroy, %d call rounds after it\n", get(&callbacks), get(&after_destroy_ok));

  /* Part 2 */
  stop = 0;
  p.room_mode = ZEGO_ROOM_MODE_SINGLE_ROOM;
  CHECK_EQ(zego_engine_create(&p, &engine2), 0);
  pthread_create(&c, NULL, churn, NULL);
  for (i = 0; i < CTXS; i++) {
    /* Every 4th registration is NULL (unregister), the others a fresh context. */
    if (i % 4 == 3) zego_engine_register_room_state_changed_callback(engine2, NULL, &ctxs[i]);
    else zego_engine_register_room_state_changed_callback(engine2, on_state2, &ctxs[i]);
    if (i > 0) {
      pthread_mutex_lock(&lock);
      ctxs[i - 1].retired = 1;
      pthread_mutex_unlock(&lock);
    }
    sleep_ms(4);
  }
  zego_engine_register_room_state_changed_callback(engine2, NULL, NULL);
  pthread_mutex_lock(&lock);
  ctxs[CTXS - 1].retired = 1;
  before = total_calls;
  pthread_mutex_unlock(&lock);
  sleep_ms(100);
  CHECK_EQ(get(&total_calls), before); /* unregistered: nothing more */
  pthread_mutex_lock(&lock);
  stop = 1;
  pthread_mutex_unlock(&lock);
  pthread_join(c, NULL);
  zego_engine_destroy(engine2);
  CHECK_EQ(get(&stale_calls), 0);
  CHECK(get(&total_calls) >= 20);
  for (i = 3; i < CTXS; i += 4) CHECK_EQ(ctxs[i].calls, 0);
  printf("part 2: %d callbacks across %d registrations\n", get(&total_calls), CTXS);
  return check_report("threads");
}
