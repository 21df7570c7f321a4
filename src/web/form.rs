//! Page forms that keep what was typed.
//!
//! A page form posts its fields; the handler reads them as [`Values`] (the submitted pairs, in
//! order), hands them to the service, and redirects on success. When the service refuses with
//! a problem of the input or a rule about it, [`FormState::refused`] turns the [`AppError`] and
//! the values into what the page template needs to show the same form again: every typed value
//! (never a password), each field's error next to that field in the reader's language, with
//! the rule's numbers where the error carries them (`rule.field.*`, `rule.error.*` in the
//! catalogues), and a summary at the top for the error itself and for field errors the form has
//! no place for. The page is answered with the error's status (422, 409, ...), so scripts and
//! tests see the refusal as before. A refusal that is not about the input (no login, another
//! organisation's object, an object that does not exist) still answers the error page.
//!
//! The pages' templates render a form's fields with the macros in
//! `frontend/templates/forms.html` (`input`, `area`, `error`, `summary`), which take the
//! [`FormState`]. A page with several forms names each ([`FormState::of`]), so that only the
//! form that was sent shows the values and errors.

use super::{extract::Form, page::T};
use crate::error::{AppError, AppResult, FieldError};
use axum::{
    extract::{FromRequest, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

/// The fields of a submitted form, as typed, in order (a field may repeat: check boxes).
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Values {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state).await?;
        Ok(Values(pairs))
    }
}

/// Whether a field holds a secret that a page never shows back (passwords).
fn is_secret(name: &str) -> bool {
    name.contains("password") || name.contains("passphrase") || name == "_csrf"
}

impl Values {
    /// Values from pairs (the prefilled values of a form shown for the first time).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Values(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// The same values and `name` = `value` (which of a page's forms of one kind was sent).
    pub fn with(mut self, name: &str, value: String) -> Self {
        self.0.push((name.to_string(), value));
        self
    }

    /// The first value of `name`, as typed; empty when it was not sent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every value of `name` (check boxes of one name).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether `name` was sent with `value` (a ticked check box, a chosen option).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.all(name).any(|v| v == value)
    }

    /// Whether `name` was sent at all.
    pub fn sent(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The pairs, for a reader of the whole form (the tender form's lot rows).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.0.clone()
    }

    /// The values read into a form struct. A field the struct needs but the form did not send
    /// is a `required` error of that field; anything else that does not fit is `form_invalid`.
    pub fn parse<F: DeserializeOwned>(&self) -> AppResult<F> {
        let encoded =
            serde_urlencoded::to_string(&self.0).map_err(|e| AppError::rule("form_invalid", e.to_string()))?;
        serde_urlencoded::from_str(&encoded).map_err(|e| {
            let text = e.to_string();
            match text.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
                Some(field) => AppError::validation(vec![FieldError::new(field.to_string(), "required")]),
                None => AppError::rule("form_invalid", text),
            }
        })
    }

    /// The same values without the secrets.
    fn shown(self) -> Self {
        Values(self.0.into_iter().filter(|(k, _)| !is_secret(k)).collect())
    }
}

