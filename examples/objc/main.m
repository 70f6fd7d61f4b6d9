//
//  Room connection status sample: the ZEGO documentation's onRoomStateChanged handler
//  (seeds/room-connection-status.ios-objc.en.md), copied unchanged into SeedHandler, running
//  against a real zego-room server through bindings/objc.
//
//  Build on Linux (GNUstep), from the repository root, after `cargo build --release`:
//    gcc $(gnustep-config --objc-flags) -Ibindings/objc -Iinclude examples/objc/main.m
//        bindings/objc/ZegoExpressEngine.m -Ltarget/release -Wl,-rpath,$PWD/target/release
//        -lzego_room $(gnustep-config --base-libs) -o room_status      (one line)
//  Run:  ./room_status ws://127.0.0.1:9100 ROOM USER [TOKEN [APP_ID]]
//

#import <Foundation/Foundation.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#import "ZegoExpressEngine.h"

/// The sample's handler, verbatim.
@interface SeedHandler : NSObject <ZegoEventHandler>
@end

@implementation SeedHandler

-(void)onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
if(reason == ZegoRoomStateChangedReasonLogining)
    {
        // logging in
        // On behalf of the developer, actively call the callback in the connection triggered by loginRoom
    }
    else if(reason == ZegoRoomStateChangedReasonLogined)
    {
        // login successful
        // Currently, the developer actively calls loginRoom to trigger the callback of successful login. Here, the business logic of successful login to the room for the first time can be processed, such as pulling the basic information of chat room and live room.
    }
    else if(reason == ZegoRoomStateChangedReasonLoginFailed)
    {
        // Login failed
        if (errorCode == 1002033) {
            //When using the login room authentication function, the incoming token is wrong
        }
    }
    else if(reason == ZegoRoomStateChangedReasonReconnecting)
    {
        // reconnecting
        // Currently it is a callback triggered by SDK disconnection and reconnection successfully. It is recommended to show some reconnection UI here.
    }
    else if(reason == ZegoRoomStateChangedReasonReconnected)
    {
        // reconnect successfully
    }
    else if(reason == ZegoRoomStateChangedReasonReconnectFailed)
    {
        // reconnect failed
        // When the room connection is completely disconnected, the SDK will not reconnect. If the developer needs to log in to the room again, he can actively call the loginRoom interface
        // At this point, you can log out of the room/live room/classroom in the business, or manually call the interface to log in again
    }
    else if(reason == ZegoRoomStateChangedReasonKickOut)
    {
        // kicked out of the room
        if (errorCode == 1002050) {
            // User kicked out of room (due to user with same userID logged in elsewhere)
        }
        else if (errorCode == 1002055) {
            // The user is kicked out of the room (the developer actively calls the kicking interface in the background
        }
    }
    else if(reason == ZegoRoomStateChangedReasonLogout)
    {
        // successfully logged out
        // The developer actively calls logoutRoom to log out of the room
        // Developers can handle the logic of active logout callback here
    }
    else if(reason == ZegoRoomStateChangedReasonLogoutFailed)
    {
        // logout failed
        // logout room ID error
    }
}

@end

/// Prints every event (so a test can see it), then runs the sample's handler.
@interface PrintingHandler : SeedHandler {
  volatile int _lastReason;
  volatile int _events;
}
- (int)lastReason;
- (int)events;
@end

@implementation PrintingHandler

- (id)init {
  if ((self = [super init])) {
    _lastReason = -1;
  }
  return self;
}

-(void)onRoomStateChanged:(ZegoRoomStateChangedReason)reason errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
  printf("onRoomStateChanged reason=%d errorCode=%d roomID=%s room_session_id=%s keys=%u main=%d\n", (int)reason,
         errorCode, [roomID UTF8String],
         [[[extendedData objectForKey:@"room_session_id"] description] UTF8String],
         (unsigned)[extendedData count], [NSThread isMainThread] ? 1 : 0);
  fflush(stdout);
  [super onRoomStateChanged:reason errorCode:errorCode extendedData:extendedData roomID:roomID];
  _events++;
  __sync_synchronize();
  _lastReason = (int)reason;
}

