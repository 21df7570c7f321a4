//! Who is making the request: session cookies, client certificates, and the extractors that put
//! the answer into handler signatures (`Actor`, `MaybeActor`, `Require<R>`).
//!
//! A handler that takes an [`Actor`] cannot run without a logged-in, active user of an active
//! organisation; one that takes `Require<TenderManagers>` cannot run for any other role. These
//! are the only places that read the session, so the check cannot be forgotten page by page.

use crate::{
    accounts::{
        self,
        model::{Actor, Role},
    },
    error::AppError,
    web::Site,
};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use axum_extra::extract::CookieJar;
use std::marker::PhantomData;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "th_session";

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

async fn actor_from_parts(parts: &mut Parts, site: &Site) -> Result<Option<Actor>, AppError> {
    if let Some(a) = parts.extensions.get::<Option<Actor>>() {
        return Ok(a.clone());
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let actor = match jar.get(SESSION_COOKIE) {
        Some(c) => accounts::service::actor_for_session(&site.db, site.clock.now(), c.value()).await?,
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
