//! The pages of notices outside the platform: a user's choices (消息设置,
//! `/notifications/settings`) and the one-click unsubscribe link that every e-mail carries.
//!
//! `GET /unsubscribe/{token}?kind=…` asks (a GET changes nothing); `POST` to the same address
//! mutes the kind, from the page's button or from the reader's mail program (RFC 8058:
//! `List-Unsubscribe=One-Click`, without cookies, which is why this address is outside the CSRF
//! check: the secret in the path is the authority, and no session is used).

use super::{Deliveries, Preferences};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult},
    notify::NoticeKind,
    web::{
        extract::{Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render, render_form},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use serde::Deserialize;

/// The path under which the unsubscribe links are (outside the CSRF check).
pub const UNSUBSCRIBE_PREFIX: &str = "/unsubscribe/";

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Deliveries: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/unsubscribe/{token}", get(ask).post(confirm))
        .route("/notifications/settings", get(settings).post(save_settings))
}

/// A kind as the settings page lists it.
struct KindRow {
    kind: &'static str,
    /// It has an SMS template.
    sms: bool,
}

#[derive(Template)]
#[template(path = "deliver/settings.html")]
struct SettingsPage {
    ctx: PageCtx,
    f: FormState,
    kinds: Vec<KindRow>,
}

/// The kinds a user may choose about: every kind but the old texts'.
fn kinds() -> Vec<KindRow> {
    NoticeKind::ALL
        .iter()
        .filter(|k| **k != NoticeKind::Legacy)
        .map(|k| KindRow { kind: k.as_str(), sms: super::sms::sms_kind(*k).is_some() })
        .collect()
}

/// The form's fields of `p`: `email.<kind>` checked unless muted, `sms.<kind>` if chosen.
fn filled(p: &Preferences) -> Values {
    let mut pairs: Vec<(String, String)> = vec![
        ("email".into(), p.email.clone().unwrap_or_default()),
        ("phone".into(), p.phone.clone().unwrap_or_default()),
        ("lang".into(), p.lang.clone()),
    ];
    for k in kinds() {
        if !p.email_muted.iter().any(|m| m == "*" || m == k.kind) {
            pairs.push((format!("email.{}", k.kind), "on".into()));
        }
        if p.sms_kinds.iter().any(|m| m == k.kind) {
            pairs.push((format!("sms.{}", k.kind), "on".into()));
        }
    }
    Values::from_pairs(pairs)
}

/// The choices a sent form makes: the kinds whose e-mail box is not ticked are muted.
fn chosen(v: &Values) -> Preferences {
    let all = kinds();
    Preferences {
        email: Some(v.get("email").to_string()),
        lang: v.get("lang").to_string(),
        email_muted: all.iter().filter(|k| !v.sent(&format!("email.{}", k.kind))).map(|k| k.kind.to_string()).collect(),
        phone: Some(v.get("phone").to_string()),
        sms_kinds: all.iter().filter(|k| v.sent(&format!("sms.{}", k.kind))).map(|k| k.kind.to_string()).collect(),
    }
}

async fn settings_page(state: &Deliveries, ctx: PageCtx, actor: &Actor, f: FormState) -> AppResult<Response> {
    let p = super::preferences(state, actor).await?;
    let page = SettingsPage { f: f.or_filled("settings", filled(&p)), kinds: kinds(), ctx };
    Ok(render_form(&page, &page.f))
}

async fn settings(State(state): State<Deliveries>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    settings_page(&state, ctx, &actor, FormState::blank()).await
}

async fn save_settings(
    State(state): State<Deliveries>,
    ctx: PageCtx,
    actor: Actor,
    values: Values,
) -> AppResult<Response> {
    match super::set_preferences(&state, &actor, chosen(&values)).await {
        Ok(_) => Ok(flash::to("/notifications/settings", Flash::PreferencesSaved)),
        Err(e) => {
            let f = FormState::refused("settings", &ctx.t, values, e)?;
            settings_page(&state, ctx, &actor, f).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

fn kind_of(q: &KindQuery) -> AppResult<Option<NoticeKind>> {
    match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => NoticeKind::parse(k).map(Some).ok_or_else(|| AppError::invalid_field("kind", "unknown_kind")),
    }
}

#[derive(Template)]
#[template(path = "deliver/unsubscribe.html")]
struct UnsubscribePage {
    ctx: PageCtx,
    token: String,
    kind: Option<String>,
    done: Option<String>,
}

async fn ask(
    State(state): State<Deliveries>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Query(q): Query<KindQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&q)?;
    if !super::token_known(&state, &token).await? {
        return Err(AppError::not_found());
    }
    Ok(render(&UnsubscribePage { ctx, token, kind: kind.map(|k| k.as_str().to_string()), done: None }))
}

async fn confirm(
    State(state): State<Deliveries>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Query(q): Query<KindQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&q)?;
    let name = super::unsubscribe(&state, &token, kind).await?;
    Ok(render(&UnsubscribePage { ctx, token, kind: kind.map(|k| k.as_str().to_string()), done: Some(name) }))
}
