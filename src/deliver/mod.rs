//! Deliveries (消息推送): notices sent outside the platform, by e-mail over SMTP.
//!
//! A notice is stored by [`crate::notify`] in the transaction of the event that raised it; in
//! that same transaction [`enqueue`] writes one row of the outbox `deliveries` per user who is
//! to get it by e-mail (the notice's one user, or every active user of its organisation, who has
//! an address and has not muted the kind). So a delivery exists exactly when its notice was
//! committed, and a crash between the commit and the sending loses nothing: the row waits.
//!
//! The sender ([`send_due`], in the background of a serving process) claims each due row for a
//! lease, renders the notice in the user's language, sends it outside any transaction, and
//! records the answer: sent; refused for good by the server (an SMTP 5xx answer), kept as
//! `failed` for the centre's staff to see; or failed for now, tried again after a doubling
//! backoff, and `failed` after the last attempt. SMTP cannot tell whether a message whose answer
//! was lost was taken: such a message is sent again, with the same `Message-ID` (made from the
//! delivery's fixed idempotency key), which lets the reader's mail system drop the copy. This
//! at-least-once risk is documented in docs/notifications.md.
//!
//! Owns the tables `deliveries` and `notice_prefs` (a user's language of messages, muted kinds,
//! and the secret of the one-click unsubscribe link every e-mail carries, RFC 8058).

pub mod api;
mod handlers;
pub mod mail;

use crate::{
    accounts::model::{Actor, Role, Status},
    config::EmailSettings,
    entities::{delivery, notice_pref, notification, user},
    error::{AppError, AppResult, FieldError},
    ids::UserId,
    notify::NoticeKind,
    web::i18n::{I18n, Lang},
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

pub use api::api_routes;
pub use handlers::{UNSUBSCRIBE_PREFIX, router};

crate::column::string_enum! {
    /// How a delivery reaches its reader.
    Channel stored in crate::entities::delivery::Entity {
        /// E-mail over SMTP.
        Email = "email",
    }
}

crate::column::string_enum! {
    /// Where a delivery stands.
    DeliveryState stored in crate::entities::delivery::Entity {
        /// Waiting to be sent (or sent again after a failure).
        Pending = "pending",
        /// Taken by the server.
        Sent = "sent",
        /// Refused for good, or failed at every attempt: `last_error` says why.
        Failed = "failed",
    }
}

/// The deliveries' service: the database, the sender's settings and the texts.
#[derive(Clone)]
pub struct Deliveries {
    /// The database (reads, and the sender's records).
    pub db: sea_orm::DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
    /// The SMTP server, the sender, the retries.
    pub settings: EmailSettings,
    /// Where the mails' links point (`https://tender.example.gov.cn`).
    pub link_base: String,
    /// The notices' templates and the mails' texts.
    pub texts: Arc<I18n>,
}

impl std::fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliveries").field("host", &self.settings.host).finish()
    }
}

/// The longest an e-mail address may be (RFC 5321's path limit).
pub const MAX_ADDRESS: usize = 254;

/// A user's choices, or the defaults (Chinese, nothing muted) for a user without a row.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefs {
    lang: Lang,
    muted: Vec<String>,
}

impl Prefs {
    fn of(row: Option<&notice_pref::Model>) -> AppResult<Self> {
        let Some(r) = row else { return Ok(Prefs { lang: Lang::Zh, muted: Vec::new() }) };
        let muted: Vec<String> = serde_json::from_str(&r.email_muted)
            .map_err(|e| AppError::internal(format!("notice_prefs.email_muted of row {}: {e}", r.id)))?;
        Ok(Prefs { lang: Lang::parse(&r.lang).unwrap_or_default(), muted })
    }

    fn mutes(&self, kind: NoticeKind) -> bool {
        self.muted.iter().any(|m| m == "*" || m == kind.as_str())
    }
}

