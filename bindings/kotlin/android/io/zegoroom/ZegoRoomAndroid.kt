package io.zegoroom

import android.content.Context

/**
 * Android only. Gives the library's TLS certificate verifier (rustls-platform-verifier, which asks
 * Android's X509TrustManager, so user-installed and MDM roots are trusted as for the rest of the
 * app) what it needs from the JVM. Call once before the first `wss://` login, e.g. in
 * `Application.onCreate`; calling it again is harmless. Throws `RuntimeException` if the JVM calls
 * fail. Without it every `wss://` login ends as LoginFailed 1002053 (with a log line saying so).
 * Also needs the verifier's Kotlin component on the classpath: see docs/bindings.md ("Android: TLS").
 */
object ZegoRoomAndroid {
    init {
        System.loadLibrary("zego_room")
    }

    @JvmStatic
    fun init(context: Context) = nativeInit(context.applicationContext)

    @JvmStatic
    private external fun nativeInit(context: Context)
}
