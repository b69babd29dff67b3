//! HTML pages for departments, posts and staff: lists with filters and pages, detail views
//! that print cleanly, and forms that re-render with field errors and keep what was typed.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::FieldErrors;
use domain::auth::Permission;
use domain::org::{DepartmentDraft, PostDraft, StaffDraft, StaffRaw, parse_opt_id};
use serde::Deserialize;
use store::org::{Department, ListFilter, Post, Staff};
use store::{Page, PageReq};

use super::service;
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Query of the list pages.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub retired: Option<String>,
    pub department_id: Option<String>,
    pub page: Option<i64>,
}

impl ListQ {
    fn filter(&self) -> ListFilter {
        ListFilter {
            q: self.q.clone(),
            include_retired: self.retired.as_deref() == Some("1"),
            department_id: self.department_id.as_deref().and_then(|d| d.parse().ok()),
        }
    }
}

/// Links to the previous and next page, keeping the filters.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// The total as shown ("10000+" where a list only counts so far).
    pub total_text: String,
    pub prev: String,
    pub next: String,
}

impl Pager {
    /// Builds the pager of `page` for a list at `uri`.
    pub fn new<T>(uri: &Uri, page: &Page<T>) -> Pager {
        let mut pairs: Vec<(String, String)> = uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        pairs.retain(|(k, _)| k != "page" && k != "ok");
        let link = |n: i64| {
            let mut p = pairs.clone();
            p.push(("page".into(), n.to_string()));
            format!(
                "{}?{}",
                uri.path(),
                serde_urlencoded::to_string(&p).unwrap_or_default()
            )
        };
        Pager {
            page: page.page,
            pages: page.pages(),
            total: page.total,
            total_text: page.total.to_string(),
            prev: if page.page > 1 {
                link(page.page - 1)
            } else {
                String::new()
            },
            next: if page.page < page.pages() {
                link(page.page + 1)
            } else {
                String::new()
            },
        }
    }
}

// ---------- departments ----------

#[derive(askama::Template)]
#[template(path = "org/departments.html")]
struct DepartmentsPage {
    s: Shell,
    tr: Tr,
    items: Vec<Department>,
    pager: Pager,
    q: String,
    retired: bool,
    can_edit: bool,
}

pub async fn departments(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let page =
        service::list_departments(&st, &ctx, &q.filter(), PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "org.departments").await?;
    render(&DepartmentsPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.clone().unwrap_or_default(),
        retired: q.retired.as_deref() == Some("1"),
        can_edit: ctx.can(Permission::ManageOrg),
        s,
    })
}

/// What a department form shows: the typed values, not a parsed record.
#[derive(Default)]
struct DeptForm {
    id: i64,
    version: i64,
    code: String,
    name: String,
    parent_id: String,
    description: String,
}

#[derive(askama::Template)]
#[template(path = "org/department_form.html")]
struct DepartmentFormPage {
    s: Shell,
    tr: Tr,
    v: DeptForm,
    errs: Errs,
    banner: String,
    parents: Vec<(i64, String)>,
}

async fn dept_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: DeptForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let parents = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let title = if v.id == 0 {
        "org.department_new"
    } else {
        "org.department_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    let parents = parents.into_iter().filter(|(id, _)| *id != v.id).collect();
    render_status(
        status,
        &DepartmentFormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            parents,
        },
    )
}

