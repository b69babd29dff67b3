//! Installed equipment (设备档案) with meter readings (抄表): service (permission, one
//! transaction, reference checks, warranty end from the product, audit, search index,
//! timeline event), HTML pages and the JSON API.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::equipment::{
    EquipmentDraft, EquipmentRaw, ReadingDraft, Status, UnitRefs, date_of_unix, in_warranty,
    unix_of_date,
};
use domain::auth::Permission;
use domain::org::parse_opt_id;
use serde::Deserialize;
use store::archives::equipment::{
    self as repo, Equipment, EquipmentFilter, EquipmentValues, Reading, WarrantyState,
};
use store::archives::products::Product;
use store::timeline::{Event, NewEvent};
use store::{Page, PageReq, StoreError, Tx};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::timeline::{Timeline, page_of};
use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::org::service::{Change, audit};
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Readings shown on a unit's page (newest first).
pub const READINGS_SHOWN: i64 = 100;

/// Routes of this module (pages and API).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/archives/equipment", get(list_page).post(create_page))
        .route("/archives/equipment/new", get(new_page))
        .route("/archives/equipment/{id}", get(view_page).post(update_page))
        .route("/archives/equipment/{id}/edit", get(edit_page))
        .route("/archives/equipment/{id}/retire", post(retire_page))
        .route("/archives/equipment/{id}/restore", post(restore_page))
        .route("/archives/equipment/{id}/readings", post(reading_page))
        .route("/api/v1/equipment", get(api_list).post(api_create))
        .route("/api/v1/equipment/{id}", get(api_get).put(api_update))
        .route("/api/v1/equipment/{id}/retire", post(api_retire))
        .route("/api/v1/equipment/{id}/restore", post(api_restore))
        .route(
            "/api/v1/equipment/{id}/readings",
            get(api_readings).post(api_add_reading),
        )
        .route("/api/v1/equipment/{id}/timeline", get(api_timeline))
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_create,
        api_get,
        api_update,
        api_retire,
        api_restore,
        api_readings,
        api_add_reading,
        api_timeline
    ),
    components(schemas(Equipment, EquipmentInput, Reading, ReadingInput, Event))
)]
pub struct Api;

// ---------- service ----------

/// Today's date where the organization works.
pub fn today(st: &AppState, ctx: &Ctx) -> String {
    date_of_unix(st.now(), ctx.tr.offset_min)
}

