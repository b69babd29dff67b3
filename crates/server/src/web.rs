//! The page shell (layout data every page shares), rendering, sign-in and sign-out, language
//! choice, the home page, password change, organization switching and embedded assets.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use domain::FieldErrors;
use domain::auth::Permission;
use serde::Deserialize;
use store::audit::{Actor, NewEntry};

use crate::app::AppState;
use crate::auth::{CSRF_COOKIE, Ctx, FormData, LANG_COOKIE, MaybeCtx, SESSION_COOKIE, tr_of};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};

/// Layout data shared by every signed-in page.
pub struct Shell {
    pub tr: Tr,
    pub title: String,
    pub user_name: String,
    pub org_name: String,
    pub role: String,
    pub org_id: i64,
    pub orgs: Vec<store::tenants::MyOrg>,
    pub csrf: String,
    pub path: String,
    /// The current path and query, percent-encoded, for `next=` links.
    pub here: String,
    /// The current query string (filters), for export links.
    pub query: String,
    pub flash: String,
    pub nav_org: bool,
    pub nav_archives: bool,
    pub nav_users: bool,
    pub nav_audit: bool,
    pub nav_orgs: bool,
    pub nav_complaints: bool,
    /// Figures count every complaint: only roles that see them all.
    pub nav_complaint_figures: bool,
    pub nav_complaint_settings: bool,
    pub nav_service: bool,
    pub nav_plans: bool,
    pub nav_satisfaction: bool,
    /// Unread notifications of the user in this organization (the badge).
    pub unread: i64,
    pub read_only: bool,
}

impl Shell {
    /// Loads the shell for a page titled by the i18n key `title`.
    pub async fn load(st: &AppState, ctx: &Ctx, uri: &Uri, title: &str) -> AppResult<Shell> {
        let mut h = st.db.acquire().await?;
        let orgs = store::tenants::for_user(&mut h.c(), ctx.user_id).await?;
        let unread = match &ctx.org {
            Some(o) => store::notifications::unread(&mut h.c(), o.id, ctx.user_id).await?,
            None => 0,
        };
        let tr = ctx.tr;
        let flash = uri
            .query()
            .and_then(|q| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                    .ok()?
                    .into_iter()
                    .find(|(k, _)| k == "ok")
            })
            .map(|(_, v)| tr.t(&format!("flash.{v}")).to_string())
            .filter(|m| !m.starts_with("flash."))
            .unwrap_or_default();
        Ok(Shell {
            tr,
            title: tr.t(title).to_string(),
            user_name: ctx.name.clone(),
            org_name: ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
            role: ctx
                .org
                .as_ref()
                .map(|o| tr.role(o.role.as_str()))
                .unwrap_or_default(),
            org_id: ctx.org.as_ref().map(|o| o.id).unwrap_or(0),
            orgs,
            csrf: ctx.csrf.clone(),
            path: uri.path().to_string(),
            here: crate::app::urlencode(
                &uri.path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            ),
            query: uri.query().unwrap_or("").to_string(),
            flash,
            nav_org: ctx.can(Permission::ViewOrg),
            nav_archives: ctx.can(Permission::ViewArchives),
            nav_users: ctx.can(Permission::ManageUsers),
            nav_audit: ctx.can(Permission::ViewAudit),
            nav_orgs: ctx.system_admin,
            nav_complaints: ctx.can(Permission::ViewComplaints),
            nav_complaint_figures: ctx.can(Permission::ViewComplaints)
                && ctx
                    .org
                    .as_ref()
                    .is_some_and(|o| o.role.sees_all_complaints()),
            nav_complaint_settings: ctx.can(Permission::ManageComplaintSettings),
            unread,
            nav_service: ctx.can(Permission::ViewService),
            nav_plans: ctx.can(Permission::PlanMaintenance),
            nav_satisfaction: ctx.can(Permission::ViewSatisfaction),
            read_only: ctx.org.as_ref().is_none_or(|o| o.role.read_only()),
        })
    }

    /// Whether the current page lies under one of the comma-separated `prefixes` (a menu).
    pub fn section(&self, prefixes: &str) -> &'static str {
        if prefixes.split(',').any(|p| self.path.starts_with(p)) {
            "active"
        } else {
            ""
        }
    }

    /// Whether the nav link for `prefix` is the current section.
    pub fn active(&self, prefix: &str) -> &'static str {
        if (prefix == "/" && self.path == "/") || (prefix != "/" && self.path.starts_with(prefix)) {
            "active"
        } else {
            ""
        }
    }
}

