//! Orders (订单档案) with their lines: service (permission, one transaction, audit, search
//! index, timeline event), HTML pages (lines edited as a small table of rows) and the JSON
//! API (lines inline, prices in integer fen).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::FieldErrors;
use domain::archives::equipment::unix_of_date;
use domain::archives::orders::{LineRaw, OrderDraft, OrderRaw, Price, format_fen};
use domain::auth::Permission;
use domain::org::parse_opt_id;
use serde::Deserialize;
use store::archives::orders::{
    self as repo, LineValues, Order, OrderFilter, OrderLine, OrderSummary, OrderValues,
};
use store::timeline::NewEvent;
use store::{Page, PageReq, Tx};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::api::{ApiJson, ListResponse};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::org::service::{Change, audit};
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Blank line rows offered by the order form.
pub const BLANK_ROWS: usize = 5;

/// Routes of this module (pages and API).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/archives/orders", get(list_page).post(create_page))
        .route("/archives/orders/new", get(new_page))
        .route("/archives/orders/{id}", get(view_page).post(update_page))
        .route("/archives/orders/{id}/edit", get(edit_page))
        .route("/api/v1/orders", get(api_list).post(api_create))
        .route("/api/v1/orders/{id}", get(api_get).put(api_update))
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_create, api_get, api_update),
    components(schemas(Order, OrderLine, OrderSummary, OrderInput, LineInput))
)]
pub struct Api;

// ---------- service ----------

/// Checks the references of an order and resolves its part numbers to product ids.
async fn check(
    tx: &mut Tx,
    org: i64,
    d: &OrderDraft,
    id: Option<i64>,
) -> AppResult<Vec<LineValues>> {
    let mut errs = FieldErrors::default();
    if repo::order_no_taken(&mut tx.c(), org, &d.order_no, id).await? {
        errs.add("order_no", "taken", None);
    }
    if repo::customer_name(&mut tx.c(), org, d.customer_id)
        .await?
        .is_none()
    {
        errs.add("customer_id", "choice", None);
    }
    let mut lines = Vec::with_capacity(d.lines.len());
    for l in &d.lines {
        match store::archives::products::product_id_by_part_no(&mut tx.c(), org, &l.part_no).await?
        {
            Some(product_id) => lines.push(LineValues {
                product_id,
                quantity: l.quantity,
                unit_price_fen: l.unit_price_fen,
            }),
            None => errs.add(
                &format!("lines.{}.part_no", l.index),
                "part_no_unknown",
                None,
            ),
        }
    }
    if errs.is_empty() {
        Ok(lines)
    } else {
        Err(AppError::Invalid(errs))
    }
}

fn values(d: &OrderDraft) -> OrderValues<'_> {
    OrderValues {
        order_no: &d.order_no,
        customer_id: d.customer_id,
        delivery_no: d.delivery_no.as_deref(),
        ship_date: d.ship_date.as_deref(),
        notes: d.notes.as_deref(),
    }
}

/// Writes the search document of an order: number, delivery number, customer, part numbers.
async fn index(tx: &mut Tx, org: i64, o: &Order) -> AppResult<()> {
    let title = format!("{} · {}", o.order_no, o.customer_name);
    let mut text = vec![
        o.order_no.as_str(),
        o.delivery_no.as_deref().unwrap_or(""),
        o.customer_name.as_str(),
    ];
    text.extend(o.lines.iter().map(|l| l.part_no.as_str()));
    store::search::upsert(&mut tx.c(), org, "order", o.id, &title, &text.join(" ")).await?;
    Ok(())
}

/// Re-indexes an order (after its customer or a product of its lines was renamed).
pub async fn reindex(tx: &mut Tx, org: i64, id: i64) -> AppResult<()> {
    let o = repo::get(&mut tx.c(), org, id).await?;
    index(tx, org, &o).await
}

/// The timeline event of an order: at its ship date (local midnight), else when created.
fn event<'a>(o: &'a Order, org: i64, offset_min: i32) -> NewEvent<'a> {
    NewEvent {
        org_id: org,
        customer_id: Some(o.customer_id),
        equipment_id: None,
        at: o
            .ship_date
            .as_deref()
            .and_then(|d| unix_of_date(d, offset_min))
            .unwrap_or(o.created_at),
        kind: "order",
        ref_id: o.id,
        summary: &o.order_no,
    }
}

