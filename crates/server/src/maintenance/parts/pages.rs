//! HTML pages for spare parts: the filtered list with totals on hand (and a low-stock
//! filter), the part form (cost in yuan), the part page with stock per location, moves and
//! the receipt and correction forms, and the stock locations page.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::archives::orders::{Price, format_fen};
use domain::auth::Permission;
use domain::maintenance::parts::{MoveDraft, PartDraft, PartRaw, parse_location};
use domain::{DomainError, FieldErrors};
use serde::Deserialize;
use store::PageReq;
use store::maintenance::parts::{Location, Move, Part, PartFilter, StockRow};

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
    /// Only parts with at most this many on hand.
    pub low: Option<String>,
    pub retired: Option<String>,
    pub page: Option<i64>,
}

/// A part with its cost as yuan text.
pub struct PartLine {
    pub p: Part,
    pub cost: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/parts_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<PartLine>,
    pager: Pager,
    q: String,
    low: String,
    retired: bool,
    can_edit: bool,
}

/// The low-stock threshold of a filter: a whole number 0 or more, else no filter.
fn low_of(s: Option<&str>) -> Option<i64> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n >= 0)
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let retired = q.retired.as_deref() == Some("1");
    let low = low_of(q.low.as_deref());
    let f = PartFilter {
        q: q.q.clone(),
        low,
        include_retired: retired,
    };
    let page = service::list(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "parts.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page
            .items
            .into_iter()
            .map(|p| PartLine {
                cost: format_fen(p.unit_cost_fen),
                p,
            })
            .collect(),
        q: q.q.unwrap_or_default(),
        low: low.map(|n| n.to_string()).unwrap_or_default(),
        retired,
        can_edit: ctx.can(Permission::ManageParts),
        s,
    })
}

/// What the part form shows: the typed values.
#[derive(Default)]
struct PartForm {
    id: i64,
    version: i64,
    code: String,
    name: String,
    unit: String,
    unit_cost: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/parts_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: PartForm,
    errs: Errs,
    banner: String,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: PartForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageParts)?;
    let title = if v.id == 0 { "parts.new" } else { "parts.edit" };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
        },
    )
}

