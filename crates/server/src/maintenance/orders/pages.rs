//! HTML pages of service orders: the list with its views (mine, open, overdue, all) and
//! filters, the new-order form, the detail page with a form for each move the state allows,
//! and the phone work page (/service-orders/{id}/work): the nested checklist by group, the
//! work fields, parts used, one-step repair orders from failed items, completion and the
//! customer's sign-off. A refused form re-renders with everything typed (422 / 409).

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::orders::{format_fen, parse_yuan};
use domain::auth::Permission;
use domain::maintenance::orders::{
    Acceptance, Appointment, Kind, OrderDraft, OrderRaw, Status, Work, WorkRaw, cancel_reason,
};
use domain::org::parse_opt_id;
use serde::Deserialize;
use store::PageReq;
use store::maintenance::orders::{Filter, ItemResult, OrderRow, Sort};

use super::service::{self, Detail, PartUse, RawAnswer, Step, WorkInput};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::complaints::pages::parse_local_time;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::maintenance::checklists::service::EffectiveItem;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Page routes of service orders.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/service-orders", get(list).post(create))
        .route("/service-orders/new", get(new))
        .route("/service-orders/{id}", get(view))
        .route("/service-orders/{id}/act/{action}", post(act))
        .route("/service-orders/{id}/work", get(work).post(save_work))
        .route("/service-orders/{id}/items/{item}/repair", post(repair))
        .route("/service-orders/{id}/signature.png", get(signature))
}

// ---------- list ----------

/// Query of the list page (shared with the API).
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub engineer_id: Option<String>,
    pub customer_id: Option<String>,
    pub equipment_id: Option<String>,
    pub plan_id: Option<String>,
    pub overdue: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    /// all, mine, open, overdue.
    pub view: Option<String>,
    pub page: Option<i64>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn id_of(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

/// The SQL filter of a list query for the signed-in user.
pub async fn filter_of(st: &AppState, ctx: &Ctx, q: &ListQ) -> AppResult<Filter> {
    let org = ctx.require(Permission::ViewService)?.id;
    let cal = {
        let mut h = st.db.acquire().await?;
        crate::complaints::sla::calendar(&mut h.c(), org).await?
    };
    let today = cal.local_date(st.now());
    // The range includes the `to` day.
    let day = |v: &Option<String>, next: bool| -> Option<(String, i64)> {
        let d = nonempty(v)?;
        let t = cal.local_instant(&d, 0)?;
        if next {
            Some((cal.local_date(t + 86_400), t + 86_400))
        } else {
            Some((d, t))
        }
    };
    let view = q.view.as_deref().unwrap_or("all");
    Ok(Filter {
        statuses: nonempty(&q.status).into_iter().collect(),
        open: view == "open",
        kind: nonempty(&q.kind),
        engineer_id: if view == "mine" {
            Some(ctx.user_id)
        } else {
            id_of(&q.engineer_id)
        },
        customer_id: id_of(&q.customer_id),
        equipment_id: id_of(&q.equipment_id),
        plan_id: id_of(&q.plan_id),
        overdue_before: (view == "overdue" || q.overdue.is_some()).then_some(today),
        from: day(&q.from, false),
        to: day(&q.to, true),
        q: nonempty(&q.q),
        sort: Sort::parse(q.sort.as_deref().unwrap_or("")),
    })
}

#[derive(askama::Template)]
#[template(path = "maintenance/order_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<OrderRow>,
    pager: Pager,
    q: ListQ,
    view: String,
    statuses: Vec<&'static str>,
    kinds: Vec<&'static str>,
    engineers: Vec<(i64, String, String)>,
    sorts: Vec<&'static str>,
    today: String,
    can_create: bool,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn overdue(&self, o: &OrderRow) -> bool {
        Status::parse(&o.status).is_some_and(Status::open)
            && o.due_date
                .as_deref()
                .is_some_and(|d| d < self.today.as_str())
    }
}