/// Checks the references of a unit; returns its product (for the warranty months).
async fn check(
    tx: &mut Tx,
    org: i64,
    d: &EquipmentDraft,
    id: Option<i64>,
) -> AppResult<Option<Product>> {
    let serial_taken = repo::serial_taken(&mut tx.c(), org, &d.serial, id).await?;
    let product = match store::archives::products::get(&mut tx.c(), org, d.product_id).await {
        Ok(p) => Some(p),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let customer_exists = store::archives::orders::customer_name(&mut tx.c(), org, d.customer_id)
        .await?
        .is_some();
    let site_customer = match d.site_id {
        Some(site) => repo::site_customer(&mut tx.c(), org, site).await?,
        None => None,
    };
    let order_customer = match d.order_id {
        Some(order) => store::archives::orders::order_customer(&mut tx.c(), org, order).await?,
        None => None,
    };
    let mut errs = FieldErrors::default();
    d.check_refs(
        &mut errs,
        &UnitRefs {
            serial_taken,
            product_levels: product.as_ref().map(|p| p.contract_levels.as_slice()),
            customer_exists,
            site_customer,
            order_customer,
        },
    );
    if errs.is_empty() {
        Ok(product)
    } else {
        Err(AppError::Invalid(errs))
    }
}

fn values<'a>(d: &'a EquipmentDraft, warranty_end: Option<&'a str>) -> EquipmentValues<'a> {
    EquipmentValues {
        serial: &d.serial,
        product_id: d.product_id,
        customer_id: d.customer_id,
        site_id: d.site_id,
        order_id: d.order_id,
        install_date: d.install_date.as_deref(),
        warranty_end,
        warranty_overridden: d.warranty_overridden,
        contract_level: d.contract_level.as_deref(),
        contract_start: d.contract_start.as_deref(),
        contract_end: d.contract_end.as_deref(),
        sla_profile: d.sla_profile.as_deref(),
    }
}

/// Writes the search document of a unit: serial, part number, model, customer.
async fn index(tx: &mut Tx, org: i64, e: &Equipment) -> AppResult<()> {
    let title = format!("{} · {}", e.serial, e.model);
    let text = [
        e.serial.as_str(),
        e.part_no.as_str(),
        e.model.as_str(),
        e.customer_name.as_str(),
    ]
    .join(" ");
    store::search::upsert(&mut tx.c(), org, "equipment", e.id, &title, &text).await?;
    Ok(())
}

/// Re-indexes a unit (after its customer or product was renamed).
pub async fn reindex(tx: &mut Tx, org: i64, id: i64) -> AppResult<()> {
    let e = repo::get(&mut tx.c(), org, id).await?;
    index(tx, org, &e).await
}

/// Writes (or rewrites) the install event of a unit: at its install date (local midnight),
/// else when it was recorded.
async fn install_event(
    tx: &mut Tx,
    org: i64,
    e: &Equipment,
    offset_min: i32,
    replace: bool,
) -> AppResult<()> {
    let summary = format!("{} {}", e.serial, e.model);
    let ev = NewEvent {
        org_id: org,
        customer_id: Some(e.customer_id),
        equipment_id: Some(e.id),
        at: e
            .install_date
            .as_deref()
            .and_then(|d| unix_of_date(d, offset_min))
            .unwrap_or(e.created_at),
        kind: "install",
        ref_id: e.id,
        summary: &summary,
    };
    if replace {
        store::timeline::replace(&mut tx.c(), &ev).await?;
    } else {
        store::timeline::add(&mut tx.c(), &ev).await?;
    }
    Ok(())
}

/// Checks and inserts a unit with its audit row, search document and install event inside
/// `tx` (no commit): the import calls this for many rows in one transaction. The warranty
/// end is the install date plus the product's warranty months unless overridden.
pub async fn insert_equipment(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    d: &EquipmentDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    let product = check(tx, org, d, None).await?;
    let months = product.map(|p| p.warranty_months).unwrap_or(0);
    let warranty_end = d.warranty_end_for(months);
    let id = repo::insert(&mut tx.c(), org, &values(d, warranty_end.as_deref()), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "equipment",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    index(tx, org, &after).await?;
    install_event(tx, org, &after, ctx.tr.offset_min, false).await?;
    Ok(id)
}

/// Creates a unit.
pub async fn create_equipment(st: &AppState, ctx: &Ctx, d: EquipmentDraft) -> AppResult<Equipment> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_equipment(&mut tx, ctx, org, &d, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a unit read at `version` (the warranty end is recomputed unless overridden).
pub async fn update_equipment(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: EquipmentDraft,
) -> AppResult<Equipment> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let product = check(&mut tx, org, &d, Some(id)).await?;
    let months = product.map(|p| p.warranty_months).unwrap_or(0);
    let warranty_end = d.warranty_end_for(months);
    repo::update(
        &mut tx.c(),
        org,
        id,
        version,
        &values(&d, warranty_end.as_deref()),
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "equipment",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    index(&mut tx, org, &after).await?;
    install_event(&mut tx, org, &after, ctx.tr.offset_min, true).await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires (`retire = true`) or restores a unit.
pub async fn set_equipment_status(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    retire: bool,
) -> AppResult<Equipment> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let from = Status::parse(&before.status).unwrap_or(Status::InService);
    let to = from.transition(retire)?;
    repo::set_status(&mut tx.c(), org, id, version, to.as_str(), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if retire { "retire" } else { "restore" },
            entity: "equipment",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of units.
pub async fn list_equipment(
    st: &AppState,
    ctx: &Ctx,
    f: &EquipmentFilter,
    p: PageReq,
) -> AppResult<Page<Equipment>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One unit.
pub async fn get_equipment(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Equipment> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// Adds a meter reading; refused when it would make the meter (same unit) go down.
pub async fn add_reading(st: &AppState, ctx: &Ctx, id: i64, d: ReadingDraft) -> AppResult<Reading> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    repo::get(&mut tx.c(), org, id).await?;
    let (before, after) = repo::reading_bounds(&mut tx.c(), org, id, &d.unit, &d.read_on).await?;
    d.check_order(before, after)?;
    let rid = repo::insert_reading(&mut tx.c(), org, id, &d.read_on, d.value, &d.unit, now).await?;
    let r = repo::get_reading(&mut tx.c(), org, rid).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "meter_reading",
            id: rid,
            before: None,
            after: Some(&r),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// A unit's readings, newest first.
pub async fn list_readings(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    p: PageReq,
) -> AppResult<Page<Reading>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    repo::get(&mut h.c(), org, id).await?;
    Ok(repo::readings(&mut h.c(), org, id, p).await?)
}

/// A unit's timeline, newest first.
pub async fn timeline(st: &AppState, ctx: &Ctx, id: i64, p: PageReq) -> AppResult<Page<Event>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    repo::get(&mut h.c(), org, id).await?;
    Ok(store::timeline::for_equipment(&mut h.c(), org, id, p).await?)
}

// ---------- pages ----------

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub product_id: Option<String>,
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub warranty: Option<String>,
    pub page: Option<i64>,
}

/// The list filters as typed.
struct Filters {
    q: String,
    product_id: String,
    customer_id: String,
    status: String,
    warranty: String,
}

impl Filters {
    fn any(&self) -> bool {
        [
            &self.q,
            &self.product_id,
            &self.customer_id,
            &self.status,
            &self.warranty,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }
}

/// A unit as listed, with its warranty state on today's date.
struct Row {
    e: Equipment,
    in_warranty: bool,
}

#[derive(askama::Template)]
#[template(path = "archives/equipment_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    rows: Vec<Row>,
    pager: Pager,
    q: Filters,
    products: Vec<(i64, String)>,
    customers: Vec<(i64, String)>,
    statuses: Vec<&'static str>,
    can_edit: bool,
}

fn id_of(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

async fn list_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let today = today(&st, &ctx);
    let f = EquipmentFilter {
        q: q.q.clone(),
        product_id: id_of(&q.product_id),
        customer_id: id_of(&q.customer_id),
        status: q.status.clone(),
        warranty: q.warranty.as_deref().and_then(WarrantyState::parse),
        today: today.clone(),
    };
    let page = list_equipment(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let (products, customers) = {
        let org = ctx.org()?.id;
        let mut h = st.db.acquire().await?;
        (
            store::archives::products::choices(&mut h.c(), org).await?,
            store::archives::orders::customer_choices(&mut h.c(), org).await?,
        )
    };
    let s = Shell::load(&st, &ctx, &uri, "equipment.title").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        rows: page
            .items
            .into_iter()
            .map(|e| Row {
                in_warranty: in_warranty(e.warranty_end.as_deref(), &today),
                e,
            })
            .collect(),
        q: Filters {
            q: q.q.unwrap_or_default(),
            product_id: q.product_id.unwrap_or_default(),
            customer_id: q.customer_id.unwrap_or_default(),
            status: q.status.unwrap_or_default(),
            warranty: q.warranty.unwrap_or_default(),
        },
        products,
        customers,
        statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        can_edit: ctx.can(Permission::ManageArchives),
        s,
    })
}

/// What the unit form shows: the typed values.
#[derive(Default)]
struct Form {
    id: i64,
    version: i64,
    serial: String,
    product_id: String,
    customer_id: String,
    site_id: String,
    order_id: String,
    install_date: String,
    warranty_overridden: bool,
    warranty_end: String,
    contract_level: String,
    contract_start: String,
    contract_end: String,
    sla_profile: String,
}

#[derive(askama::Template)]
#[template(path = "archives/equipment_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: Form,
    errs: Errs,
    banner: String,
    products: Vec<(i64, String)>,
    customers: Vec<(i64, String)>,
    sites: Vec<(i64, String)>,
    orders: Vec<(i64, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: Form,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let (products, customers, sites, orders) = {
        let mut h = st.db.acquire().await?;
        (
            store::archives::products::choices(&mut h.c(), org).await?,
            store::archives::orders::customer_choices(&mut h.c(), org).await?,
            repo::site_choices(&mut h.c(), org).await?,
            store::archives::orders::choices(&mut h.c(), org).await?,
        )
    };
    let title = if v.id == 0 {
        "equipment.new"
    } else {
        "equipment.edit"
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
            products,
            customers,
            sites,
            orders,
        },
    )
}

/// Query of the new-unit page (prefill from a customer, product or order page).
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub customer_id: Option<String>,
    pub product_id: Option<String>,
    pub order_id: Option<String>,
}

