//
//  ZegoExpressEngine.m — the ZEGO-named Objective-C wrapper over include/zego_room.h.
//  Manual reference counting on GCC/GNUstep; also builds under ARC (Apple clang).
//

#import "ZegoExpressEngine.h"

#include <pthread.h>
#include <stdlib.h>

#include "zego_room.h"

#if __has_feature(objc_arc)
#define ZG_RETAIN(x) (x)
#define ZG_RELEASE(x) ((void)0)
#define ZG_AUTORELEASE(x) (x)
#define ZG_SUPER_DEALLOC() ((void)0)
#define ZG_BRIDGE __bridge
#else
#define ZG_RETAIN(x) [(x) retain]
#define ZG_RELEASE(x) [(x) release]
#define ZG_AUTORELEASE(x) [(x) autorelease]
#define ZG_SUPER_DEALLOC() [super dealloc]
#define ZG_BRIDGE
#endif

// ---------------------------------------------------------------------------------------------
// Value classes
// ---------------------------------------------------------------------------------------------

@implementation ZegoUser
@synthesize userID = _userID;
@synthesize userName = _userName;

+ (ZegoUser *)userWithUserID:(NSString *)userID {
  return [self userWithUserID:userID userName:userID];
}

+ (ZegoUser *)userWithUserID:(NSString *)userID userName:(NSString *)userName {
  return ZG_AUTORELEASE([[self alloc] initWithUserID:userID userName:userName]);
}

- (id)initWithUserID:(NSString *)userID userName:(NSString *)userName {
  if ((self = [super init])) {
    _userID = [userID copy];
    _userName = [userName copy];
  }
  return self;
}

- (NSString *)description {
  return [NSString stringWithFormat:@"<ZegoUser %@ (%@)>", _userID, _userName];
}

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_userID release];
  [_userName release];
  [super dealloc];
}
#endif
@end

@implementation ZegoRoomConfig
@synthesize maxMemberCount = _maxMemberCount;
@synthesize isUserStatusNotify = _isUserStatusNotify;
@synthesize token = _token;

+ (ZegoRoomConfig *)defaultConfig {
  return ZG_AUTORELEASE([[self alloc] init]);
}

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_token release];
  [super dealloc];
}
#endif
@end

@implementation ZegoEngineProfile
@synthesize appID = _appID;
@synthesize server = _server;
@synthesize roomMode = _roomMode;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_server release];
  [super dealloc];
}
#endif
@end

@implementation ZegoEngineConfig
@synthesize advancedConfig = _advancedConfig;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_advancedConfig release];
  [super dealloc];
}
#endif
@end

@implementation ZegoStream
@synthesize user = _user;
@synthesize streamID = _streamID;
@synthesize extraInfo = _extraInfo;

- (NSString *)description {
  return [NSString stringWithFormat:@"<ZegoStream %@ by %@ extraInfo=%@>", _streamID, _user, _extraInfo];
}

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_user release];
  [_streamID release];
  [_extraInfo release];
  [super dealloc];
}
#endif
@end

@implementation ZegoPublisherConfig
@synthesize roomID = _roomID;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_roomID release];
  [super dealloc];
}
#endif
@end

@implementation ZegoPlayerConfig
@synthesize roomID = _roomID;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_roomID release];
  [super dealloc];
}
#endif
@end

@implementation ZegoCanvas
@synthesize view = _view;

+ (ZegoCanvas *)canvasWithView:(id)view {
  ZegoCanvas *c = ZG_AUTORELEASE([[self alloc] init]);
  c.view = view;
  return c;
}

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_view release];
  [super dealloc];
}
#endif
@end

@implementation ZegoBroadcastMessageInfo
@synthesize message = _message;
@synthesize messageID = _messageID;
@synthesize sendTime = _sendTime;
@synthesize fromUser = _fromUser;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_message release];
  [_fromUser release];
  [super dealloc];
}
#endif
@end

@implementation ZegoBarrageMessageInfo
@synthesize message = _message;
@synthesize messageID = _messageID;
@synthesize sendTime = _sendTime;
@synthesize fromUser = _fromUser;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_message release];
  [_messageID release];
  [_fromUser release];
  [super dealloc];
}
#endif
@end

