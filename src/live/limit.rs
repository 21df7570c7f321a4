//! How fast one participant may send commands to one room.
//!
//! Every participant has a bucket per room (by room kind, the room's object and the user) that
//! holds up to `live.command_burst` tokens and refills at `live.commands_per_minute`; a
//! command takes what its room kind says it costs ([`super::RoomKind::cost`]) and is refused
//! with 429 `rate_limited` (a coded error frame on the websocket), saying when to try again,
//! while the bucket holds too little. The same buckets serve the websocket and the HTTP command
//! endpoint, and time is the platform's clock. Buckets are kept per server process: a
//! participant spreading commands over several processes gets each process's allowance.

use crate::{config::LiveSettings, error::AppError};
use chrono::{DateTime, Utc};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use uuid::Uuid;

/// Thousandths of a token: whole numbers, so that refills are exact.
const MILLI: i64 = 1000;

/// Buckets beyond which full ones are forgotten (a full bucket is the same as none).
const TIDY_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Thousandths of tokens held at `at`.
    held: i64,
    at: DateTime<Utc>,
}

type Key = (&'static str, Uuid, crate::ids::UserId);

/// The command buckets of this process.
#[derive(Debug, Clone)]
pub struct CommandLimits {
    buckets: Arc<Mutex<HashMap<Key, Bucket>>>,
    /// Thousandths of tokens a bucket holds when full.
    capacity: i64,
    /// Tokens added per minute.
    per_minute: i64,
}

impl CommandLimits {
    /// Buckets of the configured size and rate (each at least 1).
    pub fn new(settings: &LiveSettings) -> Self {
        Self {
            buckets: Arc::default(),
            capacity: i64::from(settings.command_burst.max(1)) * MILLI,
            per_minute: i64::from(settings.commands_per_minute.max(1)),
        }
    }

    fn refilled(&self, b: Bucket, now: DateTime<Utc>) -> i64 {
        let ms = (now - b.at).num_milliseconds().max(0);
        // Thousandths of a token per millisecond are per_minute / 60.
        b.held.saturating_add(ms.saturating_mul(self.per_minute) / 60).min(self.capacity)
    }

    /// Takes `cost` tokens from the bucket of `user` in the room of `kind` and `object` at
    /// `now`, or refuses with `rate_limited` and the whole seconds until it would succeed. A
    /// cost larger than a full bucket counts as a full bucket.
    pub fn take(
        &self,
        kind: &'static str,
        object: Uuid,
        user: crate::ids::UserId,
        cost: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let need = (i64::from(cost) * MILLI).min(self.capacity);
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > TIDY_ABOVE {
            buckets.retain(|_, b| self.refilled(*b, now) < self.capacity);
        }
        let bucket = buckets.entry((kind, object, user)).or_insert(Bucket { held: self.capacity, at: now });
        let held = self.refilled(*bucket, now);
        if held >= need {
            *bucket = Bucket { held: held - need, at: now };
            return Ok(());
        }
        *bucket = Bucket { held, at: now };
        // Both are positive here.
        let wait_ms = ((need - held).unsigned_abs() * 60).div_ceil(self.per_minute.unsigned_abs());
        Err(AppError::rate_limited(wait_ms.div_ceil(1000).max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_burst_is_refused_beyond_the_bucket_and_allowed_again_as_it_refills() {
        let limits =
            CommandLimits::new(&LiveSettings { command_burst: 3, commands_per_minute: 6, ..Default::default() });
        let (room, t0) = (Uuid::new_v4(), Utc::now());
        const U1: crate::ids::UserId = crate::ids::UserId(1);
        for _ in 0..3 {
            assert!(limits.take("opening", room, U1, 1, t0).is_ok());
        }
        let e = limits.take("opening", room, U1, 1, t0).expect_err("fourth at once");
        assert_eq!((e.code, e.retry_after, e.status.as_u16()), ("rate_limited", Some(10), 429));
        // Others are not affected: another user, another room.
        assert!(limits.take("opening", room, crate::ids::UserId(2), 1, t0).is_ok());
        assert!(limits.take("opening", Uuid::new_v4(), U1, 1, t0).is_ok());
        // One token comes back every ten seconds.
        assert_eq!(
            limits.take("opening", room, U1, 1, t0 + TimeDelta::seconds(9)).err().and_then(|e| e.retry_after),
            Some(1)
        );
        assert!(limits.take("opening", room, U1, 1, t0 + TimeDelta::seconds(10)).is_ok());
        // A costly command needs its whole cost, at most a full bucket.
        assert_eq!(
            limits.take("opening", room, U1, 10, t0 + TimeDelta::seconds(20)).err().and_then(|e| e.retry_after),
            Some(20)
        );
        assert!(limits.take("opening", room, U1, 10, t0 + TimeDelta::seconds(40)).is_ok());
        // A clock set back refills nothing and breaks nothing.
        assert!(limits.take("opening", room, U1, 1, t0).is_err());
    }
}
