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

/* Stream and messaging callbacks: count what arrives; the extra info result records its seq. */
static int stream_events = 0, extra_results = 0;
static zego_seq last_extra_seq = 0;
static int publisher_requesting = 0;

static void on_publisher_state(void *ctx, zego_publisher_state state, zego_error code, const char *ext, const char *id) {
  (void)ctx; (void)code; (void)ext;
  CHECK(id != NULL && ext != NULL);
  pthread_mutex_lock(&lock);
  stream_events++;
  if (state == ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING) publisher_requesting++;
  pthread_mutex_unlock(&lock);
}

static void on_extra_result(void *ctx, zego_error code, zego_seq seq) {
  CHECK(ctx == (void *)&extra_results);
  CHECK_EQ(code, 0);
  pthread_mutex_lock(&lock);
  extra_results++;
  last_extra_seq = seq;
  pthread_mutex_unlock(&lock);
}

static void on_any_stream_list(void *ctx, zego_update_type t, const zego_stream *l, uint32_t n, const char *ext,
                               const char *room) {
  (void)ctx; (void)t; (void)l; (void)n; (void)ext; (void)room;
  pthread_mutex_lock(&lock);
  stream_events++;
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
#define LIST_SENTINEL ((zego_stream *)(uintptr_t)0xdeadbee0u)

/* Every stream and messaging function with a NULL or stray engine handle: 1000001, nothing written. */
static void streams_messaging_bad_handle(zego_engine *h) {
  zego_seq seq = -7;
  zego_stream *list = LIST_SENTINEL;
  uint32_t count = 77;
  zego_user to = { "bob", NULL };
  const uint8_t sei[2] = { 0, 1 };
  CHECK_EQ(zego_engine_start_publishing_stream(h, "s1", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000001);
  CHECK_EQ(zego_engine_stop_publishing_stream(h, ZEGO_PUBLISH_CHANNEL_MAIN), 1000001);
  CHECK_EQ(zego_engine_set_stream_extra_info(h, "x", ZEGO_PUBLISH_CHANNEL_MAIN, &seq), 1000001);
  CHECK_EQ(zego_engine_start_playing_stream(h, "s1", NULL), 1000001);
  CHECK_EQ(zego_engine_stop_playing_stream(h, "s1"), 1000001);
  CHECK_EQ(zego_engine_send_sei(h, sei, 2, ZEGO_PUBLISH_CHANNEL_MAIN), 1000001);
  CHECK_EQ(zego_engine_get_room_stream_list(h, "", ZEGO_ROOM_STREAM_LIST_TYPE_ALL, &list, &count), 1000001);
  CHECK_EQ(zego_engine_send_broadcast_message(h, "r", "m", &seq), 1000001);
  CHECK_EQ(zego_engine_send_barrage_message(h, "r", "m", &seq), 1000001);
  CHECK_EQ(zego_engine_send_custom_command(h, "r", "m", &to, 1, &seq), 1000001);
  CHECK_EQ(zego_engine_set_room_extra_info(h, "r", "k", "v", &seq), 1000001);
  CHECK_EQ(seq, -7);
  CHECK(list == LIST_SENTINEL);
  CHECK_EQ(count, 77);
  zego_engine_register_room_stream_update_callback(h, NULL, NULL);
  zego_engine_register_room_stream_extra_info_update_callback(h, NULL, NULL);
  zego_engine_register_publisher_state_update_callback(h, NULL, NULL);
  zego_engine_register_player_state_update_callback(h, NULL, NULL);
  zego_engine_register_publisher_update_stream_extra_info_result_callback(h, NULL, NULL);
  zego_engine_register_player_recv_sei_callback(h, NULL, NULL);
  zego_engine_register_im_send_broadcast_message_result_callback(h, NULL, NULL);
  zego_engine_register_im_send_barrage_message_result_callback(h, NULL, NULL);
  zego_engine_register_im_send_custom_command_result_callback(h, NULL, NULL);
  zego_engine_register_room_set_room_extra_info_result_callback(h, NULL, NULL);
  zego_engine_register_im_recv_broadcast_message_callback(h, NULL, NULL);
  zego_engine_register_im_recv_barrage_message_callback(h, NULL, NULL);
  zego_engine_register_im_recv_custom_command_callback(h, NULL, NULL);
  zego_engine_register_room_extra_info_update_callback(h, NULL, NULL);
}

/* Streams and messaging on an engine that is in no room: every raw-input code (contract §6.1,
 * §7.1), then "not joined" for valid input. Nothing is written, no event follows. */
static void streams_messaging_bad_input(zego_engine *e, const char *huge) {
  zego_seq seq = -7;
  zego_stream *list = LIST_SENTINEL;
  uint32_t count = 77;
  char *s256 = repeat('s', 256), *s255 = repeat('s', 255), *m1025 = repeat('m', 1025), *x1025 = repeat('x', 1025);
  char *u64 = repeat('u', 64), *k11 = repeat('k', 11), *v129 = repeat('v', 129), *r128 = repeat('r', 128);
  uint8_t *sei = calloc(1, 4097);
  zego_publisher_config pub = { NULL };
  zego_player_config play = { NULL };
  zego_user six[6] = { { "a", NULL }, { "b", NULL }, { "c", NULL }, { "d", NULL }, { "e", NULL }, { "f", NULL } };
  zego_user bad = { "", NULL };

  /* start_publishing_stream: stream id codes on the raw bytes, channel range, then the room. */
  CHECK_EQ(zego_engine_start_publishing_stream(e, NULL, NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000015);
  CHECK_EQ(zego_engine_start_publishing_stream(e, s256, NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000014);
  CHECK_EQ(zego_engine_start_publishing_stream(e, huge, NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000014);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "a.b", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000016);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s\xff", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000016);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s\xc3\xa9", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1000016);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s1", NULL, (zego_publish_channel)4), 1000017);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s1", NULL, (zego_publish_channel)-1), 1000017);
  CHECK_EQ(zego_engine_start_publishing_stream(e, s255, NULL, ZEGO_PUBLISH_CHANNEL_FOURTH), 1000002);
  CHECK_EQ(zego_engine_start_publishing_stream(e, "Az09_-", &pub, ZEGO_PUBLISH_CHANNEL_MAIN), 1000002);
  pub.room_id = "r";
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s1", &pub, ZEGO_PUBLISH_CHANNEL_MAIN), 1000002);
  pub.room_id = huge;
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s1", &pub, ZEGO_PUBLISH_CHANNEL_MAIN), 1000002);
  pub.room_id = "r\xff";
  CHECK_EQ(zego_engine_start_publishing_stream(e, "s1", &pub, ZEGO_PUBLISH_CHANNEL_MAIN), 1000002);

  /* stop_publishing_stream: only the channel can be wrong; an idle channel is fine. */
  CHECK_EQ(zego_engine_stop_publishing_stream(e, (zego_publish_channel)4), 1000017);
  CHECK_EQ(zego_engine_stop_publishing_stream(e, (zego_publish_channel)-1), 1000017);
  CHECK_EQ(zego_engine_stop_publishing_stream(e, ZEGO_PUBLISH_CHANNEL_AUX), 0);

  /* set_stream_extra_info: NULL, 1025 bytes, not UTF-8, channel. */
  CHECK_EQ(zego_engine_set_stream_extra_info(e, NULL, ZEGO_PUBLISH_CHANNEL_MAIN, &seq), 1000017);
  CHECK_EQ(zego_engine_set_stream_extra_info(e, x1025, ZEGO_PUBLISH_CHANNEL_MAIN, &seq), 1000017);
  CHECK_EQ(zego_engine_set_stream_extra_info(e, huge, ZEGO_PUBLISH_CHANNEL_MAIN, &seq), 1000017);
  CHECK_EQ(zego_engine_set_stream_extra_info(e, "bad\xc3", ZEGO_PUBLISH_CHANNEL_MAIN, &seq), 1000017);
  CHECK_EQ(zego_engine_set_stream_extra_info(e, "ok", (zego_publish_channel)9, &seq), 1000017);

  /* start/stop_playing_stream */
  CHECK_EQ(zego_engine_start_playing_stream(e, NULL, NULL), 1000017);
  CHECK_EQ(zego_engine_start_playing_stream(e, "", NULL), 1000015);
  CHECK_EQ(zego_engine_start_playing_stream(e, huge, NULL), 1000014);
  CHECK_EQ(zego_engine_start_playing_stream(e, "a b", NULL), 1000016);
  CHECK_EQ(zego_engine_start_playing_stream(e, "s1", NULL), 1000002);
  play.room_id = "r\xff";
  CHECK_EQ(zego_engine_start_playing_stream(e, "s1", &play), 1000002);
  play.room_id = "";
  CHECK_EQ(zego_engine_start_playing_stream(e, "s1", &play), 1000002);
  CHECK_EQ(zego_engine_stop_playing_stream(e, NULL), 1000017);
  CHECK_EQ(zego_engine_stop_playing_stream(e, ""), 1000015);
  CHECK_EQ(zego_engine_stop_playing_stream(e, s256), 1000014);
  CHECK_EQ(zego_engine_stop_playing_stream(e, "a\xff"), 1000016);
  CHECK_EQ(zego_engine_stop_playing_stream(e, "not-played"), 0);

  /* send_sei: binary data; sizes 1-4096; never read beyond data_length (ASan checks it). */
  CHECK_EQ(zego_engine_send_sei(e, NULL, 1, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, NULL, 0, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, sei, 0, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, sei, 4097, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, sei, UINT32_MAX, ZEGO_PUBLISH_CHANNEL_MAIN), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, sei, 4, (zego_publish_channel)4), 1000017);
  CHECK_EQ(zego_engine_send_sei(e, sei, 4096, ZEGO_PUBLISH_CHANNEL_MAIN), 1003001); /* NULs are data */

  /* get_room_stream_list: NULL pointers, the type, then the room; outputs untouched. */
  CHECK_EQ(zego_engine_get_room_stream_list(e, NULL, ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 1000017);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "", ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, NULL, &count), 1000017);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "", ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, NULL), 1000017);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "", (zego_room_stream_list_type)2, &list, &count), 1000017);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "", (zego_room_stream_list_type)-1, &list, &count), 1000017);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "", ZEGO_ROOM_STREAM_LIST_TYPE_ALL, &list, &count), 1000002);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "r", ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 1000002);
  CHECK_EQ(zego_engine_get_room_stream_list(e, huge, ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 1000002);
  CHECK_EQ(zego_engine_get_room_stream_list(e, "\xff", ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 1000002);
  CHECK(list == LIST_SENTINEL);
  CHECK_EQ(count, 77);

  /* broadcast / barrage: message codes before the room (as the core checks them). */
  CHECK_EQ(zego_engine_send_broadcast_message(e, NULL, "m", &seq), 1000017);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", NULL, &seq), 1000017);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", "", &seq), 1009001);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", m1025, &seq), 1009002);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", huge, &seq), 1009002);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", "m\xff", &seq), 1000017);
  CHECK_EQ(zego_engine_send_broadcast_message(e, huge, "", &seq), 1009001);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r", "hello", &seq), 1009005);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "", "hello", &seq), 1009005);
  CHECK_EQ(zego_engine_send_broadcast_message(e, r128, "hello", &seq), 1009005);
  CHECK_EQ(zego_engine_send_broadcast_message(e, "r\xff", "hello", NULL), 1009005);
  CHECK_EQ(zego_engine_send_barrage_message(e, NULL, "m", &seq), 1000017);
  CHECK_EQ(zego_engine_send_barrage_message(e, "r", NULL, &seq), 1000017);
  CHECK_EQ(zego_engine_send_barrage_message(e, "r", "", &seq), 1009001);
  CHECK_EQ(zego_engine_send_barrage_message(e, "r", m1025, &seq), 1009002);
  CHECK_EQ(zego_engine_send_barrage_message(e, "r", "\xc3", &seq), 1000017);
  CHECK_EQ(zego_engine_send_barrage_message(e, "r", "hello", &seq), 1009005);

  /* custom command: the command, then the targets (count before any element is read), then the room. */
  CHECK_EQ(zego_engine_send_custom_command(e, NULL, "c", NULL, 0, &seq), 1000017);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", NULL, NULL, 0, &seq), 1000017);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "", NULL, 0, &seq), 1009001);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", m1025, NULL, 0, &seq), 1009002);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", NULL, 1, &seq), 1000017);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", six, 6, &seq), 1000017);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", six, UINT32_MAX, &seq), 1000017);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", &bad, 1, &seq), 1009011);
  bad.user_id = u64;
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", &bad, 1, &seq), 1009012);
  bad.user_id = huge;
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", &bad, 1, &seq), 1009012);
  bad.user_id = NULL;
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", &bad, 1, &seq), 1000017);
  bad.user_id = "u\xff";
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", &bad, 1, &seq), 1000017);
  six[4].user_id = "";
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", six, 5, &seq), 1009011);
  six[4].user_id = "e";
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", six, 5, &seq), 1009005);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", NULL, 0, &seq), 1009005);
  CHECK_EQ(zego_engine_send_custom_command(e, "r", "c", six, 0, NULL), 1009005);

  /* room extra info: key, then value, then the room. */
  CHECK_EQ(zego_engine_set_room_extra_info(e, NULL, "k", "v", &seq), 1000017);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", NULL, "v", &seq), 1000017);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k", NULL, &seq), 1000017);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "", "v", &seq), 1002014);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", k11, "v", &seq), 1002015);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", huge, v129, &seq), 1002015);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k", v129, &seq), 1002016);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k", huge, &seq), 1002016);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k\xff", "v", &seq), 1000017);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k", "v\xff", &seq), 1000017);
  CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "kkkkkkkkkk", "", &seq), 1002002);
  CHECK_EQ(zego_engine_set_room_extra_info(e, huge, "k", "v", &seq), 1002002);
  CHECK_EQ(seq, -7);

  /* Freeing: NULL with any count is harmless. */
  zego_stream_list_free(NULL, 0);
  zego_stream_list_free(NULL, 3);

  free(s256); free(s255); free(m1025); free(x1025); free(u64); free(k11); free(v129); free(r128); free(sei);
}

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
  streams_messaging_bad_handle(NULL);
  /* A stray handle value is not dereferenced: 1000001 as well. */
  CHECK_EQ(zego_engine_login_room(SENTINEL, "r", &u, NULL, &seq), 1000001);
  streams_messaging_bad_handle(SENTINEL);
  zego_engine_destroy(SENTINEL);

  p.room_mode = ZEGO_ROOM_MODE_SINGLE_ROOM;
  CHECK_EQ(zego_engine_create(&p, &e), 0);
  CHECK(e != NULL && e != SENTINEL);
  zego_engine_register_room_state_changed_callback(e, on_state, &events);
  zego_engine_register_room_login_result_callback(e, on_any_result, NULL);
  zego_engine_register_room_logout_result_callback(e, on_any_result, NULL);
  zego_engine_register_publisher_state_update_callback(e, on_publisher_state, NULL);
  zego_engine_register_room_stream_update_callback(e, on_any_stream_list, NULL);
  zego_engine_register_publisher_update_stream_extra_info_result_callback(e, on_extra_result, &extra_results);

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
  streams_messaging_bad_input(e, huge);

  /* None of that delivered an event. */
  sleep_ms(200);
  CHECK_EQ(get(&events), 0);
  CHECK_EQ(get(&stream_events), 0);
  CHECK_EQ(get(&extra_results), 0);

  /* set_stream_extra_info is allowed before publishing: a seq, and its result with that seq. */
  seq = -7;
  CHECK_EQ(zego_engine_set_stream_extra_info(e, "", ZEGO_PUBLISH_CHANNEL_THIRD, &seq), 0);
  CHECK(seq > 0);
  WAIT_FOR(get(&extra_results) == 1, 5.0);
  CHECK_EQ(get(&extra_results), 1);
  pthread_mutex_lock(&lock);
  CHECK_EQ(last_extra_seq, seq);
  pthread_mutex_unlock(&lock);
  CHECK_EQ(zego_engine_set_stream_extra_info(e, "info", ZEGO_PUBLISH_CHANNEL_MAIN, NULL), 0); /* out_seq nullable */
  seq = -7;

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

  /* A room in flight counts as joined (§1.5a): the synchronous stream and messaging rules. */
  {
    zego_stream *list = LIST_SENTINEL;
    uint32_t count = 77;
    const uint8_t frame[3] = { 0, 0, 0 };
    int i;
    char id[16];
    CHECK_EQ(zego_engine_start_publishing_stream(e, "pub1", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
    WAIT_FOR(get(&publisher_requesting) == 1, 5.0);
    CHECK_EQ(get(&publisher_requesting), 1);
    CHECK_EQ(zego_engine_start_publishing_stream(e, "pub1", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 0); /* same: no-op */
    CHECK_EQ(zego_engine_start_publishing_stream(e, "pub2", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1003023);
    CHECK_EQ(zego_engine_send_sei(e, frame, 3, ZEGO_PUBLISH_CHANNEL_MAIN), 1003001); /* requesting, not publishing */
    CHECK_EQ(zego_engine_send_sei(e, frame, 3, ZEGO_PUBLISH_CHANNEL_AUX), 1003001);
    for (i = 0; i < 12; i++) {
      snprintf(id, sizeof id, "play%d", i);
      CHECK_EQ(zego_engine_start_playing_stream(e, id, NULL), 0);
    }
    CHECK_EQ(zego_engine_start_playing_stream(e, "play12", NULL), 1004010);
    CHECK_EQ(zego_engine_stop_playing_stream(e, "play0"), 0);
    CHECK_EQ(zego_engine_start_playing_stream(e, "play12", NULL), 0);
    CHECK_EQ(zego_engine_get_room_stream_list(e, room127, ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 0);
    CHECK_EQ(count, 0);
    CHECK(list == NULL);
    zego_stream_list_free(list, count);
    CHECK_EQ(zego_engine_get_room_stream_list(e, "", ZEGO_ROOM_STREAM_LIST_TYPE_PLAY, &list, &count), 0);
    seq = -7;
    CHECK_EQ(zego_engine_send_broadcast_message(e, room127, "queued until the room is up", &seq), 0);
    CHECK(seq > 0);
    CHECK_EQ(zego_engine_send_custom_command(e, room127, "c", NULL, 0, NULL), 0);
    CHECK_EQ(zego_engine_set_room_extra_info(e, room127, "k", "v", &seq), 0);
    CHECK_EQ(zego_engine_set_room_extra_info(e, "r", "k", "v", &seq), 1002002);
    CHECK_EQ(zego_engine_stop_publishing_stream(e, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
    seq = -7;
  }

  /* Multi-room engines refuse switch_room. */
  p.room_mode = ZEGO_ROOM_MODE_MULTI_ROOM;
  CHECK_EQ(zego_engine_create(&p, &multi), 0);
  CHECK_EQ(zego_engine_switch_room(multi, "a", "b", NULL), 1002019);
  /* Multi-room: publishing and playing must name the room (1003071 / 1004071). */
  CHECK_EQ(zego_engine_login_room(multi, "m1", &u, NULL, NULL), 0);
  {
    zego_publisher_config pc = { "" };
    zego_player_config lc = { NULL };
    CHECK_EQ(zego_engine_start_publishing_stream(multi, "s1", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 1003071);
    CHECK_EQ(zego_engine_start_publishing_stream(multi, "s1", &pc, ZEGO_PUBLISH_CHANNEL_MAIN), 1003071);
    CHECK_EQ(zego_engine_start_playing_stream(multi, "s1", NULL), 1004071);
    CHECK_EQ(zego_engine_start_playing_stream(multi, "s1", &lc), 1004071);
    pc.room_id = "m2";
    CHECK_EQ(zego_engine_start_publishing_stream(multi, "s1", &pc, ZEGO_PUBLISH_CHANNEL_MAIN), 1000002);
    pc.room_id = "m1";
    CHECK_EQ(zego_engine_start_publishing_stream(multi, "s1", &pc, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
    lc.room_id = "m1";
    CHECK_EQ(zego_engine_start_playing_stream(multi, "s2", &lc), 0);
  }
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
  streams_messaging_bad_handle(e);
  sleep_ms(100);
  CHECK_EQ(get(&events), before);

  free(room128); free(room127); free(huge); free(user64); free(name256); free(token9k);
  return check_report("inputs");
}
