//! The `"key=value;key=value"` advanced configuration text (`set_engine_config`).

use crate::error_codes::ILLEGAL_PARAM;
use std::time::Duration;

/// Settings the engine understands. `None` = leave as is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdvancedConfig {
    /// `room_retry_time`: how long (seconds) the engine keeps retrying after a loss or at first login.
    pub room_retry_time: Option<Duration>,
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
            "room_retry_time" => {
                let secs: u64 = value.parse().map_err(|_| {
                    log::warn!("advanced config: room_retry_time '{value}' is not a whole number of seconds");
                    ILLEGAL_PARAM
                })?;
                out.room_retry_time = Some(Duration::from_secs(secs));
            }
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
    }
}
