//! Account pages.

use super::{
    codes::{CodeChallenge, LoginOutcome},
    model::{OrgKind, SizeClass, Status},
    service::{self, Registration},
};
use crate::{
    accounts::Accounts,
    error::{AppError, AppResult},
    web::{Site, client::ClientAddr},
    web::{
        auth::{Admins, MaybeActor, Require},
        csrf,
        extract::{Form, Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        page::{LANG_COOKIE, PageCtx, render, render_form},
        redirect,
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    super::Accounts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/certificate", post(login_certificate))
        .route("/login/code", post(login_code_submit))
        .route("/account/login-codes", post(set_login_codes))
        .route("/logout", post(logout))
        .route("/register", get(register_page).post(register_submit))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/admin/organisations", get(admin_orgs))
        .route("/admin/organisations/{id}/approve", post(admin_approve))
        .route("/admin/organisations/{id}/reject", post(admin_reject))
        .route("/admin/staff", get(admin_staff).post(admin_staff_add))
        .route("/admin/staff/{id}/disable", post(admin_staff_disable))
        .route("/admin/staff/{id}/enable", post(admin_staff_enable))
        .route("/admin/staff/{id}/password", post(admin_staff_password))
        .route("/lang/{lang}", get(switch_lang))
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    ctx: PageCtx,
    next: String,
    error: Option<String>,
    /// A text of the refusal, as entered (the reason a registration was rejected).
    detail: Option<String>,
    username: String,
    cert_user: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Where a login continues: only a local path, else the workspace.
fn safe_next(next: Option<&str>) -> String {
    redirect::local_target(next, "/workspace")
}

async fn login_page(
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
    req_ext: Option<axum::Extension<crate::web::auth::ClientCertIdentity>>,
) -> Response {
    let cert_user = req_ext.map(|e| e.0.username);
    render(&LoginPage {
        ctx,
        next: safe_next(q.next.as_deref()),
        error: None,
        detail: None,
        username: String::new(),
        cert_user,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ctx: PageCtx,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match service::login(&state, &f.username, &f.password, &addr.to_string()).await {
        Ok(LoginOutcome::Session(li)) => logged_in_redirect(&state, &site, &li.token, &next),
        // The page of the code, as the answer to this POST (a GET changes nothing).
        Ok(LoginOutcome::Code(c)) => render(&LoginCodePage { ctx, next, challenge: c, error: None }),
        Err(e) => {
            let status = e.status;
            let error = Some(ctx.t.error(e.code, &e.message));
            let mut resp =
                render(&LoginPage { ctx, next, error, detail: e.detail, username: f.username, cert_user: None });
            *resp.status_mut() = status;
            resp
        }
    }
}

#[derive(Template)]
#[template(path = "accounts/login_code.html")]
struct LoginCodePage {
    ctx: PageCtx,
    next: String,
    challenge: CodeChallenge,
    error: Option<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    challenge: String,
    code: String,
    phone: Option<String>,
    expires_at: Option<String>,
    next: Option<String>,
}

async fn login_code_submit(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ctx: PageCtx,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<CodeForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match super::codes::verify(&state, &f.challenge, &f.code, &addr.to_string()).await {
        Ok(li) => logged_in_redirect(&state, &site, &li.token, &next),
        Err(e) if e.code == "login_code_wrong" => {
            let status = e.status;
            let error = Some(ctx.t.error_of(&e));
            let challenge = CodeChallenge {
                challenge: f.challenge,
                phone: f.phone.unwrap_or_default(),
                expires_at: f.expires_at.and_then(|t| t.parse().ok()).unwrap_or_default(),
                tries: state.security.login_code_tries,
            };
            let mut resp = render(&LoginCodePage { ctx, next, challenge, error });
            *resp.status_mut() = status;
            resp
        }
        Err(e) => {
            // Expired, spent or throttled: back to the password.
            let status = e.status;
            let error = Some(ctx.t.error_of(&e));
            let mut resp =
                render(&LoginPage { ctx, next, error, detail: None, username: String::new(), cert_user: None });
            *resp.status_mut() = status;
            resp
        }
    }
}

/// The session cookie, and a new pre-session CSRF value (the pages' tokens are the session's
/// from now on).
fn logged_in_redirect(state: &Accounts, site: &Site, token: &str, next: &str) -> Response {
    let mut resp = Redirect::to(next).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, site.cookies.session_cookie(token, state.security.session_hours));
    h.append(header::SET_COOKIE, site.cookies.csrf_cookie(&csrf::new_token()));
    resp
}

async fn login_certificate(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ClientAddr(addr): ClientAddr,
    cert: Option<axum::Extension<crate::web::auth::ClientCertIdentity>>,
) -> AppResult<Response> {
    let Some(axum::Extension(id)) = cert else {
        return Err(AppError::forbidden_because("certificate_required", "no client certificate was presented"));
    };
    let li = service::login_with_certificate(&state, &id.username, &id.fingerprint, &addr.to_string()).await?;
    Ok(logged_in_redirect(&state, &site, &li.token, "/workspace"))
}

async fn logout(
    State(state): State<Accounts>,
    State(site): State<Site>,
    MaybeActor(actor): MaybeActor,
    jar: CookieJar,
) -> AppResult<Response> {
    if let (Some(actor), Some(token)) = (actor, site.cookies.session_token(&jar)) {
        service::logout(&state, &actor, token).await?;
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.clear_session_cookie());
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.csrf_cookie(&csrf::new_token()));
    Ok(resp)
}

#[derive(Template)]
#[template(path = "accounts/register.html")]
struct RegisterPage {
    ctx: PageCtx,
    sizes: Vec<&'static str>,
    done: bool,
}

async fn register_page(ctx: PageCtx) -> Response {
    render(&RegisterPage { ctx, sizes: SizeClass::ALL.iter().map(|s| s.as_str()).collect(), done: false })
}

#[derive(Deserialize)]
struct RegisterForm {
    org_name: String,
    credit_code: String,
    size_class: String,
    #[serde(default)]
    contact_phone: String,
    username: String,
    display_name: String,
    password: String,
}

async fn register_submit(
    State(state): State<Accounts>,
    ctx: PageCtx,
    Form(f): Form<RegisterForm>,
) -> AppResult<Response> {
    let size_class = SizeClass::parse(&f.size_class).ok_or_else(|| AppError::invalid_field("size_class", "invalid"))?;
    service::register_supplier(
        &state,
        Registration {
            org_name: f.org_name,
            credit_code: f.credit_code,
            size_class,
            contact_phone: f.contact_phone,
            username: f.username,
            display_name: f.display_name,
            password: f.password,
        },
    )
    .await?;
    Ok(render(&RegisterPage { ctx, sizes: vec![], done: true }))
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    ctx: PageCtx,
    changed: bool,
    /// The password form as it was sent (without the passwords).
    f: FormState,
    /// Whether the user gives login codes.
    codes: bool,
    /// Why turning them on or off was refused.
    codes_error: Option<String>,
}

async fn account_page(
    State(state): State<Accounts>,
    ctx: PageCtx,
    actor: crate::accounts::model::Actor,
    Query(q): Query<ChangedQuery>,
) -> AppResult<Response> {
    let codes = super::codes::own(&state, &actor).await?;
    Ok(render(&AccountPage { ctx, changed: q.changed.is_some(), f: FormState::blank(), codes, codes_error: None }))
}

#[derive(Deserialize)]
struct CodesForm {
    on: String,
}

async fn set_login_codes(
    State(state): State<Accounts>,
    ctx: PageCtx,
    actor: crate::accounts::model::Actor,
    Form(f): Form<CodesForm>,
) -> AppResult<Response> {
    match super::codes::set_own(&state, &actor, f.on == "1").await {
        Ok(_) => Ok(flash::to("/account", Flash::LoginCodesSaved)),
        Err(e) if e.status.is_server_error() && e.code != "sms_unavailable" => Err(e),
        Err(e) => {
            let codes = super::codes::own(&state, &actor).await?;
            let codes_error = Some(ctx.t.error_of(&e));
            let mut resp = render(&AccountPage { ctx, changed: false, f: FormState::blank(), codes, codes_error });
            *resp.status_mut() = e.status;
            Ok(resp)
        }
    }
}

#[derive(Deserialize)]
struct ChangedQuery {
    changed: Option<String>,
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ctx: PageCtx,
    ClientAddr(addr): ClientAddr,
    actor: crate::accounts::model::Actor,
    values: Values,
) -> AppResult<Response> {
    let changed = match values.parse::<PasswordForm>() {
        Ok(f) => {
            service::change_password(&state, &actor, &f.current_password, &f.new_password, &addr.to_string()).await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = changed {
        let f = FormState::refused("password", &ctx.t, values, e)?;
        let codes = super::codes::own(&state, &actor).await?;
        let page = AccountPage { ctx, changed: false, f, codes, codes_error: None };
        return Ok(render_form(&page, &page.f));
    }
    let mut resp = Redirect::to("/login?next=/account%3Fchanged%3D1").into_response();
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.clear_session_cookie());
    Ok(resp)
}

#[derive(Template)]
#[template(path = "accounts/admin_orgs.html")]
struct AdminOrgsPage {
    ctx: PageCtx,
    list: service::OrgPage,
    /// The filters as entered.
    q: String,
    kind: String,
    status: String,
    kinds: Vec<&'static str>,
    statuses: Vec<&'static str>,
    prev: Option<String>,
    next: Option<String>,
    /// The list with only the registrations waiting for a decision.
    pending_link: String,
    /// The rejection form that was sent and refused, with the organisation in `org`.
    f: FormState,
}

impl AdminOrgsPage {
    /// The rejection form of `o`: the refused one if it was this organisation's.
    fn reject_form(&self, o: &service::OrgSummary) -> &FormState {
        let f = self.f.of("reject");
        if f.value("org") == o.id.to_string() { f } else { self.f.of("") }
    }

    fn is_pending(&self, o: &service::OrgSummary) -> bool {
        o.status == Status::Pending
    }
}

/// `/admin/organisations` with the filters of `f` and `page`.
fn orgs_link(f: &service::OrgFilter, page: u64) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("q", &f.q), ("kind", &f.kind), ("status", &f.status)] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            parts.push(format!("{k}={}", crate::web::page::percent_encode(v)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { "/admin/organisations".into() } else { format!("/admin/organisations?{}", parts.join("&")) }
}

async fn admin_orgs(
    State(state): State<Accounts>,
    ctx: PageCtx,
    _admin: Require<Admins>,
    Query(f): Query<service::OrgFilter>,
) -> AppResult<Response> {
    orgs_page(&state, ctx, &f, FormState::blank()).await
}

/// The organisation list filtered by `f`, with the rejection form `form` as it was sent.
async fn orgs_page(state: &Accounts, ctx: PageCtx, f: &service::OrgFilter, form: FormState) -> AppResult<Response> {
    let list = service::list_organisations(&state.db, f).await?;
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let page = AdminOrgsPage {
        prev: (list.page > 1).then(|| orgs_link(f, list.page - 1)),
        next: (list.page < list.pages).then(|| orgs_link(f, list.page + 1)),
        pending_link: orgs_link(&service::OrgFilter { status: Some("pending".into()), ..Default::default() }, 1),
        q: text(&f.q),
        kind: text(&f.kind),
        status: text(&f.status),
        kinds: OrgKind::ALL.iter().map(|k| k.as_str()).collect(),
        statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        list,
        f: form,
        ctx,
    };
    Ok(render_form(&page, &page.f))
}

async fn admin_approve(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    service::approve_registration(&state, &admin, id).await?;
    Ok(flash::to("/admin/organisations", Flash::RegistrationApproved))
}

#[derive(Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn admin_reject(
    State(state): State<Accounts>,
    ctx: PageCtx,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match values.parse::<RejectForm>() {
        Ok(f) => service::reject_registration(&state, &admin, id, &f.reason).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(flash::to("/admin/organisations", Flash::RegistrationRejected)),
        Err(e) => {
            // The list of the registrations waiting, with this one's form as it was sent.
            let form = FormState::refused("reject", &ctx.t, values.with("org", id.to_string()), e)?;
            let pending = service::OrgFilter { status: Some("pending".into()), ..Default::default() };
            orgs_page(&state, ctx, &pending, form).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct AdminStaffPage {
    ctx: PageCtx,
    accounts: Vec<service::StaffAccount>,
    kinds: Vec<&'static str>,
    roles: Vec<&'static str>,
    /// The administrator looking, whose own account cannot be disabled.
    me: Uuid,
}

impl AdminStaffPage {
    fn is_active(&self, a: &service::StaffAccount) -> bool {
        a.status == Status::Active
    }
}

async fn admin_staff(State(state): State<Accounts>, ctx: PageCtx, admin: Require<Admins>) -> AppResult<Response> {
    let page = AdminStaffPage {
        accounts: service::list_staff(&state.db).await?,
        kinds: service::STAFF_KINDS.iter().map(|k| k.as_str()).collect(),
        roles: service::staff_roles().iter().map(|r| r.as_str()).collect(),
        me: admin.user_public_id,
        ctx,
    };
    Ok(render(&page))
}

async fn admin_staff_add(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Form(f): Form<service::NewStaff>,
) -> AppResult<Response> {
    service::add_staff(&state, &admin.audit(), &f).await?;
    Ok(flash::to("/admin/staff", Flash::StaffAdded))
}

async fn admin_staff_disable(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    service::set_user_status(&state, &admin.audit(), service::UserRef::Id(id), Status::Disabled).await?;
    Ok(flash::to("/admin/staff", Flash::StaffDisabled))
}

async fn admin_staff_enable(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    service::set_user_status(&state, &admin.audit(), service::UserRef::Id(id), Status::Active).await?;
    Ok(flash::to("/admin/staff", Flash::StaffEnabled))
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    new_password: String,
}

async fn admin_staff_password(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
    Form(f): Form<ResetForm>,
) -> AppResult<Response> {
    service::reset_password(&state, &admin.audit(), service::UserRef::Id(id), &f.new_password).await?;
    Ok(flash::to("/admin/staff", Flash::StaffPasswordReset))
}

#[derive(Deserialize)]
struct BackQuery {
    back: Option<String>,
}

async fn switch_lang(Path(lang): Path<String>, Query(q): Query<BackQuery>) -> Response {
    let lang = match crate::web::i18n::Lang::parse(&lang) {
        Some(crate::web::i18n::Lang::En) => "en",
        _ => "zh",
    };
    let mut resp = redirect::to_local(q.back.as_deref(), "/");
    if let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax")) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