@implementation ZegoRoomExtraInfo
@synthesize key = _key;
@synthesize value = _value;
@synthesize updateUser = _updateUser;
@synthesize updateTime = _updateTime;

#if !__has_feature(objc_arc)
- (void)dealloc {
  [_key release];
  [_value release];
  [_updateUser release];
  [super dealloc];
}
#endif
@end

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

static NSString *ZGString(const char *s) {
  NSString *r = s ? [NSString stringWithUTF8String:s] : nil;
  return r ? r : @"";
}

/// Never nil: the JSON object text of an event, or an empty dictionary.
static NSDictionary *ZGExtendedData(const char *json) {
  id obj = nil;
  if (json) {
    NSData *data = [NSData dataWithBytes:json length:strlen(json)];
    obj = [NSJSONSerialization JSONObjectWithData:data options:0 error:NULL];
  }
  return [obj isKindOfClass:[NSDictionary class]] ? (NSDictionary *)obj : [NSDictionary dictionary];
}

/// "key=value;key=value" from a dictionary of strings (or numbers).
static NSString *ZGAdvancedConfigText(NSDictionary *config) {
  NSMutableArray *parts = [NSMutableArray array];
  NSEnumerator *keys = [config keyEnumerator];
  id key;
  while ((key = [keys nextObject])) {
    [parts addObject:[NSString stringWithFormat:@"%@=%@", key, [config objectForKey:key]]];
  }
  return [parts componentsJoinedByString:@";"];
}

/// Per callback thread, once: make the runtime know the library-owned thread.
static void ZGEnterCallbackThread(void) {
#ifdef GNUSTEP
  static __thread int registered = 0;
  if (!registered) {
    GSRegisterCurrentThread();
    registered = 1;
  }
#endif
}

static ZegoUser *ZGUser(const zego_user *u) {
  return [ZegoUser userWithUserID:ZGString(u->user_id) userName:ZGString(u->user_name)];
}

static NSArray *ZGStreams(const zego_stream *list, uint32_t count) {
  NSMutableArray *out = [NSMutableArray arrayWithCapacity:count];
  uint32_t i;
  for (i = 0; i < count; i++) {
    ZegoStream *s = ZG_AUTORELEASE([[ZegoStream alloc] init]);
    s.user = ZGUser(&list[i].user);
    s.streamID = ZGString(list[i].stream_id);
    s.extraInfo = ZGString(list[i].extra_info);
    [out addObject:s];
  }
  return out;
}

/// A C channel value from the Objective-C enum (values above 3 stay out of range: 1000017).
static zego_publish_channel ZGChannel(ZegoPublishChannel channel) {
  return (zego_publish_channel)(channel > 3 ? 0x7fffffff : (int32_t)channel);
}

static pthread_mutex_t gSharedLock = PTHREAD_MUTEX_INITIALIZER;
static ZegoExpressEngine *gShared = nil;
static ZegoEngineConfig *gConfig = nil;

@interface ZegoExpressEngine ()
- (id)initWithEngine:(zego_engine *)engine eventHandler:(id<ZegoEventHandler>)eventHandler;
- (id)currentHandler;
- (zego_engine *)cEngine;
- (void)registerCallbacks;
- (id)takePendingResult:(zego_seq)seq;
@end

// ---------------------------------------------------------------------------------------------
// C callbacks -> delegate. `ctx` is the ZegoExpressEngine, alive while its callbacks run (the
// engine is released only after zego_engine_destroy, which waits for them).
// ---------------------------------------------------------------------------------------------

#if __has_feature(objc_arc)
#define ZG_POOL_BEGIN @autoreleasepool {
#define ZG_POOL_END }
#else
#define ZG_POOL_BEGIN { NSAutoreleasePool *zgPool = [[NSAutoreleasePool alloc] init];
#define ZG_POOL_END [zgPool drain]; }
#endif

