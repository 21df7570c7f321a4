//! Who is making the request: session cookies, client certificates, and the extractors that put
//! the answer into handler signatures (`Actor`, `MaybeActor`, `Require<R>`).
//!
//! A handler that takes an [`Actor`] cannot run without a logged-in, active user of an active
//! organisation; one that takes `Require<TenderManagers>` cannot run for any other role. These
//! are the only places that read the session, so the check cannot be forgotten page by page.
//! A connection that outlives its request (a live room's websocket) takes a [`SessionActor`],
//! which also names the session, so that it can check it again later.
//!
//! [`Cookies`] names the cookies: `th_session`, `th_csrf` and `th_flash` over plain HTTP; when
//! the platform is served over TLS (`tls.cert`, or an `https://` `server.public_url`),
//! `__Host-th_session`, `__Host-th_csrf` and `__Host-th_flash`, `Secure`, `Path=/` and without
//! `Domain`, so that no other host (a subdomain, a plain-HTTP page) can set or overwrite them.

use crate::{
    accounts::{
        self,
        model::{Actor, Role, SessionRef},
    },
    config::Settings,
    error::AppError,
    web::Site,
};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderValue, request::Parts},
};
use axum_extra::extract::CookieJar;
use std::marker::PhantomData;

/// The names and attributes of the platform's cookies, the same for every request of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    /// The session cookie's name.
    pub session: &'static str,
    /// The CSRF (pre-session) cookie's name.
    pub csrf: &'static str,
    /// The name of the cookie that carries the message shown once after a step (`web::flash`).
    pub flash: &'static str,
    /// Whether they are `Secure` (and `__Host-` prefixed).
    pub secure: bool,
}

impl Cookies {
    /// Plain HTTP.
    pub const PLAIN: Cookies = Cookies { session: "th_session", csrf: "th_csrf", flash: "th_flash", secure: false };
    /// Over TLS.
    pub const SECURE: Cookies =
        Cookies { session: "__Host-th_session", csrf: "__Host-th_csrf", flash: "__Host-th_flash", secure: true };

    /// The cookies of a server with these settings.
    pub fn for_settings(settings: &Settings) -> Self {
        if settings.secure_cookies() { Self::SECURE } else { Self::PLAIN }
    }

    fn header(&self, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
        let mut v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(s) = max_age {
            v.push_str(&format!("; Max-Age={s}"));
        }
        if self.secure {
            v.push_str("; Secure");
        }
        // Tokens are base64url: the header is always valid.
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("th_invalid=; Max-Age=0"))
    }

    /// `Set-Cookie` for a new session.
    pub fn session_cookie(&self, token: &str, max_age_hours: i64) -> HeaderValue {
        self.header(self.session, token, Some(max_age_hours * 3600))
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear_session_cookie(&self) -> HeaderValue {
        self.header(self.session, "", Some(0))
    }

    /// `Set-Cookie` for a visitor's pre-session CSRF value.
    pub fn csrf_cookie(&self, value: &str) -> HeaderValue {
        self.header(self.csrf, value, None)
    }

    /// `Set-Cookie` for the key of the message to show once (`web::flash`), for `max_age` seconds.
    pub fn flash_cookie(&self, key: &str, max_age: i64) -> HeaderValue {
        self.header(self.flash, key, Some(max_age))
    }

    /// `Set-Cookie` that removes the message's cookie.
    pub fn clear_flash_cookie(&self) -> HeaderValue {
        self.header(self.flash, "", Some(0))
    }

    /// The session token a request carries, if any.
    pub fn session_token<'a>(&self, jar: &'a CookieJar) -> Option<&'a str> {
        jar.get(self.session).map(|c| c.value()).filter(|v| !v.is_empty())
    }
}

/// The identity proven by a TLS client certificate issued by the platform CA.
#[derive(Debug, Clone)]
pub struct ClientCertIdentity {
    /// The certificate's common name: a user name.
    pub username: String,
    /// SHA-256 of the certificate (DER), hex.
    pub fingerprint: String,
}

/// The connection was made over TLS (set by the TLS acceptor).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

async fn actor_from_parts(parts: &mut Parts, state: &Site) -> Result<Option<Actor>, AppError> {
    if let Some(a) = parts.extensions.get::<Option<Actor>>() {
        return Ok(a.clone());
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let actor = match state.cookies.session_token(&jar) {
        Some(token) => accounts::service::actor_for_session(&state.db, state.clock.now(), token).await?,
        None => None,
    };
    parts.extensions.insert(actor.clone());
    Ok(actor)
}

impl<S: Send + Sync> FromRequestParts<S> for Actor
where
    Site: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        actor_from_parts(parts, &Site::from_ref(state)).await?.ok_or_else(AppError::unauthorized)
    }
}

/// The acting user and the session they act in: for connections that must check later that the
/// session has not ended.
#[derive(Debug, Clone)]
pub struct SessionActor {
    /// The user.
    pub actor: Actor,
    /// Their session.
    pub session: SessionRef,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionActor
where
    Site: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, state).await?;
        let jar = CookieJar::from_headers(&parts.headers);
        let session = Site::from_ref(state)
            .cookies
            .session_token(&jar)
            .and_then(accounts::service::session_ref)
            .ok_or_else(AppError::unauthorized)?;
        Ok(SessionActor { actor, session })
    }
}

/// The acting user, if anyone is logged in.
#[derive(Debug, Clone)]
pub struct MaybeActor(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeActor
where
    Site: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeActor(actor_from_parts(parts, &Site::from_ref(state)).await?))
    }
}

/// A set of roles allowed to call a handler.
pub trait RoleSet: Send + Sync + 'static {
    /// The roles.
    const ROLES: &'static [Role];
}

/// A logged-in user whose role is in `R`; anyone else gets 403 (or 401 if not logged in).
#[derive(Debug, Clone)]
pub struct Require<R: RoleSet>(pub Actor, PhantomData<R>);

impl<R: RoleSet> std::ops::Deref for Require<R> {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl<R: RoleSet, S: Send + Sync> FromRequestParts<S> for Require<R>
where
    Site: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, state).await?;
        if actor.has_role(R::ROLES) { Ok(Require(actor, PhantomData)) } else { Err(AppError::forbidden()) }
    }
}

macro_rules! role_set {
    ($(#[$m:meta])* $name:ident = [$($role:ident),+]) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
        }
    };
}

role_set!(
    /// Staff who prepare and run tenders: procuring units and agencies.
    TenderManagers = [AgencyStaff, ProcuringStaff]
);
role_set!(
    /// Suppliers.
    Suppliers = [Supplier]
);
role_set!(
    /// Platform administrators.
    Admins = [PlatformAdmin]
);
role_set!(
    /// Those who may read the audit trail: supervisors and administrators.
    Auditors = [Supervisor, PlatformAdmin]
);
