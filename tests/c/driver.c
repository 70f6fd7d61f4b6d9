/* Scripted C host for the scenario tests (tests/c_abi.rs drives it).
 *
 * Reads one command per line on stdin and prints one line per API result and per callback on
 * stdout, so the Rust test can inject network faults and admin kicks at known points:
 *
 *   create SLOT URL MODE          -> "ret create SLOT CODE"
 *   config SLOT TEXT              -> "ret config SLOT CODE"
 *   login SLOT ROOM USER TOKEN|- MAX NOTIFY [NAME]  -> "ret login SLOT CODE SEQ"
 *   logout SLOT ROOM|*            -> "ret logout SLOT CODE SEQ"
 *   switch SLOT FROM TO           -> "ret switch SLOT CODE"
 *   renew SLOT ROOM TOKEN         -> "ret renew SLOT CODE"
 *   destroy SLOT                  -> "ret destroy SLOT 0"
 *   quit                          -> destroys every engine, prints "bye", exits 0 (1 on ERROR)
 *
 * Callbacks print "ev SLOT KIND ...". Invariants checked on every callback print "ERROR ...":
 * one callback thread per engine, never two callbacks at once, never the caller's thread,
 * extended data a JSON object, room id non-empty, no callback after destroy returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zego_room.h"

#define SLOTS 8

typedef struct slot {
  int index;
  zego_engine *engine;
  int destroyed; /* set (under out_lock) once zego_engine_destroy returned */
  int have_thread;
  pthread_t thread;
  pthread_mutex_t busy;
} slot;

static slot slots[SLOTS];
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t main_thread;
static int errors = 0;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&out_lock);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  if (strncmp(fmt, "ERROR", 5) == 0) errors++;
  pthread_mutex_unlock(&out_lock);
}

/* Called at the start of every callback: checks the threading invariants. */
static void enter(slot *s, const char *kind, const char *ext, const char *room) {
  if (pthread_mutex_trylock(&s->busy) != 0) out("ERROR slot %d: %s while another callback runs", s->index, kind);
  if (pthread_equal(pthread_self(), main_thread)) out("ERROR slot %d: %s on the caller's thread", s->index, kind);
  pthread_mutex_lock(&out_lock);
  int destroyed = s->destroyed;
  if (!s->have_thread) {
    s->thread = pthread_self();
    s->have_thread = 1;
  } else if (!pthread_equal(s->thread, pthread_self())) {
    pthread_mutex_unlock(&out_lock);
    out("ERROR slot %d: %s on a different thread", s->index, kind);
    pthread_mutex_lock(&out_lock);
  }
  pthread_mutex_unlock(&out_lock);
  if (destroyed) out("ERROR slot %d: %s after destroy returned", s->index, kind);
  if (ext != NULL && ext[0] != '{') out("ERROR slot %d: %s extended data is not a JSON object: %s", s->index, kind, ext);
  if (room == NULL || room[0] == '\0') out("ERROR slot %d: %s without a room id", s->index, kind);
}

static void leave(slot *s) { pthread_mutex_unlock(&s->busy); }

static void on_state_changed(void *ctx, zego_room_state_changed_reason reason, zego_error code, const char *ext,
                             const char *room) {
  slot *s = ctx;
  if (ext == NULL) out("ERROR slot %d: NULL extended data", s->index);
  enter(s, "state_changed", ext ? ext : "{}", room);
  out("ev %d state_changed %d %d %s %s", s->index, (int)reason, (int)code, room, ext ? ext : "(null)");
  leave(s);
}

static void on_state_update(void *ctx, zego_room_state state, zego_error code, const char *ext, const char *room) {
  slot *s = ctx;
  if (ext == NULL) out("ERROR slot %d: NULL extended data", s->index);
  enter(s, "state_update", ext ? ext : "{}", room);
  out("ev %d state_update %d %d %s %s", s->index, (int)state, (int)code, room, ext ? ext : "(null)");
  leave(s);
}

static void on_user_update(void *ctx, zego_update_type type, const zego_user *users, uint32_t count,
                           const char *room) {
  slot *s = ctx;
  char list[4096];
  size_t used = 0;
  uint32_t i;
  enter(s, "user_update", NULL, room);
  list[0] = '\0';
  for (i = 0; i < count; i++) {
    int n = snprintf(list + used, sizeof list - used, "%s%s:%s", i ? "," : "", users[i].user_id, users[i].user_name);
    if (n < 0 || (size_t)n >= sizeof list - used) break;
    used += (size_t)n;
  }
  if (count == 0) out("ERROR slot %d: empty user update", s->index);
  out("ev %d user_update %d %s %u %s", s->index, (int)type, room, (unsigned)count, list);
  leave(s);
}

static void on_count(void *ctx, int32_t count, const char *room) {
  slot *s = ctx;
  enter(s, "count", NULL, room);
  out("ev %d count %d %s", s->index, (int)count, room);
  leave(s);
}

static void on_token(void *ctx, int32_t remain, const char *room) {
  slot *s = ctx;
  enter(s, "token_will_expire", NULL, room);
  out("ev %d token_will_expire %d %s", s->index, (int)remain, room);
  leave(s);
}

static void on_login_result(void *ctx, zego_error code, const char *ext, const char *room, zego_seq seq) {
  slot *s = ctx;
  enter(s, "login_result", ext ? ext : "{}", room);
  out("ev %d login_result %d %s %d %s", s->index, (int)code, room, (int)seq, ext ? ext : "(null)");
  leave(s);
}

