//! Languages and translated texts.
//!
//! Texts live in `frontend/i18n/zh.toml` and `en.toml` (flat `key = "text"` tables, embedded in
//! the binary). Simplified Chinese is the default; the `lang` cookie, set by the switch on every
//! page, selects English. A unit test checks that both files have the same keys and that every
//! key used by a template exists.

use std::collections::HashMap;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文 (default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The `lang` attribute / cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Reads a cookie or query value.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The language an `Accept-Language` header prefers most among the supported ones (by quality,
/// then order; `zh-*` is Chinese, `en-*` English).
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = match tag.split('-').next() {
            Some("zh") => Lang::Zh,
            Some("en") => Lang::En,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    best.map(|(l, _)| l)
}

/// All texts, both languages.
#[derive(Debug)]
pub struct I18n {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

const ZH: &str = include_str!("../../frontend/i18n/zh.toml");
const EN: &str = include_str!("../../frontend/i18n/en.toml");

fn flatten(prefix: &str, v: &toml::Value, out: &mut HashMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn load(text: &str) -> Result<HashMap<String, String>, toml::de::Error> {
    let v: toml::Value = toml::from_str(text)?;
    let mut out = HashMap::new();
    flatten("", &v, &mut out);
    Ok(out)
}

impl I18n {
    /// Loads the embedded texts.
    pub fn load() -> Result<Self, toml::de::Error> {
        Ok(Self { zh: load(ZH)?, en: load(EN)? })
    }

    /// The text of `key` in `lang`; the key itself if missing (so a gap shows, not a crash).
    pub fn text<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.lookup(lang, key).unwrap_or(key)
    }

    /// The text of `key` in `lang`, if there is one.
    pub fn lookup(&self, lang: Lang, key: &str) -> Option<&str> {
        self.map(lang).get(key).map(String::as_str)
    }

    /// Every key of `lang`'s texts.
    pub fn keys(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.map(lang).keys().map(String::as_str)
    }

    fn map(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The text of `key` in Chinese, then in English ("投标人 Bidder"), as documents that are the
    /// same for every reader (receipts, opening records) print their labels.
    pub fn both(&self, key: &str) -> String {
        let (zh, en) = (self.text(Lang::Zh, key), self.text(Lang::En, key));
        if zh == en { zh.to_string() } else { format!("{zh} {en}") }
    }

    /// The text of `key` in Chinese, and on the next line in English.
    pub fn both_lines(&self, key: &str) -> String {
        format!("{}\n{}", self.text(Lang::Zh, key), self.text(Lang::En, key))
    }

    /// Whether `key` exists.
    pub fn has(&self, key: &str) -> bool {
        self.zh.contains_key(key) && self.en.contains_key(key)
    }
}

/// Replaces each `{name}` in `template` by `arg(name)`, or leaves it as it is when that is
/// `None` (a name is lower-case letters, digits and `_`; any other `{` is text). Notices and the
/// rules stated by page forms fill their texts this way.
pub fn fill(template: &str, mut arg: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        match name_len {
            Some(n) if n > 0 && after[n..].starts_with('}') => {
                let name = &after[..n];
                match arg(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[n + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Texts bound to one language, handed to templates as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr<'a> {
    i18n: &'a I18n,
    /// The language.
    pub lang: Lang,
}

impl<'a> Tr<'a> {
    /// Binds `i18n` to `lang`.
    pub fn new(i18n: &'a I18n, lang: Lang) -> Self {
        Self { i18n, lang }
    }

    /// The text of `key`.
    pub fn get(&self, key: &'a str) -> &'a str {
        self.i18n.text(self.lang, key)
    }

    /// The text of `prefix.value`, e.g. `role.supplier` (for enum values).
    pub fn enum_text(&self, prefix: &str, value: &str) -> String {
        let key = format!("{prefix}.{value}");
        let map = match self.lang {
            Lang::Zh => &self.i18n.zh,
            Lang::En => &self.i18n.en,
        };
        map.get(&key).cloned().unwrap_or_else(|| value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let i = I18n::load().expect("i18n files parse");
        let mut missing: Vec<_> =
            i.zh.keys().filter(|k| !i.en.contains_key(*k)).map(|k| format!("en lacks {k}")).collect();
        missing.extend(i.en.keys().filter(|k| !i.zh.contains_key(*k)).map(|k| format!("zh lacks {k}")));
        missing.sort();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let i = I18n::load().expect("i18n files parse");
        let mut missing = Vec::new();
        let mut files = Vec::new();
        collect(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/frontend/templates")), &mut files);
        assert!(!files.is_empty());
        for f in files {
            let text = std::fs::read_to_string(&f).expect("template readable");
            for part in text.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap_or("");
                if !i.has(key) {
                    missing.push(format!("{}: {key}", f.display()));
                }
            }
        }
        // Documents printed in both languages name their texts in the code.
        let mut sources = Vec::new();
        collect(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut sources);
        for f in sources.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
            let text = std::fs::read_to_string(f).expect("source readable");
            for pattern in [".both(\"", ".both_lines(\""] {
                for part in text.split(pattern).skip(1) {
                    let key = part.split('"').next().unwrap_or("");
                    if !i.has(key) {
                        missing.push(format!("{}: {key}", f.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing keys: {missing:?}");
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(from_accept_language("fr-FR, zh-CN;q=0.8, en;q=0.5"), Some(Lang::Zh));
        assert_eq!(from_accept_language("zh;q=0.4, en-GB;q=0.7"), Some(Lang::En));
        assert_eq!(from_accept_language("zh-Hans-CN"), Some(Lang::Zh));
        assert_eq!(from_accept_language("en;q=0, de"), None);
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn missing_key_shows_the_key() {
        let i = I18n::load().expect("i18n files parse");
        assert_eq!(i.text(Lang::En, "no.such.key"), "no.such.key");
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