async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let f = filter_of(&st, &ctx, &q).await?;
    let org = ctx.org()?.id;
    let page = service::list(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let engineers = service::engineers(&st, org).await?;
    let today = service::today(&st, org).await?;
    let s = Shell::load(&st, &ctx, &uri, "service_orders.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        view: q.view.clone().unwrap_or_else(|| "all".into()),
        q,
        statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
        engineers,
        sorts: vec!["newest", "oldest", "due", "appointment", "number"],
        today,
        can_create: ctx.can(Permission::WorkOrders),
        s,
    })
}

// ---------- new order ----------

/// What the new-order form shows: the typed values.
#[derive(Default, Clone)]
struct NewForm {
    kind: String,
    serial: String,
    equipment_id: String,
    customer_id: String,
    /// Shown beside the hidden customer / unit ids picked from their pages.
    picked: String,
    site: String,
    template_id: String,
    due_date: String,
    symptom: String,
    reported_at: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/order_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: NewForm,
    errs: Errs,
    kinds: Vec<&'static str>,
    templates: Vec<(i64, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: NewForm,
    errs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let templates = {
        let mut h = st.db.acquire().await?;
        store::maintenance::checklists::templates(&mut h.c(), org, false)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    let s = Shell::load(st, ctx, uri, "service_orders.new").await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
            templates,
        },
    )
}

/// Query of the new form: pre-filled from a customer or unit page.
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub kind: Option<String>,
}

async fn new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::WorkOrders)?.id;
    let mut v = NewForm {
        kind: q
            .kind
            .filter(|k| Kind::parse(k).is_some())
            .unwrap_or_else(|| "repair".into()),
        ..Default::default()
    };
    let mut h = st.db.acquire().await?;
    if let Some(id) = q.equipment_id
        && let Ok(e) = store::archives::equipment::get(&mut h.c(), org, id).await
    {
        v.equipment_id = id.to_string();
        v.serial = e.serial.clone();
        v.picked = format!("{} · {} · {}", e.serial, e.model, e.customer_name);
    } else if let Some(id) = q.customer_id
        && let Ok(c) = store::archives::customers::get_customer(&mut h.c(), org, id).await
    {
        v.customer_id = id.to_string();
        v.picked = c.name;
    }
    drop(h);
    form(&st, &ctx, &uri, v, Errs::default(), StatusCode::OK).await
}

fn new_typed(f: &FormData) -> NewForm {
    let g = |k: &str| f.get(k).to_string();
    NewForm {
        kind: g("kind"),
        serial: g("serial"),
        equipment_id: g("equipment_id"),
        customer_id: g("customer_id"),
        picked: g("picked"),
        site: g("site"),
        template_id: g("template_id"),
        due_date: g("due_date"),
        symptom: g("symptom"),
        reported_at: g("reported_at"),
    }
}

fn new_draft(f: &FormData, offset: i32) -> AppResult<OrderDraft> {
    let mut errs = FieldErrors::default();
    let equipment_id = parse_opt_id(&mut errs, "equipment_id", f.opt("equipment_id"));
    let customer_id = parse_opt_id(&mut errs, "customer_id", f.opt("customer_id"));
    let template_id = parse_opt_id(&mut errs, "template_id", f.opt("template_id"));
    let reported_at = parse_local_time(&mut errs, "reported_at", f.opt("reported_at"), offset);
    // A typed serial that differs from the picked unit's wins.
    let serial = f.opt("serial").map(str::trim).filter(|s| !s.is_empty());
    let picked_serial = f.opt("picked").unwrap_or("");
    let equipment_id = match serial {
        Some(s) if !picked_serial.starts_with(s) => None,
        _ => equipment_id,
    };
    Ok(OrderDraft::parse(
        errs,
        OrderRaw {
            kind: f.opt("kind"),
            equipment_id,
            serial,
            customer_id,
            site: f.opt("site"),
            template_id,
            due_date: f.opt("due_date"),
            symptom: f.opt("symptom"),
            reported_at,
        },
    )?)
}

