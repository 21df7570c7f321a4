//! Account rules: passwords, sessions, login throttling, registration and approval.

use super::model::{Actor, OrgKind, Role, SessionRef, SizeClass, Status};
use crate::{
    accounts::Accounts,
    audit::{Action, AuditActor, AuditEntry},
    entities::{held_registration, login_failure, organisation, session, user},
    error::{AppError, AppResult, FieldError, required_text},
    ids::{OrgId, UserId},
    notify::{Notice, NoticeKind},
    uow::UnitOfWork,
};
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The system RNG only fails if the OS has no entropy source at all.
    if SystemRandom::new().fill(&mut b).is_err() {
        panic!("operating system random number generator unavailable");
    }
    URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 of a session token, hex: only this is stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()))
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Refuses passwords that are too weak.
pub fn check_new_password(field: &'static str, pw: &str) -> AppResult<()> {
    let n = pw.chars().count();
    if n < 8 {
        return Err(AppError::field_with(field, "too_short", "min", 8));
    }
    if n > 256 {
        return Err(AppError::field_with(field, "too_long", "max", 256));
    }
    if !(pw.chars().any(|c| c.is_alphabetic()) && pw.chars().any(|c| c.is_ascii_digit())) {
        return Err(AppError::invalid_field(field, "weak"));
    }
    Ok(())
}

fn actor_of(u: user::Model, o: organisation::Model) -> Actor {
    Actor {
        user_id: u.id,
        user_public_id: u.public_id,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        org_id: o.id,
        org_public_id: o.public_id,
        org_name: o.name,
        org_kind: o.kind,
    }
}

pub(super) async fn active_actor<C: ConnectionTrait>(db: &C, user_id: UserId) -> AppResult<Option<Actor>> {
    let Some(u) = user::Entity::find_by_id(user_id).one(db).await? else { return Ok(None) };
    if u.status != Status::Active {
        return Ok(None);
    }
    let Some(o) = organisation::Entity::find_by_id(u.org_id).one(db).await? else { return Ok(None) };
    if o.status != Status::Active {
        return Ok(None);
    }
    Ok(Some(actor_of(u, o)))
}

/// The session of a session token, if the token is one at all (it may have ended).
pub fn session_ref(token: &str) -> Option<SessionRef> {
    (token.len() <= 128).then(|| SessionRef(hash_token(token)))
}

/// The user of a live session.
pub async fn actor_for_session(db: &DatabaseConnection, now: DateTime<Utc>, token: &str) -> AppResult<Option<Actor>> {
    match session_ref(token) {
        Some(s) => session_actor(db, now, &s).await,
        None => Ok(None),
    }
}

/// The user of a session, if it has not ended (logged out, expired by `now`, ended by a password
/// change or a disabled account) and the user and organisation are still active.
pub async fn session_actor(db: &DatabaseConnection, now: DateTime<Utc>, s: &SessionRef) -> AppResult<Option<Actor>> {
    let Some(s) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(s.0.as_str()))
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    active_actor(db, s.user_id).await
}

/// A successful login: the session token to put in the cookie, and who logged in.
#[derive(Debug)]
pub struct LoggedIn {
    /// Session token (only its hash is stored).
    pub token: String,
    /// The user.
    pub actor: Actor,
}

