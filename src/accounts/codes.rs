//! Login codes by SMS (短信验证码): the second factor after the password.
//!
//! A user gives a code when it turned codes on for itself (`users.login_codes`), and every
//! staff user (all roles but suppliers and experts) when the centre requires it
//! (`[security] staff_login_codes`). After a right password such a login starts no session: a
//! 6-digit code, drawn from the operating system's generator, goes by SMS to the number of the
//! user's notice settings, straight to the gateway (never in quiet hours' wait: a code cannot
//! wait for the morning), and the login answers a secret naming the pending login. The code
//! holds `login_code_minutes` (5), is used once, and is spent after `login_code_tries` (5) wrong
//! codes. Each code given counts against the login's throttle like a password does (it is
//! counted before it is checked, and stays counted when wrong), and no more than
//! `max_failed_logins` codes are sent to one user within the window. Only SHA-256 of the secret,
//! and of the secret with the code, is stored.

use super::{
    Accounts,
    model::{Actor, Role},
    service::{LoggedIn, hash_token, random_token},
};
use crate::{
    audit::{Action, AuditEntry},
    deliver::sms::{SmsGateway, SmsRequest},
    entities::{login_code, notice_pref, user},
    error::{AppError, AppResult},
    uow::UnitOfWork,
    web::i18n::Lang,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where login codes go: the centre's SMS gateway and its signature.
#[derive(Clone, Debug)]
pub struct CodeSender {
    /// The gateway (docs/notifications.md, "The SMS gateway protocol").
    pub gateway: Arc<dyn SmsGateway>,
    /// The centre's signature (签名).
    pub sign: String,
}

/// The template id of the login code's SMS in `lang`; its parameters are `code` and `minutes`
/// (the catalogues' `sms.login_code`).
pub fn template_id(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "TH_LOGIN_CODE_ZH",
        Lang::En => "TH_LOGIN_CODE_EN",
    }
}

/// A login waiting for its code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeChallenge {
    /// The pending login's secret: send it back with the code.
    pub challenge: String,
    /// Where the code went, with its middle hidden (`138****8000`).
    pub phone: String,
    /// Until when the code holds.
    pub expires_at: DateTime<Utc>,
    /// How many wrong codes spend it.
    pub tries: i32,
}

/// What a right password leads to: a session, or a code to give first.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Logged in.
    Session(LoggedIn),
    /// A code was sent; the session starts when it is given ([`verify`]).
    Code(CodeChallenge),
}

/// Whether `u` must give a code after its password.
pub fn needs_code(state: &Accounts, u: &user::Model) -> bool {
    u.login_codes || (state.security.staff_login_codes && !matches!(u.role, Role::Supplier | Role::Expert))
}

/// A mobile number with its middle hidden (`138****8000`), as answers and the audit trail show it.
pub fn masked(phone: &str) -> String {
    let c: Vec<char> = phone.chars().collect();
    if c.len() < 7 {
        return "****".into();
    }
    format!("{}****{}", c[..3].iter().collect::<String>(), c[c.len() - 4..].iter().collect::<String>())
}

