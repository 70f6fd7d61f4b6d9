//! Android only: the JNI entry an app calls once so that `wss://` can verify certificates with
//! Android's own trust manager (rustls-platform-verifier calls into the JVM and needs the app's
//! `Context`). Kotlin side: `bindings/kotlin/android/io/zegoroom/ZegoRoomAndroid.kt`, which the app
//! calls as `ZegoRoomAndroid.init(context)` (e.g. in `Application.onCreate`), before the first
//! `wss://` login. Until then every `wss://` attempt fails with a log line saying so, and the login
//! ends as LoginFailed 1002053 after the retry window. Setup: docs/bindings.md, "Android: TLS".
//!
//! Not built or tested on this repository's CI (no Android NDK there); the JNI glue follows the
//! verifier's documented `init_with_env` example and was type-checked against jni 0.22 on Linux.

use jni::errors::ThrowRuntimeExAndDefault;
use jni::jni_mangle;
use jni::objects::{JClass, JObject};
use jni::{Env, EnvUnowned};

/// `io.zegoroom.ZegoRoomAndroid.nativeInit(Context)` (exported as
/// `Java_io_zegoroom_ZegoRoomAndroid_nativeInit`). Idempotent. A JVM failure is thrown to the
/// caller as a `RuntimeException`; a panic never crosses into the JVM (`with_env` catches it).
#[jni_mangle("io.zegoroom.ZegoRoomAndroid")]
pub fn native_init<'caller>(mut unowned_env: EnvUnowned<'caller>, _class: JClass<'caller>, context: JObject<'caller>) {
    unowned_env
        .with_env(|env: &mut Env| -> Result<(), jni::errors::Error> {
            rustls_platform_verifier::android::init_with_env(env, context)?;
            crate::engine::mark_android_tls_initialised();
            Ok(())
        })
        .resolve::<ThrowRuntimeExAndDefault>();
}