/// Writes the e-mail deliveries of the stored notice `n`, in the caller's transaction (the
/// notice's own): one per recipient with an address who has not muted its kind.
pub async fn enqueue<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, n: &notification::Model) -> AppResult<()> {
    let mut q =
        user::Entity::find().filter(user::Column::OrgId.eq(n.org_id)).filter(user::Column::Status.eq(Status::Active));
    if let Some(u) = n.user_id {
        q = q.filter(user::Column::Id.eq(u));
    }
    let users: Vec<user::Model> = q.all(db).await?;
    let with_address: Vec<&user::Model> =
        users.iter().filter(|u| u.email.as_deref().is_some_and(|e| !e.trim().is_empty())).collect();
    if with_address.is_empty() {
        return Ok(());
    }
    let prefs = notice_pref::Entity::find()
        .filter(notice_pref::Column::UserId.is_in(with_address.iter().map(|u| u.id)))
        .all(db)
        .await?;
    for u in with_address {
        let p = Prefs::of(prefs.iter().find(|p| p.user_id == u.id))?;
        if p.mutes(n.kind) {
            continue;
        }
        delivery::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            notification_id: Set(n.id),
            user_id: Set(u.id),
            channel: Set(Channel::Email),
            address: Set(u.email.clone().unwrap_or_default().trim().to_string()),
            kind: Set(n.kind),
            state: Set(DeliveryState::Pending),
            idempotency_key: Set(format!("{}.{}.email", n.public_id.simple(), u.public_id.simple())),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// What became of one attempt.
enum Attempt {
    Sent,
    Retry(String),
    Permanent(String),
}

/// Sends every due delivery, each outside any transaction, and records each answer. Returns how
/// many were sent. Off (returns 0, rows wait) while no SMTP server is set.
pub async fn send_due(state: &Deliveries) -> AppResult<usize> {
    if state.settings.host.trim().is_empty() {
        return Ok(0);
    }
    let transport = mail::transport(&state.settings)?;
    let now = state.clock.now();
    let due = delivery::Entity::find()
        .filter(delivery::Column::State.eq(DeliveryState::Pending))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?;
    let lease = TimeDelta::seconds(state.settings.timeout_seconds.max(1) as i64 * 3);
    let mut sent = 0;
    for d in due {
        // The lease: a process sharing the database that claimed the row first sends it.
        let claimed = delivery::Entity::update_many()
            .col_expr(delivery::Column::ClaimedUntil, Expr::value(now + lease))
            .filter(delivery::Column::Id.eq(d.id))
            .filter(delivery::Column::State.eq(DeliveryState::Pending))
            .filter(
                sea_orm::Condition::any()
                    .add(delivery::Column::ClaimedUntil.is_null())
                    .add(delivery::Column::ClaimedUntil.lt(now)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let attempt = match compose(state, &d).await {
            Ok(message) => match lettre::AsyncTransport::send(&transport, message).await {
                Ok(_) => Attempt::Sent,
                Err(e) if e.is_permanent() => Attempt::Permanent(e.to_string()),
                Err(e) => Attempt::Retry(e.to_string()),
            },
            Err(e) => Attempt::Permanent(e.message),
        };
        let now = state.clock.now();
        let mut m: delivery::ActiveModel = d.clone().into();
        m.attempts = Set(d.attempts + 1);
        m.claimed_until = Set(None);
        match attempt {
            Attempt::Sent => {
                m.state = Set(DeliveryState::Sent);
                m.sent_at = Set(Some(now));
                m.last_error = Set(None);
                sent += 1;
            }
            Attempt::Permanent(e) => {
                tracing::warn!(delivery = %d.public_id, error = %e, "e-mail refused for good");
                m.state = Set(DeliveryState::Failed);
                m.last_error = Set(Some(e.chars().take(500).collect()));
            }
            Attempt::Retry(e) => {
                m.last_error = Set(Some(e.chars().take(500).collect()));
                if d.attempts + 1 >= state.settings.max_attempts.max(1) {
                    tracing::warn!(delivery = %d.public_id, error = %e, "e-mail failed at every attempt");
                    m.state = Set(DeliveryState::Failed);
                } else {
                    let exp = d.attempts.clamp(0, 20) as u32;
                    let wait = state
                        .settings
                        .backoff_seconds
                        .max(1)
                        .saturating_mul(1u64 << exp)
                        .min(state.settings.max_backoff_seconds.max(1));
                    m.next_attempt_at = Set(now + TimeDelta::seconds(wait as i64));
                }
            }
        }
        m.update(&state.db).await?;
    }
    Ok(sent)
}

/// The e-mail of delivery `d`: its notice rendered in the reader's language.
async fn compose(state: &Deliveries, d: &delivery::Model) -> AppResult<lettre::Message> {
    let n =
        notification::Entity::find_by_id(d.notification_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let pref = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(d.user_id)).one(&state.db).await?;
    let lang = Prefs::of(pref.as_ref())?.lang;
    let view = crate::notify::service::render_stored(&state.texts, lang, &n)?;
    let token = match pref {
        Some(p) => p.unsubscribe_token,
        None => token_of(&state.db, d.user_id, state.clock.now()).await?,
    };
    let base = state.link_base.trim_end_matches('/');
    let mail = mail::Mail {
        lang,
        from: &state.settings.from,
        to: &d.address,
        text: &view,
        link: n.link.as_deref().map(|l| format!("{base}{l}")),
        unsubscribe: format!("{base}/unsubscribe/{token}?kind={}", d.kind),
        message_id: format!("<{}@{}>", d.idempotency_key, mail::domain_of(&state.settings.from)),
        sent_at: state.clock.now(),
    };
    mail.build(&state.texts)
}

/// The user's unsubscribe secret, made (with the default choices) if the user has no row yet.
async fn token_of<C: ConnectionTrait>(db: &C, user_id: UserId, now: DateTime<Utc>) -> AppResult<String> {
    if let Some(p) = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(user_id)).one(db).await? {
        return Ok(p.unsubscribe_token);
    }
    let token = crate::accounts::service::random_token();
    let row = notice_pref::ActiveModel {
        user_id: Set(user_id),
        lang: Set(Lang::Zh.code().to_string()),
        email_muted: Set("[]".into()),
        unsubscribe_token: Set(token.clone()),
        updated_at: Set(now),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(token),
        // Made meanwhile by another sender: theirs stands.
        Err(_) => notice_pref::Entity::find()
            .filter(notice_pref::Column::UserId.eq(user_id))
            .one(db)
            .await?
            .map(|p| p.unsubscribe_token)
            .ok_or_else(|| AppError::internal("notice_prefs: no row after a failed insert")),
    }
}

/// Sends due deliveries in the background every `poll_ms`.
pub fn spawn_sender(state: Deliveries) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let poll = std::time::Duration::from_millis(state.settings.poll_ms.max(50));
        loop {
            if let Err(e) = send_due(&state).await {
                tracing::warn!(error = %e.message, "e-mail deliveries: sending failed");
            }
            tokio::time::sleep(poll).await;
        }
    })
}