async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::WorkOrders)?;
    let res = match new_draft(&f, ctx.tr.offset_min) {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(o) => Ok(see_other(&format!(
            "/service-orders/{}?ok=so_created",
            o.id
        ))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                &st,
                &ctx,
                &uri,
                new_typed(&f),
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------- detail ----------

/// The form of one move, re-shown after a refusal.
#[derive(Default)]
struct Open {
    action: String,
    errs: Errs,
    typed: HashMap<String, String>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/order_detail.html")]
struct DetailPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    open: Open,
    banner: String,
    engineers: Vec<(i64, String, String)>,
    can_work: bool,
    /// Now as a datetime-local value.
    now_local: String,
    /// Photos and signed forms (the shared attachments block).
    att: crate::complaints::attachments::AttachmentsBlock,
}

/// Formats of the detail and work pages.
trait Show {
    fn tr(&self) -> &Tr;
    fn money(&self, fen: &i64) -> String {
        format_fen(*fen)
    }
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn num(&self, v: &Option<i64>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    fn when(&self, v: &Option<i64>) -> String {
        self.tr().time_opt(*v)
    }
}

impl Show for DetailPage {
    fn tr(&self) -> &Tr {
        &self.tr
    }
}

impl DetailPage {
    /// The typed value of a field of the open form, else the default.
    fn v(&self, action: &str, field: &str, default: impl AsRef<str>) -> String {
        if self.open.action == action
            && let Some(v) = self.open.typed.get(field)
        {
            return v.clone();
        }
        default.as_ref().to_string()
    }
    fn err(&self, action: &str, field: &str) -> &str {
        if self.open.action == action {
            self.open.errs.msg(field)
        } else {
            ""
        }
    }
    fn is_open(&self, action: &str) -> bool {
        self.open.action == action
    }
    fn result_text(&self, i: &EffectiveItem) -> String {
        result_text(&self.tr, i, self.d.result(i.id))
    }
    fn outcome_class(&self, item: &i64) -> &'static str {
        outcome_class(self.d.result(*item))
    }
    fn local(&self, t: &Option<i64>) -> String {
        t.map(|t| local_input(&self.tr, t)).unwrap_or_default()
    }
    /// A sign-off field (the accept move's form).
    fn sv(&self, field: &str, default: impl AsRef<str>) -> String {
        self.v("accept", field, default)
    }
    fn serr(&self, field: &str) -> &str {
        self.err("accept", field)
    }
}

/// The CSS class of an item's outcome.
fn outcome_class(r: Option<&ItemResult>) -> &'static str {
    match r.and_then(|r| r.outcome.as_deref()) {
        Some("pass") => "ck-pass",
        Some("fail") => "ck-fail",
        Some("na") => "ck-na",
        _ => "ck-open",
    }
}

/// An item's result as one line: "合格", "不合格 0.3 MΩ", the note.
pub fn result_text(tr: &Tr, i: &EffectiveItem, r: Option<&ItemResult>) -> String {
    let Some(r) = r else {
        return String::new();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(o) = &r.outcome {
        parts.push(tr.tk("checklist.outcome", o));
    }
    if let Some(v) = r.value {
        parts.push(format!(
            "{v}{}",
            i.unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
    }
    if let Some(n) = &r.note {
        parts.push(n.clone());
    }
    parts.join(" · ")
}

/// A time as a datetime-local value in the reader's offset.
fn local_input(tr: &Tr, t: i64) -> String {
    tr.time(t).replacen(' ', "T", 1)
}

#[allow(clippy::too_many_arguments)]
async fn detail_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    open: Open,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let d = service::detail(st, ctx, id).await?;
    let org = ctx.org()?.id;
    let engineers = service::engineers(st, org).await?;
    let att =
        crate::complaints::attachments::AttachmentsBlock::load(st, ctx, uri, "service_order", id)
            .await?;
    let s = Shell::load(st, ctx, uri, "service_orders.detail").await?;
    render_status(
        status,
        &DetailPage {
            now_local: local_input(&ctx.tr, st.now()),
            tr: ctx.tr,
            s,
            d,
            open,
            banner,
            engineers,
            can_work: ctx.can(Permission::WorkOrders),
            att,
        },
    )
}

async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    detail_page(
        &st,
        &ctx,
        &uri,
        id,
        Open::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

fn note(f: &FormData, field: &str) -> Option<String> {
    f.opt(field)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(1000).collect())
}

/// Parses the form of a move.
fn step_of(action: &str, f: &FormData, offset: i32, now: i64) -> AppResult<Step> {
    Ok(match action {
        "schedule" => {
            let mut errs = FieldErrors::default();
            let start = parse_local_time(
                &mut errs,
                "scheduled_start",
                f.opt("scheduled_start"),
                offset,
            );
            let end = parse_local_time(&mut errs, "scheduled_end", f.opt("scheduled_end"), offset);
            Step::Schedule(Appointment::parse(errs, start, end)?)
        }
        "dispatch" => {
            let mut errs = FieldErrors::default();
            let e = parse_opt_id(&mut errs, "engineer_id", f.opt("engineer_id"));
            match e {
                Some(engineer_id) if errs.is_empty() => Step::Dispatch {
                    engineer_id,
                    note: note(f, "note"),
                },
                _ => {
                    return Err(AppError::Invalid(FieldErrors::single(
                        "engineer_id",
                        "required",
                    )));
                }
            }
        }
        "arrive" => {
            let mut errs = FieldErrors::default();
            let at = parse_local_time(&mut errs, "arrived_at", f.opt("arrived_at"), offset);
            if !errs.is_empty() {
                return Err(AppError::Invalid(errs));
            }
            Step::Arrive { at }
        }
        "complete" => Step::Complete {
            note: note(f, "note"),
        },
        "accept" => {
            let mut errs = FieldErrors::default();
            let at = parse_local_time(&mut errs, "accepted_at", f.opt("accepted_at"), offset);
            let rating = match f.opt("rating").map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(r) => match r.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        errs.add("rating", "so_rating", None);
                        None
                    }
                },
            };
            Step::Accept(Acceptance::parse(
                errs,
                f.get("accepted_by"),
                at,
                f.opt("signature"),
                rating,
                now,
            )?)
        }
        "close" => Step::Close {
            note: note(f, "note"),
        },
        "cancel" => Step::Cancel {
            reason: cancel_reason(f.opt("reason"))?,
        },
        _ => return Err(AppError::NotFound),
    })
}

