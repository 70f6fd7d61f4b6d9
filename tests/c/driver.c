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
 * Streams and messaging (ROOM "-" = NULL room in configs / "" for lists; TO "-" = everyone):
 *   publish SLOT STREAM CHANNEL [ROOM]      -> "ret publish SLOT CODE"
 *   stoppublish SLOT CHANNEL                -> "ret stoppublish SLOT CODE"
 *   play SLOT STREAM [ROOM]                 -> "ret play SLOT CODE"
 *   stopplay SLOT STREAM                    -> "ret stopplay SLOT CODE"
 *   streamextra SLOT CHANNEL [TEXT]         -> "ret streamextra SLOT CODE SEQ"
 *   sei SLOT CHANNEL HEX                    -> "ret sei SLOT CODE"
 *   list SLOT TYPE ROOM|-                   -> "ret list SLOT CODE COUNT S|U|N|X,..." (sorted by stream id)
 *   broadcast SLOT ROOM TEXT                -> "ret broadcast SLOT CODE SEQ"
 *   barrage SLOT ROOM TEXT                  -> "ret barrage SLOT CODE SEQ"
 *   command SLOT ROOM TO[,TO...]|- TEXT     -> "ret command SLOT CODE SEQ"
 *   roomextra SLOT ROOM KEY [VALUE]         -> "ret roomextra SLOT CODE SEQ"
 *   quit                          -> destroys every engine, prints "bye", exits 0 (1 on ERROR)
 *
 * Callbacks print "ev SLOT KIND ..."; streams as STREAM|USER|NAME|EXTRA joined by ",", SEI
 * data as hex, one line per received message ("recv_broadcast_msg ROOM ID TIME USER TEXT"). Invariants checked on every callback print "ERROR ...":
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

/* ---- streams ---------------------------------------------------------------------------- */

static void print_streams(char *buf, size_t cap, const zego_stream *list, uint32_t count) {
  size_t used = 0;
  uint32_t i;
  buf[0] = '\0';
  for (i = 0; i < count; i++) {
    int n = snprintf(buf + used, cap - used, "%s%s|%s|%s|%s", i ? "," : "", list[i].stream_id, list[i].user.user_id,
                     list[i].user.user_name, list[i].extra_info);
    if (n < 0 || (size_t)n >= cap - used) break;
    used += (size_t)n;
  }
}

static void on_stream_update(void *ctx, zego_update_type type, const zego_stream *list, uint32_t count,
                             const char *ext, const char *room) {
  slot *s = ctx;
  char buf[8192];
  if (ext == NULL) out("ERROR slot %d: NULL extended data", s->index);
  enter(s, "stream_update", ext ? ext : "{}", room);
  if (count == 0) out("ERROR slot %d: empty stream update", s->index);
  print_streams(buf, sizeof buf, list, count);
  out("ev %d stream_update %d %s %u %s %s", s->index, (int)type, room, (unsigned)count, buf, ext ? ext : "(null)");
  leave(s);
}

static void on_stream_extra(void *ctx, const zego_stream *list, uint32_t count, const char *room) {
  slot *s = ctx;
  char buf[8192];
  enter(s, "stream_extra", NULL, room);
  print_streams(buf, sizeof buf, list, count);
  out("ev %d stream_extra %s %u %s", s->index, room, (unsigned)count, buf);
  leave(s);
}

static void on_publisher_state(void *ctx, zego_publisher_state state, zego_error code, const char *ext,
                               const char *stream) {
  slot *s = ctx;
  if (ext == NULL) out("ERROR slot %d: NULL extended data", s->index);
  enter(s, "publisher_state", ext ? ext : "{}", stream);
  out("ev %d publisher_state %d %d %s %s", s->index, (int)state, (int)code, stream, ext ? ext : "(null)");
  leave(s);
}

static void on_player_state(void *ctx, zego_player_state state, zego_error code, const char *ext, const char *stream) {
  slot *s = ctx;
  if (ext == NULL) out("ERROR slot %d: NULL extended data", s->index);
  enter(s, "player_state", ext ? ext : "{}", stream);
  out("ev %d player_state %d %d %s %s", s->index, (int)state, (int)code, stream, ext ? ext : "(null)");
  leave(s);
}

static void on_stream_extra_result(void *ctx, zego_error code, zego_seq seq) {
  slot *s = ctx;
  enter(s, "stream_extra_result", NULL, "-");
  out("ev %d stream_extra_result %d %d", s->index, (int)code, (int)seq);
  leave(s);
}

static void on_sei(void *ctx, const uint8_t *data, uint32_t len, const char *stream) {
  slot *s = ctx;
  static const char digits[] = "0123456789abcdef";
  char *hex = malloc((size_t)len * 2 + 1);
  uint32_t i;
  enter(s, "sei", NULL, stream);
  if (data == NULL || len == 0 || len > 4096) out("ERROR slot %d: SEI frame of %u bytes", s->index, (unsigned)len);
  for (i = 0; hex && data && i < len; i++) {
    hex[2 * i] = digits[data[i] >> 4];
    hex[2 * i + 1] = digits[data[i] & 15];
  }
  if (hex) hex[(size_t)len * 2] = '\0';
  out("ev %d sei %s %u %s", s->index, stream, (unsigned)len, hex ? hex : "(oom)");
  free(hex);
  leave(s);
}

