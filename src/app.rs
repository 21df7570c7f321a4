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
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tower_http::{catch_panic::CatchPanicLayer, set_header::SetResponseHeaderLayer, trace::TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The application, assembled once at start-up: the platform's handles, and the part each domain
/// module's routes take from it (`FromRef`). A module's routes and services name their own part
/// ([`Tenders`], [`Bids`], [`Mall`]…) and the web layer's [`Site`]; none of them sees this type.
///
/// Cloning it is one reference count: axum clones the router's state for every request.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct AppParts {
    /// The database.
    pub db: DatabaseConnection,
    /// Settings.
    pub settings: Arc<Settings>,
    /// The clock.
    pub clock: SharedClock,
    /// The audit chain writer.
    pub audit: AuditLog,
    /// The platform's signing key.
    pub key: Arc<PlatformKey>,
    /// Stored files.
    pub blobs: Arc<dyn BlobStore>,
    /// The vault key (seals what the database alone must not reveal).
    pub vault: Arc<crate::keys::VaultKey>,
    /// Starts units of work (one per change) and carries live events to this process's rooms.
    pub writer: Writer,
    /// The e-mall catalogue's search index.
    pub catalogue: Arc<crate::mall::catalogue::Catalogue>,
    /// The job runner of this process.
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
    /// Sites.
    pub sites: crate::sites::Sites,
    /// The expert pool.
    pub experts: crate::experts::Experts,
    /// The random draws of evaluation committees.
    pub draws: crate::draw::Draws,
    /// The evaluation sessions.
    pub evaluations: crate::evaluation::Evaluations,
    /// The working-day calendar.
    pub calendar: crate::calendar::Calendar,
    /// From the evaluation report to the contract.
    pub awards: crate::award::Awards,
    /// Expert fees and their payment.
    pub fees: crate::fees::Fees,
    /// Links to peer deployments.
    pub federation: crate::federation::Federation,
    /// Notices by e-mail and SMS.
    pub deliveries: crate::deliver::Deliveries,
    /// The users' inboxes, live.
    pub inbox: crate::notify::live::Inbox,
    /// Suppliers' subscriptions to new tender notices.
    pub subscriptions: crate::subscriptions::Subscriptions,
}

/// Each module's part, taken by its routes' `State<…>` extractors.
macro_rules! parts {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    )*};
}