/// The flash query after a move (written out so every message key is visible).
fn flash_query(action: &str) -> &'static str {
    match action {
        "schedule" => "?ok=so_schedule",
        "dispatch" => "?ok=so_dispatch",
        "arrive" => "?ok=so_arrive",
        "complete" => "?ok=so_complete",
        "accept" => "?ok=so_accept",
        "close" => "?ok=so_close",
        "cancel" => "?ok=so_cancel",
        _ => "?ok=so_saved",
    }
}

/// The banner and status of a refused request.
fn refusal(tr: &Tr, e: AppError) -> Result<(Errs, String, StatusCode), AppError> {
    Ok(match e {
        AppError::Invalid(fe) => (
            Errs::of(tr, &fe),
            tr.t("common.form_errors").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        AppError::Transition(t) => (
            Errs::default(),
            tr.t(&format!("transition.{t}")).to_string(),
            StatusCode::CONFLICT,
        ),
        AppError::StaleBy(by, at) => (
            Errs::default(),
            crate::app::stale_by(tr, &format!("{by}\u{1f}{at}")),
            StatusCode::CONFLICT,
        ),
        AppError::Stale => (
            Errs::default(),
            tr.t("error.stale").to_string(),
            StatusCode::CONFLICT,
        ),
        other => return Err(other),
    })
}

fn typed_of(f: &FormData) -> HashMap<String, String> {
    f.pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn act(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let back_work = f.get("back") == "work";
    let res = match step_of(&action, &f, ctx.tr.offset_min, st.now()) {
        Ok(step) => service::act(&st, &ctx, id, version, step).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(o) => {
            let page = if back_work { "/work" } else { "" };
            Ok(see_other(&format!(
                "/service-orders/{}{page}{}",
                o.id,
                flash_query(&action)
            )))
        }
        Err(e) => {
            let (errs, banner, status) = refusal(&ctx.tr, e)?;
            let open = Open {
                action: action.clone(),
                errs,
                typed: typed_of(&f),
            };
            if back_work {
                let w = WorkState {
                    banner,
                    open,
                    ..Default::default()
                };
                work_page(&st, &ctx, &uri, id, w, status).await
            } else {
                detail_page(&st, &ctx, &uri, id, open, banner, status).await
            }
        }
    }
}

async fn repair(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, item)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    match service::repair_from_item(&st, &ctx, id, item).await {
        Ok((o, true)) => Ok(see_other(&format!(
            "/service-orders/{}?ok=so_repair_opened",
            o.id
        ))),
        Ok((o, false)) => Ok(see_other(&format!(
            "/service-orders/{}?ok=so_repair_exists",
            o.id
        ))),
        Err(e) => {
            let (_, banner, status) = refusal(&ctx.tr, e)?;
            detail_page(&st, &ctx, &uri, id, Open::default(), banner, status).await
        }
    }
}

async fn signature(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let Some(png) = service::signature(&st, &ctx, id).await? else {
        return Err(AppError::NotFound);
    };
    let mut r = png.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

// ---------- the phone work page ----------

/// What the work page re-shows after a refused save or move.
#[derive(Default)]
struct WorkState {
    /// The typed form (None: show what is stored).
    typed: Option<HashMap<String, String>>,
    errs: Errs,
    banner: String,
    /// Highlight the required items still unanswered (after a refused completion).
    show_missing: bool,
    /// A refused move's form (sign-off).
    open: Open,
    /// The parts key of the form being re-shown (a new one otherwise).
    client_key: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/order_work.html")]
struct WorkPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    w: WorkState,
    can_work: bool,
    editable: bool,
    client_key: String,
    /// Parts on hand: (value "part:location", label).
    stock: Vec<(String, String)>,
    now_local: String,
    missing: HashSet<i64>,
}

impl Show for WorkPage {
    fn tr(&self) -> &Tr {
        &self.tr
    }
}

impl WorkPage {
    fn typed(&self, name: &str) -> Option<String> {
        self.w
            .typed
            .as_ref()
            .map(|t| t.get(name).cloned().unwrap_or_default())
    }
    fn outcome(&self, id: &i64) -> String {
        self.typed(&format!("r{id}_outcome")).unwrap_or_else(|| {
            self.d
                .result(*id)
                .and_then(|r| r.outcome.clone())
                .unwrap_or_default()
        })
    }
    fn value(&self, id: &i64) -> String {
        self.typed(&format!("r{id}_value")).unwrap_or_else(|| {
            self.d
                .result(*id)
                .and_then(|r| r.value)
                .map(|v| format!("{v}"))
                .unwrap_or_default()
        })
    }
    fn note(&self, id: &i64) -> String {
        self.typed(&format!("r{id}_note")).unwrap_or_else(|| {
            self.d
                .result(*id)
                .and_then(|r| r.note.clone())
                .unwrap_or_default()
        })
    }
    /// A work field: typed, else stored.
    fn field(&self, name: &str) -> String {
        if let Some(v) = self.typed(name) {
            return v;
        }
        let o = &self.d.order;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        match name {
            "symptom" => s(&o.symptom),
            "diagnosis" => s(&o.diagnosis),
            "cause" => s(&o.cause),
            "actions" => s(&o.actions),
            "labor_minutes" => self.num(&o.labor_minutes),
            "fee" => {
                if o.fee_fen == 0 {
                    String::new()
                } else {
                    format_fen(o.fee_fen)
                }
            }
            "part_qty" => "1".into(),
            _ => String::new(),
        }
    }
    fn err(&self, name: &str) -> &str {
        self.w.errs.msg(name)
    }
    fn item_err(&self, id: &i64, what: &str) -> &str {
        self.w.errs.msg(&format!("r{id}_{what}"))
    }
    fn is_missing(&self, id: &i64) -> bool {
        self.w.show_missing && self.missing.contains(id)
    }
    fn failed(&self, id: &i64) -> bool {
        self.d.failed.contains(id)
    }
    /// The repair order already opened for an item, if any.
    fn repair_of(&self, i: &EffectiveItem) -> Option<&OrderRow> {
        self.d
            .opened
            .iter()
            .find(|o| o.symptom.as_deref() == Some(i.text.as_str()))
    }
    fn answered(&self) -> usize {
        let total = self.d.checklist.as_ref().map(|c| c.len()).unwrap_or(0);
        total.saturating_sub(
            self.d
                .checklist
                .as_ref()
                .map(|c| {
                    c.items()
                        .filter(|i| {
                            !domain::maintenance::checklist::answered(
                                &i.rule(),
                                self.d.result(i.id).map(service::answer_of).as_ref(),
                            )
                        })
                        .count()
                })
                .unwrap_or(0),
        )
    }
    fn result_text(&self, i: &EffectiveItem) -> String {
        result_text(&self.tr, i, self.d.result(i.id))
    }
    fn outcome_class(&self, item: &i64) -> &'static str {
        outcome_class(self.d.result(*item))
    }
    /// A sign-off field: typed after a refusal, else the default.
    fn sv(&self, field: &str, default: impl AsRef<str>) -> String {
        if self.w.open.action == "accept"
            && let Some(v) = self.w.open.typed.get(field)
        {
            return v.clone();
        }
        default.as_ref().to_string()
    }
    fn serr(&self, field: &str) -> &str {
        if self.w.open.action == "accept" {
            self.w.open.errs.msg(field)
        } else {
            ""
        }
    }
}

async fn work_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    w: WorkState,
    status: StatusCode,
) -> AppResult<Response> {
    let d = service::detail(st, ctx, id).await?;
    let org = ctx.org()?.id;
    let stock = service::stock(st, org)
        .await?
        .into_iter()
        .map(|(p, l, part, loc, qty)| (format!("{p}:{l}"), format!("{part} · {loc} ({qty})")))
        .collect();
    let editable = Status::parse(&d.order.status).is_some_and(Status::open);
    let missing = d.missing.iter().copied().collect();
    let client_key = w
        .client_key
        .clone()
        .unwrap_or_else(|| store::random_hex(12));
    let s = Shell::load(st, ctx, uri, "service_orders.work").await?;
    render_status(
        status,
        &WorkPage {
            now_local: local_input(&ctx.tr, st.now()),
            tr: ctx.tr,
            s,
            d,
            w,
            can_work: ctx.can(Permission::WorkOrders),
            editable,
            client_key,
            stock,
            missing,
        },
    )
}