static void ZGOnStateChanged(void *ctx, zego_room_state_changed_reason reason, zego_error code, const char *ext,
                             const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomStateChanged:errorCode:extendedData:roomID:)]) {
    [handler onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)code
                   extendedData:ZGExtendedData(ext) roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnStateUpdate(void *ctx, zego_room_state state, zego_error code, const char *ext, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomStateUpdate:errorCode:extendedData:roomID:)]) {
    [handler onRoomStateUpdate:(ZegoRoomState)state errorCode:(int)code extendedData:ZGExtendedData(ext)
                        roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnUserUpdate(void *ctx, zego_update_type type, const zego_user *users, uint32_t count,
                           const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomUserUpdate:userList:roomID:)]) {
    NSMutableArray *list = [NSMutableArray arrayWithCapacity:count];
    uint32_t i;
    for (i = 0; i < count; i++) {
      [list addObject:[ZegoUser userWithUserID:ZGString(users[i].user_id) userName:ZGString(users[i].user_name)]];
    }
    [handler onRoomUserUpdate:(ZegoUpdateType)type userList:list roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnCount(void *ctx, int32_t count, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomOnlineUserCountUpdate:roomID:)]) {
    [handler onRoomOnlineUserCountUpdate:(int)count roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnTokenWillExpire(void *ctx, int32_t remain, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomTokenWillExpire:roomID:)]) {
    [handler onRoomTokenWillExpire:(int)remain roomID:ZGString(room)];
  }
  ZG_POOL_END
}

// ---- streams (§6.2) ----

static void ZGOnStreamUpdate(void *ctx, zego_update_type type, const zego_stream *list, uint32_t count, const char *ext,
                             const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomStreamUpdate:streamList:extendedData:roomID:)]) {
    [handler onRoomStreamUpdate:(ZegoUpdateType)type streamList:ZGStreams(list, count) extendedData:ZGExtendedData(ext)
                         roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnStreamExtraInfoUpdate(void *ctx, const zego_stream *list, uint32_t count, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomStreamExtraInfoUpdate:roomID:)]) {
    [handler onRoomStreamExtraInfoUpdate:ZGStreams(list, count) roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnPublisherState(void *ctx, zego_publisher_state state, zego_error code, const char *ext, const char *stream) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onPublisherStateUpdate:errorCode:extendedData:streamID:)]) {
    [handler onPublisherStateUpdate:(ZegoPublisherState)state errorCode:(int)code extendedData:ZGExtendedData(ext)
                           streamID:ZGString(stream)];
  }
  ZG_POOL_END
}

static void ZGOnPlayerState(void *ctx, zego_player_state state, zego_error code, const char *ext, const char *stream) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onPlayerStateUpdate:errorCode:extendedData:streamID:)]) {
    [handler onPlayerStateUpdate:(ZegoPlayerState)state errorCode:(int)code extendedData:ZGExtendedData(ext)
                        streamID:ZGString(stream)];
  }
  ZG_POOL_END
}

static void ZGOnRecvSEI(void *ctx, const uint8_t *data, uint32_t length, const char *stream) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onPlayerRecvSEI:streamID:)]) {
    [handler onPlayerRecvSEI:[NSData dataWithBytes:data length:length] streamID:ZGString(stream)];
  }
  ZG_POOL_END
}

// ---- messaging and room extra info (§7.2) ----