async fn new_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    let v = Form {
        customer_id: q.customer_id.unwrap_or_default(),
        product_id: q.product_id.unwrap_or_default(),
        order_id: q.order_id.unwrap_or_default(),
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

fn id_text(v: Option<i64>) -> String {
    v.map(|i| i.to_string()).unwrap_or_default()
}

async fn edit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let e = get_equipment(&st, &ctx, id).await?;
    let v = Form {
        id: e.id,
        version: e.version,
        serial: e.serial,
        product_id: e.product_id.to_string(),
        customer_id: e.customer_id.to_string(),
        site_id: id_text(e.site_id),
        order_id: id_text(e.order_id),
        install_date: e.install_date.unwrap_or_default(),
        warranty_overridden: e.warranty_overridden,
        warranty_end: if e.warranty_overridden {
            e.warranty_end.unwrap_or_default()
        } else {
            String::new()
        },
        contract_level: e.contract_level.unwrap_or_default(),
        contract_start: e.contract_start.unwrap_or_default(),
        contract_end: e.contract_end.unwrap_or_default(),
        sla_profile: e.sla_profile.unwrap_or_default(),
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

fn draft(f: &FormData) -> Result<EquipmentDraft, domain::DomainError> {
    let mut errs = FieldErrors::default();
    let product_id = parse_opt_id(&mut errs, "product_id", f.opt("product_id"));
    let customer_id = parse_opt_id(&mut errs, "customer_id", f.opt("customer_id"));
    let site_id = parse_opt_id(&mut errs, "site_id", f.opt("site_id"));
    let order_id = parse_opt_id(&mut errs, "order_id", f.opt("order_id"));
    EquipmentDraft::parse(
        errs,
        EquipmentRaw {
            serial: f.get("serial"),
            product_id,
            customer_id,
            site_id,
            order_id,
            install_date: f.opt("install_date"),
            warranty_overridden: f.checked("warranty_overridden"),
            warranty_end: f.opt("warranty_end"),
            contract_level: f.opt("contract_level"),
            contract_start: f.opt("contract_start"),
            contract_end: f.opt("contract_end"),
            sla_profile: f.opt("sla_profile"),
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> Form {
    Form {
        id,
        version,
        serial: f.get("serial").into(),
        product_id: f.get("product_id").into(),
        customer_id: f.get("customer_id").into(),
        site_id: f.get("site_id").into(),
        order_id: f.get("order_id").into(),
        install_date: f.get("install_date").into(),
        warranty_overridden: f.checked("warranty_overridden"),
        warranty_end: f.get("warranty_end").into(),
        contract_level: f.get("contract_level").into(),
        contract_start: f.get("contract_start").into(),
        contract_end: f.get("contract_end").into(),
        sla_profile: f.get("sla_profile").into(),
    }
}

async fn create_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&f) {
        Ok(d) => create_equipment(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(e) => Ok(see_other(&format!(
            "/archives/equipment/{}?ok=created",
            e.id
        ))),
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

async fn update_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match draft(&f) {
        Ok(d) => update_equipment(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(e) => Ok(see_other(&format!("/archives/equipment/{}?ok=saved", e.id))),
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
            let cur = get_equipment(&st, &ctx, id).await?;
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

/// The reading form as typed.
#[derive(Default)]
struct ReadingForm {
    read_on: String,
    value: String,
    unit: String,
}

#[derive(askama::Template)]
#[template(path = "archives/equipment.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    e: Equipment,
    in_warranty: bool,
    readings: Vec<Reading>,
    readings_total: i64,
    rv: ReadingForm,
    errs: Errs,
    timeline: Timeline,
    customer_link: String,
    can_edit: bool,
    can_audit: bool,
}

async fn view(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    rv: ReadingForm,
    errs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    let e = get_equipment(st, ctx, id).await?;
    let readings = list_readings(st, ctx, id, PageReq::new(Some(1), Some(READINGS_SHOWN))).await?;
    let events = timeline(st, ctx, id, page_of(uri)).await?;
    let s = Shell::load(st, ctx, uri, "equipment.unit").await?;
    let today = today(st, ctx);
    render_status(
        status,
        &ViewPage {
            tr: ctx.tr,
            s,
            in_warranty: in_warranty(e.warranty_end.as_deref(), &today),
            customer_link: super::link("customer", e.customer_id),
            e,
            readings_total: readings.total,
            readings: readings.items,
            rv,
            errs,
            timeline: Timeline::new(&ctx.tr, uri, events),
            can_edit: ctx.can(Permission::ManageArchives),
            can_audit: ctx.can(Permission::ViewAudit),
        },
    )
}

async fn view_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let rv = ReadingForm {
        read_on: today(&st, &ctx),
        ..Default::default()
    };
    view(&st, &ctx, &uri, id, rv, Errs::default(), StatusCode::OK).await
}

async fn reading_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = match ReadingDraft::parse(
        FieldErrors::default(),
        f.get("read_on"),
        f.get("value"),
        f.get("unit"),
    ) {
        Ok(d) => add_reading(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/archives/equipment/{id}?ok=reading_added#readings"
        ))),
        Err(AppError::Invalid(e)) => {
            let rv = ReadingForm {
                read_on: f.get("read_on").into(),
                value: f.get("value").into(),
                unit: f.get("unit").into(),
            };
            view(
                &st,
                &ctx,
                &uri,
                id,
                rv,
                Errs::of(&ctx.tr, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn retire_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    set_equipment_status(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/archives/equipment/{id}?ok=retired")))
}

async fn restore_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    set_equipment_status(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/archives/equipment/{id}?ok=restored")))
}

// ---------- API ----------

/// Filters and paging of the equipment list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct ApiListQ {
    /// Substring of the serial number.
    pub q: Option<String>,
    pub product_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// `in_service` or `retired`.
    pub status: Option<String>,
    /// `active` (warranty end on or after today) or `expired`.
    pub warranty: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// Paging of readings and timeline.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct PageQ {
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// A unit as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EquipmentInput {
    /// Serial number (序列号), unique in the organization, no spaces.
    pub serial: String,
    pub product_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// A site of the same customer.
    pub site_id: Option<i64>,
    /// An order of the same customer.
    pub order_id: Option<i64>,
    /// YYYY-MM-DD.
    pub install_date: Option<String>,
    /// When true, `warranty_end` is taken as given; else it is computed from the product.
    #[serde(default)]
    pub warranty_overridden: bool,
    /// YYYY-MM-DD; used only when `warranty_overridden`.
    pub warranty_end: Option<String>,
    /// One of the product's contract levels.
    pub contract_level: Option<String>,
    pub contract_start: Option<String>,
    /// Not before `contract_start`.
    pub contract_end: Option<String>,
    pub sla_profile: Option<String>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl EquipmentInput {
    fn draft(&self) -> AppResult<EquipmentDraft> {
        Ok(EquipmentDraft::parse(
            FieldErrors::default(),
            EquipmentRaw {
                serial: &self.serial,
                product_id: self.product_id,
                customer_id: self.customer_id,
                site_id: self.site_id,
                order_id: self.order_id,
                install_date: self.install_date.as_deref(),
                warranty_overridden: self.warranty_overridden,
                warranty_end: self.warranty_end.as_deref(),
                contract_level: self.contract_level.as_deref(),
                contract_start: self.contract_start.as_deref(),
                contract_end: self.contract_end.as_deref(),
                sla_profile: self.sla_profile.as_deref(),
            },
        )?)
    }
}

/// A meter reading as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadingInput {
    /// YYYY-MM-DD.
    pub read_on: String,
    /// Whole number ≥ 0, not below an earlier reading of the same unit.
    pub value: i64,
    /// Meter unit, e.g. `h` or `次`.
    pub unit: String,
}

fn version(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))
}

/// List installed units.
#[utoipa::path(get, path = "/api/v1/equipment", tag = "archives", params(ApiListQ),
    responses((status = 200, body = ListResponse<Equipment>)), security(("bearer" = [])))]
pub async fn api_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ApiListQ>,
) -> AppResult<Response> {
    let warranty = match q.warranty.as_deref().filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => Some(
            WarrantyState::parse(w)
                .ok_or_else(|| AppError::Invalid(FieldErrors::single("warranty", "choice")))?,
        ),
    };
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty())
        && Status::parse(s).is_none()
    {
        return Err(AppError::Invalid(FieldErrors::single("status", "choice")));
    }
    let f = EquipmentFilter {
        q: q.q.clone(),
        product_id: q.product_id,
        customer_id: q.customer_id,
        status: q.status.clone(),
        warranty,
        today: today(&st, &ctx),
    };
    let p = list_equipment(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Record an installed unit (422 with `serial: taken` for a duplicate serial).
#[utoipa::path(post, path = "/api/v1/equipment", tag = "archives", request_body = EquipmentInput,
    responses((status = 201, body = Equipment), (status = 422, description = "invalid fields")), security(("bearer" = [])))]