parts!(
    site: Site,
    accounts: Accounts,
    tenders: Tenders,
    bids: Bids,
    openings: Openings,
    mall: Mall,
    trail: Trail,
    sites: crate::sites::Sites,
    experts: crate::experts::Experts,
    draws: crate::draw::Draws,
    evaluations: crate::evaluation::Evaluations,
    calendar: crate::calendar::Calendar,
    awards: crate::award::Awards,
    fees: crate::fees::Fees,
    federation: crate::federation::Federation,
    deliveries: crate::deliver::Deliveries,
    inbox: crate::notify::live::Inbox,
    subscriptions: crate::subscriptions::Subscriptions,
);

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
    /// A setting is not usable.
    #[error("settings: {0}")]
    Settings(String),
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
        let public_origin = settings.public_origin().map_err(StartError::Settings)?;
        let db = db::connect(&settings.database).await?;
        db::migrate(&db).await?;
        let key = Arc::new(load_key(&db, &settings).await?);
        let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(&settings.storage.blob_dir)?);
        let audit = AuditLog::new(key.clone(), settings.audit.checkpoint_every);
        let vault = Arc::new(crate::keys::VaultKey::load_or_create(&settings.storage.key_dir)?);
        let csrf_key = Arc::new(crate::keys::CsrfKey::load_or_create(&settings.storage.key_dir)?);
        // After the key check: a server refused for its key leaves the index alone.
        let catalogue = Arc::new(if detached {
            crate::mall::catalogue::Catalogue::detached()?
        } else {
            crate::mall::catalogue::Catalogue::open(&settings.storage.index_dir)?
        });
        let writer = Writer::new(db.clone(), clock.clone(), audit.clone(), LiveHub::default());
        let texts = Arc::new(I18n::load()?);
        let openings = Openings::new(
            writer.clone(),
            vault.clone(),
            blobs.clone(),
            settings.opening.clone(),
            &settings.live,
            texts.clone(),
        );
        let draws = crate::draw::Draws::new(writer.clone(), vault.clone(), settings.draw.clone());
        let evaluations = crate::evaluation::Evaluations::new(
            writer.clone(),
            openings.clone(),
            draws.clone(),
            settings.evaluation.clone(),
            &settings.live,
            texts.clone(),
        );
        let calendar = crate::calendar::Calendar { db: db.clone(), writer: writer.clone() };
        let awards = crate::award::Awards {
            db: db.clone(),
            writer: writer.clone(),
            blobs: blobs.clone(),
            evaluations: evaluations.clone(),
            settings: settings.award.clone(),
            pdf: settings.pdf.clone(),
            texts: texts.clone(),
            key: key.clone(),
            experts: crate::experts::Experts {
                db: db.clone(),
                writer: writer.clone(),
                settings: settings.experts.clone(),
            },
        };
        let fees = crate::fees::Fees {
            db: db.clone(),
            writer: writer.clone(),
            settings: settings.fees.clone(),
            key: key.clone(),
            http: {
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(10))
                    .build()
                    .map_err(|e| StartError::Settings(format!("payment client: {e}")))?
            },
            texts: texts.clone(),
        };
        let inbox = crate::notify::live::Inbox {
            writer: writer.clone(),
            limits: crate::live::limit::CommandLimits::new(&settings.live),
            session_check: std::time::Duration::from_secs(settings.live.session_check_seconds),
        };
        let subscriptions = crate::subscriptions::Subscriptions { db: db.clone(), clock: clock.clone() };
        let deliveries = crate::deliver::Deliveries {
            db: db.clone(),
            clock: clock.clone(),
            settings: settings.email.clone(),
            link_base: match settings.email.link_base.trim() {
                "" => settings
                    .public_origin()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| format!("http://{}", settings.server.listen)),
                base => base.to_string(),
            },
            texts: texts.clone(),
            sms: settings.sms.clone(),
            gateway: Arc::new(crate::deliver::sms::HttpGateway {
                endpoint: settings.sms.endpoint.clone(),
                timeout: std::time::Duration::from_secs(settings.sms.timeout_seconds.max(1)),
                key: key.clone(),
                http: fees.http.clone(),
            }),
        };
        let federation = crate::federation::Federation::new(
            writer.clone(),
            vault.clone(),
            settings.federation.clone(),
            settings.draw.clone(),
            evaluations.clone(),
            settings.fees.clone(),
            &settings.live,
        )
        .map_err(|e| StartError::Settings(e.to_string()))?;
        let registry = Registry::default()
            .add(crate::fees::COMPUTE_JOB, crate::fees::Compute(fees.clone()))
            .add(crate::award::service::DEADLINE_JOB, crate::award::service::Deadlines(awards.clone()))
            .add(crate::draw::service::ANSWER_JOB, crate::draw::service::AnswerDeadline(draws.clone()))
            .add(crate::opening::service::OPEN_JOB, crate::opening::service::OpenAtDeadline(openings.clone()))
            .add(crate::opening::service::WINDOW_JOB, crate::opening::service::CloseWindow(openings.clone()))
            .add(crate::mall::quotations::CLOSE_JOB, crate::mall::quotations::CloseQuotation)
            .add(crate::tenders::reminders::REMINDER_JOB, crate::tenders::reminders::DeadlineReminder)
            .add(crate::opening::notices::CLOSING_JOB, crate::opening::notices::DecryptionClosing)
            .add(crate::draw::service::SOON_JOB, crate::draw::service::SessionSoon)
            .add_recurring(
                crate::bids::ABANDONED_UPLOADS_JOB,
                chrono::TimeDelta::hours(1),
                crate::bids::DropAbandonedUploads(blobs.clone()),
            )
            .add_recurring(
                crate::audit::CHECKPOINT_JOB,
                chrono::TimeDelta::minutes(settings.jobs.checkpoint_minutes.max(1)),
                crate::audit::Checkpoint,
            );
        let jobs = Runner::new(writer.clone(), registry, settings.jobs.clone());
        let cookies = web::auth::Cookies::for_settings(&settings);
        let site = Site::new(web::site::SiteParts {
            db: db.clone(),
            clock: clock.clone(),
            i18n: texts.clone(),
            cookies,
            csrf_key,
            public_origin,
            trusted_proxies: web::client::parse_networks(&settings.server.trusted_proxies)
                .map_err(StartError::Settings)?,
            public_pages: web::public_pages::PublicPages::new(
                std::time::Duration::from_millis(settings.server.public_page_cache_ms),
                writer.changes(),
            ),
        });
        let accounts = Accounts {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            security: settings.security.clone(),
            codes: crate::accounts::codes::CodeSender {
                gateway: deliveries.gateway.clone(),
                sign: settings.sms.sign.clone(),
            },
        };
        if settings.security.staff_login_codes && !deliveries.gateway.ready() {
            return Err(StartError::Settings(
                "security.staff_login_codes needs an SMS gateway: set sms.endpoint".into(),
            ));
        }
        let tenders = Tenders {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            blobs: blobs.clone(),
            rules: settings.tenders.clone(),
            evaluation: settings.evaluation.clone(),
            pdf: settings.pdf.clone(),
            progress: Arc::new(awards.clone()),
        };
        let bids = Bids {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            blobs: blobs.clone(),
            key: key.clone(),
            settings: settings.bids.clone(),
            texts: texts.clone(),
        };
        let mall = Mall {
            db: db.clone(),
            clock: clock.clone(),
            writer: writer.clone(),
            catalogue: catalogue.clone(),
            settings: settings.mall.clone(),
        };
        let trail = Trail { db: db.clone(), key: key.clone() };
        let sites = crate::sites::Sites { db: db.clone(), writer: writer.clone() };
        let experts =
            crate::experts::Experts { db: db.clone(), writer: writer.clone(), settings: settings.experts.clone() };
        Ok(Self(Arc::new(AppParts {
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
            sites,
            experts,
            draws,
            evaluations,
            calendar,
            awards,
            fees,
            federation,
            deliveries,
            inbox,
            subscriptions,
        })))
    }

    /// The live room kinds, for the relay.
    pub fn room_kinds() -> Vec<&'static str> {
        use crate::live::RoomKind;
        vec![
            Openings::KIND,
            crate::evaluation::Evaluations::KIND,
            crate::federation::session::GUEST_ROOM,
            crate::notify::live::KIND,
        ]
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
    info(title = "Tenderhall API", version = "1", description = "Public-resource trading and e-procurement. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}` with stable codes (docs/api.md). State-changing requests need the `X-CSRF-Token` header with the token of the caller's session, or before login of the visitor's `th_csrf` cookie (GET /api/v1/csrf; the login answer gives the session's)."),
    tags((name = "accounts"), (name = "tenders"), (name = "bids"), (name = "opening"), (name = "notifications"), (name = "audit"), (name = "mall"), (name = "jobs"), (name = "sites"), (name = "experts"), (name = "draws"), (name = "evaluation"), (name = "award"), (name = "calendar"), (name = "fees"), (name = "federation"))
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
        .merge(crate::sites::api_routes())
        .merge(crate::experts::api_routes())
        .merge(crate::draw::api::api_routes())
        .merge(crate::evaluation::api::api_routes())
        .merge(crate::award::api_routes())
        .merge(crate::calendar::api_routes())
        .merge(crate::fees::api_routes())
        .merge(crate::deliver::api_routes())
        .merge(crate::subscriptions::api_routes())
        .merge(crate::federation::api::api_routes())
        .split_for_parts();
    let mut doc = doc;
    document_shared_answers(&mut doc);
    (router.layer(DefaultBodyLimit::max(upload_limit)), doc)
}