/* ---- messaging and room extra info -------------------------------------------------------- */

static void on_broadcast_result(void *ctx, zego_error code, uint64_t id, const char *room, zego_seq seq) {
  slot *s = ctx;
  enter(s, "broadcast_result", NULL, room);
  out("ev %d broadcast_result %d %llu %s %d", s->index, (int)code, (unsigned long long)id, room, (int)seq);
  leave(s);
}

static void on_barrage_result(void *ctx, zego_error code, const char *id, const char *room, zego_seq seq) {
  slot *s = ctx;
  enter(s, "barrage_result", NULL, room);
  if (id == NULL) out("ERROR slot %d: NULL barrage message id", s->index);
  out("ev %d barrage_result %d %s %s %d", s->index, (int)code, id ? (id[0] ? id : "-") : "(null)", room, (int)seq);
  leave(s);
}

static void on_command_result(void *ctx, zego_error code, const char *room, zego_seq seq) {
  slot *s = ctx;
  enter(s, "command_result", NULL, room);
  out("ev %d command_result %d %s %d", s->index, (int)code, room, (int)seq);
  leave(s);
}

static void on_room_extra_result(void *ctx, zego_error code, const char *room, const char *key, zego_seq seq) {
  slot *s = ctx;
  enter(s, "roomextra_result", NULL, room);
  out("ev %d roomextra_result %d %s %s %d", s->index, (int)code, room, key, (int)seq);
  leave(s);
}

static void on_recv_broadcast(void *ctx, const zego_broadcast_message_info *list, uint32_t count, const char *room) {
  slot *s = ctx;
  uint32_t i;
  enter(s, "recv_broadcast", NULL, room);
  if (count < 1 || count > 50) out("ERROR slot %d: %u broadcast messages in one call", s->index, (unsigned)count);
  out("ev %d recv_broadcast %s %u", s->index, room, (unsigned)count);
  for (i = 0; i < count; i++)
    out("ev %d recv_broadcast_msg %s %llu %llu %s %s", s->index, room, (unsigned long long)list[i].message_id,
        (unsigned long long)list[i].send_time, list[i].from_user.user_id, list[i].message);
  leave(s);
}

static void on_recv_barrage(void *ctx, const zego_barrage_message_info *list, uint32_t count, const char *room) {
  slot *s = ctx;
  uint32_t i;
  enter(s, "recv_barrage", NULL, room);
  if (count < 1 || count > 50) out("ERROR slot %d: %u barrage messages in one call", s->index, (unsigned)count);
  out("ev %d recv_barrage %s %u", s->index, room, (unsigned)count);
  for (i = 0; i < count; i++)
    out("ev %d recv_barrage_msg %s %s %llu %s %s", s->index, room, list[i].message_id,
        (unsigned long long)list[i].send_time, list[i].from_user.user_id, list[i].message);
  leave(s);
}

static void on_recv_command(void *ctx, const char *command, const zego_user *from, const char *room) {
  slot *s = ctx;
  enter(s, "recv_command", NULL, room);
  if (from == NULL) out("ERROR slot %d: NULL from_user", s->index);
  out("ev %d recv_command %s %s %s %s", s->index, room, from ? from->user_id : "(null)", from ? from->user_name : "(null)",
      command);
  leave(s);
}