pub async fn new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = PartForm {
        unit: ctx.tr.t("parts.default_unit").to_string(),
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
    let p = service::get(&st, &ctx, id).await?;
    let v = PartForm {
        id: p.id,
        version: p.version,
        code: p.code,
        name: p.name,
        unit: p.unit,
        unit_cost: format_fen(p.unit_cost_fen),
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

fn draft(f: &FormData) -> Result<PartDraft, DomainError> {
    PartDraft::parse(
        FieldErrors::default(),
        PartRaw {
            code: f.get("code"),
            name: f.get("name"),
            unit: f.get("unit"),
            unit_cost: Price::Yuan(f.get("unit_cost")),
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> PartForm {
    PartForm {
        id,
        version,
        code: f.get("code").into(),
        name: f.get("name").into(),
        unit: f.get("unit").into(),
        unit_cost: f.get("unit_cost").into(),
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
        Ok(p) => Ok(see_other(&format!("/parts/{}?ok=created", p.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, 0, 0),
                errs,
                String::new(),
                status,
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
        Ok(p) => Ok(see_other(&format!("/parts/{}?ok=saved", p.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, version),
                errs,
                String::new(),
                status,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get(&st, &ctx, id).await?;
            let banner = ctx.tr.t("error.stale_form").to_string();
            let v = typed(&f, id, cur.version);
            form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::default(),
                banner,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/parts/{id}?ok=retired")))
}

pub async fn restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/parts/{id}?ok=restored")))
}

// ---------- the part page: stock, moves, receipts and corrections ----------

/// Typed values of the receipt or correction form.
#[derive(Default)]
struct MoveForm {
    location_id: String,
    qty: String,
    note: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/parts_view.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    p: Part,
    cost: String,
    stock: Vec<StockRow>,
    moves: Vec<Move>,
    pager: Pager,
    locations: Vec<Location>,
    can_edit: bool,
    can_audit: bool,
    rv: MoveForm,
    rerrs: Errs,
    cv: MoveForm,
    cerrs: Errs,
}

/// Query of the part page.
#[derive(Debug, Deserialize, Default)]
pub struct ViewQ {
    pub page: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn view_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    page: Option<i64>,
    (rv, rerrs): (MoveForm, Errs),
    (cv, cerrs): (MoveForm, Errs),
    status: StatusCode,
) -> AppResult<Response> {
    let p = service::get(st, ctx, id).await?;
    let stock = service::stock(st, ctx, Some(id), None, PageReq::new(Some(1), Some(200)))
        .await?
        .items;
    let moves = service::moves(st, ctx, id, PageReq::new(page, Some(20))).await?;
    let locations = service::locations(st, ctx, false).await?;
    let s = Shell::load(st, ctx, uri, "parts.part").await?;
    render_status(
        status,
        &ViewPage {
            tr: ctx.tr,
            s,
            cost: format_fen(p.unit_cost_fen),
            p,
            stock,
            pager: Pager::new(uri, &moves),
            moves: moves.items,
            locations,
            can_edit: ctx.can(Permission::ManageParts),
            can_audit: ctx.can(Permission::ViewAudit),
            rv,
            rerrs,
            cv,
            cerrs,
        },
    )
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<ViewQ>,
) -> AppResult<Response> {
    let none = || (MoveForm::default(), Errs::default());
    view_page(&st, &ctx, &uri, id, q.page, none(), none(), StatusCode::OK).await
}

fn move_form(f: &FormData, qty_field: &str) -> MoveForm {
    MoveForm {
        location_id: f.get("location_id").into(),
        qty: f.get(qty_field).into(),
        note: f.get("note").into(),
    }
}

pub async fn receive(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = match MoveDraft::receipt(FieldErrors::default(), f.opt("location_id"), f.get("qty")) {
        Ok(d) => service::record_move(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!("/parts/{id}?ok=stock_received"))),
        Err(AppError::Invalid(e)) => {
            let rv = (move_form(&f, "qty"), Errs::of(&ctx.tr, &e));
            let cv = (MoveForm::default(), Errs::default());
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            view_page(&st, &ctx, &uri, id, None, rv, cv, status).await
        }
        Err(e) => Err(e),
    }
}

pub async fn correct(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let d = MoveDraft::correction(
        FieldErrors::default(),
        f.opt("location_id"),
        f.get("delta"),
        f.opt("note"),
    );
    let r = match d {
        Ok(d) => service::record_move(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!("/parts/{id}?ok=stock_corrected"))),
        Err(AppError::Invalid(e)) => {
            let rv = (MoveForm::default(), Errs::default());
            let cv = (move_form(&f, "delta"), Errs::of(&ctx.tr, &e));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            view_page(&st, &ctx, &uri, id, None, rv, cv, status).await
        }
        Err(e) => Err(e),
    }
}

// ---------- stock locations ----------

#[derive(askama::Template)]
#[template(path = "maintenance/parts_locations.html")]
struct LocationsPage {
    s: Shell,
    tr: Tr,
    items: Vec<Location>,
    can_edit: bool,
    /// The location whose rename failed (0: the new-location form), its typed name and errors.
    err_id: i64,
    typed: String,
    errs: Errs,
}

async fn locations_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    (err_id, typed, errs): (i64, String, Errs),
    status: StatusCode,
) -> AppResult<Response> {
    let items = service::locations(st, ctx, true).await?;
    let s = Shell::load(st, ctx, uri, "parts.locations").await?;
    render_status(
        status,
        &LocationsPage {
            tr: ctx.tr,
            s,
            items,
            can_edit: ctx.can(Permission::ManageParts),
            err_id,
            typed,
            errs,
        },
    )
}

pub async fn locations(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let none = (-1, String::new(), Errs::default());
    locations_page(&st, &ctx, &uri, none, StatusCode::OK).await
}

async fn location_result(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    f: &FormData,
    r: AppResult<Location>,
    to: &str,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(see_other(to)),
        Err(AppError::Invalid(e)) => {
            let failed = (id, f.get("name").to_string(), Errs::of(&ctx.tr, &e));
            locations_page(st, ctx, uri, failed, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

pub async fn create_location(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match parse_location(FieldErrors::default(), f.get("name")) {
        Ok(name) => service::create_location(&st, &ctx, &name).await,
        Err(e) => Err(e.into()),
    };
    location_result(&st, &ctx, &uri, 0, &f, r, "/parts/locations?ok=created").await
}

pub async fn rename_location(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = match parse_location(FieldErrors::default(), f.get("name")) {
        Ok(name) => service::rename_location(&st, &ctx, id, &name).await,
        Err(e) => Err(e.into()),
    };
    location_result(&st, &ctx, &uri, id, &f, r, "/parts/locations?ok=saved").await
}

pub async fn retire_location(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_location_active(&st, &ctx, id, false).await?;
    Ok(see_other("/parts/locations?ok=retired"))
}

pub async fn restore_location(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_location_active(&st, &ctx, id, true).await?;
    Ok(see_other("/parts/locations?ok=restored"))
}
