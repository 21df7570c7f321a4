//! The application state and the router that puts the modules together.

use crate::{
    accounts::{self, Accounts},
    audit::{self, AuditLog, Trail},
    bids::{self, Bids},
    blob::{BlobStore, LocalBlobStore},
    clock::SharedClock,
    config::Settings,
    db,
    jobs::{Registry, Runner},
    keys::PlatformKey,
    live::LiveHub,
    mall::Mall,
    notify,
    opening::Openings,
    tenders::{self, Tenders},
    uow::Writer,
    web::{self, Site, i18n::I18n},
};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRef, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{from_fn, from_fn_with_state},
    response::IntoResponse,
    routing::get,
};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The application, assembled once at start-up: the platform's handles, and the part each domain
/// module's routes take from it (`FromRef`). A module's routes and services name their own part
/// ([`Tenders`], [`Bids`], [`Mall`]…) and the web layer's [`Site`]; none of them sees this type.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    /// The database.
    #[from_ref(skip)]
    pub db: DatabaseConnection,
    /// Settings.
    #[from_ref(skip)]
    pub settings: Arc<Settings>,
    /// The clock.
    #[from_ref(skip)]
    pub clock: SharedClock,
    /// The audit chain writer.
    #[from_ref(skip)]
    pub audit: AuditLog,
    /// The platform's signing key.
    #[from_ref(skip)]
    pub key: Arc<PlatformKey>,
    /// Stored files.
    #[from_ref(skip)]
    pub blobs: Arc<dyn BlobStore>,
    /// The vault key (seals what the database alone must not reveal).
    #[from_ref(skip)]
    pub vault: Arc<crate::keys::VaultKey>,
    /// Starts units of work (one per change) and carries live events to this process's rooms.
    #[from_ref(skip)]
    pub writer: Writer,
    /// The e-mall catalogue's search index.
    #[from_ref(skip)]
    pub catalogue: Arc<crate::mall::catalogue::Catalogue>,
    /// The job runner of this process.
    #[from_ref(skip)]
    pub jobs: Runner,
    /// The web layer: sessions, page texts, the clock.
    pub site: Site,
    /// Accounts, sessions and registration.
    pub accounts: Accounts,
    /// Tenders.
    pub tenders: Tenders,
    /// Sealed bids.
    pub bids: Bids,
    /// The opening halls.
    pub openings: Openings,
    /// The e-mall.
    pub mall: Mall,
    /// The audit pages.
    pub trail: Trail,
}

/// Errors while starting up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Database connection or migration failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Files could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The key directory does not hold the key that signed this database's checkpoints.
    #[error(
        "the audit checkpoints of this database were signed with key {expected}, but the key directory {dir} {found}; \
         restore the platform key (see docs/operations.md) instead of starting with another"
    )]
    KeyMismatch {
        /// Key id of the newest checkpoint.
        expected: String,
        /// The key directory.
        dir: String,
        /// What was found there.
        found: String,
    },
    /// The catalogue index could not be opened.
    #[error("catalogue index: {0}")]
    Index(#[from] crate::mall::search::SearchError),
    /// The texts failed to load.
    #[error("texts: {0}")]
    I18n(#[from] toml::de::Error),
}

impl AppState {
    /// Connects to the database, applies migrations, loads (or creates) the keys, and opens this
    /// process's catalogue index: the state of a serving process.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, StartError> {
        Self::build_with(settings, clock, false).await
    }

    /// The state of a command that serves nothing (`tenderhall accounts …`): the same, but with
    /// a detached catalogue, so that it runs beside a server holding the index.
    pub async fn build_for_command(settings: Settings, clock: SharedClock) -> Result<Self, StartError> {
        Self::build_with(settings, clock, true).await
    }

    async fn build_with(settings: Settings, clock: SharedClock, detached: bool) -> Result<Self, StartError> {
        let db = db::connect(&settings.database).await?;
        db::migrate(&db).await?;
        let key = Arc::new(load_key(&db, &settings).await?);
        let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(&settings.storage.blob_dir)?);
        let audit = AuditLog::new(key.clone(), settings.audit.checkpoint_every);
        let vault = Arc::new(crate::keys::VaultKey::load_or_create(&settings.storage.key_dir)?);
        // After the key check: a server refused for its key leaves the index alone.
        let catalogue = Arc::new(if detached {
            crate::mall::catalogue::Catalogue::detached()?
        } else {
            crate::mall::catalogue::Catalogue::open(&settings.storage.index_dir)?
        });
        let writer = Writer::new(db.clone(), clock.clone(), audit.clone(), LiveHub::default());
        let openings = Openings::new(writer.clone(), vault.clone(), blobs.clone(), settings.opening.clone());
        let registry = Registry::default()
            .add(crate::opening::service::OPEN_JOB, crate::opening::service::OpenAtDeadline(openings.clone()))
            .add(crate::opening::service::WINDOW_JOB, crate::opening::service::CloseWindow(openings.clone()))
            .add(crate::mall::quotations::CLOSE_JOB, crate::mall::quotations::CloseQuotation)
            .add_recurring(
                crate::audit::CHECKPOINT_JOB,
                chrono::TimeDelta::minutes(settings.jobs.checkpoint_minutes.max(1)),
                crate::audit::Checkpoint,
            );
        let jobs = Runner::new(writer.clone(), registry, settings.jobs.clone());
        let site = Site { db: db.clone(), clock: clock.clone(), i18n: Arc::new(I18n::load()?) };
        let accounts = Accounts {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            security: settings.security.clone(),
        };
        let tenders = Tenders {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            blobs: blobs.clone(),
            rules: settings.tenders.clone(),
            pdf: settings.pdf.clone(),
        };
        let bids = Bids {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            blobs: blobs.clone(),
            key: key.clone(),
            settings: settings.bids.clone(),
        };
        let mall = Mall {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            catalogue: catalogue.clone(),
            settings: settings.mall.clone(),
        };
        let trail = Trail { db: db.clone(), key: key.clone() };
        Ok(Self {
            db,
            audit,
            settings: Arc::new(settings),
            clock,
            key,
            blobs,
            vault,
            writer,
            catalogue,
            jobs,
            site,
            accounts,
            tenders,
            bids,
            openings,
            mall,
            trail,
        })
    }

    /// The live room kinds, for the relay.
    pub fn room_kinds() -> Vec<&'static str> {
        use crate::live::RoomKind;
        vec![Openings::KIND]
    }
}

