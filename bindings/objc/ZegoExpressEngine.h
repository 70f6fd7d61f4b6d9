//
//  ZegoExpressEngine.h — Objective-C wrapper of zego-room's C ABI (include/zego_room.h), named as
//  in the ZEGO Express SDK. Links with -lzego_room plus Foundation (GNUstep Base on Linux).
//
//  Compiles with GCC's Objective-C + GNUstep Base and with Apple clang: no lightweight generics,
//  nullability, `weak`, blocks or literals here.
//
//  Threading: delegate methods are called on the engine's own callback thread (one thread, in
//  order, never concurrently), each inside its own autorelease pool; on GNUstep that thread is
//  registered with the runtime. They are NOT hopped to the main queue, on Apple platforms either:
//  dispatch to the main queue yourself for UI work.
//
//  The event handler is held unretained (GCC has no `weak`): keep it alive while it is set, or
//  set another one (-setEventHandler:) before releasing it. Once -setEventHandler: or
//  +destroyEngine: returns (outside a callback), the previous handler is not called again.
//

#import <Foundation/Foundation.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if __has_feature(objc_arc)
#define ZEGO_UNRETAINED __unsafe_unretained
#else
#define ZEGO_UNRETAINED
#endif

#ifndef NS_ENUM
#define NS_ENUM(_type, _name) _type _name; enum
#endif

/// Why a room's state changed. Values equal the C ABI's.
typedef NS_ENUM(NSUInteger, ZegoRoomStateChangedReason) {
  ZegoRoomStateChangedReasonLogining = 0,
  ZegoRoomStateChangedReasonLogined = 1,
  ZegoRoomStateChangedReasonLoginFailed = 2,
  ZegoRoomStateChangedReasonReconnecting = 3,
  ZegoRoomStateChangedReasonReconnected = 4,
  ZegoRoomStateChangedReasonReconnectFailed = 5,
  ZegoRoomStateChangedReasonKickOut = 6,
  ZegoRoomStateChangedReasonLogout = 7,
  ZegoRoomStateChangedReasonLogoutFailed = 8
};

/// Legacy room state.
typedef NS_ENUM(NSUInteger, ZegoRoomState) {
  ZegoRoomStateDisconnected = 0,
  ZegoRoomStateConnecting = 1,
  ZegoRoomStateConnected = 2
};

typedef NS_ENUM(NSUInteger, ZegoUpdateType) {
  ZegoUpdateTypeAdd = 0,
  ZegoUpdateTypeDelete = 1
};

typedef NS_ENUM(NSUInteger, ZegoRoomMode) {
  ZegoRoomModeSingleRoom = 0,
  ZegoRoomModeMultiRoom = 1
};

@interface ZegoUser : NSObject {
  NSString *_userID;
  NSString *_userName;
}
@property (nonatomic, copy) NSString *userID;
@property (nonatomic, copy) NSString *userName;
/// userName = userID.
+ (ZegoUser *)userWithUserID:(NSString *)userID;
+ (ZegoUser *)userWithUserID:(NSString *)userID userName:(NSString *)userName;
- (id)initWithUserID:(NSString *)userID userName:(NSString *)userName;
@end

@interface ZegoRoomConfig : NSObject {
  unsigned int _maxMemberCount;
  BOOL _isUserStatusNotify;
  NSString *_token;
}
/// 0 = unlimited.
@property (nonatomic, assign) unsigned int maxMemberCount;
@property (nonatomic, assign) BOOL isUserStatusNotify;
/// token04; nil or empty = none.
@property (nonatomic, copy) NSString *token;
+ (ZegoRoomConfig *)defaultConfig;
@end

@interface ZegoEngineProfile : NSObject {
  unsigned int _appID;
  NSString *_server;
  ZegoRoomMode _roomMode;
}
@property (nonatomic, assign) unsigned int appID;
/// "ws://host:port" or "wss://host:port".
@property (nonatomic, copy) NSString *server;
@property (nonatomic, assign) ZegoRoomMode roomMode;
@end

@interface ZegoEngineConfig : NSObject {
  NSDictionary *_advancedConfig;
}
/// String keys and values, e.g. room_retry_time -> 30.
@property (nonatomic, copy) NSDictionary *advancedConfig;
@end

/// All methods are optional. extendedData is never nil (parsed from the event's JSON object).
@protocol ZegoEventHandler <NSObject>
@optional
- (void)onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID;
- (void)onRoomStateUpdate:(ZegoRoomState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID;
/// userList elements are ZegoUser *.
- (void)onRoomUserUpdate:(ZegoUpdateType)updateType userList:(NSArray *)userList roomID:(NSString *)roomID;
- (void)onRoomOnlineUserCountUpdate:(int)count roomID:(NSString *)roomID;
- (void)onRoomTokenWillExpire:(int)remainTimeInSecond roomID:(NSString *)roomID;
@end

/// One shared engine at a time, as in ZEGO. Instance methods return a ZEGO error code (0 = accepted).
@interface ZegoExpressEngine : NSObject {
  void *_engine;
  ZEGO_UNRETAINED id _eventHandler;
  void *_lock;
}
/// Creates the shared engine (or returns the existing one); nil if the profile is unusable.
+ (ZegoExpressEngine *)createEngineWithProfile:(ZegoEngineProfile *)profile eventHandler:(id<ZegoEventHandler>)eventHandler;
/// The shared engine, or nil.
+ (ZegoExpressEngine *)sharedEngine;
/// Destroys the shared engine. Pass nil; on Apple a void (^)(void) block may be passed and is
/// called once done.
+ (void)destroyEngine:(id)completion;
/// Applies to the current engine and to the next one created.
+ (void)setEngineConfig:(ZegoEngineConfig *)config;
- (int)loginRoom:(NSString *)roomID user:(ZegoUser *)user;
- (int)loginRoom:(NSString *)roomID user:(ZegoUser *)user config:(ZegoRoomConfig *)config;
/// Leaves every room.
- (int)logoutRoom;
- (int)logoutRoom:(NSString *)roomID;
- (int)switchRoom:(NSString *)fromRoomID toRoomID:(NSString *)toRoomID;
- (int)switchRoom:(NSString *)fromRoomID toRoomID:(NSString *)toRoomID config:(ZegoRoomConfig *)config;
/// Token first, as in ZEGO.
- (int)renewToken:(NSString *)token roomID:(NSString *)roomID;
/// Held unretained; nil stops delivery.
- (void)setEventHandler:(id<ZegoEventHandler>)eventHandler;
@end