/// Logs in with a password, refusing after too many recent failures. A user who must give a
/// login code gets one by SMS instead of a session ([`super::codes`]).
///
/// The attempt is counted before the password is checked (see [`reserve_attempt`]), so no more
/// than `security.max_failed_logins` passwords are ever checked for one name within the window
/// (and `max_failed_logins_per_addr` from one address), however many arrive at once and at
/// however many server processes.
#[tracing::instrument(skip(state, password), fields(username = %username))]
pub async fn login(
    state: &Accounts,
    username: &str,
    password: &str,
    remote_addr: &str,
) -> AppResult<super::codes::LoginOutcome> {
    let username: String = username.trim().chars().take(100).collect();
    let attempt = reserve_attempt(state, &username, remote_addr).await?;
    let found = user::Entity::find().filter(user::Column::Username.eq(&username)).one(&state.db).await?;
    let ok = match &found {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            // Spend the same time as a real check so that user names cannot be probed by timing.
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    };
    // Unless an active user gave the right password, the password is also checked against the
    // newest registration held under this name (see [`register_supplier`]), or against the
    // dummy hash: every other answer costs two checks, so that neither a held registration nor
    // a pending account shows in the time an answer takes.
    let held = if ok && found.as_ref().is_some_and(|u| u.status == Status::Active) {
        None
    } else {
        let held = held_registration::Entity::find()
            .filter(held_registration::Column::Username.eq(&username))
            .order_by_desc(held_registration::Column::Id)
            .one(&state.db)
            .await?;
        let held_ok = verify_password(password, held.as_ref().map_or(DUMMY_HASH, |h| h.password_hash.as_str()));
        held.filter(|_| held_ok && !ok)
    };
    let mut txn = state.writer.begin().await?;
    if let Some(h) = held {
        // The applicant of a held registration: answered as any applicant (waiting, or
        // rejected with the reason), never logged in.
        login_failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
        let org = organisation::Entity::find_by_id(h.org_id).one(&txn).await?;
        txn.commit().await?;
        return Err(refusal_for(Status::Pending, org));
    }
    let Some(u) = found.filter(|_| ok) else {
        // The reserved attempt stays: it is this failure.
        txn.record(
            &AuditActor::system(),
            AuditEntry::new(
                Action::SessionLoginFailed,
                username.chars().take(100).collect::<String>(),
                json!({"remote_addr": remote_addr}),
            ),
        )
        .await?;
        txn.commit().await?;
        return Err(AppError::rule("login_failed", "wrong user name or password").with_status_401());
    };
    // The right password is no failure.
    login_failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
    let Some(actor) = active_actor(&txn, u.id).await? else {
        let refused = refusal(&txn, &u).await?;
        txn.commit().await?;
        return Err(refused);
    };
    if super::codes::needs_code(state, &u) {
        let issued = super::codes::issue(state, &mut txn, &actor, &u, remote_addr).await;
        let (challenge, sms, key) = match issued {
            Ok(x) => x,
            Err(e) => {
                txn.commit().await?;
                return Err(e);
            }
        };
        txn.commit().await?;
        super::codes::send(state, &sms, &key).await?;
        return Ok(super::codes::LoginOutcome::Code(challenge));
    }
    let token = start_session(state, &mut txn, &actor, "password", remote_addr).await?;
    txn.commit().await?;
    Ok(super::codes::LoginOutcome::Session(LoggedIn { token, actor }))
}