/// Checks and inserts an order with its lines, audit row, search document and timeline
/// event inside `tx` (no commit): the import calls this for many rows in one transaction.
pub async fn insert_order(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    d: &OrderDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    let lines = check(tx, org, d, None).await?;
    let id = repo::insert(&mut tx.c(), org, &values(d), now).await?;
    repo::replace_lines(&mut tx.c(), org, id, &lines).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "order",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    index(tx, org, &after).await?;
    store::timeline::add(&mut tx.c(), &event(&after, org, ctx.tr.offset_min)).await?;
    Ok(id)
}

/// Creates an order.
pub async fn create_order(st: &AppState, ctx: &Ctx, d: OrderDraft) -> AppResult<Order> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_order(&mut tx, ctx, org, &d, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates an order read at `version`; its lines are replaced by the draft's.
pub async fn update_order(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: OrderDraft,
) -> AppResult<Order> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let lines = check(&mut tx, org, &d, Some(id)).await?;
    repo::update(&mut tx.c(), org, id, version, &values(&d), now).await?;
    repo::replace_lines(&mut tx.c(), org, id, &lines).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "order",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    index(&mut tx, org, &after).await?;
    store::timeline::replace(&mut tx.c(), &event(&after, org, ctx.tr.offset_min)).await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of orders.
pub async fn list_orders(
    st: &AppState,
    ctx: &Ctx,
    f: &OrderFilter,
    p: PageReq,
) -> AppResult<Page<OrderSummary>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One order with its lines.
pub async fn get_order(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Order> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

// ---------- pages ----------

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub customer_id: Option<String>,
    pub product_id: Option<String>,
    pub ship_from: Option<String>,
    pub ship_to: Option<String>,
    pub page: Option<i64>,
}

/// The list filters as typed.
struct Filters {
    q: String,
    customer_id: String,
    product_id: String,
    ship_from: String,
    ship_to: String,
}

impl Filters {
    fn any(&self) -> bool {
        [
            &self.q,
            &self.customer_id,
            &self.product_id,
            &self.ship_from,
            &self.ship_to,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }
}

/// An order as listed, with its total formatted.
struct Row {
    o: OrderSummary,
    total: String,
}

#[derive(askama::Template)]
#[template(path = "archives/orders.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    rows: Vec<Row>,
    pager: Pager,
    q: Filters,
    customers: Vec<(i64, String)>,
    products: Vec<(i64, String)>,
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
    let f = OrderFilter {
        q: q.q.clone(),
        customer_id: id_of(&q.customer_id),
        product_id: id_of(&q.product_id),
        ship_from: q.ship_from.clone(),
        ship_to: q.ship_to.clone(),
    };
    let page = list_orders(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let (customers, products) = {
        let org = ctx.org()?.id;
        let mut h = st.db.acquire().await?;
        (
            repo::customer_choices(&mut h.c(), org).await?,
            store::archives::products::choices(&mut h.c(), org).await?,
        )
    };
    let s = Shell::load(&st, &ctx, &uri, "orders.title").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        rows: page
            .items
            .into_iter()
            .map(|o| Row {
                total: format_fen(o.total_fen),
                o,
            })
            .collect(),
        q: Filters {
            q: q.q.unwrap_or_default(),
            customer_id: q.customer_id.unwrap_or_default(),
            product_id: q.product_id.unwrap_or_default(),
            ship_from: q.ship_from.unwrap_or_default(),
            ship_to: q.ship_to.unwrap_or_default(),
        },
        customers,
        products,
        can_edit: ctx.can(Permission::ManageArchives),
        s,
    })
}

/// One line row of the form, as typed, with its messages.
#[derive(Default)]
struct LineForm {
    part_no: String,
    quantity: String,
    unit_price: String,
    e_part_no: String,
    e_quantity: String,
    e_unit_price: String,
}

/// What the order form shows: the typed values.
#[derive(Default)]
struct Form {
    id: i64,
    version: i64,
    order_no: String,
    customer_id: String,
    delivery_no: String,
    ship_date: String,
    notes: String,
    lines: Vec<LineForm>,
}