/// Renders a template into an HTML response.
pub fn render<T: askama::Template>(t: &T) -> AppResult<Response> {
    t.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// Renders with a status (422 for a form with errors).
pub fn render_status<T: askama::Template>(status: StatusCode, t: &T) -> AppResult<Response> {
    let mut r = render(t)?;
    *r.status_mut() = status;
    Ok(r)
}

/// Field messages of a failed form, translated, keyed by field name.
#[derive(Debug, Default, Clone)]
pub struct Errs(pub Vec<(String, String)>);

impl Errs {
    /// Translates field errors.
    pub fn of(tr: &Tr, f: &FieldErrors) -> Errs {
        Errs(f.0.iter().map(|e| (e.field.clone(), tr.field(e))).collect())
    }
    /// The message for a field, or "".
    pub fn msg(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
    /// True when any field has an error.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// A redirect after a successful POST (303, so the browser GETs the target).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Only local paths are followed after sign-in or a language switch.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(set_lang))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
        .route("/switch-org", post(switch_org))
        .route("/assets/{*path}", get(asset))
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    s: Shell,
    tr: Tr,
    counts: (i64, i64, i64, i64),
    has_org: bool,
}

async fn home(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let s = Shell::load(&st, &ctx, &uri, "nav.home").await?;
    let counts = match &ctx.org {
        Some(o) => {
            let mut h = st.db.acquire().await?;
            store::org::counts(&mut h.c(), o.id).await?
        }
        None => (0, 0, 0, 0),
    };
    render(&HomePage {
        tr: ctx.tr,
        s,
        counts,
        has_org: ctx.org.is_some(),
    })
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    csrf: String,
    next: String,
    login: String,
    error: String,
}

#[derive(Deserialize)]
struct NextQ {
    next: Option<String>,
}

async fn login_page(
    State(st): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    Query(q): Query<NextQ>,
) -> AppResult<Response> {
    let tr = tr_of(&parts, &st);
    let (jar, csrf) = csrf_cookie(&st, jar);
    let page = LoginPage {
        tr,
        csrf,
        next: safe_next(q.next.as_deref()),
        login: String::new(),
        error: String::new(),
    };
    Ok((jar, render(&page)?).into_response())
}

/// The pre-sign-in CSRF value from its cookie, set when missing (sign-in and public answer forms).
pub fn csrf_cookie(st: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(CSRF_COOKIE)
        && c.value().len() == 32
    {
        let v = c.value().to_string();
        return (jar, v);
    }
    let v = store::random_hex(16);
    let c = Cookie::build((CSRF_COOKIE, v.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(st.settings.server.secure_cookies)
        .build();
    (jar.add(c), v)
}

async fn login(
    State(st): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    form: FormData,
) -> AppResult<Response> {
    let tr = tr_of(&parts, &st);
    let ip = crate::auth::client_ip(&parts, st.settings.server.trust_proxy_headers);
    let login = form.get("login").trim().to_lowercase();
    let password = form.get("password").to_string();
    let next = safe_next(form.opt("next"));
    let fail = |key: &str, status: StatusCode, csrf: String| -> AppResult<Response> {
        render_status(
            status,
            &LoginPage {
                tr,
                csrf,
                next: next.clone(),
                login: login.clone(),
                error: tr.t(key).to_string(),
            },
        )
    };
    let csrf = form.get("_csrf").to_string();
    match crate::session::sign_in(&st, &login, &password, &ip).await {
        Ok(signed) => {
            let mut jar = jar.add(
                Cookie::build((SESSION_COOKIE, signed.token))
                    .path("/")
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .secure(st.settings.server.secure_cookies)
                    .build(),
            );
            if let Some(l) = signed.locale.as_deref().and_then(Lang::parse) {
                jar = jar.add(lang_cookie(l));
            }
            Ok((jar, see_other(&next)).into_response())
        }
        Err(AppError::Throttled) => fail("login.throttled", StatusCode::TOO_MANY_REQUESTS, csrf),
        Err(AppError::Unauthenticated) => fail("login.failed", StatusCode::UNAUTHORIZED, csrf),
        Err(e) => Err(e),
    }
}

fn lang_cookie(l: Lang) -> Cookie<'static> {
    Cookie::build((LANG_COOKIE, l.code()))
        .path("/")
        .max_age(time::Duration::days(365))
        .same_site(SameSite::Lax)
        .build()
}

async fn logout(
    State(st): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    _f: FormData,
) -> AppResult<Response> {
    if let Some(sid) = ctx.session_id {
        let mut tx = st.db.begin().await?;
        store::sessions::delete(&mut tx.c(), sid).await?;
        tx.commit().await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, see_other("/login")).into_response())
}

async fn set_lang(
    State(st): State<AppState>,
    MaybeCtx(ctx): MaybeCtx,
    Path(code): Path<String>,
    Query(q): Query<NextQ>,
    jar: CookieJar,
) -> AppResult<Response> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    if let Some(ctx) = ctx {
        let mut tx = st.db.begin().await?;
        store::users::set_locale(&mut tx.c(), ctx.user_id, lang.code()).await?;
        tx.commit().await?;
    }
    Ok((
        jar.add(lang_cookie(lang)),
        see_other(&safe_next(q.next.as_deref())),
    )
        .into_response())
}

#[derive(askama::Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    s: Shell,
    tr: Tr,
    errs: Errs,
}