// ---------------------------------------------------------------------------------------------
// A user's choices

/// A user's choices about notices outside the platform.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Where e-mails go; empty or absent: no e-mail.
    pub email: Option<String>,
    /// The language of the messages: `zh-CN` or `en`.
    pub lang: String,
    /// The kinds not sent by e-mail (`*`: none is).
    pub email_muted: Vec<String>,
}

/// The caller's choices.
pub async fn preferences(state: &Deliveries, actor: &Actor) -> AppResult<Preferences> {
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let p = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(actor.user_id)).one(&state.db).await?;
    let prefs = Prefs::of(p.as_ref())?;
    Ok(Preferences { email: u.email, lang: prefs.lang.code().to_string(), email_muted: prefs.muted })
}

/// Sets the caller's choices; every wrong field is named.
pub async fn set_preferences(state: &Deliveries, actor: &Actor, p: Preferences) -> AppResult<Preferences> {
    let mut errors = Vec::new();
    let email = p.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
    if let Some(e) = &email {
        if e.len() > MAX_ADDRESS {
            errors.push(FieldError::new("email", "too_long"));
        } else if e.parse::<lettre::Address>().is_err() {
            errors.push(FieldError::new("email", "invalid_email"));
        }
    }
    let lang = Lang::parse(p.lang.trim());
    if lang.is_none() {
        errors.push(FieldError::new("lang", "unknown_lang"));
    }
    let mut muted: Vec<String> = Vec::new();
    for k in &p.email_muted {
        if k != "*" && NoticeKind::parse(k).is_none() {
            errors.push(FieldError::new("email_muted", "unknown_kind"));
            break;
        }
        if !muted.contains(k) {
            muted.push(k.clone());
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let now = state.clock.now();
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let mut um: user::ActiveModel = u.into();
    um.email = Set(email);
    um.update(&state.db).await?;
    token_of(&state.db, actor.user_id, now).await?;
    let row = notice_pref::Entity::find()
        .filter(notice_pref::Column::UserId.eq(actor.user_id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut m: notice_pref::ActiveModel = row.into();
    m.lang = Set(lang.unwrap_or_default().code().to_string());
    m.email_muted = Set(serde_json::to_string(&muted).map_err(AppError::internal)?);
    m.updated_at = Set(now);
    m.update(&state.db).await?;
    preferences(state, actor).await
}

/// Mutes e-mail of `kind` (or of every kind) for the user whose unsubscribe secret is `token`:
/// what the one-click link in every e-mail does. Returns the user's display name.
pub async fn unsubscribe(state: &Deliveries, token: &str, kind: Option<NoticeKind>) -> AppResult<String> {
    let row = notice_pref::Entity::find()
        .filter(notice_pref::Column::UnsubscribeToken.eq(token.trim()))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut prefs = Prefs::of(Some(&row))?;
    let what = kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| "*".into());
    if !prefs.muted.contains(&what) {
        prefs.muted.push(what);
    }
    let user_id = row.user_id;
    let mut m: notice_pref::ActiveModel = row.into();
    m.email_muted = Set(serde_json::to_string(&prefs.muted).map_err(AppError::internal)?);
    m.updated_at = Set(state.clock.now());
    m.update(&state.db).await?;
    let u = user::Entity::find_by_id(user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    Ok(u.display_name)
}

/// Whether `token` is a user's unsubscribe secret (the page asks before it mutes).
pub async fn token_known(state: &Deliveries, token: &str) -> AppResult<bool> {
    Ok(notice_pref::Entity::find()
        .filter(notice_pref::Column::UnsubscribeToken.eq(token.trim()))
        .one(&state.db)
        .await?
        .is_some())
}

// ---------------------------------------------------------------------------------------------
// The delivery log

/// A delivery as its recipient and the centre's staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Public id.
    pub id: Uuid,
    /// The notice's kind.
    pub kind: NoticeKind,
    /// `email`.
    pub channel: Channel,
    /// Where it went.
    pub address: String,
    /// `pending`, `sent` or `failed`.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the server took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The next attempt, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The recipient's login name (the staff's log only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

fn view(d: delivery::Model, username: Option<String>) -> DeliveryView {
    DeliveryView {
        id: d.public_id,
        kind: d.kind,
        channel: d.channel,
        address: d.address,
        state: d.state,
        attempts: d.attempts,
        last_error: d.last_error,
        created_at: d.created_at,
        sent_at: d.sent_at,
        next_attempt_at: (d.state == DeliveryState::Pending).then_some(d.next_attempt_at),
        username,
    }
}

/// The caller's own deliveries, newest first.
pub async fn own(state: &Deliveries, actor: &Actor) -> AppResult<Vec<DeliveryView>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::UserId.eq(actor.user_id))
        .order_by_desc(delivery::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| view(d, None))
        .collect())
}

/// Every user's deliveries, newest first, optionally in one state: the centre's staff and the
/// administrator.
pub async fn log(state: &Deliveries, actor: &Actor, only: Option<DeliveryState>) -> AppResult<Vec<DeliveryView>> {
    if !(crate::mall::policy::is_centre_staff(actor) || actor.role == Role::PlatformAdmin) {
        return Err(AppError::forbidden_because("centre_only", "only the centre's staff read the delivery log"));
    }
    let mut q = delivery::Entity::find().order_by_desc(delivery::Column::Id).limit(500);
    if let Some(s) = only {
        q = q.filter(delivery::Column::State.eq(s));
    }
    let rows = q.all(&state.db).await?;
    let users: Vec<user::Model> =
        user::Entity::find().filter(user::Column::Id.is_in(rows.iter().map(|d| d.user_id))).all(&state.db).await?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let name = users.iter().find(|u| u.id == d.user_id).map(|u| u.username.clone());
            view(d, name)
        })
        .collect())
}
