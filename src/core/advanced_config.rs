//! The `"key=value;key=value"` advanced configuration text (`set_engine_config`).

use crate::error_codes::ILLEGAL_PARAM;
use std::time::Duration;

/// Settings the engine understands. `None` = leave as is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdvancedConfig {
    /// `room_retry_time`: how long (seconds) the engine keeps retrying after a loss or at first login.
    pub room_retry_time: Option<Duration>,
    /// `av_retry_time`: how long (seconds) publishers and players wait for their stream to come
    /// back after an interruption (contract §6.1; native ZEGO default 1200).
    pub av_retry_time: Option<Duration>,
    /// `tls_ca_file`: path of a PEM file with CA certificate(s) trusted for `wss://` in addition to
    /// the platform's roots (contract §9). `Some("")` goes back to the platform's roots only. The
    /// core only carries the path; the engine reads the file when the config is set (sans-I/O).
    pub tls_ca_file: Option<String>,
}

fn seconds(key: &str, value: &str) -> Result<Duration, i32> {
    value.parse::<u64>().map(Duration::from_secs).map_err(|_| {
        log::warn!("advanced config: {key} '{value}' is not a whole number of seconds");
        ILLEGAL_PARAM
    })
}

/// Parses the whole text first so a bad value changes nothing (contract §1.3).
pub fn parse(text: &str) -> Result<AdvancedConfig, i32> {
    let mut out = AdvancedConfig::default();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            log::warn!("advanced config: '{item}' is not key=value");
            return Err(ILLEGAL_PARAM);
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "room_retry_time" => out.room_retry_time = Some(seconds(key, value)?),
            "av_retry_time" => out.av_retry_time = Some(seconds(key, value)?),
            // Paths cannot contain ';' (the item separator); surrounding blanks are trimmed.
            "tls_ca_file" => out.tls_ca_file = Some(value.to_owned()),
            _ => log::info!("advanced config: unknown key '{key}' ignored"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unknown_and_bad_values() {
        assert_eq!(parse("room_retry_time=3").unwrap().room_retry_time, Some(Duration::from_secs(3)));
        assert_eq!(parse(" room_retry_time = 60 ; other=x;").unwrap().room_retry_time, Some(Duration::from_secs(60)));
        assert_eq!(parse("").unwrap(), AdvancedConfig::default());
        assert_eq!(parse("unknown_key=1").unwrap(), AdvancedConfig::default());
        assert_eq!(parse("room_retry_time=abc"), Err(ILLEGAL_PARAM));
        assert_eq!(parse("room_retry_time=-1"), Err(ILLEGAL_PARAM));
        assert_eq!(parse("room_retry_time"), Err(ILLEGAL_PARAM));
        let both = parse("av_retry_time=7;room_retry_time=9").unwrap();
        assert_eq!((both.av_retry_time, both.room_retry_time), (Some(Duration::from_secs(7)), Some(Duration::from_secs(9))));
        assert_eq!(parse("av_retry_time=x"), Err(ILLEGAL_PARAM));
    }

    #[test]
    fn tls_ca_file_is_carried_as_a_path() {
        let c = parse("tls_ca_file = /data/ca.pem ; room_retry_time=5").unwrap();
        assert_eq!(c.tls_ca_file.as_deref(), Some("/data/ca.pem"));
        assert_eq!(c.room_retry_time, Some(Duration::from_secs(5)));
        assert_eq!(parse("tls_ca_file=C:\\certs\\a=b.pem").unwrap().tls_ca_file.as_deref(), Some("C:\\certs\\a=b.pem"));
        assert_eq!(parse("tls_ca_file=").unwrap().tls_ca_file.as_deref(), Some(""));
        assert_eq!(parse("tls_ca_file=/x.pem;room_retry_time=x"), Err(ILLEGAL_PARAM));
    }
}
