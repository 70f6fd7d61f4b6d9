//
//  ZegoExpressEngine.h — Objective-C wrapper of zego-room's C ABI (include/zego_room.h), named as
//  in the ZEGO Express SDK. Links with -lzego_room plus Foundation (GNUstep Base on Linux).
//
//  Compiles with GCC's Objective-C + GNUstep Base and with Apple clang: no lightweight generics,
//  nullability, `weak` or literals here, and blocks only where the compiler has them.
//
//  Result blocks: ZEGO's methods that report a result through a block (-sendBroadcastMessage:
//  roomID:callback:, -sendBarrageMessage:roomID:callback:, -sendCustomCommand:toUserList:roomID:
//  callback:, -setRoomExtraInfo:forKey:roomID:callback:, -setStreamExtraInfo:callback:) take a
//  block where the compiler has blocks (__BLOCKS__: Apple clang, clang -fblocks). With GCC (no
//  blocks) the callback parameter is an `id` that must be nil: a non-nil value returns 1000017
//  and nothing is sent. A block is called once, on the engine's callback thread, with the
//  result event of that call (matched by its seq); if the call is refused synchronously the
//  block is called at once, on the calling thread, with that code (which is also returned).
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

/// A publisher's state (-onPublisherStateUpdate:...). Values equal the C ABI's.
typedef NS_ENUM(NSUInteger, ZegoPublisherState) {
  ZegoPublisherStateNoPublish = 0,
  ZegoPublisherStatePublishRequesting = 1,
  ZegoPublisherStatePublishing = 2
};

/// A player's state (-onPlayerStateUpdate:...).
typedef NS_ENUM(NSUInteger, ZegoPlayerState) {
  ZegoPlayerStateNoPlay = 0,
  ZegoPlayerStatePlayRequesting = 1,
  ZegoPlayerStatePlaying = 2
};

/// The four publish channels; each publishes at most one stream.
typedef NS_ENUM(NSUInteger, ZegoPublishChannel) {
  ZegoPublishChannelMain = 0,
  ZegoPublishChannelAux = 1,
  ZegoPublishChannelThird = 2,
  ZegoPublishChannelFourth = 3
};

#if defined(__BLOCKS__)
/// Result of -sendBroadcastMessage:roomID:callback: (messageID increases per room).
typedef void (^ZegoIMSendBroadcastMessageCallback)(int errorCode, unsigned long long messageID);
/// Result of -sendBarrageMessage:roomID:callback:.
typedef void (^ZegoIMSendBarrageMessageCallback)(int errorCode, NSString *messageID);
/// Result of -sendCustomCommand:toUserList:roomID:callback:.
typedef void (^ZegoIMSendCustomCommandCallback)(int errorCode);
/// Result of -setRoomExtraInfo:forKey:roomID:callback:.
typedef void (^ZegoRoomSetRoomExtraInfoCallback)(int errorCode);
/// Result of -setStreamExtraInfo:callback:.
typedef void (^ZegoPublisherSetStreamExtraInfoCallback)(int errorCode);
#else
/// No blocks with this compiler: pass nil (a non-nil value returns 1000017).
typedef id ZegoIMSendBroadcastMessageCallback;
typedef id ZegoIMSendBarrageMessageCallback;
typedef id ZegoIMSendCustomCommandCallback;
typedef id ZegoRoomSetRoomExtraInfoCallback;
typedef id ZegoPublisherSetStreamExtraInfoCallback;
#endif

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

/// A stream in a room: its publisher, id and extra info.
@interface ZegoStream : NSObject {
  ZegoUser *_user;
  NSString *_streamID;
  NSString *_extraInfo;
}
@property (nonatomic, retain) ZegoUser *user;
/// 1-255 bytes of [0-9A-Za-z_-].
@property (nonatomic, copy) NSString *streamID;
/// 0-1024 bytes of UTF-8; empty when none.
@property (nonatomic, copy) NSString *extraInfo;
@end

/// Options of -startPublishingStream:config:channel:.
@interface ZegoPublisherConfig : NSObject {
  NSString *_roomID;
}
/// nil or empty = the only room (single-room mode); required in multi-room mode (1003071).
@property (nonatomic, copy) NSString *roomID;
@end

/// Options of -startPlayingStream:canvas:config:.
@interface ZegoPlayerConfig : NSObject {
  NSString *_roomID;
}
/// nil or empty = the only room (single-room mode); required in multi-room mode (1004071).
@property (nonatomic, copy) NSString *roomID;
@end

/// Where a played stream would render. zego-room carries no video: accepted and ignored.
@interface ZegoCanvas : NSObject {
  id _view;
}
@property (nonatomic, retain) id view;
+ (ZegoCanvas *)canvasWithView:(id)view;
@end

/// A broadcast message as received.
@interface ZegoBroadcastMessageInfo : NSObject {
  NSString *_message;
  unsigned long long _messageID;
  unsigned long long _sendTime;
  ZegoUser *_fromUser;
}
@property (nonatomic, copy) NSString *message;
/// Increasing per room.
@property (nonatomic, assign) unsigned long long messageID;
/// Server time, milliseconds since the Unix epoch.
@property (nonatomic, assign) unsigned long long sendTime;
@property (nonatomic, retain) ZegoUser *fromUser;
@end

/// A barrage message as received.
@interface ZegoBarrageMessageInfo : NSObject {
  NSString *_message;
  NSString *_messageID;
  unsigned long long _sendTime;
  ZegoUser *_fromUser;
}
@property (nonatomic, copy) NSString *message;
@property (nonatomic, copy) NSString *messageID;
/// Server time, milliseconds since the Unix epoch.
@property (nonatomic, assign) unsigned long long sendTime;
@property (nonatomic, retain) ZegoUser *fromUser;
@end

