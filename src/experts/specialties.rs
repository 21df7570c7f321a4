//! The specialty catalogue (评标专家专业分类), compiled into the binary from
//! `specialties.toml`: a tree of codes (`B`, `B01`, `B0102`) with Chinese and English labels.

use serde::Deserialize;
use std::sync::OnceLock;

/// One specialty of the catalogue.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Specialty {
    /// Its code: a capital letter, then two digits per level.
    pub code: String,
    /// Chinese label.
    pub zh: String,
    /// English label.
    pub en: String,
}

#[derive(Deserialize)]
struct File {
    specialty: Vec<Specialty>,
}

const SOURCE: &str = include_str!("specialties.toml");

/// The catalogue, in the file's order (each code after its parent).
pub fn all() -> &'static [Specialty] {
    static ALL: OnceLock<Vec<Specialty>> = OnceLock::new();
    ALL.get_or_init(|| match toml::from_str::<File>(SOURCE) {
        Ok(f) => f.specialty,
        // The file is part of the source and checked by the unit tests below.
        Err(e) => panic!("specialties.toml: {e}"),
    })
}

/// The specialty of a code, if the catalogue has it.
pub fn find(code: &str) -> Option<&'static Specialty> {
    all().iter().find(|s| s.code == code)
}

/// The label of a code in the language (`en` or `zh`), or the code itself when unknown.
pub fn label(code: &str, en: bool) -> String {
    match find(code) {
        Some(s) if en => s.en.clone(),
        Some(s) => s.zh.clone(),
        None => code.to_string(),
    }
}

/// Whether `code` has the form of a code: a capital letter and pairs of digits.
pub fn well_formed(code: &str) -> bool {
    let b = code.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_uppercase()
        && (b.len() - 1).is_multiple_of(2)
        && b[1..].iter().all(u8::is_ascii_digit)
}

/// The parent of a code (`B0102` → `B01`), none for a class.
pub fn parent(code: &str) -> Option<&str> {
    (code.len() > 1).then(|| &code[..code.len() - 2])
}

/// Whether a request for the specialty `request_code` is met by an expert of `expert_code`:
/// the expert's specialty is the requested one or lies under it (`A02` is met by `A0201`, not
/// the other way round).
pub fn covers(request_code: &str, expert_code: &str) -> bool {
    well_formed(request_code) && well_formed(expert_code) && expert_code.starts_with(request_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_a_well_formed_tree_with_both_labels() {
        let all = all();
        assert!(all.len() >= 10);
        let mut seen = std::collections::HashSet::new();
        for s in all {
            assert!(well_formed(&s.code), "{} is not a code", s.code);
            assert!(seen.insert(s.code.as_str()), "{} appears twice", s.code);
            assert!(!s.zh.trim().is_empty() && !s.en.trim().is_empty(), "{} lacks a label", s.code);
            if let Some(p) = parent(&s.code) {
                assert!(seen.contains(p), "the parent {p} of {} is missing or comes after it", s.code);
            }
        }
        assert!(all.iter().any(|s| s.code.len() == 5), "at least three levels");
    }

    #[test]
    fn a_request_covers_the_codes_under_it() {
        assert!(covers("A02", "A0201"));
        assert!(covers("A02", "A02"));
        assert!(covers("A", "A0201"));
        assert!(!covers("A0201", "A02"));
        assert!(!covers("A02", "A0301"));
        assert!(!covers("A0", "A01"), "not a code");
        assert!(!covers("", "A01"));
        assert_eq!(label("B0102", false), "多媒体教学设备");
        assert_eq!(label("B0102", true), "Multimedia teaching equipment");
        assert_eq!(parent("B0102"), Some("B01"));
        assert_eq!(parent("B"), None);
    }
}
