//! HTML pages for maintenance plans: the filtered list, the form (a unit by serial number or a
//! product by part number; re-rendered with field messages, 422, or a stale-version banner,
//! 409, keeping the typed values) and the plan's page with its upcoming and past orders.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::auth::Permission;
use domain::maintenance::schedule::{
    DEFAULT_HORIZON_DAYS, DEFAULT_LEAD_DAYS, Mode, PlanDraft, PlanRaw,
};
use domain::{DomainError, FieldErrors};
use serde::Deserialize;
use store::PageReq;
use store::maintenance::plans::{Plan, PlanFilter, PlanOrder, TemplateChoice};

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
    /// active (default), inactive or all.
    pub status: Option<String>,
    pub equipment_id: Option<i64>,
    pub product_id: Option<i64>,
    pub page: Option<i64>,
}

fn modes() -> Vec<&'static str> {
    Mode::ALL.iter().map(|m| m.as_str()).collect()
}

#[derive(askama::Template)]
#[template(path = "maintenance/plan_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Plan>,
    pager: Pager,
    q: String,
    status: String,
    can_edit: bool,
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let status = q.status.clone().unwrap_or_else(|| "active".into());
    let f = PlanFilter {
        q: q.q.clone(),
        active: match status.as_str() {
            "inactive" => Some(false),
            "all" => None,
            _ => Some(true),
        },
        equipment_id: q.equipment_id,
        product_id: q.product_id,
    };
    let page = service::list(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "maint_plans.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.unwrap_or_default(),
        status,
        can_edit: ctx.can(Permission::PlanMaintenance),
        s,
    })
}

/// What the plan form shows: the typed values.
#[derive(Default)]
struct PlanForm {
    id: i64,
    version: i64,
    name: String,
    /// unit or product.
    target: String,
    serial: String,
    part_no: String,
    template_id: String,
    interval_days: String,
    mode: String,
    meter_interval: String,
    meter_unit: String,
    start_date: String,
    lead_days: String,
    horizon_days: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/plan_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: PlanForm,
    errs: Errs,
    banner: String,
    modes: Vec<&'static str>,
    templates: Vec<TemplateChoice>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: PlanForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let title = if v.id == 0 {
        "maint_plans.new"
    } else {
        "maint_plans.edit"
    };
    let templates = service::templates(st, ctx).await?;
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            modes: modes(),
            templates,
        },
    )
}

/// Query of the new-plan form: a unit or product to start from.
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub serial: Option<String>,
    pub part_no: Option<String>,
}