#[derive(askama::Template)]
#[template(path = "archives/order_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: Form,
    errs: Errs,
    banner: String,
    customers: Vec<(i64, String)>,
    part_numbers: Vec<(String, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    mut v: Form,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let (customers, part_numbers) = {
        let mut h = st.db.acquire().await?;
        (
            repo::customer_choices(&mut h.c(), org).await?,
            store::archives::products::part_numbers(&mut h.c(), org).await?,
        )
    };
    for (i, l) in v.lines.iter_mut().enumerate() {
        l.e_part_no = errs.msg(&format!("lines.{i}.part_no")).to_string();
        l.e_quantity = errs.msg(&format!("lines.{i}.quantity")).to_string();
        l.e_unit_price = errs.msg(&format!("lines.{i}.unit_price")).to_string();
    }
    let title = if v.id == 0 {
        "orders.new"
    } else {
        "orders.edit"
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
            customers,
            part_numbers,
        },
    )
}

fn blank_rows(n: usize) -> impl Iterator<Item = LineForm> {
    (0..n).map(|_| LineForm::default())
}

/// Query of the new-order page (prefill the customer from the customer page).
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub customer_id: Option<String>,
}

async fn new_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    let v = Form {
        customer_id: q.customer_id.unwrap_or_default(),
        lines: blank_rows(BLANK_ROWS).collect(),
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

async fn edit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = get_order(&st, &ctx, id).await?;
    let mut lines: Vec<LineForm> = o
        .lines
        .iter()
        .map(|l| LineForm {
            part_no: l.part_no.clone(),
            quantity: l.quantity.to_string(),
            unit_price: format_fen(l.unit_price_fen),
            ..Default::default()
        })
        .collect();
    lines.extend(blank_rows(BLANK_ROWS));
    let v = Form {
        id: o.id,
        version: o.version,
        order_no: o.order_no,
        customer_id: o.customer_id.to_string(),
        delivery_no: o.delivery_no.unwrap_or_default(),
        ship_date: o.ship_date.unwrap_or_default(),
        notes: o.notes.unwrap_or_default(),
        lines,
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

/// The line rows of a submitted form: `lines.{i}.part_no|quantity|unit_price`, in order.
fn typed_lines(f: &FormData) -> Vec<(&str, &str, &str)> {
    let mut out = Vec::new();
    for i in 0..domain::archives::orders::MAX_LINES + BLANK_ROWS {
        let p = f.opt(&format!("lines.{i}.part_no"));
        let q = f.opt(&format!("lines.{i}.quantity"));
        let u = f.opt(&format!("lines.{i}.unit_price"));
        if p.is_none() && q.is_none() && u.is_none() {
            break;
        }
        out.push((p.unwrap_or(""), q.unwrap_or(""), u.unwrap_or("")));
    }
    out
}

fn draft(f: &FormData) -> Result<OrderDraft, domain::DomainError> {
    let mut errs = FieldErrors::default();
    let customer_id = parse_opt_id(&mut errs, "customer_id", f.opt("customer_id"));
    let lines = typed_lines(f)
        .into_iter()
        .map(|(p, q, u)| LineRaw {
            part_no: p,
            quantity: q,
            unit_price: Price::Yuan(u),
        })
        .collect();
    OrderDraft::parse(
        errs,
        OrderRaw {
            order_no: f.get("order_no"),
            customer_id,
            delivery_no: f.opt("delivery_no"),
            ship_date: f.opt("ship_date"),
            notes: f.opt("notes"),
            lines,
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> Form {
    let mut lines: Vec<LineForm> = typed_lines(f)
        .into_iter()
        .map(|(p, q, u)| LineForm {
            part_no: p.into(),
            quantity: q.into(),
            unit_price: u.into(),
            ..Default::default()
        })
        .collect();
    if lines.is_empty() {
        lines.extend(blank_rows(BLANK_ROWS));
    }
    Form {
        id,
        version,
        order_no: f.get("order_no").into(),
        customer_id: f.get("customer_id").into(),
        delivery_no: f.get("delivery_no").into(),
        ship_date: f.get("ship_date").into(),
        notes: f.get("notes").into(),
        lines,
    }
}

async fn create_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&f) {
        Ok(d) => create_order(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(o) => Ok(see_other(&format!("/archives/orders/{}?ok=created", o.id))),
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
        Ok(d) => update_order(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(o) => Ok(see_other(&format!("/archives/orders/{}?ok=saved", o.id))),
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
            let cur = get_order(&st, &ctx, id).await?;
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

/// A line as shown, with money formatted.
struct LineView {
    l: OrderLine,
    unit_price: String,
    amount: String,
}

#[derive(askama::Template)]
#[template(path = "archives/order.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    o: Order,
    lines: Vec<LineView>,
    total: String,
    customer_link: String,
    can_edit: bool,
    can_audit: bool,
}

async fn view_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = get_order(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "orders.order").await?;
    let lines = o
        .lines
        .iter()
        .map(|l| LineView {
            unit_price: format_fen(l.unit_price_fen),
            amount: format_fen(l.amount_fen),
            l: l.clone(),
        })
        .collect();
    render(&ViewPage {
        tr: ctx.tr,
        s,
        lines,
        total: format_fen(o.total_fen),
        customer_link: super::link("customer", o.customer_id),
        o,
        can_edit: ctx.can(Permission::ManageArchives),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

// ---------- API ----------

/// Filters and paging of the order list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct ApiListQ {
    /// Substring of the order or delivery number.
    pub q: Option<String>,
    /// Only this customer's orders.
    pub customer_id: Option<i64>,
    /// Only orders with a line of this product.
    pub product_id: Option<i64>,
    /// Ship date on or after (YYYY-MM-DD).
    pub ship_from: Option<String>,
    /// Ship date on or before (YYYY-MM-DD).
    pub ship_to: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// One order line as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LineInput {
    /// Part number (料号) of an existing product.
    pub part_no: String,
    /// Whole number > 0.
    pub quantity: i64,
    /// Unit price in fen (分), ≥ 0.
    pub unit_price_fen: i64,
}

/// An order as written. Field errors on lines are named `lines.{index}.{field}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderInput {
    /// Order number (订单编号), unique in the organization.
    pub order_no: String,
    pub customer_id: Option<i64>,
    /// Delivery note number (交货单号).
    pub delivery_no: Option<String>,
    /// Ship date (交运日期), YYYY-MM-DD.
    pub ship_date: Option<String>,
    pub notes: Option<String>,
    /// At least one line; the lines replace the order's lines on update.
    #[serde(default)]
    pub lines: Vec<LineInput>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl OrderInput {
    fn draft(&self) -> AppResult<OrderDraft> {
        let qty: Vec<String> = self.lines.iter().map(|l| l.quantity.to_string()).collect();
        let lines = self
            .lines
            .iter()
            .zip(&qty)
            .map(|(l, q)| LineRaw {
                part_no: &l.part_no,
                quantity: q,
                unit_price: Price::Fen(l.unit_price_fen),
            })
            .collect();
        Ok(OrderDraft::parse(
            FieldErrors::default(),
            OrderRaw {
                order_no: &self.order_no,
                customer_id: self.customer_id,
                delivery_no: self.delivery_no.as_deref(),
                ship_date: self.ship_date.as_deref(),
                notes: self.notes.as_deref(),
                lines,
            },
        )?)
    }
}

fn version(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))
}

/// List orders (lines counted and summed, not inlined).
#[utoipa::path(get, path = "/api/v1/orders", tag = "archives", params(ApiListQ),
    responses((status = 200, body = ListResponse<OrderSummary>)), security(("bearer" = [])))]
pub async fn api_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ApiListQ>,
) -> AppResult<Response> {
    let f = OrderFilter {
        q: q.q.clone(),
        customer_id: q.customer_id,
        product_id: q.product_id,
        ship_from: q.ship_from.clone(),
        ship_to: q.ship_to.clone(),
    };
    let p = list_orders(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create an order with its lines (422 with `order_no: taken` for a duplicate number).
#[utoipa::path(post, path = "/api/v1/orders", tag = "archives", request_body = OrderInput,
    responses((status = 201, body = Order), (status = 422, description = "invalid fields")), security(("bearer" = [])))]
pub async fn api_create(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<OrderInput>,
) -> AppResult<Response> {
    let o = create_order(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(o)).into_response())
}

/// One order with its lines.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 200, body = Order), (status = 404)), security(("bearer" = [])))]
pub async fn api_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(get_order(&st, &ctx, id).await?).into_response())
}

/// Update an order and replace its lines (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/orders/{id}", tag = "archives", params(("id" = i64, Path)), request_body = OrderInput,
    responses((status = 200, body = Order), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn api_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<OrderInput>,
) -> AppResult<Response> {
    let o = update_order(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(o).into_response())
}