/// Counts a password check for `username` from `remote_addr` before the password is checked,
/// or refuses it (429 `login_throttled`, with `Retry-After`: the seconds until the oldest
/// counted attempt leaves the window) when the window already holds the most attempts allowed.
/// Logins and the current-password check of a password change ([`change_password`]) count
/// alike, so a stolen session guesses no more passwords than a login could.
///
/// The count and the new `login_failures` row are one write transaction, which holds the
/// database's write lock (the audit head row, see [`crate::db::begin_write`]) on SQLite and on
/// PostgreSQL alike; so attempts arriving together, at one process or at several sharing the
/// database, are counted one after the other, and each sees the others' rows. The row stays
/// when the password is wrong (it is the failure) and is removed when it is right.
pub(super) async fn reserve_attempt(
    state: &Accounts,
    username: &str,
    remote_addr: &str,
) -> AppResult<login_failure::Model> {
    let sec = &state.security;
    let uow = state.writer.begin().await?;
    let now = uow.now();
    let window = TimeDelta::minutes(sec.failed_login_window_minutes);
    let since = now - window;
    for (column, value, max) in [
        (login_failure::Column::Username, username, sec.max_failed_logins),
        (login_failure::Column::RemoteAddr, remote_addr, sec.max_failed_logins_per_addr),
    ] {
        let counted =
            login_failure::Entity::find().filter(column.eq(value)).filter(login_failure::Column::At.gt(since));
        if counted.clone().count(&uow).await? >= max {
            let oldest = counted.order_by_asc(login_failure::Column::At).one(&uow).await?;
            let wait = oldest.map_or(window, |o| o.at + window - now);
            // Whole seconds, rounded up, at least one.
            let secs = u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(1).max(1);
            return Err(AppError::too_many("login_throttled", "too many failed password checks; try again later")
                .with_retry_after(secs));
        }
    }
    let row = login_failure::ActiveModel {
        username: Set(username.to_string()),
        remote_addr: Set(remote_addr.to_string()),
        at: Set(now),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    uow.commit().await?;
    Ok(row)
}

/// Why a user who proved who they are (with the password or a certificate) may not log in: the
/// registration is waiting for the centre (`account_pending`), was rejected (`account_rejected`,
/// with the reason the administrator gave, since the applicant cannot log in to read the notice
/// of it), or the user or organisation is disabled (`account_disabled`).
async fn refusal<C: ConnectionTrait>(db: &C, u: &user::Model) -> AppResult<AppError> {
    Ok(refusal_for(u.status, organisation::Entity::find_by_id(u.org_id).one(db).await?))
}

/// [`refusal`] for a user of status `user_status` in `org`.
fn refusal_for(user_status: Status, org: Option<organisation::Model>) -> AppError {
    let org_status = org.as_ref().map(|o| o.status);
    if user_status == Status::Rejected || org_status == Some(Status::Rejected) {
        let e = AppError::forbidden_because("account_rejected", "the registration of this organisation was rejected");
        match org.and_then(|o| o.status_reason).filter(|r| !r.is_empty()) {
            Some(reason) => e.with_detail(reason),
            None => e,
        }
    } else if user_status == Status::Pending || org_status == Some(Status::Pending) {
        AppError::forbidden_because("account_pending", "the centre has not approved this account yet")
    } else {
        AppError::forbidden_because("account_disabled", "this account or its organisation is not active")
    }
}

/// A valid argon2id hash of nothing anybody knows: checked against when the user name does not
/// exist, so that both answers take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3e+M7wQ5YV0f3lOfZ8WkqSQbKlvdH5Yr8eXU3qhGJ3Q";

pub(super) async fn start_session(
    state: &Accounts,
    txn: &mut UnitOfWork,
    actor: &Actor,
    method: &str,
    remote_addr: &str,
) -> AppResult<String> {
    let now = state.clock.now();
    let token = random_token();
    session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(actor.user_id),
        auth_method: Set(method.to_string()),
        created_at: Set(now),
        expires_at: Set(now + TimeDelta::hours(state.security.session_hours)),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    txn.record(
        &actor.audit(),
        AuditEntry::new(
            Action::SessionLogin,
            actor.user_public_id,
            json!({"method": method, "remote_addr": remote_addr}),
        ),
    )
    .await?;
    Ok(token)
}

/// Logs in with a verified TLS client certificate whose common name is a user name.
pub async fn login_with_certificate(
    state: &Accounts,
    username: &str,
    fingerprint: &str,
    remote_addr: &str,
) -> AppResult<LoggedIn> {
    let u =
        user::Entity::find().filter(user::Column::Username.eq(username)).one(&state.db).await?.ok_or_else(|| {
            AppError::forbidden_because("certificate_unknown_user", "the certificate names no user of this platform")
        })?;
    let mut txn = state.writer.begin().await?;
    let Some(actor) = active_actor(&txn, u.id).await? else {
        txn.rollback().await?;
        return Err(refusal(&state.db, &u).await?);
    };
    let token =
        start_session(state, &mut txn, &actor, &format!("client_certificate:{fingerprint}"), remote_addr).await?;
    txn.commit().await?;
    Ok(LoggedIn { token, actor })
}

/// Ends a session.
pub async fn logout(state: &Accounts, actor: &Actor, token: &str) -> AppResult<()> {
    let mut txn = state.writer.begin().await?;
    session::Entity::delete_many().filter(session::Column::TokenHash.eq(hash_token(token))).exec(&txn).await?;
    txn.sessions_ended(actor.user_id);
    txn.record(&actor.audit(), AuditEntry::new(Action::SessionLogout, actor.user_public_id, json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

/// Changes the actor's password, ending their other sessions.
///
/// The current password is checked under the login's throttle, for the user's name and the
/// caller's address (see [`reserve_attempt`]): a wrong one counts as a failed login, and once
/// the window holds the most allowed, the change is refused (429 `login_throttled`) even with
/// the right one. A new password that breaks the rules is refused before anything is checked.
pub async fn change_password(
    state: &Accounts,
    actor: &Actor,
    current: &str,
    new: &str,
    remote_addr: &str,
) -> AppResult<()> {
    let u = user::Entity::find_by_id(actor.user_id).one(&state.db).await?.ok_or_else(AppError::not_found)?;
    check_new_password("new_password", new)?;
    let attempt = reserve_attempt(state, &u.username, remote_addr).await?;
    if !verify_password(current, &u.password_hash) {
        // The reserved attempt stays: it is this failure.
        return Err(AppError::invalid_field("current_password", "wrong"));
    }
    let hash = hash_password(new)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    // The right password is no failure.
    login_failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
    replace_password(&mut txn, u.id, hash).await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::UserPasswordChanged, actor.user_public_id, json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

/// What a supplier submits to register.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// Company name.
    pub org_name: String,
    /// 统一社会信用代码 (18 characters).
    pub credit_code: String,
    /// Size class.
    pub size_class: SizeClass,
    /// Contact phone.
    #[serde(default)]
    pub contact_phone: String,
    /// Login name of the first user.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Password.
    pub password: String,
}

/// Checks a user name: 3–40 letters, digits, `_`, `-`, `.`.
pub fn check_username(field: &'static str, s: &str) -> Result<(), FieldError> {
    let n = s.chars().count();
    if !(3..=40).contains(&n) || !s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
        return Err(FieldError::new(field, "invalid"));
    }
    Ok(())
}

/// Checks a unified social credit code: 18 characters of digits and capital letters.
pub fn check_credit_code(s: &str) -> bool {
    s.len() == 18 && s.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

fn check_text(fields: &mut Vec<FieldError>, name: &'static str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 {
        fields.push(FieldError::new(name, "required"));
    } else if n > max {
        fields.push(FieldError::new(name, "too_long"));
    }
}

/// Registers a supplier and its first user, both pending the centre's approval.
///
/// A registration whose user name is taken is answered exactly as any other (the same answer,
/// after the same work: the password is hashed and an organisation written either way), so that
/// registering tells nobody which names exist. Its organisation waits for the centre like any
/// other, but instead of a user it has a held registration (`held_registrations`) with the name
/// and password asked for; the centre sees that the name is taken, cannot approve it and rejects
/// it with a reason, which the applicant is told when it logs in with that name and password
/// (see [`login`]). No second account of a name is ever created.
pub async fn register_supplier(state: &Accounts, r: Registration) -> AppResult<Uuid> {
    let mut fields = Vec::new();
    check_text(&mut fields, "org_name", &r.org_name, 100);
    check_text(&mut fields, "display_name", &r.display_name, 60);
    if !check_credit_code(r.credit_code.trim()) {
        fields.push(FieldError::new("credit_code", "invalid"));
    }
    if let Err(e) = check_username("username", r.username.trim()) {
        fields.push(e);
    }
    let phone = r.contact_phone.trim();
    if phone.chars().count() > 30 {
        fields.push(FieldError::new("contact_phone", "too_long"));
    } else if !phone.is_empty() && !crate::error::is_phone(phone) {
        fields.push(FieldError::new("contact_phone", "invalid"));
    }
    if let Err(e) = check_new_password("password", &r.password) {
        fields.extend(e.fields);
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let username = r.username.trim();
    let hash = hash_password(&r.password)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    // Under the write lock: two registrations of one free name at once are one after the other.
    let taken = user::Entity::find().filter(user::Column::Username.eq(username)).count(&txn).await? > 0;
    let org = organisation::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(r.org_name.trim().to_string()),
        kind: Set(OrgKind::Supplier),
        size_class: Set(Some(r.size_class)),
        credit_code: Set(Some(r.credit_code.trim().to_string())),
        contact_phone: Set(Some(r.contact_phone.trim().to_string()).filter(|s| !s.is_empty())),
        status: Set(Status::Pending),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if taken {
        held_registration::ActiveModel {
            org_id: Set(org.id),
            username: Set(username.to_string()),
            display_name: Set(r.display_name.trim().to_string()),
            password_hash: Set(hash),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    } else {
        user::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            org_id: Set(org.id),
            username: Set(username.to_string()),
            display_name: Set(r.display_name.trim().to_string()),
            role: Set(Role::Supplier),
            password_hash: Set(hash),
            status: Set(Status::Pending),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let actor = AuditActor { user_id: None, org_id: Some(org.id), label: format!("registration ({})", org.name) };
    let details = json!({"name": org.name, "size_class": org.size_class, "credit_code": org.credit_code,
        "username": username, "username_taken": taken});
    txn.record(&actor, AuditEntry::new(Action::OrganisationRegister, org.public_id, details)).await?;
    txn.commit().await?;
    Ok(org.public_id)
}

/// An organisation as listed for administrators.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrgSummary {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Size class.
    pub size_class: Option<SizeClass>,
    /// Credit code.
    pub credit_code: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Status.
    pub status: Status,
    /// Why it has its status: the reason a registration was rejected.
    pub status_reason: Option<String>,
    /// When registered.
    pub created_at: DateTime<Utc>,
    /// Whether the registration asked for a user name that was already taken: it cannot be
    /// approved, only rejected (with a reason the applicant is told).
    pub username_taken: bool,
}

/// Filters of the organisation list.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgFilter {
    /// Words of the name, or (part of) the unified social credit code.
    pub q: Option<String>,
    /// `procuring_unit`, `agency`, `supplier`, `centre` or `expert_pool`.
    pub kind: Option<String>,
    /// `pending`, `active`, `rejected` or `disabled`.
    pub status: Option<String>,
    /// Page, from 1 (20 to a page).
    pub page: Option<u64>,
}

/// A page of organisations: those waiting for a decision first, then the newest.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrgPage {
    /// The organisations.
    pub items: Vec<OrgSummary>,
    /// How many match.
    pub total: u64,
    /// This page, from 1.
    pub page: u64,
    /// Number of pages.
    pub pages: u64,
    /// How many registrations wait for a decision, whatever the filters.
    pub pending: u64,
}

/// Organisations per page.
pub const ORGS_PER_PAGE: u64 = 20;

/// The organisations matching `f`, a page at a time.
pub async fn list_organisations(db: &DatabaseConnection, f: &OrgFilter) -> AppResult<OrgPage> {
    use sea_orm::{Condition, QuerySelect, sea_query::Expr};
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut fields = Vec::new();
    let mut cond = Condition::all();
    if let Some(q) = given(&f.q) {
        if q.chars().count() > 100 {
            fields.push(FieldError::new("q", "too_long"));
        }
        for w in q.split_whitespace() {
            cond = cond.add(
                Condition::any()
                    .add(organisation::Column::Name.contains(w))
                    .add(organisation::Column::CreditCode.contains(w.to_ascii_uppercase())),
            );
        }
    }
    if let Some(k) = given(&f.kind) {
        match OrgKind::parse(&k) {
            Some(k) => cond = cond.add(organisation::Column::Kind.eq(k)),
            None => fields.push(FieldError::new("kind", "invalid")),
        }
    }
    if let Some(st) = given(&f.status) {
        match Status::parse(&st) {
            Some(st) => cond = cond.add(organisation::Column::Status.eq(st)),
            None => fields.push(FieldError::new("status", "invalid")),
        }
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let query = organisation::Entity::find()
        .filter(cond)
        .order_by_asc(Expr::cust("CASE WHEN status = 'pending' THEN 0 ELSE 1 END"))
        .order_by_desc(organisation::Column::CreatedAt)
        .order_by_desc(organisation::Column::Id);
    let total = query.clone().count(db).await?;
    let pages = total.div_ceil(ORGS_PER_PAGE).max(1);
    // A page past the last (but within the bound on pages) shows the last.
    let page = crate::bounds::page(f.page, crate::bounds::MAX_PAGE)?.min(pages);
    let rows = query.offset((page - 1) * ORGS_PER_PAGE).limit(ORGS_PER_PAGE).all(db).await?;
    let pending =
        organisation::Entity::find().filter(organisation::Column::Status.eq(Status::Pending)).count(db).await?;
    let held: std::collections::HashSet<OrgId> = held_registration::Entity::find()
        .filter(held_registration::Column::OrgId.is_in(rows.iter().map(|o| o.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.org_id)
        .collect();
    let items = rows
        .into_iter()
        .map(|o| OrgSummary {
            id: o.public_id,
            name: o.name,
            kind: o.kind,
            size_class: o.size_class,
            credit_code: o.credit_code,
            contact_phone: o.contact_phone,
            status: o.status,
            status_reason: o.status_reason,
            created_at: o.created_at,
            username_taken: held.contains(&o.id),
        })
        .collect();
    Ok(OrgPage { items, total, page, pages, pending })
}

/// The notice to an applicant organisation named `name` that its registration was approved, or
/// (with `reason`) rejected.
pub(crate) fn decision_notice(name: &str, rejected: Option<&str>) -> Notice {
    match rejected {
        None => Notice::new(NoticeKind::RegistrationApproved).arg("name", name),
        Some(reason) => Notice::new(NoticeKind::RegistrationRejected).arg("name", name).arg("reason", reason),
    }
    .link("/account")
}

/// Approves a pending registration: the organisation and its users become active, and the
/// organisation is told.
pub async fn approve_registration(state: &Accounts, admin: &Actor, org_id: Uuid) -> AppResult<()> {
    decide(state, admin, org_id, None).await
}

/// Rejects a pending registration for `reason` (required): it is recorded, the applicant
/// organisation is told, and its users are shown it when they try to log in.
pub async fn reject_registration(state: &Accounts, admin: &Actor, org_id: Uuid, reason: &str) -> AppResult<()> {
    let reason = required_text("reason", reason, 2000)?;
    decide(state, admin, org_id, Some(reason)).await
}

async fn decide(state: &Accounts, admin: &Actor, org_id: Uuid, rejected: Option<&str>) -> AppResult<()> {
    let mut txn = state.writer.begin().await?;
    let org = organisation::Entity::find()
        .filter(organisation::Column::PublicId.eq(org_id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if org.status != Status::Pending {
        return Err(AppError::conflict("not_pending", "this organisation is not waiting for a decision"));
    }
    let approve = rejected.is_none();
    if approve
        && held_registration::Entity::find().filter(held_registration::Column::OrgId.eq(org.id)).count(&txn).await? > 0
    {
        return Err(AppError::conflict(
            "username_taken",
            "the user name this registration asked for is taken: reject it with a reason",
        ));
    }
    let status = if approve { Status::Active } else { Status::Rejected };
    organisation::ActiveModel {
        id: Set(org.id),
        status: Set(status),
        status_reason: Set(rejected.map(str::to_string)),
        approved_at: Set(approve.then(|| txn.now())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::Status, sea_orm::sea_query::Expr::value(status.as_str()))
        .filter(user::Column::OrgId.eq(org.id))
        .filter(user::Column::Status.eq(Status::Pending))
        .exec(&txn)
        .await?;
    txn.notify(&[org.id], decision_notice(&org.name, rejected)).await?;
    let (action, details) = match rejected {
        None => (Action::OrganisationApprove, json!({"name": org.name})),
        Some(reason) => (Action::OrganisationReject, json!({"name": org.name, "reason": reason})),
    };
    txn.record(&admin.audit(), AuditEntry::new(action, org.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

/// Creates an active organisation directly (operators and demo data).
pub async fn create_organisation(
    txn: &mut UnitOfWork,
    actor: &AuditActor,
    name: &str,
    kind: OrgKind,
    size: Option<SizeClass>,
    credit_code: Option<&str>,
) -> AppResult<organisation::Model> {
    let org = organisation::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(name.into()),
        kind: Set(kind),
        size_class: Set(size),
        credit_code: Set(credit_code.map(str::to_string)),
        contact_phone: Set(None),
        status: Set(Status::Active),
        created_at: Set(txn.now()),
        approved_at: Set(Some(txn.now())),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    txn.record(actor, AuditEntry::new(Action::OrganisationCreate, org.public_id, json!({"name": name, "kind": kind})))
        .await?;
    Ok(org)
}

/// Creates an active user directly (operators and demo data).
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    txn: &mut UnitOfWork,
    actor: &AuditActor,
    org: &organisation::Model,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> AppResult<user::Model> {
    if !Role::allowed_for(org.kind).contains(&role) {
        return Err(AppError::invalid_field("role", "not_allowed_for_organisation"));
    }
    let u = user::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        org_id: Set(org.id),
        username: Set(username.into()),
        display_name: Set(display_name.into()),
        role: Set(role),
        password_hash: Set(password_hash.into()),
        status: Set(Status::Active),
        created_at: Set(txn.now()),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    txn.record(actor, AuditEntry::new(Action::UserCreate, u.public_id, json!({"username": username, "role": role})))
        .await?;
    Ok(u)
}

/// The active user with this user name, as an actor (demo data, command-line tools).
pub async fn actor_by_username<C: ConnectionTrait>(db: &C, username: &str) -> AppResult<Option<Actor>> {
    match user::Entity::find().filter(user::Column::Username.eq(username)).one(db).await? {
        Some(u) => active_actor(db, u.id).await,
        None => Ok(None),
    }
}

/// Which user: by login name (the command line) or by public id (the administrator's page).
#[derive(Debug, Clone, Copy)]
pub enum UserRef<'a> {
    /// By login name.
    Name(&'a str),
    /// By public id.
    Id(Uuid),
}

async fn find_user<C: ConnectionTrait>(db: &C, who: UserRef<'_>) -> AppResult<user::Model> {
    let q = match who {
        UserRef::Name(name) => user::Entity::find().filter(user::Column::Username.eq(name)),
        UserRef::Id(id) => user::Entity::find().filter(user::Column::PublicId.eq(id)),
    };
    q.one(db).await?.ok_or_else(AppError::not_found)
}

/// Enables or disables a user; disabling ends their sessions at once (and their live
/// connections). Nobody disables their own account. For the command line and the
/// administrator's staff page alike.
pub async fn set_user_status(state: &Accounts, actor: &AuditActor, who: UserRef<'_>, status: Status) -> AppResult<()> {
    let mut txn = state.writer.begin().await?;
    let u = find_user(&txn, who).await?;
    if status != Status::Active && actor.user_id == Some(u.id) {
        return Err(AppError::conflict("cannot_disable_self", "you cannot disable your own account"));
    }
    user::ActiveModel { id: Set(u.id), status: Set(status), ..Default::default() }.update(&txn).await?;
    if status != Status::Active {
        session::Entity::delete_many().filter(session::Column::UserId.eq(u.id)).exec(&txn).await?;
        txn.sessions_ended(u.id);
    }
    let action = if status == Status::Active { Action::UserEnable } else { Action::UserDisable };
    txn.record(actor, AuditEntry::new(action, u.public_id, json!({"username": u.username}))).await?;
    txn.commit().await?;
    Ok(())
}

/// Stores a user's new password hash, timed by the change, and ends all of their sessions (their
/// live connections close when the change commits).
async fn replace_password(txn: &mut UnitOfWork, user_id: UserId, hash: String) -> AppResult<()> {
    let now = txn.now();
    user::ActiveModel {
        id: Set(user_id),
        password_hash: Set(hash),
        password_changed_at: Set(Some(now)),
        ..Default::default()
    }
    .update(txn.txn())
    .await?;
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(txn.txn()).await?;
    txn.sessions_ended(user_id);
    Ok(())
}

/// Sets a new password for a user (the password policy of [`check_new_password`]) and ends
/// every session of theirs, as a password change does. For the command line and the
/// administrator's staff page alike.
pub async fn reset_password(state: &Accounts, actor: &AuditActor, who: UserRef<'_>, new: &str) -> AppResult<()> {
    check_new_password("new_password", new)?;
    let hash = hash_password(new)?;
    let mut txn = state.writer.begin().await?;
    let u = find_user(&txn, who).await?;
    replace_password(&mut txn, u.id, hash).await?;
    txn.record(actor, AuditEntry::new(Action::UserPasswordReset, u.public_id, json!({"username": u.username}))).await?;
    txn.commit().await?;
    Ok(())
}

/// A staff account to add: a user of the centre, a procuring unit, an agency or the expert
/// pool (suppliers register themselves and are approved). Kinds, roles and the size class are
/// given as their stable texts, as the command line and the page's form take them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewStaff {
    /// The organisation's name: an existing one of that kind, or a new one created with it.
    pub org: String,
    /// The organisation's kind: `centre`, `procuring_unit`, `agency` or `expert_pool`.
    pub kind: String,
    /// Enterprise size class of a new organisation, if any.
    pub size: Option<String>,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role, one the organisation's kind allows ([`Role::allowed_for`]).
    pub role: String,
    /// Password (8+ characters, letters and digits).
    pub password: String,
}

/// Adds a staff account to the organisation named `s.org`, creating the organisation (active, of
/// its kind) if there is none of that name: the one rule set behind `tenderhall accounts add`
/// and the administrator's staff page. Refusals: field errors (`org`, `display_name`
/// `required`/`too_long`; `kind` `invalid` or `suppliers_register`; `role` `invalid` or
/// `not_allowed_for_organisation`; `size` `invalid`; `username` `invalid`; `password` the
/// password policy), 409 `username_taken` and 409 `org_kind_mismatch`.
pub async fn add_staff(state: &Accounts, actor: &AuditActor, s: &NewStaff) -> AppResult<Uuid> {
    add_account(state, actor, s, false).await
}

/// [`add_staff`], or with `suppliers` also a supplier's account: for the operator's command
/// only (`tenderhall accounts add --kind supplier`: suppliers moved over from an earlier
/// platform, the load programs), never for a page, where suppliers register and are approved.
pub async fn add_account(state: &Accounts, actor: &AuditActor, s: &NewStaff, suppliers: bool) -> AppResult<Uuid> {
    let mut fields = Vec::new();
    check_text(&mut fields, "org", &s.org, 100);
    check_text(&mut fields, "display_name", &s.display_name, 60);
    let kind = match OrgKind::parse(s.kind.trim()) {
        Some(OrgKind::Supplier) if !suppliers => {
            fields.push(FieldError::new("kind", "suppliers_register"));
            None
        }
        Some(k) => Some(k),
        None => {
            fields.push(FieldError::new("kind", "invalid"));
            None
        }
    };
    let role = Role::parse(s.role.trim());
    match (role, kind) {
        (None, _) => fields.push(FieldError::new("role", "invalid")),
        (Some(r), Some(k)) if !Role::allowed_for(k).contains(&r) => {
            fields.push(FieldError::new("role", "not_allowed_for_organisation"))
        }
        _ => {}
    }
    let size = match s.size.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => match SizeClass::parse(v) {
            Some(size) => Some(size),
            None => {
                fields.push(FieldError::new("size", "invalid"));
                None
            }
        },
        None => None,
    };
    let username = s.username.trim();
    if let Err(e) = check_username("username", username) {
        fields.push(e);
    }
    if let Err(e) = check_new_password("password", &s.password) {
        fields.extend(e.fields);
    }
    let (Some(kind), Some(role), true) = (kind, role, fields.is_empty()) else {
        return Err(AppError::validation(fields));
    };
    let hash = hash_password(&s.password)?;
    let mut txn = state.writer.begin().await?;
    // Under the write lock: two additions of one name at once are one after the other.
    if user::Entity::find().filter(user::Column::Username.eq(username)).count(&txn).await? > 0 {
        return Err(AppError::conflict("username_taken", "this user name is taken").with_field("username", "taken"));
    }
    let org_name = s.org.trim();
    let org = match organisation::Entity::find().filter(organisation::Column::Name.eq(org_name)).one(&txn).await? {
        Some(o) if o.kind == kind => o,
        Some(_) => {
            return Err(AppError::conflict(
                "org_kind_mismatch",
                "an organisation of that name exists with another kind",
            ));
        }
        None => create_organisation(&mut txn, actor, org_name, kind, size, None).await?,
    };
    let u = create_user(&mut txn, actor, &org, username, s.display_name.trim(), role, &hash).await?;
    txn.commit().await?;
    Ok(u.public_id)
}

/// The kinds of organisation whose users are staff accounts (all but suppliers).
pub const STAFF_KINDS: &[OrgKind] = &[OrgKind::Centre, OrgKind::ProcuringUnit, OrgKind::Agency, OrgKind::ExpertPool];

/// The roles a staff account may have (those of [`STAFF_KINDS`]).
pub fn staff_roles() -> Vec<Role> {
    Role::ALL.iter().copied().filter(|r| STAFF_KINDS.iter().any(|k| Role::allowed_for(*k).contains(r))).collect()
}

/// A staff account as the administrator's page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffAccount {
    /// Public id of the user.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: Status,
    /// The organisation's name.
    pub org_name: String,
    /// The organisation's kind.
    pub org_kind: OrgKind,
    /// When added.
    pub created_at: DateTime<Utc>,
}

/// The staff accounts: every user of an organisation that is not a supplier, by organisation
/// and name.
pub async fn list_staff(db: &DatabaseConnection) -> AppResult<Vec<StaffAccount>> {
    let orgs: std::collections::HashMap<OrgId, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Kind.ne(OrgKind::Supplier))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::OrgId.is_in(orgs.keys().copied()))
        .order_by_asc(user::Column::OrgId)
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .filter_map(|u| {
            let o = orgs.get(&u.org_id)?;
            Some(StaffAccount {
                id: u.public_id,
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                status: u.status,
                org_name: o.name.clone(),
                org_kind: o.kind,
                created_at: u.created_at,
            })
        })
        .collect())
}

/// The stored "password" of an account that acts for a member taking part from a peer
/// deployment: not a password hash, so no password logs in as it.
pub const NO_LOGIN: &str = "!remote";

/// The account that acts here for a member who takes part from the peer deployment `peer`
/// (drawn there, named here by `pseudonym`), made on first use: an expert of the peer's
/// organisation (also made on first use), with no password that logs in. The peer relays the
/// member's commands, signed with its site key, and they act as this account.
pub async fn remote_participant(
    uow: &mut UnitOfWork,
    peer: &str,
    pseudonym: Uuid,
    display_name: &str,
) -> AppResult<UserId> {
    let username = format!("peer.{peer}.{}", pseudonym.simple());
    if let Some(u) = user::Entity::find().filter(user::Column::Username.eq(&username)).one(&*uow).await? {
        return Ok(u.id);
    }
    let org_name = format!("{peer}（协作平台）");
    let now = uow.now();
    let org = match organisation::Entity::find().filter(organisation::Column::Name.eq(&org_name)).one(&*uow).await? {
        Some(o) => o,
        None => {
            organisation::ActiveModel {
                public_id: Set(Uuid::new_v4()),
                name: Set(org_name),
                kind: Set(OrgKind::Centre),
                size_class: Set(None),
                credit_code: Set(None),
                contact_phone: Set(None),
                status: Set(Status::Active),
                created_at: Set(now),
                approved_at: Set(Some(now)),
                status_reason: Set(None),
                ..Default::default()
            }
            .insert(&*uow)
            .await?
        }
    };
    let u = user::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        org_id: Set(org.id),
        username: Set(username),
        display_name: Set(display_name.to_string()),
        role: Set(Role::Expert),
        password_hash: Set(NO_LOGIN.to_string()),
        status: Set(Status::Active),
        email: Set(None),
        created_at: Set(now),
        password_changed_at: Set(None),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    Ok(u.id)
}

/// The actor of an active user (and organisation), by internal id.
pub async fn actor_of_user<C: ConnectionTrait>(db: &C, user_id: UserId) -> AppResult<Option<Actor>> {
    active_actor(db, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown user names would be answered faster than known ones.
        let h = PasswordHash::new(DUMMY_HASH).expect("parses");
        assert_eq!(h.algorithm.as_str(), "argon2id");
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("abc12345").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("abc12345", &h));
        assert!(!verify_password("abc12346", &h));
        assert!(check_new_password("p", "short1").is_err());
        assert!(check_new_password("p", "longenough").is_err());
        assert!(check_new_password("p", "longenough1").is_ok());
    }
}
