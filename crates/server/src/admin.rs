//! Administration: users and their roles and departments in the organization, password
//! resets, API tokens (one's own and, for administrators, everyone's), and organizations
//! (system administrators). The service functions here are also used by the CLI.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::{Permission, Role};
use domain::org::{UserDraft, check_password, parse_opt_id};
use serde::{Deserialize, Serialize};
use store::audit::{Actor, NewEntry};
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(user_create))
        .route("/admin/users/new", get(user_new))
        .route("/admin/users/{id}", get(user_edit).post(user_update))
        .route("/admin/users/{id}/password", post(user_reset_password))
        .route("/admin/tokens", get(all_tokens))
        .route("/account/tokens", get(my_tokens).post(token_create))
        .route("/tokens/{id}/revoke", post(token_revoke))
        .route("/admin/orgs", get(orgs).post(org_create))
}

/// What the audit trail records of a membership (never a password hash).
#[derive(Serialize)]
struct MemberAudit<'a> {
    login: &'a str,
    display_name: &'a str,
    role: &'a str,
    departments: &'a [i64],
}

async fn audit_row(tx: &mut Tx, e: NewEntry<'_>) -> AppResult<()> {
    store::audit::record(&mut tx.c(), e).await?;
    Ok(())
}

async fn check_departments(
    tx: &mut Tx,
    org: i64,
    deps: &[i64],
    errs: &mut FieldErrors,
) -> AppResult<()> {
    for d in deps {
        if !store::org::department_exists(&mut tx.c(), org, *d).await? {
            errs.add("department_ids", "choice", None);
            break;
        }
    }
    Ok(())
}

