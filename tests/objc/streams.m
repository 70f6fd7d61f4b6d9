//
//  Streams and messaging through the Objective-C wrapper (tests/objc.rs builds and runs it with
//  gcc + GNUstep Base). The shared ZegoExpressEngine implements every new delegate method; a
//  second party, when needed, uses the C ABI directly (the wrapper holds one shared engine).
//
//  Usage: streams URL ROOM inputs   — codes, nil handling, and the delegate methods the engine
//                                     emits on its own (PublishRequesting, PlayRequesting)
//         streams URL ROOM full     — also publish/play/SEI/extra info/messages/commands/room
//                                     extra info with a C peer (needs the server side)
//  Prints "streams <mode>: all checks passed" and exits 0, or prints each failed check.
//

#import <Foundation/Foundation.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#import "ZegoExpressEngine.h"
#include "zego_room.h"

static int failures = 0;
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      failures++;                                                                \
    }                                                                            \
  } while (0)
#define CHECK_EQ(a, e)                                                                            \
  do {                                                                                            \
    long long a_ = (long long)(a), e_ = (long long)(e);                                           \
    if (a_ != e_) {                                                                               \
      fprintf(stderr, "%s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, e_);       \
      failures++;                                                                                 \
    }                                                                                             \
  } while (0)

static pthread_mutex_t gLock = PTHREAD_MUTEX_INITIALIZER;

/// What the delegate saw (guarded by gLock; objects retained).
typedef struct {
  int publisherState, publisherCode, publisherEvents;
  int playerState, playerCode, playerEvents;
  int streamAdds, streamDeletes, deleteReasonCode, addExtendedDataKeys;
  int extraInfoUpdates, seiFrames, seiMatches;
  int broadcasts, barrages, commands, roomExtraUpdates;
  int mainThreadCalls, logined;
  char lastStreamUser[64], lastExtraInfo[64], lastCommand[64], lastCommandFrom[64], lastBroadcast[64];
  char lastBarrage[64], lastRoomExtra[64];
  unsigned long long lastBroadcastID, lastBroadcastTime;
} Seen;

static Seen gSeen;
static NSData *gExpectedSEI = nil;

static void copyString(char *dst, NSString *s) {
  snprintf(dst, 64, "%s", s ? [s UTF8String] : "(nil)");
}

@interface StreamsHandler : NSObject <ZegoEventHandler>
@end

@implementation StreamsHandler

- (void)note {
  if ([NSThread isMainThread]) gSeen.mainThreadCalls++;
}

- (void)onPublisherStateUpdate:(ZegoPublisherState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData streamID:(NSString *)streamID {
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK(extendedData != nil && streamID != nil);
  gSeen.publisherState = (int)state;
  gSeen.publisherCode = errorCode;
  gSeen.publisherEvents++;
  pthread_mutex_unlock(&gLock);
  printf("onPublisherStateUpdate state=%d errorCode=%d streamID=%s\n", (int)state, errorCode, [streamID UTF8String]);
  fflush(stdout);
}

- (void)onPlayerStateUpdate:(ZegoPlayerState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData streamID:(NSString *)streamID {
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK(extendedData != nil && streamID != nil);
  gSeen.playerState = (int)state;
  gSeen.playerCode = errorCode;
  gSeen.playerEvents++;
  pthread_mutex_unlock(&gLock);
  printf("onPlayerStateUpdate state=%d errorCode=%d streamID=%s\n", (int)state, errorCode, [streamID UTF8String]);
  fflush(stdout);
}

- (void)onRoomStreamUpdate:(ZegoUpdateType)updateType streamList:(NSArray *)streamList extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
  ZegoStream *s = [streamList count] ? [streamList objectAtIndex:0] : nil;
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK([s isKindOfClass:[ZegoStream class]]);
  CHECK(extendedData != nil && roomID != nil);
  if (updateType == ZegoUpdateTypeAdd) {
    gSeen.streamAdds++;
    gSeen.addExtendedDataKeys = (int)[extendedData count];
    copyString(gSeen.lastStreamUser, s.user.userID);
  } else {
    NSArray *reasons = [extendedData objectForKey:@"stream_delete_reason"];
    NSDictionary *first = [reasons isKindOfClass:[NSArray class]] && [reasons count] ? [reasons objectAtIndex:0] : nil;
    gSeen.streamDeletes++;
    gSeen.deleteReasonCode = first ? [[first objectForKey:@"code"] intValue] : -1;
  }
  pthread_mutex_unlock(&gLock);
  printf("onRoomStreamUpdate type=%d count=%u first=%s by %s roomID=%s\n", (int)updateType, (unsigned)[streamList count],
         [s.streamID UTF8String], [s.user.userID UTF8String], [roomID UTF8String]);
  fflush(stdout);
}

- (void)onRoomStreamExtraInfoUpdate:(NSArray *)streamList roomID:(NSString *)roomID {
  ZegoStream *s = [streamList count] ? [streamList objectAtIndex:0] : nil;
  pthread_mutex_lock(&gLock);
  [self note];
  gSeen.extraInfoUpdates++;
  copyString(gSeen.lastExtraInfo, s.extraInfo);
  pthread_mutex_unlock(&gLock);
  (void)roomID;
}

- (void)onPlayerRecvSEI:(NSData *)data streamID:(NSString *)streamID {
  pthread_mutex_lock(&gLock);
  [self note];
  gSeen.seiFrames++;
  if (gExpectedSEI && [data isEqualToData:gExpectedSEI]) gSeen.seiMatches++;
  pthread_mutex_unlock(&gLock);
  printf("onPlayerRecvSEI %u bytes streamID=%s\n", (unsigned)[data length], [streamID UTF8String]);
  fflush(stdout);
}

- (void)onIMRecvBroadcastMessage:(NSArray *)messageList roomID:(NSString *)roomID {
  ZegoBroadcastMessageInfo *m = [messageList lastObject];
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK([m isKindOfClass:[ZegoBroadcastMessageInfo class]]);
  gSeen.broadcasts += (int)[messageList count];
  copyString(gSeen.lastBroadcast, m.message);
  gSeen.lastBroadcastID = m.messageID;
  gSeen.lastBroadcastTime = m.sendTime;
  CHECK([m.fromUser isKindOfClass:[ZegoUser class]]);
  pthread_mutex_unlock(&gLock);
  (void)roomID;
}

- (void)onIMRecvBarrageMessage:(NSArray *)messageList roomID:(NSString *)roomID {
  ZegoBarrageMessageInfo *m = [messageList lastObject];
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK([m isKindOfClass:[ZegoBarrageMessageInfo class]] && [m.messageID length] > 0 && m.sendTime > 0);
  gSeen.barrages += (int)[messageList count];
  copyString(gSeen.lastBarrage, m.message);
  pthread_mutex_unlock(&gLock);
  (void)roomID;
}

- (void)onIMRecvCustomCommand:(NSString *)command fromUser:(ZegoUser *)fromUser roomID:(NSString *)roomID {
  pthread_mutex_lock(&gLock);
  [self note];
  gSeen.commands++;
  copyString(gSeen.lastCommand, command);
  copyString(gSeen.lastCommandFrom, fromUser.userID);
  pthread_mutex_unlock(&gLock);
  (void)roomID;
}

- (void)onRoomExtraInfoUpdate:(NSArray *)roomExtraInfoList roomID:(NSString *)roomID {
  ZegoRoomExtraInfo *info = [roomExtraInfoList lastObject];
  pthread_mutex_lock(&gLock);
  [self note];
  CHECK([info isKindOfClass:[ZegoRoomExtraInfo class]] && info.updateTime > 0);
  gSeen.roomExtraUpdates++;
  snprintf(gSeen.lastRoomExtra, 64, "%s=%s by %s", [info.key UTF8String], [info.value UTF8String],
           [info.updateUser.userID UTF8String]);
  pthread_mutex_unlock(&gLock);
  (void)roomID;
}

- (void)onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
  pthread_mutex_lock(&gLock);
  if (reason == ZegoRoomStateChangedReasonLogined) gSeen.logined++;
  pthread_mutex_unlock(&gLock);
  printf("onRoomStateChanged reason=%d errorCode=%d roomID=%s\n", (int)reason, errorCode, [roomID UTF8String]);
  fflush(stdout);
  (void)extendedData;
}

@end

static double nowS(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/// Waits up to `seconds` for `*counter` (read under gLock) to reach `atLeast`.
static int waitCount(int *counter, int atLeast, double seconds) {
  double until = nowS() + seconds;
  int v;
  for (;;) {
    pthread_mutex_lock(&gLock);
    v = *counter;
    pthread_mutex_unlock(&gLock);
    if (v >= atLeast || nowS() > until) return v;
    usleep(10000);
  }
}

static int seen(int *field) {
  int v;
  pthread_mutex_lock(&gLock);
  v = *field;
  pthread_mutex_unlock(&gLock);
  return v;
}

// ---- the C peer ---------------------------------------------------------------------------

static int peerLogined = 0, peerGotObjcBroadcast = 0;

static void peerState(void *ctx, zego_room_state_changed_reason r, zego_error e, const char *x, const char *room) {
  (void)ctx; (void)e; (void)x; (void)room;
  pthread_mutex_lock(&gLock);
  if (r == ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED) peerLogined++;
  pthread_mutex_unlock(&gLock);
}

static void peerBroadcast(void *ctx, const zego_broadcast_message_info *list, uint32_t n, const char *room) {
  (void)ctx; (void)room;
  uint32_t i;
  for (i = 0; i < n; i++) {
    /* (A broadcast sent just before the peer joined may reach it too: the server decides who is
       in the room when the message arrives. Only the one sent after its login is checked.) */
    pthread_mutex_lock(&gLock);
    if (strcmp(list[i].message, "from objc after peer") == 0 && strcmp(list[i].from_user.user_id, "objc-user") == 0)
      peerGotObjcBroadcast++;
    pthread_mutex_unlock(&gLock);
    printf("peer received broadcast %llu: %s from %s\n", (unsigned long long)list[i].message_id, list[i].message,
           list[i].from_user.user_id);
    fflush(stdout);
  }
}

static void inputs(ZegoExpressEngine *engine, NSString *room) {
  NSMutableData *big = [NSMutableData dataWithLength:4096];
  NSMutableString *long1025 = [NSMutableString string];
  NSMutableArray *six = [NSMutableArray array];
  ZegoPlayerConfig *playerConfig = [[ZegoPlayerConfig alloc] init];
  ZegoPublisherConfig *publisherConfig = [[ZegoPublisherConfig alloc] init];
  int i;
  for (i = 0; i < 1025; i++) [long1025 appendString:@"x"];
  for (i = 0; i < 6; i++) [six addObject:[ZegoUser userWithUserID:[NSString stringWithFormat:@"u%d", i]]];

  // Streams: the C ABI's codes reach Objective-C callers; nil is 1000017, never a crash.
  CHECK_EQ([engine startPublishingStream:@""], 1000015);
  CHECK_EQ([engine startPublishingStream:nil], 1000017);
  CHECK_EQ([engine startPublishingStream:@"a.b" channel:ZegoPublishChannelAux], 1000016);
  CHECK_EQ([engine startPublishingStream:@"ok" channel:(ZegoPublishChannel)7], 1000017);
  publisherConfig.roomID = @"not-this-room";
  CHECK_EQ([engine startPublishingStream:@"ok" config:publisherConfig channel:ZegoPublishChannelMain], 1000002);
  CHECK_EQ([engine stopPublishingStream:(ZegoPublishChannel)4], 1000017);
  CHECK_EQ([engine setStreamExtraInfo:long1025], 1000017);
  CHECK_EQ([engine setStreamExtraInfo:nil channel:ZegoPublishChannelMain], 1000017);
  CHECK_EQ([engine startPlayingStream:@"a b" canvas:nil], 1000016);
  CHECK_EQ([engine stopPlayingStream:nil], 1000017);
  playerConfig.roomID = @"not-this-room";
  CHECK_EQ([engine startPlayingStream:@"ok" canvas:[ZegoCanvas canvasWithView:nil] config:playerConfig], 1000002);
  CHECK_EQ([engine sendSEI:nil], 1000017);
  CHECK_EQ([engine sendSEI:[NSData data]], 1000017);
  CHECK_EQ([engine sendSEI:big], 1003001);
  CHECK_EQ([engine sendSEI:big channel:(ZegoPublishChannel)9], 1000017);

  // Messaging: codes; a non-nil callback without blocks is refused (1000017) and sends nothing.
  CHECK_EQ([engine sendBroadcastMessage:@"" roomID:room callback:nil], 1009001);
  CHECK_EQ([engine sendBroadcastMessage:nil roomID:room callback:nil], 1000017);
  CHECK_EQ([engine sendBroadcastMessage:@"x" roomID:@"other-room" callback:nil], 1009005);
  CHECK_EQ([engine sendBarrageMessage:long1025 roomID:room callback:nil], 1009002);
  CHECK_EQ([engine sendCustomCommand:@"c" toUserList:six roomID:room callback:nil], 1000017);
  CHECK_EQ([engine sendCustomCommand:@"c" toUserList:[NSArray arrayWithObject:@"not a user"] roomID:room callback:nil],
           1000017);
  CHECK_EQ([engine sendCustomCommand:@"c" toUserList:[NSArray arrayWithObject:[ZegoUser userWithUserID:@""]] roomID:room
                            callback:nil], 1009011);
  CHECK_EQ([engine setRoomExtraInfo:@"v" forKey:@"" roomID:room callback:nil], 1002014);
  CHECK_EQ([engine setRoomExtraInfo:@"v" forKey:@"k" roomID:@"other-room" callback:nil], 1002002);
#if !defined(__BLOCKS__)
  CHECK_EQ([engine sendBroadcastMessage:@"x" roomID:room callback:(id)engine], 1000017);
  CHECK_EQ([engine setStreamExtraInfo:@"x" callback:(id)engine], 1000017);
  CHECK_EQ([engine setRoomExtraInfo:@"v" forKey:@"k" roomID:room callback:(id)engine], 1000017);
#endif

  // Valid calls: 0, and the delegate methods the engine emits by itself.
  CHECK_EQ([engine setStreamExtraInfo:@"objc extra"], 0);
  CHECK_EQ([engine startPublishingStream:@"objc-s"], 0);
  CHECK(waitCount(&gSeen.publisherEvents, 1, 5) >= 1);
  CHECK_EQ(seen(&gSeen.publisherCode), 0);
  CHECK_EQ([engine startPublishingStream:@"objc-s2"], 1003023);
  CHECK_EQ([engine startPlayingStream:@"nobody-publishes-this"], 0);
  CHECK(waitCount(&gSeen.playerEvents, 1, 5) >= 1);
  CHECK_EQ(seen(&gSeen.playerState), ZegoPlayerStatePlayRequesting);
  CHECK_EQ(seen(&gSeen.playerCode), 0);
  CHECK_EQ([engine stopPlayingStream:@"nobody-publishes-this"], 0);
  CHECK(waitCount(&gSeen.playerEvents, 2, 5) >= 2);
  CHECK_EQ(seen(&gSeen.playerState), ZegoPlayerStateNoPlay);
  CHECK_EQ([engine sendBroadcastMessage:@"from objc" roomID:room callback:nil], 0);
  CHECK_EQ([engine sendCustomCommand:@"cmd" toUserList:nil roomID:room callback:nil], 0);
  CHECK_EQ([engine setRoomExtraInfo:@"v1" forKey:@"objc" roomID:room callback:nil], 0);
  [playerConfig release];
  [publisherConfig release];
}

static void full(ZegoExpressEngine *engine, NSString *room, const char *url) {
  zego_engine_profile p;
  zego_engine *peer = NULL;
  zego_user me = { "c-peer", "C Peer" };
  zego_user objcUser = { "objc-user", NULL };
  const uint8_t sei[5] = { 0, 1, 0, 255, 7 };
  int events;

  // The wrapper's own stream reaches Publishing. (Each step below depends on the previous
  // ones: stop at the first failure rather than wait out every later step.)
  CHECK_EQ(waitCount(&gSeen.publisherState, ZegoPublisherStatePublishing, 10), ZegoPublisherStatePublishing);
  if (failures) return;

  p.app_id = 1234567u;
  p.server = url;
  p.room_mode = ZEGO_ROOM_MODE_SINGLE_ROOM;
  CHECK_EQ(zego_engine_create(&p, &peer), 0);
  zego_engine_register_room_state_changed_callback(peer, peerState, NULL);
  zego_engine_register_im_recv_broadcast_message_callback(peer, peerBroadcast, NULL);
  CHECK_EQ(zego_engine_set_stream_extra_info(peer, "", ZEGO_PUBLISH_CHANNEL_MAIN, NULL), 0);
  CHECK_EQ(zego_engine_login_room(peer, [room UTF8String], &me, NULL, NULL), 0);
  CHECK(waitCount(&peerLogined, 1, 10) >= 1);
  if (failures) goto done;

  // The peer publishes: Add reaches the delegate; play it; SEI byte for byte.
  CHECK_EQ(zego_engine_start_publishing_stream(peer, "c-s", NULL, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
  CHECK(waitCount(&gSeen.streamAdds, 1, 10) >= 1);
  pthread_mutex_lock(&gLock);
  CHECK(strcmp(gSeen.lastStreamUser, "c-peer") == 0);
  CHECK_EQ(gSeen.addExtendedDataKeys, 0);
  pthread_mutex_unlock(&gLock);
  if (failures) goto done;
  events = seen(&gSeen.playerEvents);
  CHECK_EQ([engine startPlayingStream:@"c-s" canvas:[ZegoCanvas canvasWithView:nil]], 0);
  CHECK_EQ(waitCount(&gSeen.playerState, ZegoPlayerStatePlaying, 10), ZegoPlayerStatePlaying);
  CHECK(seen(&gSeen.playerEvents) >= events + 2);
  pthread_mutex_lock(&gLock);
  gExpectedSEI = [[NSData alloc] initWithBytes:sei length:sizeof sei];
  pthread_mutex_unlock(&gLock);
  CHECK_EQ(zego_engine_send_sei(peer, sei, sizeof sei, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
  CHECK_EQ(waitCount(&gSeen.seiMatches, 1, 10), 1);
  CHECK_EQ(seen(&gSeen.seiFrames), 1);
  if (failures) goto done;

  // Extra info, messages, a command to this user, room extra info.
  CHECK_EQ(zego_engine_set_stream_extra_info(peer, "peer-info", ZEGO_PUBLISH_CHANNEL_MAIN, NULL), 0);
  CHECK(waitCount(&gSeen.extraInfoUpdates, 1, 10) >= 1);
  CHECK_EQ(zego_engine_send_broadcast_message(peer, [room UTF8String], "hi objc", NULL), 0);
  CHECK_EQ(zego_engine_send_barrage_message(peer, [room UTF8String], "barrage objc", NULL), 0);
  CHECK_EQ(zego_engine_send_custom_command(peer, [room UTF8String], "cmd objc", &objcUser, 1, NULL), 0);
  CHECK_EQ(zego_engine_set_room_extra_info(peer, [room UTF8String], "objc", "from-peer", NULL), 0);
  CHECK(waitCount(&gSeen.broadcasts, 1, 10) >= 1);
  CHECK(waitCount(&gSeen.barrages, 1, 10) >= 1);
  CHECK(waitCount(&gSeen.commands, 1, 10) >= 1);
  CHECK(waitCount(&gSeen.roomExtraUpdates, 1, 10) >= 1);
  if (failures) goto done;
  pthread_mutex_lock(&gLock);
  CHECK(strcmp(gSeen.lastExtraInfo, "peer-info") == 0);
  CHECK(strcmp(gSeen.lastBroadcast, "hi objc") == 0 && gSeen.lastBroadcastID > 0 && gSeen.lastBroadcastTime > 1600000000000ull);
  CHECK(strcmp(gSeen.lastBarrage, "barrage objc") == 0);
  CHECK(strcmp(gSeen.lastCommand, "cmd objc") == 0 && strcmp(gSeen.lastCommandFrom, "c-peer") == 0);
  CHECK(strcmp(gSeen.lastRoomExtra, "objc=from-peer by c-peer") == 0);
  pthread_mutex_unlock(&gLock);

  // The wrapper sends; the peer receives.
  CHECK_EQ([engine sendBroadcastMessage:@"from objc after peer" roomID:room callback:nil], 0);
  CHECK_EQ(waitCount(&peerGotObjcBroadcast, 1, 10), 1);

  // The peer stops: Delete with extendedData parsed into a dictionary (reason code 1).
  CHECK_EQ(zego_engine_stop_publishing_stream(peer, ZEGO_PUBLISH_CHANNEL_MAIN), 0);
  CHECK(waitCount(&gSeen.streamDeletes, 1, 10) >= 1);
  CHECK_EQ(seen(&gSeen.deleteReasonCode), 1);
done:
  zego_engine_destroy(peer);
}

int main(int argc, char **argv) {
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  StreamsHandler *handler = [[StreamsHandler alloc] init];
  ZegoEngineProfile *profile = [[ZegoEngineProfile alloc] init];
  ZegoRoomConfig *config = [ZegoRoomConfig defaultConfig];
  ZegoExpressEngine *engine;
  NSString *room;
  int isFull;

  if (argc < 4) {
    fprintf(stderr, "usage: %s ws://host:port ROOM inputs|full\n", argv[0]);
    return 2;
  }
  isFull = strcmp(argv[3], "full") == 0;
  profile.server = [NSString stringWithUTF8String:argv[1]];
  profile.appID = 1234567u;
  engine = [ZegoExpressEngine createEngineWithProfile:profile eventHandler:handler];
  CHECK(engine != nil);
  room = [NSString stringWithUTF8String:argv[2]];
  config.isUserStatusNotify = YES;
  CHECK_EQ([engine loginRoom:room user:[ZegoUser userWithUserID:@"objc-user"] config:config], 0);
  CHECK(waitCount(&gSeen.logined, 1, 10) >= 1);

  inputs(engine, room);
  if (isFull) full(engine, room, argv[1]);
  CHECK_EQ(seen(&gSeen.mainThreadCalls), 0); // delegate calls come on the engine's callback thread

  [engine setEventHandler:nil];
  [ZegoExpressEngine destroyEngine:nil];
  [gExpectedSEI release];
  [handler release];
  [profile release];
  [pool drain];
  if (failures) {
    fprintf(stderr, "streams %s: %d check(s) failed\n", argv[3], failures);
    return 1;
  }
  printf("streams %s: all checks passed\n", argv[3]);
  return 0;
}