static void on_logout_result(void *ctx, zego_error code, const char *ext, const char *room, zego_seq seq) {
  slot *s = ctx;
  enter(s, "logout_result", ext ? ext : "{}", room);
  out("ev %d logout_result %d %s %d %s", s->index, (int)code, room, (int)seq, ext ? ext : "(null)");
  leave(s);
}

static void on_log(void *ctx, int32_t level, const char *target, const char *message) {
  (void)ctx;
  if (level < 1 || level > 5 || target == NULL || message == NULL) out("ERROR bad log record");
}

static slot *slot_arg(const char *word) {
  int i = word ? atoi(word) : -1;
  if (i < 0 || i >= SLOTS) {
    out("ERROR bad slot %s", word ? word : "(none)");
    return NULL;
  }
  return &slots[i];
}

int main(void) {
  char *line = NULL;
  size_t cap = 0;
  int i;
  main_thread = pthread_self();
  for (i = 0; i < SLOTS; i++) {
    slots[i].index = i;
    pthread_mutex_init(&slots[i].busy, NULL);
  }
  zego_set_log_callback(on_log, NULL, 3);
  out("ready %s", zego_version());
  while (getline(&line, &cap, stdin) > 0) {
    char *save = NULL;
    char *cmd, *w;
    slot *s;
    line[strcspn(line, "\r\n")] = '\0';
    cmd = strtok_r(line, " ", &save);
    if (cmd == NULL) continue;
    if (strcmp(cmd, "quit") == 0) break;
    s = slot_arg(strtok_r(NULL, " ", &save));
    if (s == NULL) continue;
    if (strcmp(cmd, "create") == 0) {
      zego_engine_profile p;
      char *url = strtok_r(NULL, " ", &save);
      w = strtok_r(NULL, " ", &save);
      p.app_id = 1234567u;
      p.server = url;
      p.room_mode = w ? atoi(w) : 0;
      zego_error code = zego_engine_create(&p, &s->engine);
      if (code == 0) {
        s->destroyed = 0;
        s->have_thread = 0;
        zego_engine_register_room_state_changed_callback(s->engine, on_state_changed, s);
        zego_engine_register_room_state_update_callback(s->engine, on_state_update, s);
        zego_engine_register_room_user_update_callback(s->engine, on_user_update, s);
        zego_engine_register_room_online_user_count_update_callback(s->engine, on_count, s);
        zego_engine_register_room_token_will_expire_callback(s->engine, on_token, s);
        zego_engine_register_room_login_result_callback(s->engine, on_login_result, s);
        zego_engine_register_room_logout_result_callback(s->engine, on_logout_result, s);
      }
      out("ret create %d %d", s->index, (int)code);
    } else if (strcmp(cmd, "config") == 0) {
      w = strtok_r(NULL, "", &save);
      out("ret config %d %d", s->index, (int)zego_engine_set_engine_config(s->engine, w ? w : ""));
    } else if (strcmp(cmd, "login") == 0) {
      zego_user u;
      zego_room_config c;
      zego_seq seq = -1;
      char *room = strtok_r(NULL, " ", &save);
      char *user = strtok_r(NULL, " ", &save);
      char *token = strtok_r(NULL, " ", &save);
      char *max = strtok_r(NULL, " ", &save);
      char *notify = strtok_r(NULL, " ", &save);
      char *name = strtok_r(NULL, "", &save);
      u.user_id = user;
      u.user_name = name;
      c.max_member_count = max ? (uint32_t)strtoul(max, NULL, 10) : 0u;
      c.is_user_status_notify = notify && atoi(notify) != 0;
      c.token = (token && strcmp(token, "-") != 0) ? token : NULL;
      zego_error code = zego_engine_login_room(s->engine, room, &u, &c, &seq);
      out("ret login %d %d %d", s->index, (int)code, (int)seq);
    } else if (strcmp(cmd, "logout") == 0) {
      zego_seq seq = -1;
      char *room = strtok_r(NULL, " ", &save);
      zego_error code = zego_engine_logout_room(s->engine, (room && strcmp(room, "*") != 0) ? room : NULL, &seq);
      out("ret logout %d %d %d", s->index, (int)code, (int)seq);
    } else if (strcmp(cmd, "switch") == 0) {
      char *from = strtok_r(NULL, " ", &save);
      char *to = strtok_r(NULL, " ", &save);
      out("ret switch %d %d", s->index, (int)zego_engine_switch_room(s->engine, from, to, NULL));
    } else if (strcmp(cmd, "renew") == 0) {
      char *room = strtok_r(NULL, " ", &save);
      char *token = strtok_r(NULL, " ", &save);
      out("ret renew %d %d", s->index, (int)zego_engine_renew_token(s->engine, room, token));
    } else if (strcmp(cmd, "destroy") == 0) {
      zego_engine_destroy(s->engine);
      pthread_mutex_lock(&out_lock);
      s->destroyed = 1;
      pthread_mutex_unlock(&out_lock);
      out("ret destroy %d 0", s->index);
    } else {
      out("ERROR unknown command %s", cmd);
    }
  }
  free(line);
  for (i = 0; i < SLOTS; i++) {
    if (slots[i].engine) {
      zego_engine_destroy(slots[i].engine);
      pthread_mutex_lock(&out_lock);
      slots[i].destroyed = 1;
      pthread_mutex_unlock(&out_lock);
    }
  }
  zego_set_log_callback(NULL, NULL, 0);
  out("bye");
  return errors ? 1 : 0;
}