/// Adds to every operation of the document the answers it can give because of what it shares
/// with the others rather than because of its handler: a state-changing request refused by the
/// CSRF check (403 `csrf_failed`), a JSON body that cannot be read (400 `json_content_type` /
/// `json_malformed`, 413 `body_too_large`, 422 `json_invalid`), a query string that cannot be
/// read (400 `query_invalid`) and an id in the path that names nothing (404 `not_found`). A
/// status the route documents itself keeps its description, with the shared codes added.
fn document_shared_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        path::{Operation, ParameterIn},
    };
    fn add(op: &mut Operation, status: &str, codes: &str) {
        match op.responses.responses.get_mut(status) {
            Some(RefOr::T(r)) if !r.description.contains(codes) => {
                r.description =
                    if r.description.is_empty() { codes.into() } else { format!("{}; {codes}", r.description) };
            }
            Some(_) => {}
            None => {
                let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                let r = ResponseBuilder::new().description(codes).content("application/json", body).build();
                op.responses.responses.insert(status.into(), RefOr::T(r));
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.put.as_mut()),
            (true, item.patch.as_mut()),
            (true, item.delete.as_mut()),
        ];
        for (changes, op) in ops {
            let Some(op) = op else { continue };
            let params: Vec<ParameterIn> = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    RefOr::T(p) => Some(p.parameter_in.clone()),
                    RefOr::Ref(_) => None,
                })
                .collect();
            let json_body = matches!(&op.request_body, Some(RefOr::T(b)) if b.content.contains_key("application/json"));
            if changes {
                add(op, "403", "csrf_failed");
            }
            if json_body {
                add(op, "400", "json_content_type / json_malformed");
                add(op, "413", "body_too_large");
                add(op, "422", "json_invalid");
            }
            if params.contains(&ParameterIn::Query) {
                add(op, "400", "query_invalid");
            }
            if params.contains(&ParameterIn::Path) {
                add(op, "404", "not_found");
            }
        }
    }
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
        .merge(crate::sites::router())
        .merge(crate::fees::router())
        .merge(crate::deliver::router())
        .merge(crate::subscriptions::router())
        .merge(crate::federation::router())
        .merge(crate::experts::router(state.settings.experts.import_max_bytes + 64 * 1024))
        .merge(crate::draw::handlers::router())
        .merge(crate::evaluation::handlers::router())
        .merge(crate::award::router().layer(DefaultBodyLimit::max(upload_limit)))
        .fallback(|| async { crate::error::AppError::not_found() });
    let routes = Router::new()
        .merge(api)
        .merge(pages)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/static/{*file}", get(web::assets::serve));
    layered(routes, state)
}