/// The room's extra info (one key per room).
@interface ZegoRoomExtraInfo : NSObject {
  NSString *_key;
  NSString *_value;
  ZegoUser *_updateUser;
  unsigned long long _updateTime;
}
@property (nonatomic, copy) NSString *key;
@property (nonatomic, copy) NSString *value;
@property (nonatomic, retain) ZegoUser *updateUser;
/// Server time, milliseconds since the Unix epoch.
@property (nonatomic, assign) unsigned long long updateTime;
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

// Streams (contract §6). streamList elements are ZegoStream *.
/// Other users' streams were added (extendedData empty) or deleted (extendedData
/// {"stream_delete_reason": [{"stream_id": ..., "code": N}]}). Never the local user's.
- (void)onRoomStreamUpdate:(ZegoUpdateType)updateType streamList:(NSArray *)streamList extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID;
/// Other users changed their streams' extra info.
- (void)onRoomStreamExtraInfoUpdate:(NSArray *)streamList roomID:(NSString *)roomID;
- (void)onPublisherStateUpdate:(ZegoPublisherState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData streamID:(NSString *)streamID;
- (void)onPlayerStateUpdate:(ZegoPlayerState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData streamID:(NSString *)streamID;
/// One SEI frame of a played stream, byte for byte, in the publisher's order.
- (void)onPlayerRecvSEI:(NSData *)data streamID:(NSString *)streamID;

// Messaging and room extra info (contract §7).
/// messageList elements are ZegoBroadcastMessageInfo * (1-50, in send order).
- (void)onIMRecvBroadcastMessage:(NSArray *)messageList roomID:(NSString *)roomID;
/// messageList elements are ZegoBarrageMessageInfo *.
- (void)onIMRecvBarrageMessage:(NSArray *)messageList roomID:(NSString *)roomID;
- (void)onIMRecvCustomCommand:(NSString *)command fromUser:(ZegoUser *)fromUser roomID:(NSString *)roomID;
/// roomExtraInfoList elements are ZegoRoomExtraInfo *.
- (void)onRoomExtraInfoUpdate:(NSArray *)roomExtraInfoList roomID:(NSString *)roomID;
@end

/// One shared engine at a time, as in ZEGO. Instance methods return a ZEGO error code (0 = accepted).
@interface ZegoExpressEngine : NSObject {
  void *_engine;
  ZEGO_UNRETAINED id _eventHandler;
  void *_lock;
  /// seq -> result block of a pending call (blocks only); guarded by _pendingLock.
  id _pendingResults;
  void *_pendingLock;
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

// Streams (contract §6). Codes: 1000014/1000015/1000016 stream id, 1000002 room not joined,
// 1003023 channel busy, 1004010 too many played, 1000017 bad argument (nil included).
/// On the main channel, in the only room.
- (int)startPublishingStream:(NSString *)streamID;
- (int)startPublishingStream:(NSString *)streamID channel:(ZegoPublishChannel)channel;
/// config nil = the only room.
- (int)startPublishingStream:(NSString *)streamID config:(ZegoPublisherConfig *)config channel:(ZegoPublishChannel)channel;
/// The main channel.
- (int)stopPublishingStream;
- (int)stopPublishingStream:(ZegoPublishChannel)channel;
/// Extra info (0-1024 bytes) of the main channel's stream; the result is not reported here.
- (int)setStreamExtraInfo:(NSString *)extraInfo;
- (int)setStreamExtraInfo:(NSString *)extraInfo channel:(ZegoPublishChannel)channel;
/// As ZEGO: the result block is called with the outcome (see "Result blocks" above).
- (int)setStreamExtraInfo:(NSString *)extraInfo callback:(ZegoPublisherSetStreamExtraInfoCallback)callback;
- (int)setStreamExtraInfo:(NSString *)extraInfo channel:(ZegoPublishChannel)channel callback:(ZegoPublisherSetStreamExtraInfoCallback)callback;
- (int)startPlayingStream:(NSString *)streamID;
/// canvas may be nil and is ignored (no video here).
- (int)startPlayingStream:(NSString *)streamID canvas:(ZegoCanvas *)canvas;
- (int)startPlayingStream:(NSString *)streamID canvas:(ZegoCanvas *)canvas config:(ZegoPlayerConfig *)config;
- (int)stopPlayingStream:(NSString *)streamID;
/// 1-4096 bytes to every player of the main channel's stream (1003001 when not publishing).
- (int)sendSEI:(NSData *)data;
- (int)sendSEI:(NSData *)data channel:(ZegoPublishChannel)channel;

// Messaging and room extra info (contract §7). Codes: 1009001 empty, 1009002 over 1024 bytes,
// 1009005 room not joined, 1009011/1009012 bad target user id, 1002014-1002017 extra info,
// 1002002 room not joined (extra info).
- (int)sendBroadcastMessage:(NSString *)message roomID:(NSString *)roomID callback:(ZegoIMSendBroadcastMessageCallback)callback;
- (int)sendBarrageMessage:(NSString *)message roomID:(NSString *)roomID callback:(ZegoIMSendBarrageMessageCallback)callback;
/// toUserList: ZegoUser * elements (1-5); nil or empty = everyone in the room but the sender.
- (int)sendCustomCommand:(NSString *)command toUserList:(NSArray *)toUserList roomID:(NSString *)roomID callback:(ZegoIMSendCustomCommandCallback)callback;
/// Value first, as in ZEGO.
- (int)setRoomExtraInfo:(NSString *)value forKey:(NSString *)key roomID:(NSString *)roomID callback:(ZegoRoomSetRoomExtraInfoCallback)callback;
@end
