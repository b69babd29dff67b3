//! HTML pages for service outlets: the filtered list, the form (re-rendered with field
//! messages, 422, or a stale-version banner, 409, keeping the typed values) and the view.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::archives::customers::split_list;
use domain::archives::outlets::{OutletDraft, OutletKind, OutletRaw};
use domain::auth::Permission;
use domain::{DomainError, FieldErrors};
use serde::Deserialize;
use store::PageReq;
use store::archives::outlets::{Outlet, OutletFilter};

use super::service;
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub retired: Option<String>,
    pub page: Option<i64>,
}

fn kinds() -> Vec<&'static str> {
    OutletKind::ALL.iter().map(|k| k.as_str()).collect()
}

#[derive(askama::Template)]
#[template(path = "archives/outlets.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Outlet>,
    pager: Pager,
    q: String,
    kind: String,
    retired: bool,
    kinds: Vec<&'static str>,
    can_edit: bool,
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let retired = q.retired.as_deref() == Some("1");
    let f = OutletFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        include_retired: retired,
    };
    let page = service::list(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "outlets.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        retired,
        kinds: kinds(),
        can_edit: ctx.can(Permission::ManageArchives),
        s,
    })
}

/// What the outlet form shows: the typed values.
#[derive(Default)]
struct OutletForm {
    id: i64,
    version: i64,
    name: String,
    kind: String,
    regions: String,
    address: String,
    contact_name: String,
    contact_phone: String,
    contract_start: String,
    contract_end: String,
}

#[derive(askama::Template)]
#[template(path = "archives/outlet_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: OutletForm,
    errs: Errs,
    banner: String,
    kinds: Vec<&'static str>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: OutletForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let title = if v.id == 0 {
        "outlets.new"
    } else {
        "outlets.edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            kinds: kinds(),
        },
    )
}

pub async fn new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = OutletForm {
        kind: "own".into(),
        ..Default::default()
    };
    form(
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

pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = service::get(&st, &ctx, id).await?;
    let v = OutletForm {
        id: o.id,
        version: o.version,
        name: o.name,
        kind: o.kind,
        regions: o.regions.join("、"),
        address: o.address.unwrap_or_default(),
        contact_name: o.contact_name.unwrap_or_default(),
        contact_phone: o.contact_phone.unwrap_or_default(),
        contract_start: o.contract_start.unwrap_or_default(),
        contract_end: o.contract_end.unwrap_or_default(),
    };
    form(
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

fn draft(f: &FormData) -> Result<OutletDraft, DomainError> {
    OutletDraft::parse(
        FieldErrors::default(),
        OutletRaw {
            name: f.get("name"),
            kind: f.opt("kind"),
            regions: split_list(f.get("regions")),
            address: f.opt("address"),
            contact_name: f.opt("contact_name"),
            contact_phone: f.opt("contact_phone"),
            contract_start: f.opt("contract_start"),
            contract_end: f.opt("contract_end"),
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> OutletForm {
    OutletForm {
        id,
        version,
        name: f.get("name").into(),
        kind: f.get("kind").into(),
        regions: f.get("regions").into(),
        address: f.get("address").into(),
        contact_name: f.get("contact_name").into(),
        contact_phone: f.get("contact_phone").into(),
        contract_start: f.get("contract_start").into(),
        contract_end: f.get("contract_end").into(),
    }
}

pub async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&f) {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(o) => Ok(see_other(&format!("/archives/outlets/{}?ok=created", o.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match draft(&f) {
        Ok(d) => service::update(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(o) => Ok(see_other(&format!("/archives/outlets/{}?ok=saved", o.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get(&st, &ctx, id).await?;
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, cur.version),
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
#[template(path = "archives/outlet.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    o: Outlet,
    can_edit: bool,
    can_audit: bool,
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = service::get(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "outlets.outlet").await?;
    render(&ViewPage {
        tr: ctx.tr,
        s,
        o,
        can_edit: ctx.can(Permission::ManageArchives),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

pub async fn retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/archives/outlets/{id}?ok=retired")))
}

pub async fn restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/archives/outlets/{id}?ok=restored")))
}