/// Whether a refusal belongs in the form that was sent (a problem with what was typed, a rule
/// about it, a state that does not allow it) rather than on the error page: any client error
/// but a missing login (401, which goes to the login page), a refusal of the role or
/// organisation (403) and an object that is not there (404).
pub fn shows_in_form(e: &AppError) -> bool {
    e.status.is_client_error()
        && !matches!(e.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
}

/// A form as a page shows it: which form it is, the values in its fields, and, after a refusal,
/// the errors and the status of the answer.
#[derive(Debug, Clone)]
pub struct FormState {
    /// Which form of the page this is (`""` for none in particular).
    name: &'static str,
    values: Values,
    /// Each field error's field and its text in the reader's language.
    errors: Vec<(String, String)>,
    /// The refusal's own message, when it is more than "see the fields".
    message: Option<String>,
    /// The refusal's text of the case, as entered (a rejection's reason).
    detail: Option<String>,
    /// The refusal's stable code (`validation_failed`, `deadline_too_soon`), on the page for
    /// scripts and tests.
    code: std::borrow::Cow<'static, str>,
    /// Fields whose errors the form shows next to a field of another name (the tender form's
    /// lot rows show `budget` errors), besides the fields it sent.
    placed: Vec<&'static str>,
    status: StatusCode,
}

static BLANK: FormState = FormState {
    name: "",
    values: Values(Vec::new()),
    errors: Vec::new(),
    message: None,
    detail: None,
    code: std::borrow::Cow::Borrowed(""),
    placed: Vec::new(),
    status: StatusCode::OK,
};

impl Default for FormState {
    fn default() -> Self {
        BLANK.clone()
    }
}

impl FormState {
    /// No form was sent: empty fields (or the defaults the template writes itself).
    pub fn blank() -> Self {
        Self::default()
    }

    /// The form `name` shown for the first time, with these values in its fields.
    pub fn filled(name: &'static str, values: Values) -> Self {
        FormState { name, values, ..Self::default() }
    }

    /// The form `name`, sent with `values`, refused with `err`: its values (without secrets),
    /// the errors in the language of `t`, and the error's status. A refusal that does not belong
    /// in a form ([`shows_in_form`]) is handed back, for the error page.
    pub fn refused(name: &'static str, t: &T, values: Values, err: AppError) -> Result<Self, AppError> {
        if !shows_in_form(&err) {
            return Err(err);
        }
        let errors = err.fields.iter().map(|f| (f.field.to_string(), t.field_error(f))).collect();
        let message = (err.code != "validation_failed" || err.fields.is_empty()).then(|| t.error_of(&err));
        Ok(FormState {
            name,
            values: values.shown(),
            errors,
            message,
            detail: err.detail.clone(),
            code: std::borrow::Cow::Borrowed(err.code),
            placed: Vec::new(),
            status: err.status,
        })
    }

    /// The form `name`, sent with `values`, refused elsewhere (by the host deployment of a
    /// session, for a member's command relayed from here): the refusal's code, message and field
    /// errors as they came back, shown as a refusal of this deployment's would be.
    pub fn refused_as(
        name: &'static str,
        t: &T,
        values: Values,
        code: &str,
        message: &str,
        fields: &[crate::error::FieldError],
    ) -> Self {
        let errors = fields.iter().map(|f| (f.field.to_string(), t.field_error(f))).collect();
        let message = (code != "validation_failed" || fields.is_empty()).then(|| t.error(code, message));
        FormState {
            name,
            values: values.shown(),
            errors,
            message,
            detail: None,
            code: std::borrow::Cow::Owned(code.to_string()),
            placed: Vec::new(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The same, with the errors of `fields` shown in the form although no field of that name
    /// was sent.
    pub fn placing(mut self, fields: &[&'static str]) -> Self {
        self.placed.extend_from_slice(fields);
        self
    }

    /// The status to answer the page with: `200`, or the refusal's.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// This form if it is the one called `name`, else an empty one (a page with several forms).
    pub fn of(&self, name: &str) -> &FormState {
        if self.name == name { self } else { &BLANK }
    }

    /// The value of `field` as typed (or filled in), empty if none.
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field)
    }

    /// The value of `field`, or `default` when the form was not sent or filled.
    pub fn value_or<'a>(&'a self, field: &str, default: &'a str) -> &'a str {
        if self.values.sent(field) { self.values.get(field) } else { default }
    }

    /// This form if it is the one called `name`, else that form shown for the first time with
    /// `defaults` (a page with several forms that have defaults).
    pub fn or_filled(&self, name: &'static str, defaults: Values) -> FormState {
        if self.name == name { self.clone() } else { FormState::filled(name, defaults) }
    }

    /// Whether the check box or option `field` = `value` is chosen.
    pub fn has(&self, field: &str, value: &str) -> bool {
        self.values.has(field, value)
    }

    /// The values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The errors of `field`, joined, if it has any.
    pub fn error(&self, field: &str) -> Option<String> {
        let texts: Vec<&str> = self.errors.iter().filter(|(f, _)| f == field).map(|(_, e)| e.as_str()).collect();
        (!texts.is_empty()).then(|| texts.join("；"))
    }

    /// Whether `field` has an error.
    pub fn invalid(&self, field: &str) -> bool {
        self.errors.iter().any(|(f, _)| f == field)
    }

    /// The error of the refusal itself, if it says more than "see the fields".
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The refusal's code, empty if there was none.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The refusal's text of the case, as entered.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The summary at the top of the form: field errors the form has no field for, each with
    /// its field's label (the refusal's own message is [`FormState::message`]).
    pub fn unplaced(&self, t: &T) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(f, _)| !self.values.sent(f) && !self.placed.contains(&f.as_str()) && !is_secret(f))
            .map(|(f, e)| format!("{}{}{e}", t.of("field", f), t.get("forms.label_sep")))
            .collect()
    }

    /// Whether the form was sent and refused (the page says so above the form).
    pub fn is_refused(&self) -> bool {
        self.status != StatusCode::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{I18n, Lang};
    use std::sync::Arc;

    fn t(lang: Lang) -> T {
        T::new(Arc::new(I18n::load().expect("texts")), lang)
    }

    #[test]
    fn a_refused_form_keeps_its_values_but_no_password() {
        let values = Values::from_pairs([("username", "wang"), ("password", "secret1"), ("_csrf", "x")]);
        let err = AppError::validation(vec![
            FieldError::new("username", "too_long").with_arg("max", 40),
            FieldError::new("password", "too_short").with_arg("min", 8),
        ]);
        let f = FormState::refused("login", &t(Lang::En), values, err).expect("shown in the form");
        assert_eq!(f.value("username"), "wang");
        assert_eq!(f.value("password"), "");
        assert_eq!(f.value("_csrf"), "");
        assert_eq!(f.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(f.error("username").is_some_and(|e| e.contains("40")), "{:?}", f.error("username"));
        assert!(f.error("password").is_some_and(|e| e.contains('8')), "{:?}", f.error("password"));
        assert!(f.message().is_none(), "a validation error is said at its fields");
        assert_eq!(f.of("other").value("username"), "", "another form of the page shows nothing");
    }

    #[test]
    fn errors_of_fields_not_in_the_form_are_summarised_with_their_label() {
        let values = Values::from_pairs([("title", "x")]);
        let err = AppError::validation(vec![FieldError::new("lots", "required"), FieldError::new("title", "required")]);
        let zh = FormState::refused("tender", &t(Lang::Zh), values.clone(), err.clone()).expect("shown");
        assert_eq!(zh.unplaced(&t(Lang::Zh)), vec!["标段：必填".to_string()]);
        let placed = FormState::refused("tender", &t(Lang::En), values, err).expect("shown").placing(&["lots"]);
        assert!(placed.unplaced(&t(Lang::En)).is_empty());
    }

    #[test]
    fn a_rule_states_its_numbers_and_refusals_of_access_go_to_the_error_page() {
        let err = AppError::rule("deadline_too_soon", "at least 17 days").with_arg("days", 17);
        let partial = FormState::refused("publish", &t(Lang::Zh), Values::default(), err.clone()).expect("shown");
        assert_eq!(
            partial.message(),
            Some(t(Lang::Zh).get("error.deadline_too_soon")),
            "a number missing: the plain text"
        );
        let err = err.with_arg("deadline", "2026-11-12 09:30");
        let f = FormState::refused("publish", &t(Lang::Zh), Values::default(), err).expect("shown");
        assert!(
            f.message().is_some_and(|m| m.contains("17 日") && m.contains("2026-11-12 09:30")),
            "{:?}",
            f.message()
        );
        assert_eq!(f.code(), "deadline_too_soon");
        for e in [AppError::forbidden(), AppError::not_found(), AppError::unauthorized(), AppError::internal("x")] {
            assert!(FormState::refused("x", &t(Lang::Zh), Values::default(), e).is_err());
        }
    }

    #[test]
    fn a_missing_field_is_required_and_a_malformed_one_form_invalid() {
        #[derive(serde::Deserialize, Debug)]
        struct F {
            #[allow(dead_code)]
            reason: String,
            #[allow(dead_code)]
            count: Option<u8>,
        }
        let e = Values::from_pairs([("other", "1")]).parse::<F>().expect_err("reason is missing");
        assert_eq!(e.fields, vec![FieldError::new("reason", "required")]);
        let e = Values::from_pairs([("reason", "r"), ("count", "many")]).parse::<F>().expect_err("not a number");
        assert_eq!(e.code, "form_invalid");
        assert!(Values::from_pairs([("reason", "r"), ("count", "3")]).parse::<F>().is_ok());
    }
}