static void ZGOnRecvBroadcast(void *ctx, const zego_broadcast_message_info *list, uint32_t count, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onIMRecvBroadcastMessage:roomID:)]) {
    NSMutableArray *out = [NSMutableArray arrayWithCapacity:count];
    uint32_t i;
    for (i = 0; i < count; i++) {
      ZegoBroadcastMessageInfo *m = ZG_AUTORELEASE([[ZegoBroadcastMessageInfo alloc] init]);
      m.message = ZGString(list[i].message);
      m.messageID = list[i].message_id;
      m.sendTime = list[i].send_time;
      m.fromUser = ZGUser(&list[i].from_user);
      [out addObject:m];
    }
    [handler onIMRecvBroadcastMessage:out roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnRecvBarrage(void *ctx, const zego_barrage_message_info *list, uint32_t count, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onIMRecvBarrageMessage:roomID:)]) {
    NSMutableArray *out = [NSMutableArray arrayWithCapacity:count];
    uint32_t i;
    for (i = 0; i < count; i++) {
      ZegoBarrageMessageInfo *m = ZG_AUTORELEASE([[ZegoBarrageMessageInfo alloc] init]);
      m.message = ZGString(list[i].message);
      m.messageID = ZGString(list[i].message_id);
      m.sendTime = list[i].send_time;
      m.fromUser = ZGUser(&list[i].from_user);
      [out addObject:m];
    }
    [handler onIMRecvBarrageMessage:out roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnRecvCustomCommand(void *ctx, const char *command, const zego_user *from, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onIMRecvCustomCommand:fromUser:roomID:)]) {
    [handler onIMRecvCustomCommand:ZGString(command) fromUser:ZGUser(from) roomID:ZGString(room)];
  }
  ZG_POOL_END
}

static void ZGOnRoomExtraInfoUpdate(void *ctx, const zego_room_extra_info *list, uint32_t count, const char *room) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoExpressEngine *engine = (ZG_BRIDGE ZegoExpressEngine *)ctx;
  id handler = [engine currentHandler];
  if ([handler respondsToSelector:@selector(onRoomExtraInfoUpdate:roomID:)]) {
    NSMutableArray *out = [NSMutableArray arrayWithCapacity:count];
    uint32_t i;
    for (i = 0; i < count; i++) {
      ZegoRoomExtraInfo *info = ZG_AUTORELEASE([[ZegoRoomExtraInfo alloc] init]);
      info.key = ZGString(list[i].key);
      info.value = ZGString(list[i].value);
      info.updateUser = ZGUser(&list[i].update_user);
      info.updateTime = list[i].update_time;
      [out addObject:info];
    }
    [handler onRoomExtraInfoUpdate:out roomID:ZGString(room)];
  }
  ZG_POOL_END
}

// ---- result blocks, matched by seq (compilers with blocks only) ----

#if defined(__BLOCKS__)
static void ZGOnBroadcastResult(void *ctx, zego_error code, uint64_t messageID, const char *room, zego_seq seq) {
  (void)room;
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoIMSendBroadcastMessageCallback done = [(ZG_BRIDGE ZegoExpressEngine *)ctx takePendingResult:seq];
  if (done) done((int)code, (unsigned long long)messageID);
  ZG_POOL_END
}

static void ZGOnBarrageResult(void *ctx, zego_error code, const char *messageID, const char *room, zego_seq seq) {
  (void)room;
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoIMSendBarrageMessageCallback done = [(ZG_BRIDGE ZegoExpressEngine *)ctx takePendingResult:seq];
  if (done) done((int)code, ZGString(messageID));
  ZG_POOL_END
}

static void ZGOnCustomCommandResult(void *ctx, zego_error code, const char *room, zego_seq seq) {
  (void)room;
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoIMSendCustomCommandCallback done = [(ZG_BRIDGE ZegoExpressEngine *)ctx takePendingResult:seq];
  if (done) done((int)code);
  ZG_POOL_END
}

static void ZGOnRoomExtraInfoResult(void *ctx, zego_error code, const char *room, const char *key, zego_seq seq) {
  (void)room; (void)key;
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoRoomSetRoomExtraInfoCallback done = [(ZG_BRIDGE ZegoExpressEngine *)ctx takePendingResult:seq];
  if (done) done((int)code);
  ZG_POOL_END
}

static void ZGOnStreamExtraInfoResult(void *ctx, zego_error code, zego_seq seq) {
  ZGEnterCallbackThread();
  ZG_POOL_BEGIN
  ZegoPublisherSetStreamExtraInfoCallback done = [(ZG_BRIDGE ZegoExpressEngine *)ctx takePendingResult:seq];
  if (done) done((int)code);
  ZG_POOL_END
}
#endif

// ---------------------------------------------------------------------------------------------
// ZegoExpressEngine
// ---------------------------------------------------------------------------------------------

@implementation ZegoExpressEngine