-(void)onRoomStateUpdate:(ZegoRoomState)state errorCode:(int)errorCode extendedData:(NSDictionary *)extendedData roomID:(NSString *)roomID {
  printf("onRoomStateUpdate state=%d errorCode=%d roomID=%s\n", (int)state, errorCode, [roomID UTF8String]);
  fflush(stdout);
}

-(void)onRoomOnlineUserCountUpdate:(int)count roomID:(NSString *)roomID {
  printf("onRoomOnlineUserCountUpdate count=%d roomID=%s\n", count, [roomID UTF8String]);
  fflush(stdout);
}

- (int)lastReason {
  __sync_synchronize();
  return _lastReason;
}

- (int)events {
  return _events;
}

@end

static int waitForReason(PrintingHandler *h, int a, int b, double seconds) {
  int i;
  for (i = 0; i < (int)(seconds * 100); i++) {
    int r = [h lastReason];
    if (r == a || r == b) return r;
    usleep(10000);
  }
  return [h lastReason];
}

int main(int argc, char **argv) {
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  PrintingHandler *handler = [[PrintingHandler alloc] init];
  ZegoEngineProfile *profile = [[ZegoEngineProfile alloc] init];
  ZegoEngineConfig *engineConfig = [[ZegoEngineConfig alloc] init];
  ZegoRoomConfig *config = [ZegoRoomConfig defaultConfig];
  ZegoExpressEngine *engine;
  NSString *roomID;
  int reason, code, ok;

  if (argc < 4) {
    fprintf(stderr, "usage: %s ws://host:port ROOM USER [TOKEN [APP_ID]]\n", argv[0]);
    return 2;
  }
  profile.server = [NSString stringWithUTF8String:argv[1]];
  profile.appID = argc > 5 ? (unsigned int)strtoul(argv[5], NULL, 10) : 1u;
  profile.roomMode = ZegoRoomModeSingleRoom;
  engineConfig.advancedConfig = [NSDictionary dictionaryWithObject:@"60" forKey:@"room_retry_time"];
  [ZegoExpressEngine setEngineConfig:engineConfig];

  engine = [ZegoExpressEngine createEngineWithProfile:profile eventHandler:handler];
  if (engine == nil || [ZegoExpressEngine sharedEngine] != engine ||
      [ZegoExpressEngine createEngineWithProfile:profile eventHandler:handler] != engine) {
    fprintf(stderr, "shared engine not created\n");
    return 1;
  }
  roomID = [NSString stringWithUTF8String:argv[2]];
  config.isUserStatusNotify = YES;
  if (argc > 4) config.token = [NSString stringWithUTF8String:argv[4]];
  code = [engine loginRoom:roomID user:[ZegoUser userWithUserID:[NSString stringWithUTF8String:argv[3]]] config:config];
  printf("loginRoom returned %d\n", code);
  printf("empty room id returns %d\n", [engine loginRoom:@"" user:[ZegoUser userWithUserID:@"x"]]);
  fflush(stdout);
  reason = waitForReason(handler, ZegoRoomStateChangedReasonLogined, ZegoRoomStateChangedReasonLoginFailed, 20);
  ok = code == 0 && reason == ZegoRoomStateChangedReasonLogined;
  if (ok) {
    printf("logoutRoom returned %d\n", [engine logoutRoom:roomID]);
    fflush(stdout);
    waitForReason(handler, ZegoRoomStateChangedReasonLogout, ZegoRoomStateChangedReasonLogoutFailed, 5);
  }
  [engine setEventHandler:nil];
  [ZegoExpressEngine destroyEngine:nil];
  printf("destroyed; sharedEngine=%s\n", [ZegoExpressEngine sharedEngine] == nil ? "nil" : "set");
  [handler release];
  [profile release];
  [engineConfig release];
  [pool drain];
  return ok ? 0 : 1;
}