/// Wraps `routes` in the platform's middleware, outermost first: tracing, `Connection: close`
/// on answers that leave the request body unread, security headers,
/// HTML error pages, the panic guard, CSRF, the removal of a flash message once shown, and the
/// cache of public pages. A
/// panic in a handler, an extractor or the CSRF check becomes a logged 500 `internal` with a
/// reference (as every server fault), shown as a page outside the API, instead of a dropped
/// connection.
pub fn layered(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(from_fn_with_state(state.site.clone(), web::public_pages::serve))
        .layer(from_fn_with_state(state.site.clone(), web::flash::carry))
        .layer(from_fn_with_state(state.site.clone(), web::csrf::protect))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.site.clone(), web::errors::html_errors))
        .layer(from_fn_with_state(state.site.clone(), web::cache::no_store))
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
        .layer(axum::middleware::from_fn(web::unread_body::close_if_unread))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Only the path: query strings may carry a CSRF token.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

/// The answer to a request whose handling panicked: the usual 500 with a reference, the panic's
/// message in the log only.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    crate::error::AppError::internal(format!("panic while handling a request: {what}")).into_response()
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Err(e) => {
            tracing::warn!("readiness: database unreachable: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        // Searches would miss items until the catalogue index has caught up once.
        Ok(()) if !state.catalogue.is_ready() => (StatusCode::SERVICE_UNAVAILABLE, "catalogue index being built"),
        Ok(()) => (StatusCode::OK, "ready"),
    }
}
