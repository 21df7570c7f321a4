//! Rendering a notice in the reader's language.
//!
//! The template of a kind is the catalogue text `notice.<kind>`, with `{name}` where the
//! argument `name` goes (a name is lower-case letters, digits and `_`; any other `{` is text).
//! Arguments are shown by their type ([`Arg`]): texts as they are, times in China Standard Time
//! through `notice.value.time`, amounts in 元 through `notice.value.money`, catalogue keys
//! translated. A placeholder without an argument, an argument the template does not use, a
//! missing template or key are [`Rendered::problems`]: the text is still shown (with the
//! placeholder or key as it is, so a gap shows rather than a crash), the problems are logged, and
//! the unit tests require that there are none for any kind as raised.

use super::model::{Arg, Args, NoticeKind};
use crate::{
    money::Money,
    web::i18n::{I18n, Lang},
};
use std::collections::BTreeSet;

pub use crate::web::i18n::fill;

/// A notice's text in one language, and what did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The text.
    pub text: String,
    /// What is wrong with the template or the arguments; empty when all is well.
    pub problems: Vec<String>,
}

/// The catalogue key of a kind's template.
pub fn template_key(kind: NoticeKind) -> String {
    format!("notice.{kind}")
}

/// The catalogue key of the format of a time.
pub const TIME_FORMAT: &str = "notice.value.time";
/// The catalogue key of the format of an amount of money.
pub const MONEY_FORMAT: &str = "notice.value.money";

/// Renders a notice of `kind` with `args` in `lang`.
pub fn render(i18n: &I18n, lang: Lang, kind: NoticeKind, args: &Args) -> Rendered {
    let mut problems = Vec::new();
    let key = template_key(kind);
    let Some(template) = i18n.lookup(lang, &key) else {
        problems.push(format!("{lang:?}: no template {key}"));
        return Rendered { text: key, problems };
    };
    let mut used = BTreeSet::new();
    let text = fill(template, |name| {
        used.insert(name.to_string());
        let arg = args.get(name);
        if arg.is_none() {
            problems.push(format!("{lang:?} {key}: no argument for {{{name}}}"));
        }
        arg.map(|a| value(i18n, lang, a, &mut problems))
    });
    for name in args.keys().filter(|n| !used.contains(*n)) {
        problems.push(format!("{lang:?} {key}: argument {name} is not in the template"));
    }
    Rendered { text, problems }
}

/// Every argument as the reader sees it (the parameters of an SMS template), by name.
pub fn shown_args(i18n: &I18n, lang: Lang, args: &Args) -> std::collections::BTreeMap<String, String> {
    let mut problems = Vec::new();
    args.iter().map(|(k, a)| (k.clone(), value(i18n, lang, a, &mut problems))).collect()
}

/// One argument as the reader sees it.
fn value(i18n: &I18n, lang: Lang, arg: &Arg, problems: &mut Vec<String>) -> String {
    match arg {
        Arg::Text(s) => s.clone(),
        Arg::Time(t) => format_with(i18n, lang, TIME_FORMAT, "time", &crate::web::fmt_time(t), problems),
        Arg::Fen(fen) => {
            format_with(i18n, lang, MONEY_FORMAT, "amount", &Money::from_fen(*fen).yuan_string(), problems)
        }
        Arg::Key(k) => match i18n.lookup(lang, k) {
            Some(text) => text.to_string(),
            None => {
                problems.push(format!("{lang:?}: no text {k}"));
                k.clone()
            }
        },
        Arg::Both { zh, en } => match lang {
            Lang::Zh => zh.clone(),
            Lang::En => en.clone(),
        },
    }
}

/// The value `shown` put into the format `key`, whose one placeholder is `{name}`.
fn format_with(i18n: &I18n, lang: Lang, key: &str, name: &str, shown: &str, problems: &mut Vec<String>) -> String {
    let Some(format) = i18n.lookup(lang, key) else {
        problems.push(format!("{lang:?}: no format {key}"));
        return shown.to_string();
    };
    let mut seen = false;
    let text = fill(format, |n| {
        if n == name {
            seen = true;
            Some(shown.to_string())
        } else {
            problems.push(format!("{lang:?} {key}: unknown placeholder {{{n}}}"));
            None
        }
    });
    if !seen {
        problems.push(format!("{lang:?} {key}: no placeholder {{{name}}}"));
    }
    text
}

/// The placeholders of a template, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    fill(template, |n| {
        names.push(n.to_string());
        None
    });
    names
}