pub async fn department_new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    dept_form(
        &st,
        &ctx,
        &uri,
        DeptForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn department_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::get_department(&st, &ctx, id).await?;
    let v = DeptForm {
        id: d.id,
        version: d.version,
        code: d.code.unwrap_or_default(),
        name: d.name,
        parent_id: d.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        description: d.description.unwrap_or_default(),
    };
    dept_form(
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

fn dept_draft(f: &FormData) -> Result<DepartmentDraft, domain::DomainError> {
    let mut errs = FieldErrors::default();
    let parent = parse_opt_id(&mut errs, "parent_id", f.opt("parent_id"));
    DepartmentDraft::parse(
        errs,
        f.opt("code"),
        f.get("name"),
        parent,
        f.opt("description"),
    )
}

fn dept_typed(f: &FormData, id: i64, version: i64) -> DeptForm {
    DeptForm {
        id,
        version,
        code: f.get("code").into(),
        name: f.get("name").into(),
        parent_id: f.get("parent_id").into(),
        description: f.get("description").into(),
    }
}

pub async fn department_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match dept_draft(&f) {
        Ok(d) => service::create_department(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(d) => Ok(see_other(&format!("/org/departments/{}?ok=created", d.id))),
        Err(AppError::Invalid(e)) => {
            dept_form(
                &st,
                &ctx,
                &uri,
                dept_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn department_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match dept_draft(&f) {
        Ok(d) => service::update_department(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(d) => Ok(see_other(&format!("/org/departments/{}?ok=saved", d.id))),
        Err(AppError::Invalid(e)) => {
            dept_form(
                &st,
                &ctx,
                &uri,
                dept_typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            // Keep what the user typed; take the current version so a second save is deliberate.
            let cur = service::get_department(&st, &ctx, id).await?;
            dept_form(
                &st,
                &ctx,
                &uri,
                dept_typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "org/department.html")]
struct DepartmentView {
    s: Shell,
    tr: Tr,
    d: Department,
    staff: Vec<Staff>,
    can_edit: bool,
    can_audit: bool,
}

pub async fn department_view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::get_department(&st, &ctx, id).await?;
    let f = ListFilter {
        department_id: Some(id),
        ..Default::default()
    };
    let staff = service::list_staff(&st, &ctx, &f, PageReq::new(Some(1), Some(200)))
        .await?
        .items;
    let s = Shell::load(&st, &ctx, &uri, "org.department").await?;
    render(&DepartmentView {
        tr: ctx.tr,
        s,
        d,
        staff,
        can_edit: ctx.can(Permission::ManageOrg),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

pub async fn department_retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_department_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/org/departments/{id}?ok=retired")))
}

pub async fn department_restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_department_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/org/departments/{id}?ok=restored")))
}

// ---------- posts ----------

#[derive(askama::Template)]
#[template(path = "org/posts.html")]
struct PostsPage {
    s: Shell,
    tr: Tr,
    items: Vec<Post>,
    pager: Pager,
    q: String,
    retired: bool,
    can_edit: bool,
}

pub async fn posts(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let page = service::list_posts(&st, &ctx, &q.filter(), PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "org.posts").await?;
    render(&PostsPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.clone().unwrap_or_default(),
        retired: q.retired.as_deref() == Some("1"),
        can_edit: ctx.can(Permission::ManageOrg),
        s,
    })
}

#[derive(Default)]
struct PostForm {
    id: i64,
    version: i64,
    name: String,
    department_id: String,
    duties: String,
    authority: String,
}

#[derive(askama::Template)]
#[template(path = "org/post_form.html")]
struct PostFormPage {
    s: Shell,
    tr: Tr,
    v: PostForm,
    errs: Errs,
    banner: String,
    departments: Vec<(i64, String)>,
}

async fn post_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: PostForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let title = if v.id == 0 {
        "org.post_new"
    } else {
        "org.post_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &PostFormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            departments,
        },
    )
}

pub async fn post_new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    post_form(
        &st,
        &ctx,
        &uri,
        PostForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn post_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = service::get_post(&st, &ctx, id).await?;
    let v = PostForm {
        id: p.id,
        version: p.version,
        name: p.name,
        department_id: p.department_id.map(|d| d.to_string()).unwrap_or_default(),
        duties: p.duties.join("\n"),
        authority: p.authority.join("\n"),
    };
    post_form(
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

fn post_draft(f: &FormData) -> Result<PostDraft, domain::DomainError> {
    let mut errs = FieldErrors::default();
    let dep = parse_opt_id(&mut errs, "department_id", f.opt("department_id"));
    PostDraft::parse(
        errs,
        f.get("name"),
        dep,
        domain::text::lines(f.get("duties")),
        domain::text::lines(f.get("authority")),
    )
}

fn post_typed(f: &FormData, id: i64, version: i64) -> PostForm {
    PostForm {
        id,
        version,
        name: f.get("name").into(),
        department_id: f.get("department_id").into(),
        duties: f.get("duties").into(),
        authority: f.get("authority").into(),
    }
}

pub async fn post_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match post_draft(&f) {
        Ok(d) => service::create_post(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/org/posts/{}?ok=created", p.id))),
        Err(AppError::Invalid(e)) => {
            post_form(
                &st,
                &ctx,
                &uri,
                post_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn post_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match post_draft(&f) {
        Ok(d) => service::update_post(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/org/posts/{}?ok=saved", p.id))),
        Err(AppError::Invalid(e)) => {
            post_form(
                &st,
                &ctx,
                &uri,
                post_typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_post(&st, &ctx, id).await?;
            post_form(
                &st,
                &ctx,
                &uri,
                post_typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "org/post.html")]
struct PostView {
    s: Shell,
    tr: Tr,
    p: Post,
    can_edit: bool,
    can_audit: bool,
}

pub async fn post_view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = service::get_post(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "org.post").await?;
    render(&PostView {
        tr: ctx.tr,
        s,
        p,
        can_edit: ctx.can(Permission::ManageOrg),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

pub async fn post_retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_post_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/org/posts/{id}?ok=retired")))
}

pub async fn post_restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_post_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/org/posts/{id}?ok=restored")))
}

// ---------- staff ----------

#[derive(askama::Template)]
#[template(path = "org/staff_list.html")]
struct StaffPage {
    s: Shell,
    tr: Tr,
    items: Vec<Staff>,
    pager: Pager,
    q: String,
    retired: bool,
    department_id: String,
    departments: Vec<(i64, String)>,
    can_edit: bool,
}

pub async fn staff(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let page = service::list_staff(&st, &ctx, &q.filter(), PageReq::new(q.page, None)).await?;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), ctx.org()?.id).await?
    };
    let s = Shell::load(&st, &ctx, &uri, "org.staff").await?;
    render(&StaffPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.clone().unwrap_or_default(),
        retired: q.retired.as_deref() == Some("1"),
        department_id: q.department_id.clone().unwrap_or_default(),
        departments,
        can_edit: ctx.can(Permission::ManageOrg),
        s,
    })
}

#[derive(Default)]
struct StaffForm {
    id: i64,
    version: i64,
    name: String,
    employee_no: String,
    department_id: String,
    post_id: String,
    phone: String,
    email: String,
    hired_on: String,
}

#[derive(askama::Template)]
#[template(path = "org/staff_form.html")]
struct StaffFormPage {
    s: Shell,
    tr: Tr,
    v: StaffForm,
    errs: Errs,
    banner: String,
    departments: Vec<(i64, String)>,
    posts: Vec<(i64, String)>,
}

async fn staff_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: StaffForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let (departments, posts) = {
        let mut h = st.db.acquire().await?;
        (
            store::org::department_choices(&mut h.c(), org).await?,
            store::org::post_choices(&mut h.c(), org).await?,
        )
    };
    let title = if v.id == 0 {
        "org.staff_new"
    } else {
        "org.staff_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &StaffFormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            departments,
            posts,
        },
    )
}

pub async fn staff_new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let v = StaffForm {
        department_id: q.department_id.unwrap_or_default(),
        ..Default::default()
    };
    staff_form(
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

pub async fn staff_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = service::get_staff(&st, &ctx, id).await?;
    let v = StaffForm {
        id: p.id,
        version: p.version,
        name: p.name,
        employee_no: p.employee_no.unwrap_or_default(),
        department_id: p.department_id.to_string(),
        post_id: p.post_id.map(|d| d.to_string()).unwrap_or_default(),
        phone: p.phone.unwrap_or_default(),
        email: p.email.unwrap_or_default(),
        hired_on: p.hired_on.unwrap_or_default(),
    };
    staff_form(
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

fn staff_draft(f: &FormData) -> Result<StaffDraft, domain::DomainError> {
    let mut errs = FieldErrors::default();
    let dep = parse_opt_id(&mut errs, "department_id", f.opt("department_id"));
    let post = parse_opt_id(&mut errs, "post_id", f.opt("post_id"));
    StaffDraft::parse(
        errs,
        StaffRaw {
            name: f.get("name"),
            employee_no: f.opt("employee_no"),
            department_id: dep,
            post_id: post,
            phone: f.opt("phone"),
            email: f.opt("email"),
            hired_on: f.opt("hired_on"),
        },
    )
}

fn staff_typed(f: &FormData, id: i64, version: i64) -> StaffForm {
    StaffForm {
        id,
        version,
        name: f.get("name").into(),
        employee_no: f.get("employee_no").into(),
        department_id: f.get("department_id").into(),
        post_id: f.get("post_id").into(),
        phone: f.get("phone").into(),
        email: f.get("email").into(),
        hired_on: f.get("hired_on").into(),
    }
}

pub async fn staff_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match staff_draft(&f) {
        Ok(d) => service::create_staff(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/org/staff/{}?ok=created", p.id))),
        Err(AppError::Invalid(e)) => {
            staff_form(
                &st,
                &ctx,
                &uri,
                staff_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn staff_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match staff_draft(&f) {
        Ok(d) => service::update_staff(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/org/staff/{}?ok=saved", p.id))),
        Err(AppError::Invalid(e)) => {
            staff_form(
                &st,
                &ctx,
                &uri,
                staff_typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_staff(&st, &ctx, id).await?;
            staff_form(
                &st,
                &ctx,
                &uri,
                staff_typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "org/staff.html")]
struct StaffView {
    s: Shell,
    tr: Tr,
    p: Staff,
    can_edit: bool,
    can_audit: bool,
}

pub async fn staff_view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = service::get_staff(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "org.staff_member").await?;
    render(&StaffView {
        tr: ctx.tr,
        s,
        p,
        can_edit: ctx.can(Permission::ManageOrg),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

pub async fn staff_retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_staff_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/org/staff/{id}?ok=retired")))
}

pub async fn staff_restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_staff_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/org/staff/{id}?ok=restored")))
}
