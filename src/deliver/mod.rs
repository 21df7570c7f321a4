//! Deliveries (消息推送): notices sent outside the platform, by e-mail over SMTP and by SMS
//! through the centre's gateway ([`sms`]).
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
pub mod sms;

use crate::{
    accounts::model::{Actor, Role},
    config::{EmailSettings, SmsSettings},
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
        /// SMS through the centre's gateway.
        Sms = "sms",
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
    /// The SMS signature, retries, quiet hours and cap.
    pub sms: SmsSettings,
    /// The SMS gateway.
    pub gateway: Arc<dyn sms::SmsGateway>,
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
    phone: Option<String>,
    sms_kinds: Vec<String>,
}

impl Prefs {
    fn of(row: Option<&notice_pref::Model>) -> AppResult<Self> {
        let Some(r) = row else {
            return Ok(Prefs { lang: Lang::Zh, muted: Vec::new(), phone: None, sms_kinds: Vec::new() });
        };
        let list = |col: &str, v: &str| -> AppResult<Vec<String>> {
            serde_json::from_str(v).map_err(|e| AppError::internal(format!("notice_prefs.{col} of row {}: {e}", r.id)))
        };
        Ok(Prefs {
            lang: Lang::parse(&r.lang).unwrap_or_default(),
            muted: list("email_muted", &r.email_muted)?,
            phone: r.phone.clone(),
            sms_kinds: list("sms_kinds", &r.sms_kinds)?,
        })
    }

    fn wants_sms(&self, kind: NoticeKind) -> Option<&str> {
        let phone = self.phone.as_deref().filter(|p| !p.is_empty())?;
        (sms::sms_kind(kind).is_some() && self.sms_kinds.iter().any(|k| k == kind.as_str())).then_some(phone)
    }

    fn mutes(&self, kind: NoticeKind) -> bool {
        self.muted.iter().any(|m| m == "*" || m == kind.as_str())
    }
}

/// Writes the deliveries of the stored notice `n` to `users` (the active users it reaches), in
/// the caller's transaction (the notice's own): an e-mail to each with an address who has not muted its kind, and an SMS to
/// each who chose the kind by SMS and gave a number.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    n: &notification::Model,
    users: &[user::Model],
) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let prefs = notice_pref::Entity::find()
        .filter(notice_pref::Column::UserId.is_in(users.iter().map(|u| u.id)))
        .all(db)
        .await?;
    for u in users {
        let p = Prefs::of(prefs.iter().find(|p| p.user_id == u.id))?;
        let email = u.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if let Some(address) = email.filter(|_| !p.mutes(n.kind)) {
            write(db, now, n, u, Channel::Email, address).await?;
        }
        if let Some(phone) = p.wants_sms(n.kind) {
            write(db, now, n, u, Channel::Sms, phone).await?;
        }
    }
    Ok(())
}

async fn write<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    n: &notification::Model,
    u: &user::Model,
    channel: Channel,
    address: &str,
) -> AppResult<()> {
    delivery::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        notification_id: Set(n.id),
        user_id: Set(u.id),
        channel: Set(channel),
        address: Set(address.to_string()),
        kind: Set(n.kind),
        state: Set(DeliveryState::Pending),
        idempotency_key: Set(format!("{}.{}.{channel}", n.public_id.simple(), u.public_id.simple())),
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
    Ok(())
}

/// What became of one attempt.
enum Attempt {
    Sent,
    Retry(String),
    Permanent(String),
}