/// Creates a user in `org` with a role, or (empty password) adds an existing login to it.
/// Returns the user id.
pub async fn create_member(
    st: &AppState,
    actor: &Actor,
    org: i64,
    d: UserDraft,
    password: &str,
) -> AppResult<i64> {
    let now = st.now();
    let existing = {
        let mut h = st.db.acquire().await?;
        store::users::by_login(&mut h.c(), &d.login).await?
    };
    let mut errs = FieldErrors::default();
    let hash = match &existing {
        Some(_) if password.is_empty() => None,
        Some(_) => {
            errs.add("login", "taken", None);
            None
        }
        None => {
            check_password(&mut errs, "password", password);
            if errs.is_empty() {
                Some(st.hasher.hash(password).await?)
            } else {
                None
            }
        }
    };
    let mut tx = st.db.begin().await?;
    check_departments(&mut tx, org, &d.department_ids, &mut errs).await?;
    if let Some((u, _)) = &existing
        && store::tenants::membership(&mut tx.c(), u.id, org)
            .await?
            .is_some()
    {
        errs.add("login", "member_already", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let id = match (&existing, hash) {
        (Some((u, _)), _) => u.id,
        (None, Some(h)) => {
            let id = store::users::insert(&mut tx.c(), &d.login, &d.display_name, &h, false, now)
                .await?;
            let after = serde_json::json!({"login": d.login, "display_name": d.display_name});
            audit_row(
                &mut tx,
                NewEntry {
                    org_id: Some(org),
                    at: now,
                    actor,
                    action: "create",
                    entity: "user",
                    entity_id: Some(id),
                    before: None,
                    after: Some(after),
                },
            )
            .await?;
            id
        }
        (None, None) => return Err(AppError::Internal("password hash missing".into())),
    };
    store::tenants::set_membership(
        &mut tx.c(),
        id,
        org,
        d.role.as_str(),
        &d.department_ids,
        now,
    )
    .await?;
    let after = MemberAudit {
        login: &d.login,
        display_name: &d.display_name,
        role: d.role.as_str(),
        departments: &d.department_ids,
    };
    audit_row(
        &mut tx,
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action: "create",
            entity: "membership",
            entity_id: Some(id),
            before: None,
            after: serde_json::to_value(&after).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a member's display name, role and departments.
pub async fn update_member(
    st: &AppState,
    ctx: &Ctx,
    user: i64,
    display_name: &str,
    role: Role,
    deps: Vec<i64>,
) -> AppResult<()> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let now = st.now();
    let mut errs = FieldErrors::default();
    let display_name = domain::text::required(&mut errs, "display_name", display_name, 100);
    let mut tx = st.db.begin().await?;
    let Some((old_role, old_deps)) = store::tenants::membership(&mut tx.c(), user, org).await?
    else {
        return Err(AppError::NotFound);
    };
    check_departments(&mut tx, org, &deps, &mut errs).await?;
    // The last administrator cannot demote themselves: someone must be able to manage users.
    if user == ctx.user_id && role != Role::Admin {
        errs.add("role", "last_admin", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let u = store::users::get(&mut tx.c(), user).await?;
    store::users::update(&mut tx.c(), user, &display_name, u.active, now).await?;
    store::tenants::set_membership(&mut tx.c(), user, org, role.as_str(), &deps, now).await?;
    let before = MemberAudit {
        login: &u.login,
        display_name: &u.display_name,
        role: &old_role,
        departments: &old_deps,
    };
    let after = MemberAudit {
        login: &u.login,
        display_name: &display_name,
        role: role.as_str(),
        departments: &deps,
    };
    audit_row(
        &mut tx,
        NewEntry {
            org_id: Some(org),
            at: now,
            actor: &ctx.actor(),
            action: "update",
            entity: "membership",
            entity_id: Some(user),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new random password for a member, ends their sessions, and returns it (shown once).
pub async fn reset_password(
    st: &AppState,
    actor: &Actor,
    org: Option<i64>,
    user: i64,
) -> AppResult<String> {
    let password = generate_password();
    let hash = st.hasher.hash(&password).await?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    if let Some(org) = org
        && store::tenants::membership(&mut tx.c(), user, org)
            .await?
            .is_none()
    {
        return Err(AppError::NotFound);
    }
    store::users::set_password(&mut tx.c(), user, &hash, now).await?;
    store::sessions::delete_for_user(&mut tx.c(), user, None).await?;
    audit_row(
        &mut tx,
        NewEntry {
            org_id: org,
            at: now,
            actor,
            action: "password_reset",
            entity: "user",
            entity_id: Some(user),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// A random password of 16 characters without look-alike letters.
pub fn generate_password() -> String {
    use rand::RngExt;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// Issues an API token for `user` in `org`; returns (id, secret). The secret is shown once.
pub async fn issue_token(
    st: &AppState,
    actor: &Actor,
    user: i64,
    org: i64,
    name: &str,
) -> AppResult<(i64, String)> {
    let mut errs = FieldErrors::default();
    let name = domain::text::required(&mut errs, "name", name, 100);
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let now = st.now();
    let secret = format!("as_{}", store::random_hex(24));
    let prefix: String = secret.chars().take(10).collect();
    let mut tx = st.db.begin().await?;
    if store::tenants::membership(&mut tx.c(), user, org)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    let id = store::tokens::create(
        &mut tx.c(),
        user,
        org,
        &name,
        &store::hash_token(&secret),
        &prefix,
        now,
    )
    .await?;
    let after = serde_json::json!({"name": name, "user_id": user, "prefix": prefix});
    audit_row(
        &mut tx,
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action: "create",
            entity: "api_token",
            entity_id: Some(id),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

/// Revokes a token: one's own, or anyone's in the organization for administrators.
pub async fn revoke_token(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<()> {
    let org = ctx.org()?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let t = store::tokens::get(&mut tx.c(), org.id, id).await?;
    if t.user_id != ctx.user_id && !org.role.allows(Permission::ManageUsers) {
        return Err(AppError::NotFound);
    }
    if t.revoked_at.is_none() {
        store::tokens::revoke(&mut tx.c(), org.id, id, now).await?;
        let before = serde_json::json!({"name": t.name, "user_id": t.user_id, "prefix": t.prefix});
        audit_row(
            &mut tx,
            NewEntry {
                org_id: Some(org.id),
                at: now,
                actor: &ctx.actor(),
                action: "revoke",
                entity: "api_token",
                entity_id: Some(id),
                before: Some(before),
                after: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Creates an organization; `admin` (if any) becomes its administrator.
pub async fn create_org(
    st: &AppState,
    actor: &Actor,
    code: &str,
    name: &str,
    admin: Option<i64>,
) -> AppResult<i64> {
    let mut errs = FieldErrors::default();
    let code = domain::text::optional_code(&mut errs, "code", Some(code), 32).unwrap_or_default();
    if code.is_empty() {
        errs.add("code", "required", None);
    }
    let name = domain::text::required(&mut errs, "name", name, 100);
    let now = st.now();
    let mut tx = st.db.begin().await?;
    if errs.is_empty() && store::tenants::by_code(&mut tx.c(), &code).await?.is_some() {
        errs.add("code", "taken", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let id = store::tenants::create(&mut tx.c(), &code, &name, now).await?;
    let after = serde_json::json!({"code": code, "name": name});
    audit_row(
        &mut tx,
        NewEntry {
            org_id: None,
            at: now,
            actor,
            action: "create",
            entity: "organization",
            entity_id: Some(id),
            before: None,
            after: Some(after.clone()),
        },
    )
    .await?;
    audit_row(
        &mut tx,
        NewEntry {
            org_id: Some(id),
            at: now,
            actor,
            action: "create",
            entity: "organization",
            entity_id: Some(id),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    if let Some(u) = admin {
        store::tenants::set_membership(&mut tx.c(), u, id, Role::Admin.as_str(), &[], now).await?;
    }
    tx.commit().await?;
    Ok(id)
}

// ---------- pages ----------

#[derive(Deserialize)]
struct PageQ {
    page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    s: Shell,
    tr: Tr,
    items: Vec<store::tenants::Member>,
    departments: Vec<(i64, String)>,
    pager: Pager,
}

impl UsersPage {
    fn dept_names(&self, ids: &[i64]) -> String {
        ids.iter()
            .filter_map(|id| {
                self.departments
                    .iter()
                    .find(|d| d.0 == *id)
                    .map(|d| d.1.as_str())
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}

async fn users(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<PageQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let (page, departments) = {
        let mut h = st.db.acquire().await?;
        let page: Page<store::tenants::Member> =
            store::tenants::members(&mut h.c(), org, PageReq::new(q.page, None)).await?;
        (page, store::org::department_choices(&mut h.c(), org).await?)
    };
    let s = Shell::load(&st, &ctx, &uri, "admin.users").await?;
    render(&UsersPage {
        tr: ctx.tr,
        s,
        pager: Pager::new(&uri, &page),
        items: page.items,
        departments,
    })
}

#[derive(Default)]
struct UserForm {
    id: i64,
    login: String,
    display_name: String,
    role: String,
    departments: Vec<i64>,
}

#[derive(askama::Template)]
#[template(path = "admin/user_form.html")]
struct UserFormPage {
    s: Shell,
    tr: Tr,
    v: UserForm,
    errs: Errs,
    roles: Vec<(&'static str, String)>,
    departments: Vec<(i64, String)>,
    new_password: String,
}

impl UserFormPage {
    fn has_dept(&self, id: &i64) -> bool {
        self.v.departments.contains(id)
    }
}

async fn user_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: UserForm,
    errs: Errs,
    new_password: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), ctx.tr.role(r.as_str())))
        .collect();
    let title = if v.id == 0 {
        "admin.user_new"
    } else {
        "admin.user_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &UserFormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            roles,
            departments,
            new_password,
        },
    )
}

async fn user_new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = UserForm {
        role: "engineer".into(),
        ..Default::default()
    };
    user_form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

fn dept_ids(f: &FormData, errs: &mut FieldErrors) -> Vec<i64> {
    f.all("department_ids")
        .into_iter()
        .filter_map(|d| parse_opt_id(errs, "department_ids", Some(d)))
        .collect()
}

async fn user_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let mut errs = FieldErrors::default();
    let deps = dept_ids(&f, &mut errs);
    let r = match UserDraft::parse(
        errs,
        f.get("login"),
        f.get("display_name"),
        f.get("role"),
        deps.clone(),
    ) {
        Ok(d) => create_member(&st, &ctx.actor(), org, d, f.get("password")).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(id) => Ok(see_other(&format!("/admin/users/{id}?ok=user_created"))),
        Err(AppError::Invalid(e)) => {
            let v = UserForm {
                id: 0,
                login: f.get("login").into(),
                display_name: f.get("display_name").into(),
                role: f.get("role").into(),
                departments: deps,
            };
            user_form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn load_member(st: &AppState, org: i64, id: i64) -> AppResult<UserForm> {
    let mut h = st.db.acquire().await?;
    let (role, departments) = store::tenants::membership(&mut h.c(), id, org)
        .await?
        .ok_or(AppError::NotFound)?;
    let u = store::users::get(&mut h.c(), id).await?;
    Ok(UserForm {
        id,
        login: u.login,
        display_name: u.display_name,
        role,
        departments,
    })
}

async fn user_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let v = load_member(&st, org, id).await?;
    user_form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn user_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let mut errs = FieldErrors::default();
    let deps = dept_ids(&f, &mut errs);
    let role = Role::parse(f.get("role"));
    if role.is_none() {
        errs.add("role", "choice", None);
    }
    let r = match (errs.is_empty(), role) {
        (true, Some(role)) => {
            update_member(&st, &ctx, id, f.get("display_name"), role, deps.clone()).await
        }
        _ => Err(AppError::Invalid(errs)),
    };
    match r {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}?ok=saved"))),
        Err(AppError::Invalid(e)) => {
            let mut v = load_member(&st, org, id).await?;
            v.display_name = f.get("display_name").into();
            v.role = f.get("role").into();
            v.departments = deps;
            user_form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn user_reset_password(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageUsers)?.id;
    let password = reset_password(&st, &ctx.actor(), Some(org), id).await?;
    let v = load_member(&st, org, id).await?;
    user_form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        password,
        StatusCode::OK,
    )
    .await
}

#[derive(askama::Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    s: Shell,
    tr: Tr,
    items: Vec<store::tokens::Token>,
    all: bool,
    errs: Errs,
    name: String,
    secret: String,
}

/// What the token form shows after a submit.
#[derive(Default)]
struct TokenForm {
    errs: Errs,
    name: String,
    secret: String,
}

async fn tokens_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    all: bool,
    f: TokenForm,
    status: StatusCode,
) -> AppResult<Response> {
    let TokenForm { errs, name, secret } = f;
    let org = if all {
        ctx.require(Permission::ManageUsers)?.id
    } else {
        ctx.org()?.id
    };
    let items = {
        let mut h = st.db.acquire().await?;
        store::tokens::list(&mut h.c(), org, if all { None } else { Some(ctx.user_id) }).await?
    };
    let s = Shell::load(
        st,
        ctx,
        uri,
        if all {
            "admin.tokens"
        } else {
            "admin.my_tokens"
        },
    )
    .await?;
    render_status(
        status,
        &TokensPage {
            tr: ctx.tr,
            s,
            items,
            all,
            errs,
            name,
            secret,
        },
    )
}

async fn all_tokens(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    tokens_page(
        &st,
        &ctx,
        &uri,
        true,
        TokenForm {
            errs: Errs::default(),
            name: String::new(),
            secret: String::new(),
        },
        StatusCode::OK,
    )
    .await
}

async fn my_tokens(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    tokens_page(
        &st,
        &ctx,
        &uri,
        false,
        TokenForm {
            errs: Errs::default(),
            name: String::new(),
            secret: String::new(),
        },
        StatusCode::OK,
    )
    .await
}

async fn token_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::OwnTokens)?.id;
    match issue_token(&st, &ctx.actor(), ctx.user_id, org, f.get("name")).await {
        Ok((_, secret)) => {
            tokens_page(
                &st,
                &ctx,
                &uri,
                false,
                TokenForm {
                    errs: Errs::default(),
                    name: String::new(),
                    secret,
                },
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Invalid(e)) => {
            tokens_page(
                &st,
                &ctx,
                &uri,
                false,
                TokenForm {
                    errs: Errs::of(&ctx.tr, &e),
                    name: f.get("name").into(),
                    secret: String::new(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn token_revoke(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    revoke_token(&st, &ctx, id).await?;
    let back = if f.get("back") == "admin" {
        "/admin/tokens"
    } else {
        "/account/tokens"
    };
    Ok(see_other(&format!("{back}?ok=token_revoked")))
}

#[derive(askama::Template)]
#[template(path = "admin/orgs.html")]
struct OrgsPage {
    s: Shell,
    tr: Tr,
    items: Vec<store::tenants::Org>,
    errs: Errs,
    code: String,
    name: String,
}

async fn orgs_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    errs: Errs,
    code: String,
    name: String,
    status: StatusCode,
) -> AppResult<Response> {
    if !ctx.system_admin {
        return Err(AppError::Forbidden);
    }
    let items = {
        let mut h = st.db.acquire().await?;
        store::tenants::all(&mut h.c()).await?
    };
    let s = Shell::load(st, ctx, uri, "admin.orgs").await?;
    render_status(
        status,
        &OrgsPage {
            tr: ctx.tr,
            s,
            items,
            errs,
            code,
            name,
        },
    )
}

async fn orgs(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    orgs_page(
        &st,
        &ctx,
        &uri,
        Errs::default(),
        String::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn org_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    if !ctx.system_admin {
        return Err(AppError::Forbidden);
    }
    match create_org(
        &st,
        &ctx.actor(),
        f.get("code"),
        f.get("name"),
        Some(ctx.user_id),
    )
    .await
    {
        Ok(_) => Ok(see_other("/admin/orgs?ok=org_created")),
        Err(AppError::Invalid(e)) => {
            orgs_page(
                &st,
                &ctx,
                &uri,
                Errs::of(&ctx.tr, &e),
                f.get("code").into(),
                f.get("name").into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