async fn work(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    work_page(&st, &ctx, &uri, id, WorkState::default(), StatusCode::OK).await
}

/// The work fields and results of the work form.
fn work_input(f: &FormData) -> AppResult<WorkInput> {
    let mut errs = FieldErrors::default();
    let fee_fen = match f.opt("fee").map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(0),
        Some(y) => match parse_yuan(y) {
            Some(v) => Some(v),
            None => {
                errs.add("fee", "yuan", None);
                None
            }
        },
    };
    let work = Work::parse(
        errs,
        WorkRaw {
            symptom: f.opt("symptom"),
            diagnosis: f.opt("diagnosis"),
            cause: f.opt("cause"),
            actions: f.opt("actions"),
            labor_minutes: f.opt("labor_minutes"),
            fee_fen,
        },
    )?;
    // Every item on the page sends its marker field, so an item left empty is "unanswered".
    let answers = f
        .all("items")
        .into_iter()
        .filter_map(|s| s.parse::<i64>().ok())
        .map(|id| {
            let g = |w: &str| f.opt(&format!("r{id}_{w}")).map(String::from);
            RawAnswer {
                item_id: id,
                outcome: g("outcome"),
                value: g("value"),
                note: g("note"),
            }
        })
        .collect();
    Ok(WorkInput { work, answers })
}