async fn password_page(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let s = Shell::load(&st, &ctx, &uri, "account.password").await?;
    render(&PasswordPage {
        tr: ctx.tr,
        s,
        errs: Errs::default(),
    })
}

async fn change_password(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    form: FormData,
) -> AppResult<Response> {
    let r = crate::session::change_password(
        &st,
        &ctx,
        form.get("current"),
        form.get("new"),
        form.get("confirm"),
    )
    .await;
    match r {
        Ok(()) => Ok(see_other("/?ok=password_changed")),
        Err(AppError::Invalid(f)) => {
            let s = Shell::load(&st, &ctx, &uri, "account.password").await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    errs: Errs::of(&ctx.tr, &f),
                    tr: ctx.tr,
                    s,
                },
            )
        }
        Err(e) => Err(e),
    }
}

async fn switch_org(State(st): State<AppState>, ctx: Ctx, form: FormData) -> AppResult<Response> {
    let org: i64 = form
        .get("org_id")
        .parse()
        .map_err(|_| AppError::BadRequest("org_id".into()))?;
    let sid = ctx.session_id.ok_or(AppError::Forbidden)?;
    let mut tx = st.db.begin().await?;
    if store::tenants::membership(&mut tx.c(), ctx.user_id, org)
        .await?
        .is_none()
    {
        return Err(AppError::Forbidden);
    }
    store::sessions::set_org(&mut tx.c(), sid, org).await?;
    tx.commit().await?;
    Ok(see_other("/"))
}

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(f) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&f.metadata.sha256_hash()[..8]));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = if path.ends_with(".css") {
        "text/css; charset=utf-8"
    } else if path.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if path.ends_with(".svg") {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
            (header::ETAG, etag),
        ],
        f.data.into_owned(),
    )
        .into_response()
}

/// Writes an audit row for a deployment-level or account event inside `tx`.
pub async fn audit_account(
    tx: &mut store::Tx,
    org: Option<i64>,
    actor: &Actor,
    action: &str,
    user_id: i64,
    now: i64,
) -> AppResult<()> {
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: org,
            at: now,
            actor,
            action,
            entity: "user",
            entity_id: Some(user_id),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(())
}
