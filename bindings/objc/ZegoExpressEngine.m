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

static pthread_mutex_t gSharedLock = PTHREAD_MUTEX_INITIALIZER;
static ZegoExpressEngine *gShared = nil;
static ZegoEngineConfig *gConfig = nil;

@interface ZegoExpressEngine ()
- (id)initWithEngine:(zego_engine *)engine eventHandler:(id<ZegoEventHandler>)eventHandler;
- (id)currentHandler;
- (zego_engine *)cEngine;
- (void)registerCallbacks;
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

@end