fn part_of(f: &FormData) -> Result<Option<PartUse>, AppError> {
    let Some(pick) = f.opt("part_pick").map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let ids = pick
        .split_once(':')
        .and_then(|(p, l)| Some((p.parse::<i64>().ok()?, l.parse::<i64>().ok()?)));
    let Some((part_id, location_id)) = ids else {
        return Err(AppError::Invalid(FieldErrors::single(
            "part_pick",
            "choice",
        )));
    };
    let qty = match f.get("part_qty").trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            return Err(AppError::Invalid(FieldErrors::single(
                "part_qty",
                "quantity_positive",
            )));
        }
    };
    Ok(Some(PartUse {
        part_id,
        location_id,
        qty,
        client_key: f.get("client_key").to_string(),
    }))
}

async fn save_work(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::WorkOrders)?;
    let version = f.version()?;
    let refused = |e: AppError, show_missing: bool| -> Result<WorkState, AppError> {
        let (errs, banner, _) = refusal(&ctx.tr, e)?;
        Ok(WorkState {
            typed: Some(typed_of(&f)),
            errs,
            banner,
            show_missing,
            open: Open::default(),
            client_key: Some(f.get("client_key").to_string()),
        })
    };
    let status_of = |e: &AppError| e.status_code().0;
    // 1. the results and work fields
    let saved = match work_input(&f) {
        Ok(input) => service::save_work(&st, &ctx, id, version, input).await,
        Err(e) => Err(e),
    };
    let order = match saved {
        Ok(o) => o,
        Err(e) => {
            let code = status_of(&e);
            let w = refused(e, false)?;
            return work_page(&st, &ctx, &uri, id, w, code).await;
        }
    };
    // 2. a part used (a re-sent form finds its line and does nothing)
    let mut order = order;
    match part_of(&f) {
        Ok(Some(p)) => match service::add_part(&st, &ctx, id, p).await {
            Ok((o, _)) => order = o,
            Err(e) => {
                let code = status_of(&e);
                let w = refused(e, false)?;
                return work_page(&st, &ctx, &uri, id, w, code).await;
            }
        },
        Ok(None) => {}
        Err(e) => {
            let code = status_of(&e);
            let w = refused(e, false)?;
            return work_page(&st, &ctx, &uri, id, w, code).await;
        }
    }
    // 3. a repair order from a failed item
    if let Some(item) = f.opt("repair").and_then(|s| s.parse::<i64>().ok()) {
        return match service::repair_from_item(&st, &ctx, id, item).await {
            Ok((o, true)) => Ok(see_other(&format!(
                "/service-orders/{}?ok=so_repair_opened",
                o.id
            ))),
            Ok((o, false)) => Ok(see_other(&format!(
                "/service-orders/{}?ok=so_repair_exists",
                o.id
            ))),
            Err(e) => {
                let code = status_of(&e);
                let w = refused(e, false)?;
                work_page(&st, &ctx, &uri, id, w, code).await
            }
        };
    }
    // 4. completion
    if f.get("go") == "complete" {
        let note = note(&f, "complete_note");
        return match service::act(&st, &ctx, id, order.version, Step::Complete { note }).await {
            Ok(o) => Ok(see_other(&format!(
                "/service-orders/{}/work?ok=so_complete",
                o.id
            ))),
            Err(e) => {
                let code = status_of(&e);
                let mut w = refused(e, true)?;
                // The save went through: the form now carries the new version.
                w.client_key = None;
                work_page(&st, &ctx, &uri, id, w, code).await
            }
        };
    }
    Ok(see_other(&format!(
        "/service-orders/{}/work?ok=so_saved#save-bar",
        order.id
    )))
}