fn six_digits() -> AppResult<String> {
    use ring::rand::SecureRandom;
    // Rejection sampling: uniform over 000000..=999999.
    loop {
        let mut b = [0u8; 4];
        ring::rand::SystemRandom::new().fill(&mut b).map_err(|_| AppError::internal("no randomness"))?;
        let n = u32::from_be_bytes(b);
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

fn code_hash(challenge: &str, code: &str) -> String {
    hash_token(&format!("{challenge}:{code}"))
}

/// The user's mobile number and language of messages, from its notice settings.
async fn phone_of<C: sea_orm::ConnectionTrait>(db: &C, u: &user::Model) -> AppResult<(Option<String>, Lang)> {
    let p = notice_pref::Entity::find().filter(notice_pref::Column::UserId.eq(u.id)).one(db).await?;
    let lang = p.as_ref().and_then(|p| Lang::parse(&p.lang)).unwrap_or_default();
    Ok((p.and_then(|p| p.phone).filter(|p| !p.trim().is_empty()), lang))
}

/// Writes a code for `actor` (whose password was right) in `txn` and answers what to send once
/// it is committed. Refuses without a number (`login_phone_missing`), without a gateway
/// (`sms_unavailable`), and past the number of codes a window allows (`login_codes_throttled`).
pub(super) async fn issue(
    state: &Accounts,
    txn: &mut UnitOfWork,
    actor: &Actor,
    u: &user::Model,
    remote_addr: &str,
) -> AppResult<(CodeChallenge, SmsRequest, String)> {
    let (phone, lang) = phone_of(&*txn, u).await?;
    let Some(phone) = phone else {
        return Err(AppError::forbidden_because(
            "login_phone_missing",
            "this login needs a code by SMS, and the account has no mobile number",
        ));
    };
    if !state.codes.gateway.ready() {
        return Err(AppError::unavailable("sms_unavailable", "login codes cannot be sent: no SMS gateway is set up"));
    }
    let now = txn.now();
    let window = TimeDelta::minutes(state.security.failed_login_window_minutes);
    let recent = login_code::Entity::find()
        .filter(login_code::Column::UserId.eq(u.id))
        .filter(login_code::Column::CreatedAt.gt(now - window));
    if recent.clone().count(&*txn).await? >= state.security.max_failed_logins {
        let oldest = recent.order_by_asc(login_code::Column::CreatedAt).one(&*txn).await?;
        let wait = oldest.map_or(window, |o| o.created_at + window - now);
        let secs = u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(1).max(1);
        return Err(AppError::too_many("login_codes_throttled", "too many login codes were sent; try again later")
            .with_retry_after(secs));
    }
    let (challenge, code) = (random_token(), six_digits()?);
    let expires_at = now + TimeDelta::minutes(state.security.login_code_minutes.max(1));
    let row = login_code::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        token_hash: Set(hash_token(&challenge)),
        user_id: Set(u.id),
        code_hash: Set(code_hash(&challenge, &code)),
        phone: Set(phone.clone()),
        remote_addr: Set(remote_addr.to_string()),
        wrong: Set(0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    txn.record(
        &actor.audit(),
        AuditEntry::new(
            Action::SessionCodeSent,
            actor.user_public_id,
            json!({"phone": masked(&phone), "remote_addr": remote_addr, "expires_at": expires_at}),
        ),
    )
    .await?;
    let req = SmsRequest {
        version: 1,
        message: row.public_id,
        phone: phone.clone(),
        sign: state.codes.sign.clone(),
        template: template_id(lang).to_string(),
        params: [
            ("code".to_string(), code),
            ("minutes".to_string(), state.security.login_code_minutes.max(1).to_string()),
        ]
        .into(),
    };
    let c =
        CodeChallenge { challenge, phone: masked(&phone), expires_at, tries: state.security.login_code_tries.max(1) };
    Ok((c, req, format!("login.{}", row.public_id.simple())))
}

/// Sends a committed code; a gateway that does not take it is answered as `sms_failed` (the
/// user logs in again for a new code).
pub(super) async fn send(state: &Accounts, req: &SmsRequest, key: &str) -> AppResult<()> {
    match state.codes.gateway.send(key, req).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = ?e, "a login code was not taken by the SMS gateway");
            Err(AppError::unavailable("sms_failed", "the login code could not be sent; try again"))
        }
    }
}