pub async fn new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let templates = service::templates(&st, &ctx).await?;
    let routine = templates
        .iter()
        .find(|t| t.code == "routine")
        .or(templates.first())
        .map(|t| t.id.to_string())
        .unwrap_or_default();
    let v = PlanForm {
        target: if q.part_no.is_some() {
            "product".into()
        } else {
            "unit".into()
        },
        serial: q.serial.unwrap_or_default(),
        part_no: q.part_no.unwrap_or_default(),
        template_id: routine,
        interval_days: "30".into(),
        mode: Mode::Fixed.as_str().into(),
        start_date: service::today(&st, &ctx).await?,
        lead_days: DEFAULT_LEAD_DAYS.to_string(),
        horizon_days: DEFAULT_HORIZON_DAYS.to_string(),
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
    ctx.require(Permission::PlanMaintenance)?;
    let p = service::get(&st, &ctx, id).await?;
    let v = PlanForm {
        id: p.id,
        version: p.version,
        name: p.name,
        target: if p.equipment_id.is_some() {
            "unit".into()
        } else {
            "product".into()
        },
        serial: p.serial.unwrap_or_default(),
        part_no: if p.product_id.is_some() {
            p.part_no.unwrap_or_default()
        } else {
            String::new()
        },
        template_id: p.template_id.to_string(),
        interval_days: p.interval_days.to_string(),
        mode: p.mode,
        meter_interval: p.meter_interval.map(|m| m.to_string()).unwrap_or_default(),
        meter_unit: p.meter_unit.unwrap_or_default(),
        start_date: p.start_date,
        lead_days: p.lead_days.to_string(),
        horizon_days: p.horizon_days.to_string(),
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

/// Parses the form: the unit or product named by serial or part number is looked up first.
async fn draft(st: &AppState, ctx: &Ctx, f: &FormData) -> AppResult<PlanDraft> {
    ctx.require(Permission::PlanMaintenance)?;
    let mut errs = FieldErrors::default();
    let serial = f.get("serial").trim();
    let part_no = f.get("part_no").trim();
    let (mut equipment_id, mut product_id) = (None, None);
    match f.get("target") {
        "unit" if serial.is_empty() => errs.add("serial", "required", None),
        "unit" => {
            equipment_id = service::lookup(st, ctx, Some(serial), None).await?.0;
            if equipment_id.is_none() {
                errs.add("serial", "plan_unknown_serial", None);
                // Named, but unknown: the message is on the serial, not on the choice.
                equipment_id = Some(0);
            }
        }
        "product" if part_no.is_empty() => errs.add("part_no", "required", None),
        "product" => {
            product_id = service::lookup(st, ctx, None, Some(part_no)).await?.1;
            if product_id.is_none() {
                errs.add("part_no", "plan_unknown_part_no", None);
                product_id = Some(0);
            }
        }
        _ => {}
    }
    let r: Result<PlanDraft, DomainError> = PlanDraft::parse(
        errs,
        PlanRaw {
            name: f.get("name"),
            equipment_id,
            product_id,
            template_id: f.get("template_id").trim().parse().ok(),
            interval_days: f.get("interval_days"),
            mode: f.opt("mode"),
            meter_interval: f.opt("meter_interval"),
            meter_unit: f.opt("meter_unit"),
            start_date: f.get("start_date"),
            lead_days: f.opt("lead_days"),
            horizon_days: f.opt("horizon_days"),
        },
    );
    Ok(r?)
}

fn typed(f: &FormData, id: i64, version: i64) -> PlanForm {
    PlanForm {
        id,
        version,
        name: f.get("name").into(),
        target: f.get("target").into(),
        serial: f.get("serial").into(),
        part_no: f.get("part_no").into(),
        template_id: f.get("template_id").into(),
        interval_days: f.get("interval_days").into(),
        mode: f.get("mode").into(),
        meter_interval: f.get("meter_interval").into(),
        meter_unit: f.get("meter_unit").into(),
        start_date: f.get("start_date").into(),
        lead_days: f.get("lead_days").into(),
        horizon_days: f.get("horizon_days").into(),
    }
}

/// Service errors on ids point at the form's fields (serial, part number).
fn on_form(mut e: FieldErrors) -> FieldErrors {
    for x in &mut e.0 {
        match x.field.as_str() {
            "equipment_id" => x.field = "serial".into(),
            "product_id" => x.field = "part_no".into(),
            _ => {}
        }
    }
    e
}

pub async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&st, &ctx, &f).await {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(p) => Ok(see_other(&format!(
            "/maintenance/plans/{}?ok=created",
            p.id
        ))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, 0, 0),
                Errs::of(&ctx.tr, &on_form(e)),
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
    let r = match draft(&st, &ctx, &f).await {
        Ok(d) => service::update(&st, &ctx, id, version, d).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/maintenance/plans/{}?ok=saved", p.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, version),
                Errs::of(&ctx.tr, &on_form(e)),
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

/// Query of the plan page.
#[derive(Debug, Deserialize, Default)]
pub struct ViewQ {
    pub page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/plan_view.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    p: Plan,
    upcoming: Vec<PlanOrder>,
    pager: Pager,
    past: Vec<PlanOrder>,
    past_total: i64,
    overdue: i64,
    today: String,
    can_edit: bool,
    can_audit: bool,
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<ViewQ>,
) -> AppResult<Response> {
    let d = service::detail(
        &st,
        &ctx,
        id,
        PageReq::new(q.page, Some(20)),
        PageReq::new(None, Some(20)),
    )
    .await?;
    let s = Shell::load(&st, &ctx, &uri, "maint_plans.plan").await?;
    render(&ViewPage {
        tr: ctx.tr,
        s,
        pager: Pager::new(&uri, &d.upcoming),
        upcoming: d.upcoming.items,
        past_total: d.past.total,
        past: d.past.items,
        overdue: d.overdue,
        today: d.today,
        p: d.plan,
        can_edit: ctx.can(Permission::PlanMaintenance),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

pub async fn deactivate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!(
        "/maintenance/plans/{id}?ok=plan_deactivated"
    )))
}

pub async fn activate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!(
        "/maintenance/plans/{id}?ok=plan_activated"
    )))
}

pub async fn run(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::run_now(&st, &ctx, id).await?;
    Ok(see_other(&format!(
        "/maintenance/plans/{id}?ok=plan_scheduled"
    )))
}