+ (ZegoExpressEngine *)createEngineWithProfile:(ZegoEngineProfile *)profile eventHandler:(id<ZegoEventHandler>)eventHandler {
  ZegoExpressEngine *result = nil;
  pthread_mutex_lock(&gSharedLock);
  if (gShared) {
    result = gShared;
  } else if (profile) {
    zego_engine_profile p;
    zego_engine *engine = NULL;
    p.app_id = profile.appID;
    p.server = [profile.server UTF8String];
    p.room_mode = (zego_room_mode)profile.roomMode;
    zego_error err = zego_engine_create(&p, &engine);
    if (err == 0) {
      gShared = [[ZegoExpressEngine alloc] initWithEngine:engine eventHandler:eventHandler];
      if (gConfig.advancedConfig) {
        zego_engine_set_engine_config(engine, [ZGAdvancedConfigText(gConfig.advancedConfig) UTF8String]);
      }
      [gShared registerCallbacks];
      result = gShared;
    } else {
      NSLog(@"ZegoExpressEngine: zego_engine_create failed: %d", (int)err);
    }
  }
  pthread_mutex_unlock(&gSharedLock);
  return result;
}

+ (ZegoExpressEngine *)sharedEngine {
  ZegoExpressEngine *result;
  pthread_mutex_lock(&gSharedLock);
  result = gShared;
  pthread_mutex_unlock(&gSharedLock);
  return result;
}

+ (void)destroyEngine:(id)completion {
  ZegoExpressEngine *engine;
  pthread_mutex_lock(&gSharedLock);
  engine = gShared;
  gShared = nil;
  pthread_mutex_unlock(&gSharedLock);
  if (engine) {
    // No callback runs after this returns (outside a callback), so the object can go.
    zego_engine_destroy([engine cEngine]);
    ZG_RELEASE(engine);
  }
#if defined(__BLOCKS__)
  if (completion) {
    void (^done)(void) = completion;
    done();
  }
#else
  (void)completion;
#endif
}

+ (void)setEngineConfig:(ZegoEngineConfig *)config {
  pthread_mutex_lock(&gSharedLock);
  if (config != gConfig) {
    ZG_RELEASE(gConfig);
    gConfig = ZG_RETAIN(config);
  }
  if (gShared && config.advancedConfig) {
    zego_engine_set_engine_config([gShared cEngine], [ZGAdvancedConfigText(config.advancedConfig) UTF8String]);
  }
  pthread_mutex_unlock(&gSharedLock);
}

- (id)initWithEngine:(zego_engine *)engine eventHandler:(id<ZegoEventHandler>)eventHandler {
  if ((self = [super init])) {
    pthread_mutex_t *lock = malloc(sizeof(pthread_mutex_t));
    pthread_mutex_init(lock, NULL);
    _lock = lock;
    lock = malloc(sizeof(pthread_mutex_t));
    pthread_mutex_init(lock, NULL);
    _pendingLock = lock;
    _pendingResults = [[NSMutableDictionary alloc] init];
    _engine = engine;
    _eventHandler = eventHandler;
  }
  return self;
}

- (void)dealloc {
  // Reached only after zego_engine_destroy (see +destroyEngine:); harmless if repeated.
  zego_engine_destroy((zego_engine *)_engine);
  pthread_mutex_destroy((pthread_mutex_t *)_lock);
  free(_lock);
  pthread_mutex_destroy((pthread_mutex_t *)_pendingLock);
  free(_pendingLock);
  ZG_RELEASE(_pendingResults);
  ZG_SUPER_DEALLOC();
}

- (zego_engine *)cEngine {
  return (zego_engine *)_engine;
}

- (id)currentHandler {
  id handler;
  pthread_mutex_lock((pthread_mutex_t *)_lock);
  handler = _eventHandler;
  pthread_mutex_unlock((pthread_mutex_t *)_lock);
  return handler;
}