/// Gives the code of the pending login `challenge`: a session, or a refusal. A wrong code
/// counts as a failed login (401 `login_code_wrong`, with the tries left); an unknown, used,
/// expired or spent one is 401 `login_code_expired`.
pub async fn verify(state: &Accounts, challenge: &str, code: &str, remote_addr: &str) -> AppResult<LoggedIn> {
    let (challenge, code) = (challenge.trim(), code.trim());
    let expired =
        || AppError::rule("login_code_expired", "this login code is no longer valid; log in again").with_status_401();
    let row = login_code::Entity::find()
        .filter(login_code::Column::TokenHash.eq(hash_token(challenge)))
        .one(&state.db)
        .await?
        .ok_or_else(expired)?;
    let u = user::Entity::find_by_id(row.user_id).one(&state.db).await?.ok_or_else(expired)?;
    let attempt = super::service::reserve_attempt(state, &u.username, remote_addr).await?;
    let mut txn = state.writer.begin().await?;
    let now = txn.now();
    let row = login_code::Entity::find_by_id(row.id).one(&txn).await?.ok_or_else(expired)?;
    let tries = state.security.login_code_tries.max(1);
    if row.used_at.is_some() || now >= row.expires_at || row.wrong >= tries {
        crate::entities::login_failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
        txn.commit().await?;
        return Err(expired());
    }
    let right = code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        // Hashes are compared, never the code: how long a comparison takes tells nothing of it.
        && code_hash(challenge, code) == row.code_hash;
    if !right {
        // The reserved attempt stays: it is this failure.
        let wrong = row.wrong + 1;
        let mut m: login_code::ActiveModel = row.into();
        m.wrong = Set(wrong);
        m.update(&txn).await?;
        txn.record(
            &crate::audit::AuditActor::system(),
            AuditEntry::new(
                Action::SessionLoginFailed,
                u.username.clone(),
                json!({"remote_addr": remote_addr, "login_code": "wrong"}),
            ),
        )
        .await?;
        txn.commit().await?;
        let left = (tries - wrong).max(0);
        return Err(AppError::rule("login_code_wrong", "the login code is wrong")
            .with_arg("left", left)
            .with_status_401());
    }
    crate::entities::login_failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
    let mut m: login_code::ActiveModel = row.into();
    m.used_at = Set(Some(now));
    m.update(&txn).await?;
    let Some(actor) = super::service::active_actor(&txn, u.id).await? else {
        txn.commit().await?;
        return Err(AppError::forbidden_because("account_disabled", "this account or its organisation is not active"));
    };
    let token = super::service::start_session(state, &mut txn, &actor, "password+sms", remote_addr).await?;
    txn.commit().await?;
    Ok(LoggedIn { token, actor })
}

/// Turns the caller's login codes on or off; on needs a mobile number in the notice settings
/// and the gateway (`phone_required`, `sms_unavailable`). Staff whom the centre requires to give
/// codes cannot turn them off (`login_codes_required`).
pub async fn set_own(state: &Accounts, actor: &Actor, on: bool) -> AppResult<bool> {
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    if on {
        if phone_of(&state.db, &u).await?.0.is_none() {
            return Err(AppError::rule("phone_required", "give a mobile number in the notice settings first"));
        }
        if !state.codes.gateway.ready() {
            return Err(AppError::unavailable(
                "sms_unavailable",
                "login codes cannot be sent: no SMS gateway is set up",
            ));
        }
    } else if state.security.staff_login_codes && !matches!(u.role, Role::Supplier | Role::Expert) {
        return Err(AppError::rule("login_codes_required", "the centre requires login codes for staff"));
    }
    let mut txn = state.writer.begin().await?;
    let mut m: user::ActiveModel = u.into();
    m.login_codes = Set(on);
    m.update(&txn).await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::UserLoginCodes, actor.user_public_id, json!({"on": on})))
        .await?;
    txn.commit().await?;
    Ok(on)
}

/// Whether the caller gives login codes (by choice or because the centre requires it).
pub async fn own(state: &Accounts, actor: &Actor) -> AppResult<bool> {
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    Ok(needs_code(state, &u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_numbers_are_masked() {
        for _ in 0..200 {
            let c = six_digits().expect("code");
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        assert_eq!(masked("13800138000"), "138****8000");
        assert_eq!(masked("123"), "****");
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"), "the secret salts the code");
    }
}
