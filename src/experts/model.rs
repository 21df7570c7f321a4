//! The pool's types: an expert's status, identity numbers (GB 11643) and how they are shown.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

crate::column::string_enum! {
    /// Whether an expert may be drawn.
    ExpertStatus stored in crate::entities::expert::Entity {
        /// In the pool: may be drawn.
        Active = "active",
        /// Suspended (暂停), with a recorded reason: not drawn until reactivated.
        Suspended = "suspended",
    }
}

/// Weights of the first 17 digits of a citizen identity number (GB 11643-1999).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum modulo 11.
const CHECK: &[u8; 11] = b"10X98765432";

/// The identity number in its stored form (trimmed, a final `x` as `X`) if it is a valid
/// 18-digit 居民身份证号码: 17 digits, a birth date that exists, and the GB 11643 check
/// character.
pub fn normalize_id_number(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if check_character(&s[..17]) != Some(char::from(b[17])) {
        return None;
    }
    NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").ok()?;
    Some(s)
}

/// The GB 11643 check character of the first 17 digits of an identity number (none unless
/// they are exactly 17 ASCII digits): what makes up a valid 18th character.
pub fn check_character(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// An identity number as every page and answer shows it: the first three and the last four
/// characters, the eleven between them as `*` (`110***********123X`). The whole number is never
/// shown.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// A China-time calendar date written `YYYY-MM-DD`, within the platform's bounds of time.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    crate::bounds::day("day", d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_numbers_are_checked_by_their_check_character() {
        // The standard's example number.
        assert_eq!(normalize_id_number("11010519491231002X").as_deref(), Some("11010519491231002X"));
        assert_eq!(normalize_id_number(" 11010519491231002x ").as_deref(), Some("11010519491231002X"));
        assert!(normalize_id_number("110105194912310021").is_none(), "wrong check character");
        assert!(normalize_id_number("1101051949123100").is_none(), "too short");
        assert!(normalize_id_number("1101051949123100A2").is_none(), "a letter among the digits");
        assert!(normalize_id_number("").is_none());
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("1101051949123100"), None);
        // A check character that fits but a birth date that does not exist (Feb 30).
        let base = "11010519490230002";
        let sum: u32 = base.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        let n = format!("{base}{}", CHECK[(sum % 11) as usize] as char);
        assert!(normalize_id_number(&n).is_none(), "{n}");
    }

    #[test]
    fn identity_numbers_are_shown_masked() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number("11010519491231002X").len(), 18);
    }

    #[test]
    fn statuses_round_trip() {
        for s in ExpertStatus::ALL {
            assert_eq!(ExpertStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(parse_day("2026-12-01"), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("01/12/2026"), None);
    }
}