- (void)registerCallbacks {
  void *ctx = (ZG_BRIDGE void *)self;
  zego_engine_register_room_state_changed_callback(_engine, ZGOnStateChanged, ctx);
  zego_engine_register_room_state_update_callback(_engine, ZGOnStateUpdate, ctx);
  zego_engine_register_room_user_update_callback(_engine, ZGOnUserUpdate, ctx);
  zego_engine_register_room_online_user_count_update_callback(_engine, ZGOnCount, ctx);
  zego_engine_register_room_token_will_expire_callback(_engine, ZGOnTokenWillExpire, ctx);
  zego_engine_register_room_stream_update_callback(_engine, ZGOnStreamUpdate, ctx);
  zego_engine_register_room_stream_extra_info_update_callback(_engine, ZGOnStreamExtraInfoUpdate, ctx);
  zego_engine_register_publisher_state_update_callback(_engine, ZGOnPublisherState, ctx);
  zego_engine_register_player_state_update_callback(_engine, ZGOnPlayerState, ctx);
  zego_engine_register_player_recv_sei_callback(_engine, ZGOnRecvSEI, ctx);
  zego_engine_register_im_recv_broadcast_message_callback(_engine, ZGOnRecvBroadcast, ctx);
  zego_engine_register_im_recv_barrage_message_callback(_engine, ZGOnRecvBarrage, ctx);
  zego_engine_register_im_recv_custom_command_callback(_engine, ZGOnRecvCustomCommand, ctx);
  zego_engine_register_room_extra_info_update_callback(_engine, ZGOnRoomExtraInfoUpdate, ctx);
#if defined(__BLOCKS__)
  // Result blocks do not depend on the event handler; registered once would do, but
  // re-registering is harmless and keeps one place for all registrations.
  zego_engine_register_im_send_broadcast_message_result_callback(_engine, ZGOnBroadcastResult, ctx);
  zego_engine_register_im_send_barrage_message_result_callback(_engine, ZGOnBarrageResult, ctx);
  zego_engine_register_im_send_custom_command_result_callback(_engine, ZGOnCustomCommandResult, ctx);
  zego_engine_register_room_set_room_extra_info_result_callback(_engine, ZGOnRoomExtraInfoResult, ctx);
  zego_engine_register_publisher_update_stream_extra_info_result_callback(_engine, ZGOnStreamExtraInfoResult, ctx);
#endif
}

/// The block stored for `seq` (removed), or nil.
- (id)takePendingResult:(zego_seq)seq {
  id done;
  NSNumber *key = [NSNumber numberWithInt:(int)seq];
  pthread_mutex_lock((pthread_mutex_t *)_pendingLock);
  done = ZG_AUTORELEASE(ZG_RETAIN([_pendingResults objectForKey:key]));
  [_pendingResults removeObjectForKey:key];
  pthread_mutex_unlock((pthread_mutex_t *)_pendingLock);
  return done;
}

- (void)setEventHandler:(id<ZegoEventHandler>)eventHandler {
  pthread_mutex_lock((pthread_mutex_t *)_lock);
  _eventHandler = eventHandler;
  pthread_mutex_unlock((pthread_mutex_t *)_lock);
  // Re-registering waits for a callback in progress (unless we are on the callback thread), so
  // the previous handler is not called once this returns.
  [self registerCallbacks];
}

static zego_room_config ZGConfig(ZegoRoomConfig *config) {
  zego_room_config c;
  c.max_member_count = config.maxMemberCount;
  c.is_user_status_notify = config.isUserStatusNotify ? true : false;
  c.token = config.token ? [config.token UTF8String] : NULL;
  return c;
}

- (int)loginRoom:(NSString *)roomID user:(ZegoUser *)user {
  return [self loginRoom:roomID user:user config:nil];
}

- (int)loginRoom:(NSString *)roomID user:(ZegoUser *)user config:(ZegoRoomConfig *)config {
  zego_user u;
  zego_room_config c;
  if (user == nil) return 1000017;
  u.user_id = [user.userID UTF8String];
  u.user_name = [user.userName UTF8String];
  c = ZGConfig(config);
  return zego_engine_login_room(_engine, [roomID UTF8String], &u, config ? &c : NULL, NULL);
}

- (int)logoutRoom {
  return zego_engine_logout_room(_engine, NULL, NULL);
}