/// Loads the platform key, refusing to create a new one (or use another) for a database whose
/// checkpoints were signed with a different key: that would make its audit history unverifiable.
async fn load_key(db: &DatabaseConnection, settings: &Settings) -> Result<PlatformKey, StartError> {
    use sea_orm::{EntityTrait, QueryOrder};
    let dir = &settings.storage.key_dir;
    let latest = crate::entities::audit_checkpoint::Entity::find()
        .order_by_desc(crate::entities::audit_checkpoint::Column::Seq)
        .one(db)
        .await?;
    if let Some(c) = &latest
        && !dir.join(crate::keys::KEY_FILE).exists()
    {
        return Err(StartError::KeyMismatch {
            expected: c.key_id.clone(),
            dir: dir.display().to_string(),
            found: "holds no key".into(),
        });
    }
    let key = PlatformKey::load_or_create(dir)?;
    match latest {
        Some(c) if c.key_id != key.key_id() => Err(StartError::KeyMismatch {
            expected: c.key_id,
            dir: dir.display().to_string(),
            found: format!("holds key {}", key.key_id()),
        }),
        _ => Ok(key),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tenderhall API", version = "1", description = "Public-resource trading and e-procurement. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}` with stable codes (docs/api.md). State-changing requests need the `X-CSRF-Token` header equal to the `th_csrf` cookie (GET /api/v1/csrf)."),
    tags((name = "accounts"), (name = "tenders"), (name = "bids"), (name = "notifications"), (name = "audit"), (name = "mall"), (name = "jobs"))
)]
struct ApiDoc;

/// The OpenAPI document and the API router.
pub fn api(upload_limit: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::api_routes())
        .merge(tenders::api_routes())
        .merge(bids::api_routes())
        .merge(crate::opening::api::api_routes())
        .merge(notify::api_routes())
        .merge(audit::api_routes())
        .merge(crate::mall::api_routes())
        .merge(crate::jobs::handlers::api_routes())
        .split_for_parts();
    (router.layer(DefaultBodyLimit::max(upload_limit)), doc)
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.settings.pdf.max_bytes + 1024 * 1024;
    let (api, doc) = api(upload_limit);
    let doc = Arc::new(doc);
    let api = api.route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()) }
        }),
    );
    let pages = Router::new()
        .merge(accounts::router())
        .merge(tenders::router(upload_limit))
        .merge(notify::router())
        .merge(crate::opening::handlers::router())
        .merge(audit::router())
        .merge(crate::mall::router())
        .merge(crate::jobs::handlers::router())
        .fallback(|| async { crate::error::AppError::not_found() });
    Router::new()
        .merge(api)
        .merge(pages)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/static/{*file}", get(web::assets::serve))
        .layer(from_fn(web::flash::clear_shown))
        .layer(from_fn(web::csrf::protect))
        .layer(from_fn_with_state(state.site.clone(), web::errors::html_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CSP),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Only the path: query strings may carry a CSRF token.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!("readiness: database unreachable: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