pub async fn api_create(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<EquipmentInput>,
) -> AppResult<Response> {
    let e = create_equipment(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(e)).into_response())
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/equipment/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 200, body = Equipment), (status = 404)), security(("bearer" = [])))]
pub async fn api_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(get_equipment(&st, &ctx, id).await?).into_response())
}

/// Update a unit (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/equipment/{id}", tag = "archives", params(("id" = i64, Path)), request_body = EquipmentInput,
    responses((status = 200, body = Equipment), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn api_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<EquipmentInput>,
) -> AppResult<Response> {
    let e = update_equipment(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(e).into_response())
}

/// Retire a unit (status `retired`).
#[utoipa::path(post, path = "/api/v1/equipment/{id}/retire", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Equipment), (status = 409)), security(("bearer" = [])))]
pub async fn api_retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(set_equipment_status(&st, &ctx, id, b.version, true).await?).into_response())
}

/// Put a retired unit back in service.
#[utoipa::path(post, path = "/api/v1/equipment/{id}/restore", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Equipment), (status = 409)), security(("bearer" = [])))]
pub async fn api_restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(set_equipment_status(&st, &ctx, id, b.version, false).await?).into_response())
}

/// A unit's meter readings, newest first.
#[utoipa::path(get, path = "/api/v1/equipment/{id}/readings", tag = "archives", params(("id" = i64, Path), PageQ),
    responses((status = 200, body = ListResponse<Reading>), (status = 404)), security(("bearer" = [])))]
pub async fn api_readings(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQ>,
) -> AppResult<Response> {
    let p = list_readings(&st, &ctx, id, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Add a meter reading (422 with `value: meter_decrease` when below an earlier reading).
#[utoipa::path(post, path = "/api/v1/equipment/{id}/readings", tag = "archives", params(("id" = i64, Path)), request_body = ReadingInput,
    responses((status = 201, body = Reading), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn api_add_reading(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReadingInput>,
) -> AppResult<Response> {
    let d = ReadingDraft::parse(
        FieldErrors::default(),
        &b.read_on,
        &b.value.to_string(),
        &b.unit,
    )?;
    let r = add_reading(&st, &ctx, id, d).await?;
    Ok((StatusCode::CREATED, axum::Json(r)).into_response())
}

/// A unit's timeline (install, service events…), newest first.
#[utoipa::path(get, path = "/api/v1/equipment/{id}/timeline", tag = "archives", params(("id" = i64, Path), PageQ),
    responses((status = 200, body = ListResponse<Event>), (status = 404)), security(("bearer" = [])))]
pub async fn api_timeline(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQ>,
) -> AppResult<Response> {
    let p = timeline(&st, &ctx, id, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}