- (int)logoutRoom:(NSString *)roomID {
  if (roomID == nil) return 1000017;
  return zego_engine_logout_room(_engine, [roomID UTF8String], NULL);
}

- (int)switchRoom:(NSString *)fromRoomID toRoomID:(NSString *)toRoomID {
  return [self switchRoom:fromRoomID toRoomID:toRoomID config:nil];
}

- (int)switchRoom:(NSString *)fromRoomID toRoomID:(NSString *)toRoomID config:(ZegoRoomConfig *)config {
  zego_room_config c = ZGConfig(config);
  return zego_engine_switch_room(_engine, [fromRoomID UTF8String], [toRoomID UTF8String], config ? &c : NULL);
}

- (int)renewToken:(NSString *)token roomID:(NSString *)roomID {
  return zego_engine_renew_token(_engine, [roomID UTF8String], [token UTF8String]);
}

// ---- streams (contract §6) --------------------------------------------------------------------

- (int)startPublishingStream:(NSString *)streamID {
  return [self startPublishingStream:streamID config:nil channel:ZegoPublishChannelMain];
}

- (int)startPublishingStream:(NSString *)streamID channel:(ZegoPublishChannel)channel {
  return [self startPublishingStream:streamID config:nil channel:channel];
}

- (int)startPublishingStream:(NSString *)streamID config:(ZegoPublisherConfig *)config channel:(ZegoPublishChannel)channel {
  zego_publisher_config c;
  c.room_id = config.roomID ? [config.roomID UTF8String] : NULL;
  return zego_engine_start_publishing_stream(_engine, [streamID UTF8String], config ? &c : NULL, ZGChannel(channel));
}

- (int)stopPublishingStream {
  return [self stopPublishingStream:ZegoPublishChannelMain];
}

- (int)stopPublishingStream:(ZegoPublishChannel)channel {
  return zego_engine_stop_publishing_stream(_engine, ZGChannel(channel));
}

- (int)setStreamExtraInfo:(NSString *)extraInfo {
  return [self setStreamExtraInfo:extraInfo channel:ZegoPublishChannelMain callback:nil];
}

- (int)setStreamExtraInfo:(NSString *)extraInfo channel:(ZegoPublishChannel)channel {
  return [self setStreamExtraInfo:extraInfo channel:channel callback:nil];
}

- (int)setStreamExtraInfo:(NSString *)extraInfo callback:(ZegoPublisherSetStreamExtraInfoCallback)callback {
  return [self setStreamExtraInfo:extraInfo channel:ZegoPublishChannelMain callback:callback];
}

/// Runs `call` (which returns a code and writes a seq) and, on success, files `callback` under
/// that seq before the result event can look for it (the lookup takes the same lock). A refused
/// call hands its code to the block at once. Without blocks, a non-nil callback is refused.
#if defined(__BLOCKS__)
#define ZG_CALL_WITH_RESULT(callback, call, on_error)                                                   \
  do {                                                                                                 \
    zego_seq seq_ = 0;                                                                                 \
    int code_;                                                                                         \
    pthread_mutex_lock((pthread_mutex_t *)_pendingLock);                                               \
    code_ = (int)(call);                                                                               \
    if (code_ == 0 && (callback) != nil) {                                                             \
      id copied_ = ZG_AUTORELEASE([(callback) copy]);                                                  \
      [_pendingResults setObject:copied_ forKey:[NSNumber numberWithInt:(int)seq_]];                   \
    }                                                                                                  \
    pthread_mutex_unlock((pthread_mutex_t *)_pendingLock);                                             \
    if (code_ != 0 && (callback) != nil) on_error;                                                     \
    return code_;                                                                                      \
  } while (0)
#else
#define ZG_CALL_WITH_RESULT(callback, call, on_error)                                                   \
  do {                                                                                                 \
    zego_seq seq_ = 0;                                                                                 \
    if ((callback) != nil) {                                                                           \
      NSLog(@"ZegoExpressEngine: result blocks need a compiler with blocks; pass nil (1000017)");     \
      return 1000017;                                                                                  \
    }                                                                                                  \
    return (int)(call);                                                                                \
  } while (0)
#endif