/// Sends every due delivery of the channels that are set up, each outside any transaction, and
/// records each answer. Returns how many were sent. Rows of a channel that is not set up (no
/// SMTP server, no gateway) wait.
pub async fn send_due(state: &Deliveries) -> AppResult<usize> {
    let mut ready = Vec::new();
    if !state.settings.host.trim().is_empty() {
        ready.push(Channel::Email);
    }
    if state.gateway.ready() {
        ready.push(Channel::Sms);
    }
    if ready.is_empty() {
        return Ok(0);
    }
    let transport = if ready.contains(&Channel::Email) { Some(mail::transport(&state.settings)?) } else { None };
    let now = state.clock.now();
    let due = delivery::Entity::find()
        .filter(delivery::Column::State.eq(DeliveryState::Pending))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(delivery::Column::Channel.is_in(ready.clone()))
        .order_by_asc(delivery::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for d in due {
        let timeout = match d.channel {
            Channel::Email => state.settings.timeout_seconds,
            Channel::Sms => state.sms.timeout_seconds,
        };
        let lease = TimeDelta::seconds(timeout.max(1) as i64 * 3);
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
        if d.channel == Channel::Sms
            && let Some(later) = sms_waits(state, &d, now).await?
        {
            let mut m: delivery::ActiveModel = d.clone().into();
            m.next_attempt_at = Set(later);
            m.claimed_until = Set(None);
            m.update(&state.db).await?;
            continue;
        }
        let attempt = match (d.channel, &transport) {
            (Channel::Email, Some(t)) => match compose(state, &d).await {
                Ok(message) => match lettre::AsyncTransport::send(t, message).await {
                    Ok(_) => Attempt::Sent,
                    Err(e) if e.is_permanent() => Attempt::Permanent(e.to_string()),
                    Err(e) => Attempt::Retry(e.to_string()),
                },
                Err(e) => Attempt::Permanent(e.message),
            },
            (Channel::Email, None) => continue,
            (Channel::Sms, _) => match sms_request(state, &d).await? {
                Some(req) => match state.gateway.send(&d.idempotency_key, &req).await {
                    Ok(_) => Attempt::Sent,
                    Err(sms::SmsFailure::Permanent(e)) => Attempt::Permanent(e),
                    Err(sms::SmsFailure::Transient(e)) => Attempt::Retry(e),
                },
                None => Attempt::Permanent(format!("{} has no SMS template", d.kind)),
            },
        };
        let (backoff, max_backoff, max_attempts) = match d.channel {
            Channel::Email => {
                (state.settings.backoff_seconds, state.settings.max_backoff_seconds, state.settings.max_attempts)
            }
            Channel::Sms => (state.sms.backoff_seconds, state.sms.max_backoff_seconds, state.sms.max_attempts),
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
                tracing::warn!(delivery = %d.public_id, channel = %d.channel, error = %e, "delivery refused for good");
                m.state = Set(DeliveryState::Failed);
                m.last_error = Set(Some(e.chars().take(500).collect()));
            }
            Attempt::Retry(e) => {
                m.last_error = Set(Some(e.chars().take(500).collect()));
                if d.attempts + 1 >= max_attempts.max(1) {
                    tracing::warn!(delivery = %d.public_id, channel = %d.channel, error = %e, "delivery failed at every attempt");
                    m.state = Set(DeliveryState::Failed);
                } else {
                    let exp = d.attempts.clamp(0, 20) as u32;
                    let wait = backoff.max(1).saturating_mul(1u64 << exp).min(max_backoff.max(1));
                    m.next_attempt_at = Set(now + TimeDelta::seconds(wait as i64));
                }
            }
        }
        m.update(&state.db).await?;
    }
    Ok(sent)
}

/// When an SMS that is due must wait instead: in quiet hours (China time) unless its kind is
/// urgent, until they end; above the number's cap for the hour, until the oldest of that hour's
/// messages is an hour old.
async fn sms_waits(state: &Deliveries, d: &delivery::Model, now: DateTime<Utc>) -> AppResult<Option<DateTime<Utc>>> {
    if let Some(end) = quiet_wait(&state.sms, d.kind, now) {
        return Ok(Some(end));
    }
    let hour_ago = now - TimeDelta::hours(1);
    let recent = delivery::Entity::find()
        .filter(delivery::Column::Channel.eq(Channel::Sms))
        .filter(delivery::Column::Address.eq(d.address.clone()))
        .filter(delivery::Column::State.eq(DeliveryState::Sent))
        .filter(delivery::Column::SentAt.gt(hour_ago))
        .order_by_asc(delivery::Column::SentAt)
        .all(&state.db)
        .await?;
    if recent.len() >= state.sms.cap_per_hour.max(1) as usize {
        let oldest = recent.first().and_then(|r| r.sent_at).unwrap_or(now);
        return Ok(Some(oldest + TimeDelta::hours(1) + TimeDelta::seconds(1)));
    }
    Ok(None)
}

/// Until when an SMS of `kind` due at `now` waits for the quiet hours to end: never for an
/// urgent kind.
pub fn quiet_wait(s: &SmsSettings, kind: NoticeKind, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if sms::sms_kind(kind).is_some_and(|k| k.urgent) {
        return None;
    }
    quiet_until(s, now)
}

/// The end of the quiet hours `now` falls in, if it does (hours of China time).
pub fn quiet_until(s: &SmsSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::{TimeZone, Timelike};
    let (from, until) = (s.quiet_from_hour % 24, s.quiet_until_hour % 24);
    if from == until {
        return None;
    }
    let local = now.with_timezone(&crate::web::cst());
    let h = local.hour();
    let quiet = if from > until { h >= from || h < until } else { h >= from && h < until };
    if !quiet {
        return None;
    }
    let day = if h >= until { local.date_naive() + chrono::Days::new(1) } else { local.date_naive() };
    let end = day.and_hms_opt(until, 0, 0)?;
    crate::web::cst().from_local_datetime(&end).single().map(|t| t.with_timezone(&Utc))
}

/// The notice delivery `d` carries, its reader's choices row and language of messages.
async fn notice_of(
    state: &Deliveries,
    d: &delivery::Model,
) -> AppResult<(notification::Model, Option<notice_pref::Model>, Lang)> {
    let n =
        notification::Entity::find_by_id(d.notification_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let pref = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(d.user_id)).one(&state.db).await?;
    let lang = Prefs::of(pref.as_ref())?.lang;
    Ok((n, pref, lang))
}

