//! What the web layer itself needs from the platform: the database (sessions and the unread
//! count of the top bar), the clock and the texts of the pages.

use super::i18n::I18n;
use crate::clock::SharedClock;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The web layer's share of the application state.
///
/// The extractors ([`crate::web::auth`], [`crate::web::page::PageCtx`]) take it from any router
/// state `S` with `Site: FromRef<S>`, so a domain module's routes name the services they use and
/// this, never the whole application state.
///
/// Cloning it is one reference count: every middleware and page extractor takes a copy per
/// request.
#[derive(Clone, Debug)]
pub struct Site(Arc<SiteParts>);

impl Site {
    /// The web layer's share made of its parts.
    pub fn new(parts: SiteParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for Site {
    type Target = SiteParts;

    fn deref(&self) -> &SiteParts {
        &self.0
    }
}

/// What [`Site`] holds.
#[derive(Debug)]
pub struct SiteParts {
    /// The database.
    pub db: DatabaseConnection,
    /// The clock.
    pub clock: SharedClock,
    /// Texts of the pages.
    pub i18n: Arc<I18n>,
    /// The names and attributes of the cookies.
    pub cookies: super::auth::Cookies,
    /// The key of CSRF tokens (`web::csrf`).
    pub csrf_key: Arc<crate::keys::CsrfKey>,
    /// The origin of `server.public_url`, if set (`web::origin`).
    pub public_origin: Option<String>,
    /// The reverse proxies whose forwarded client addresses are believed (`web::client`).
    pub trusted_proxies: Vec<super::client::Network>,
    /// The cache of public pages as anonymous visitors see them (`web::public_pages`).
    pub public_pages: super::public_pages::PublicPages,
}