- (int)setStreamExtraInfo:(NSString *)extraInfo channel:(ZegoPublishChannel)channel callback:(ZegoPublisherSetStreamExtraInfoCallback)callback {
  ZG_CALL_WITH_RESULT(callback,
                      zego_engine_set_stream_extra_info(_engine, [extraInfo UTF8String], ZGChannel(channel), &seq_),
                      callback(code_));
}

- (int)startPlayingStream:(NSString *)streamID {
  return [self startPlayingStream:streamID canvas:nil config:nil];
}

- (int)startPlayingStream:(NSString *)streamID canvas:(ZegoCanvas *)canvas {
  return [self startPlayingStream:streamID canvas:canvas config:nil];
}

- (int)startPlayingStream:(NSString *)streamID canvas:(ZegoCanvas *)canvas config:(ZegoPlayerConfig *)config {
  zego_player_config c;
  (void)canvas; // no video here
  c.room_id = config.roomID ? [config.roomID UTF8String] : NULL;
  return zego_engine_start_playing_stream(_engine, [streamID UTF8String], config ? &c : NULL);
}

- (int)stopPlayingStream:(NSString *)streamID {
  return zego_engine_stop_playing_stream(_engine, [streamID UTF8String]);
}

- (int)sendSEI:(NSData *)data {
  return [self sendSEI:data channel:ZegoPublishChannelMain];
}

- (int)sendSEI:(NSData *)data channel:(ZegoPublishChannel)channel {
  NSUInteger length = [data length];
  if (data == nil || length > 0xffffffffu) return 1000017;
  return zego_engine_send_sei(_engine, (const uint8_t *)[data bytes], (uint32_t)length, ZGChannel(channel));
}

// ---- messaging and room extra info (contract §7) ----------------------------------------------

- (int)sendBroadcastMessage:(NSString *)message roomID:(NSString *)roomID callback:(ZegoIMSendBroadcastMessageCallback)callback {
  ZG_CALL_WITH_RESULT(callback,
                      zego_engine_send_broadcast_message(_engine, [roomID UTF8String], [message UTF8String], &seq_),
                      callback(code_, 0ull));
}

- (int)sendBarrageMessage:(NSString *)message roomID:(NSString *)roomID callback:(ZegoIMSendBarrageMessageCallback)callback {
  ZG_CALL_WITH_RESULT(callback,
                      zego_engine_send_barrage_message(_engine, [roomID UTF8String], [message UTF8String], &seq_),
                      callback(code_, @""));
}

/// The C call with the user ids of `toUserList` (ZegoUser * elements; nil/empty = everyone).
static zego_error ZGSendCustomCommand(zego_engine *engine, NSString *command, NSArray *toUserList, NSString *roomID,
                                      zego_seq *seq) {
  zego_user users[6];
  NSUInteger n = [toUserList count], i;
  if (n > 5) return 1000017; /* the C ABI's rule too; checked here to bound the array */
  for (i = 0; i < n; i++) {
    id u = [toUserList objectAtIndex:i];
    if (![u isKindOfClass:[ZegoUser class]]) return 1000017;
    users[i].user_id = [((ZegoUser *)u).userID UTF8String];
    users[i].user_name = NULL;
  }
  return zego_engine_send_custom_command(engine, [roomID UTF8String], [command UTF8String], n ? users : NULL,
                                         (uint32_t)n, seq);
}

- (int)sendCustomCommand:(NSString *)command toUserList:(NSArray *)toUserList roomID:(NSString *)roomID callback:(ZegoIMSendCustomCommandCallback)callback {
  ZG_CALL_WITH_RESULT(callback, ZGSendCustomCommand(_engine, command, toUserList, roomID, &seq_), callback(code_));
}

- (int)setRoomExtraInfo:(NSString *)value forKey:(NSString *)key roomID:(NSString *)roomID callback:(ZegoRoomSetRoomExtraInfoCallback)callback {
  ZG_CALL_WITH_RESULT(callback,
                      zego_engine_set_room_extra_info(_engine, [roomID UTF8String], [key UTF8String], [value UTF8String], &seq_),
                      callback(code_));
}

@end