/// The gateway request of SMS delivery `d`: its notice's parameters in the reader's language.
async fn sms_request(state: &Deliveries, d: &delivery::Model) -> AppResult<Option<sms::SmsRequest>> {
    let (n, _, lang) = notice_of(state, d).await?;
    let args: crate::notify::model::Args = serde_json::from_str(&n.args)
        .map_err(|e| AppError::internal(format!("notifications.args of row {}: {e}", n.id)))?;
    Ok(sms::request(&state.texts, lang, n.kind, &args, d.public_id, &d.address, &state.sms.sign))
}

/// The e-mail of delivery `d`: its notice rendered in the reader's language.
async fn compose(state: &Deliveries, d: &delivery::Model) -> AppResult<lettre::Message> {
    let (n, pref, lang) = notice_of(state, d).await?;
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
        phone: Set(None),
        sms_kinds: Set("[]".into()),
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
    /// The mobile number SMS go to (11 digits); empty or absent: no SMS.
    #[serde(default)]
    pub phone: Option<String>,
    /// The kinds sent by SMS as well (only kinds with an SMS template; none by default).
    #[serde(default)]
    pub sms_kinds: Vec<String>,
}

/// The caller's choices.
pub async fn preferences(state: &Deliveries, actor: &Actor) -> AppResult<Preferences> {
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    let p = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(actor.user_id)).one(&state.db).await?;
    let prefs = Prefs::of(p.as_ref())?;
    Ok(Preferences {
        email: u.email,
        lang: prefs.lang.code().to_string(),
        email_muted: prefs.muted,
        phone: prefs.phone,
        sms_kinds: prefs.sms_kinds,
    })
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
    let phone = p.phone.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string);
    if phone.as_deref().is_some_and(|x| !sms::is_mobile(x)) {
        errors.push(FieldError::new("phone", "invalid_phone"));
    }
    let mut sms_kinds: Vec<String> = Vec::new();
    for k in &p.sms_kinds {
        match NoticeKind::parse(k) {
            None => {
                errors.push(FieldError::new("sms_kinds", "unknown_kind"));
                break;
            }
            Some(kind) if sms::sms_kind(kind).is_none() => {
                errors.push(FieldError::new("sms_kinds", "no_sms_template"));
                break;
            }
            Some(_) if !sms_kinds.contains(k) => sms_kinds.push(k.clone()),
            Some(_) => {}
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
    m.phone = Set(phone);
    m.sms_kinds = Set(serde_json::to_string(&sms_kinds).map_err(AppError::internal)?);
    m.updated_at = Set(now);
    m.update(&state.db).await?;
    preferences(state, actor).await
}

/// Sets the mobile number of the user named `username` (empty: none), as an operator, in the
/// change `uow`: the command line's `accounts phone`. Audited, as it changes where someone
/// else's login codes go.
pub async fn set_phone(
    uow: &mut crate::uow::UnitOfWork,
    operator: &crate::audit::AuditActor,
    username: &str,
    number: &str,
) -> AppResult<()> {
    let number = number.trim();
    if !number.is_empty() && !sms::is_mobile(number) {
        return Err(AppError::invalid_field("phone", "invalid_phone"));
    }
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(uow.txn())
        .await?
        .ok_or_else(AppError::not_found)?;
    let now = uow.now();
    token_of(uow.txn(), u.id, now).await?;
    let row = notice_pref::Entity::find()
        .filter(notice_pref::Column::UserId.eq(u.id))
        .one(uow.txn())
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut m: notice_pref::ActiveModel = row.into();
    m.phone = Set((!number.is_empty()).then(|| number.to_string()));
    m.updated_at = Set(now);
    m.update(uow.txn()).await?;
    let shown = if number.is_empty() { String::new() } else { crate::accounts::codes::masked(number) };
    let entry = crate::audit::AuditEntry::new(
        crate::audit::Action::UserPhoneSet,
        u.public_id,
        serde_json::json!({"phone": shown}),
    );
    uow.record(operator, entry).await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn in_quiet_hours_only_urgent_kinds_go() {
        let s = SmsSettings::default();
        let night =
            crate::web::cst().with_ymd_and_hms(2026, 11, 19, 23, 0, 0).single().expect("time").with_timezone(&Utc);
        let eight =
            crate::web::cst().with_ymd_and_hms(2026, 11, 20, 8, 0, 0).single().expect("time").with_timezone(&Utc);
        assert_eq!(quiet_wait(&s, NoticeKind::ClarificationIssued, night), Some(eight));
        assert_eq!(quiet_wait(&s, NoticeKind::DecryptionClosing, night), None, "urgent");
        assert_eq!(quiet_wait(&s, NoticeKind::ClarificationIssued, eight), None, "the day");
        let urgent: Vec<_> = sms::SMS_KINDS.iter().filter(|k| k.urgent).map(|k| k.kind).collect();
        assert_eq!(urgent, vec![NoticeKind::DecryptionClosing]);
    }
}