static void on_room_extra(void *ctx, const zego_room_extra_info *list, uint32_t count, const char *room) {
  slot *s = ctx;
  uint32_t i;
  enter(s, "room_extra", NULL, room);
  out("ev %d room_extra %s %u", s->index, room, (unsigned)count);
  for (i = 0; i < count; i++)
    out("ev %d room_extra_info %s %s %s %llu %s", s->index, room, list[i].key, list[i].update_user.user_id,
        (unsigned long long)list[i].update_time, list[i].value);
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
        zego_engine_register_room_stream_update_callback(s->engine, on_stream_update, s);
        zego_engine_register_room_stream_extra_info_update_callback(s->engine, on_stream_extra, s);
        zego_engine_register_publisher_state_update_callback(s->engine, on_publisher_state, s);
        zego_engine_register_player_state_update_callback(s->engine, on_player_state, s);
        zego_engine_register_publisher_update_stream_extra_info_result_callback(s->engine, on_stream_extra_result, s);
        zego_engine_register_player_recv_sei_callback(s->engine, on_sei, s);
        zego_engine_register_im_send_broadcast_message_result_callback(s->engine, on_broadcast_result, s);
        zego_engine_register_im_send_barrage_message_result_callback(s->engine, on_barrage_result, s);
        zego_engine_register_im_send_custom_command_result_callback(s->engine, on_command_result, s);
        zego_engine_register_room_set_room_extra_info_result_callback(s->engine, on_room_extra_result, s);
        zego_engine_register_im_recv_broadcast_message_callback(s->engine, on_recv_broadcast, s);
        zego_engine_register_im_recv_barrage_message_callback(s->engine, on_recv_barrage, s);
        zego_engine_register_im_recv_custom_command_callback(s->engine, on_recv_command, s);
        zego_engine_register_room_extra_info_update_callback(s->engine, on_room_extra, s);
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
    } else if (strcmp(cmd, "publish") == 0) {
      char *stream = strtok_r(NULL, " ", &save);
      char *ch = strtok_r(NULL, " ", &save);
      char *room = strtok_r(NULL, " ", &save);
      zego_publisher_config c;
      c.room_id = room;
      out("ret publish %d %d", s->index,
          (int)zego_engine_start_publishing_stream(s->engine, stream, room ? &c : NULL, ch ? atoi(ch) : 0));
    } else if (strcmp(cmd, "stoppublish") == 0) {
      w = strtok_r(NULL, " ", &save);
      out("ret stoppublish %d %d", s->index, (int)zego_engine_stop_publishing_stream(s->engine, w ? atoi(w) : 0));
    } else if (strcmp(cmd, "play") == 0) {
      char *stream = strtok_r(NULL, " ", &save);
      char *room = strtok_r(NULL, " ", &save);
      zego_player_config c;
      c.room_id = room;
      out("ret play %d %d", s->index, (int)zego_engine_start_playing_stream(s->engine, stream, room ? &c : NULL));
    } else if (strcmp(cmd, "stopplay") == 0) {
      w = strtok_r(NULL, " ", &save);
      out("ret stopplay %d %d", s->index, (int)zego_engine_stop_playing_stream(s->engine, w));
    } else if (strcmp(cmd, "streamextra") == 0) {
      zego_seq seq = -1;
      char *ch = strtok_r(NULL, " ", &save);
      char *text = strtok_r(NULL, "", &save);
      zego_error code = zego_engine_set_stream_extra_info(s->engine, text ? text : "", ch ? atoi(ch) : 0, &seq);
      out("ret streamextra %d %d %d", s->index, (int)code, (int)seq);
    } else if (strcmp(cmd, "sei") == 0) {
      char *ch = strtok_r(NULL, " ", &save);
      char *hex = strtok_r(NULL, " ", &save);
      size_t n = hex ? strlen(hex) / 2 : 0, i;
      uint8_t *data = malloc(n ? n : 1);
      for (i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        data[i] = (uint8_t)v;
      }
      out("ret sei %d %d", s->index, (int)zego_engine_send_sei(s->engine, data, (uint32_t)n, ch ? atoi(ch) : 0));
      free(data);
    } else if (strcmp(cmd, "list") == 0) {
      char *type = strtok_r(NULL, " ", &save);
      char *room = strtok_r(NULL, " ", &save);
      zego_stream *list = NULL;
      uint32_t count = 0;
      char buf[8192];
      zego_error code = zego_engine_get_room_stream_list(s->engine, (room && strcmp(room, "-") != 0) ? room : "",
                                                         type ? atoi(type) : 0, &list, &count);
      buf[0] = '\0';
      if (code == 0) print_streams(buf, sizeof buf, list, count);
      out("ret list %d %d %u %s", s->index, (int)code, (unsigned)count, buf);
      zego_stream_list_free(list, count);
    } else if (strcmp(cmd, "broadcast") == 0 || strcmp(cmd, "barrage") == 0) {
      zego_seq seq = -1;
      char *room = strtok_r(NULL, " ", &save);
      char *text = strtok_r(NULL, "", &save);
      zego_error code = cmd[1] == 'r' ? zego_engine_send_broadcast_message(s->engine, room, text ? text : "", &seq)
                                      : zego_engine_send_barrage_message(s->engine, room, text ? text : "", &seq);
      out("ret %s %d %d %d", cmd, s->index, (int)code, (int)seq);
    } else if (strcmp(cmd, "command") == 0) {
      zego_seq seq = -1;
      zego_user to[8];
      uint32_t n = 0;
      char *room = strtok_r(NULL, " ", &save);
      char *targets = strtok_r(NULL, " ", &save);
      char *text = strtok_r(NULL, "", &save);
      if (targets && strcmp(targets, "-") != 0) {
        char *tsave = NULL, *t;
        for (t = strtok_r(targets, ",", &tsave); t && n < 8; t = strtok_r(NULL, ",", &tsave)) {
          to[n].user_id = t;
          to[n].user_name = NULL;
          n++;
        }
      }
      zego_error code = zego_engine_send_custom_command(s->engine, room, text ? text : "", n ? to : NULL, n, &seq);
      out("ret command %d %d %d", s->index, (int)code, (int)seq);
    } else if (strcmp(cmd, "roomextra") == 0) {
      zego_seq seq = -1;
      char *room = strtok_r(NULL, " ", &save);
      char *key = strtok_r(NULL, " ", &save);
      char *value = strtok_r(NULL, "", &save);
      zego_error code = zego_engine_set_room_extra_info(s->engine, room, key, value ? value : "", &seq);
      out("ret roomextra %d %d %d", s->index, (int)code, (int)seq);
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
