//! What every page needs: the language, the user, the CSRF token, and rendering.

use super::{
    auth::MaybeActor,
    csrf::CsrfToken,
    i18n::{I18n, Lang},
};
use crate::{accounts::model::Actor, error::AppError, web::Site};
use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{Html, IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use std::sync::Arc;

/// Name of the language cookie.
pub const LANG_COOKIE: &str = "lang";

/// Texts in the page's language; templates call `ctx.t.get("key")`.
#[derive(Debug, Clone)]
pub struct T {
    i18n: Arc<I18n>,
    /// The language.
    pub lang: Lang,
}

impl T {
    /// Texts of `lang`.
    pub fn new(i18n: Arc<I18n>, lang: Lang) -> Self {
        Self { i18n, lang }
    }

    /// The text of `key`.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.i18n.text(self.lang, key)
    }

    /// The text for an enum value, `prefix.value`.
    pub fn of(&self, prefix: &str, value: &str) -> String {
        super::i18n::Tr::new(&self.i18n, self.lang).enum_text(prefix, value)
    }

    /// The text for an error code, falling back to the English message.
    pub fn error(&self, code: &str, fallback: &str) -> String {
        let key = format!("error.{code}");
        let text = self.i18n.text(self.lang, &key);
        if text == key { fallback.to_string() } else { text.to_string() }
    }

    /// The text of `key` with its `{name}` placeholders filled from `args`, if the text exists
    /// and `args` has a value for every placeholder.
    pub fn filled(&self, key: &str, args: &[(&'static str, String)]) -> Option<String> {
        let template = self.i18n.lookup(self.lang, key)?;
        let mut complete = true;
        let text = super::i18n::fill(template, |name| {
            let v = args.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            complete &= v.is_some();
            v
        });
        complete.then_some(text)
    }

    /// The text of a field error: with the rule's numbers when it carries them
    /// (`rule.field.<field>.<code>`, then `rule.field.<code>`), else `fielderr.<code>`.
    pub fn field_error(&self, f: &crate::error::FieldError) -> String {
        let specific = format!("rule.field.{}.{}", f.field, f.code);
        let general = format!("rule.field.{}", f.code);
        self.filled(&specific, &f.args)
            .or_else(|| self.filled(&general, &f.args))
            .unwrap_or_else(|| self.of("fielderr", &f.code))
    }

    /// The text of an error: with the rule's numbers when it carries them (`rule.error.<code>`),
    /// else `error.<code>`, else its English message.
    pub fn error_of(&self, e: &AppError) -> String {
        let rule = format!("rule.error.{}", e.code);
        self.filled(&rule, e.rule_args()).unwrap_or_else(|| self.error(e.code, &e.message))
    }

    /// Whether the page is in English.
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

/// The language chosen by the request's cookie (Chinese by default).
pub fn lang_of(parts: &Parts) -> Lang {
    CookieJar::from_headers(&parts.headers).get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or_default()
}

/// The language of a JSON API answer that holds texts: the `lang` query parameter, else the
/// `lang` cookie (the page's language), else the `Accept-Language` header, else Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for ReaderLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let asked = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v));
        let cookie = CookieJar::from_headers(&parts.headers).get(LANG_COOKIE).and_then(|c| Lang::parse(c.value()));
        let accepted = parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(super::i18n::from_accept_language);
        Ok(ReaderLang(asked.or(cookie).or(accepted).unwrap_or_default()))
    }
}

/// The context of a page.
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// Texts.
    pub t: T,
    /// The user, if logged in.
    pub user: Option<Actor>,
    /// CSRF token for forms.
    pub csrf: String,
    /// Path and query of the page (for the language switch to come back to).
    pub path: String,
    /// Unread notifications of the user's organisation.
    pub unread: u64,
    /// The server's time when the page was made; scripts correct their countdowns with it.
    pub now: chrono::DateTime<chrono::Utc>,
    /// What the action that led here did, shown once at the top of the page.
    pub flash: Option<super::flash::Flash>,
}

impl PageCtx {
    /// The logged-in user's role, as text for conditions in templates.
    pub fn role(&self) -> &'static str {
        self.user.as_ref().map(|u| u.role.as_str()).unwrap_or("")
    }

    /// Time formatted for display in China Standard Time.
    pub fn time(&self, t: impl TimeLike) -> String {
        crate::web::fmt_time(&t.utc())
    }

    /// An optional time, or a dash.
    pub fn time_opt(&self, t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        t.map(|t| crate::web::fmt_time(&t)).unwrap_or_else(|| "—".into())
    }

    /// The text of the flash to show, if there is one.
    pub fn flash_text(&self) -> Option<&str> {
        let key = self.flash?.text_key();
        self.t.i18n.lookup(self.t.lang, &key)
    }

    /// The same page with `?` parameters url-encoded for a link back.
    pub fn back(&self) -> String {
        percent_encode(&self.path)
    }
}

/// A time, however many references templates wrap around it.
pub trait TimeLike {
    /// The time.
    fn utc(&self) -> chrono::DateTime<chrono::Utc>;
}

impl TimeLike for chrono::DateTime<chrono::Utc> {
    fn utc(&self) -> chrono::DateTime<chrono::Utc> {
        *self
    }
}

impl<T: TimeLike + ?Sized> TimeLike for &T {
    fn utc(&self) -> chrono::DateTime<chrono::Utc> {
        (**self).utc()
    }
}

/// Percent-encodes a string for use in a query parameter.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx
where
    Site: axum::extract::FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeActor(user) = MaybeActor::from_request_parts(parts, state).await?;
        let state = <Site as axum::extract::FromRef<S>>::from_ref(state);
        let unread = match &user {
            Some(u) => crate::notify::service::unread_count(&state.db, u.org_id, u.user_id).await?,
            None => 0,
        };
        Ok(PageCtx {
            t: T::new(state.i18n.clone(), lang_of(parts)),
            user,
            csrf: parts.extensions.get::<CsrfToken>().map(|c| c.0.clone()).unwrap_or_default(),
            path: parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()),
            unread,
            now: state.clock.now(),
            flash: super::flash::carried(&parts.headers, &state.cookies),
        })
    }
}

/// Renders an askama template into a response.
pub fn render(t: &impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::internal(format!("template: {e}")).into_response(),
    }
}

/// Renders a page that every anonymous visitor sees alike (but for the CSRF token), so that it
/// may be answered from the public page cache ([`super::public_pages`]). Only for pages whose
/// content depends on nothing but the address, the language, the data and the time.
pub fn render_public(t: &impl askama::Template) -> Response {
    public(render(t))
}

/// Marks a rendered page as one every anonymous visitor sees alike (see [`render_public`]).
pub fn public(mut resp: Response) -> Response {
    resp.extensions_mut().insert(super::public_pages::Public);
    resp
}

/// Renders a page with a form: with the status of the form's refusal, if it was refused
/// (`web::form::FormState::status`).
pub fn render_form(t: &impl askama::Template, form: &super::form::FormState) -> Response {
    let mut resp = render(t);
    if resp.status().is_success() {
        *resp.status_mut() = form.status();
    }
    resp
}
