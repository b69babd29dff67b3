//! HTML pages of complaints: the filtered list with its views (my department's tasks,
//! waiting for my approval, overdue), the registration form, the detail page with a form
//! for each move the state allows, approvals and department tasks. A refused move
//! re-renders the page with the typed input and the reasons (422 / 409).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::orders::{format_fen, parse_yuan};
use domain::auth::Permission;
use domain::complaints::draft::{
    Analysis, AnalysisRaw, Registration, RegistrationRaw, Remedy, RemedyRaw, step_text,
};
use domain::complaints::{Channel, Class, RemedyType, Responsibility};
use domain::org::parse_opt_id;
use serde::Deserialize;
use store::PageReq;
use store::complaints::steps::Task;
use store::complaints::{Complaint, ComplaintRow, Filter, Sort};

use super::attachments::AttachmentsBlock;
use super::service::{self, Detail, Step};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Page routes of complaints.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(list).post(create))
        .route("/complaints/new", get(new))
        .route("/complaints/tasks", get(tasks))
        .route("/complaints/tasks/{id}/done", post(task_done))
        .route("/complaints/{id}", get(view))
        .route("/complaints/{id}/edit", get(edit).post(update))
        .route("/complaints/{id}/act/{action}", post(act))
        .route("/complaints/{id}/approvals/{aid}", post(decide))
}

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub status: Option<String>,
    pub class: Option<String>,
    pub severity: Option<String>,
    pub department_id: Option<String>,
    pub customer_id: Option<String>,
    pub product_id: Option<String>,
    pub overdue: Option<String>,
    pub soon: Option<String>,
    pub repeat: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    /// all, tasks, approvals, overdue, open.
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

/// The SQL filter of a list query for the signed-in user (shared with the API), with the
/// access it was built for (the list reads with it: no second membership lookup).
pub async fn filter_of(
    st: &AppState,
    ctx: &Ctx,
    q: &ListQ,
) -> AppResult<(service::Access, Filter)> {
    let a = service::access(st, ctx, Permission::ViewComplaints).await?;
    // Dates are local to the organization's calendar, read only when a date is given.
    let cal = if nonempty(&q.from).is_some() || nonempty(&q.to).is_some() {
        let mut h = st.db.acquire().await?;
        Some(super::sla::calendar(&mut h.c(), a.org).await?)
    } else {
        None
    };
    // The range is inclusive of the `to` day: it ends at the next local midnight.
    let date = |v: &Option<String>, next: bool| -> Option<i64> {
        let t = cal.as_ref()?.local_instant(&nonempty(v)?, 0)?;
        Some(if next { t + 86_400 } else { t })
    };
    let view = q.view.as_deref().unwrap_or("all");
    let f = Filter {
        statuses: nonempty(&q.status).into_iter().collect(),
        open: view == "open",
        class: nonempty(&q.class),
        severity: nonempty(&q.severity),
        department_id: id_of(&q.department_id),
        customer_id: id_of(&q.customer_id),
        product_id: id_of(&q.product_id),
        overdue: q.overdue.is_some() || view == "overdue",
        breaching_soon: q.soon.is_some(),
        from: date(&q.from, false),
        to: date(&q.to, true),
        q: nonempty(&q.q),
        task_departments: (view == "tasks").then(|| a.departments.clone()),
        approver: (view == "approvals")
            .then(|| (a.role.as_str().to_string(), a.departments.clone())),
        repeat: q.repeat.is_some(),
        now: st.now(),
        sort: Sort::parse(q.sort.as_deref().unwrap_or("")),
    };
    Ok((a, f))
}

#[derive(askama::Template)]
#[template(path = "complaints/list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<ComplaintRow>,
    pager: Pager,
    q: ListQ,
    view: String,
    statuses: Vec<&'static str>,
    classes: Vec<&'static str>,
    severities: Vec<String>,
    departments: Vec<(i64, String)>,
    now: i64,
    can_register: bool,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn due_badge(&self, c: &ComplaintRow) -> &'static str {
        match (c.next_due, c.warn_at) {
            (Some(d), _) if d < self.now => "overdue",
            (_, Some(w)) if w <= self.now => "soon",
            _ => "",
        }
    }
}

async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let (a, f) = filter_of(&st, &ctx, &q).await?;
    let page = service::list(&st, &a, &f, PageReq::new(q.page, None)).await?;
    let org = ctx.org()?.id;
    let (severities, departments) = choices(&st, org).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaints.list").await?;
    let mut pager = Pager::new(&uri, &page);
    if store::complaints::has_more(&page) {
        // The list reads one row past the page instead of counting a million matches.
        pager.total_text = format!("{}+", page.page * page.per_page);
    }
    render(&ListPage {
        tr: ctx.tr,
        pager,
        items: page.items,
        view: q.view.clone().unwrap_or_else(|| "all".into()),
        q,
        statuses: domain::complaints::Status::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
        classes: Class::ALL.iter().map(|c| c.as_str()).collect(),
        severities,
        departments,
        now: st.now(),
        can_register: ctx.can(Permission::HandleComplaints),
        s,
    })
}

async fn choices(st: &AppState, org: i64) -> AppResult<(Vec<String>, Vec<(i64, String)>)> {
    let mut h = st.db.acquire().await?;
    let sev = store::complaints::settings::severities(&mut h.c(), org).await?;
    let deps = store::org::department_choices(&mut h.c(), org).await?;
    Ok((sev, deps))
}

/// What the registration form shows: the typed values.
#[derive(Default, Clone)]
struct RegForm {
    id: i64,
    version: i64,
    number: String,
    received_at: String,
    /// Picked from a customer or unit page (hidden fields).
    customer_id: String,
    equipment_id: String,
    channel: String,
    class: String,
    severity: String,
    fault_category: String,
    customer_name: String,
    contact_name: String,
    contact_phone: String,
    address: String,
    order_no: String,
    part_no: String,
    serial: String,
    batch_no: String,
    ship_date: String,
    quantity: String,
    defective_quantity: String,
    days_in_service: String,
    description: String,
    demand: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: RegForm,
    errs: Errs,
    banner: String,
    channels: Vec<&'static str>,
    classes: Vec<&'static str>,
    severities: Vec<String>,
}

impl FormPage {
    fn value(&self, name: &str) -> &str {
        let v = &self.v;
        match name {
            "customer_name" => &v.customer_name,
            "contact_name" => &v.contact_name,
            "contact_phone" => &v.contact_phone,
            "address" => &v.address,
            "order_no" => &v.order_no,
            "part_no" => &v.part_no,
            "serial" => &v.serial,
            "batch_no" => &v.batch_no,
            "ship_date" => &v.ship_date,
            "quantity" => &v.quantity,
            "defective_quantity" => &v.defective_quantity,
            "days_in_service" => &v.days_in_service,
            _ => "",
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: RegForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleComplaints)?.id;
    let title = if v.id == 0 {
        "complaints.new"
    } else {
        "complaints.edit"
    };
    let (severities, _) = choices(st, org).await?;
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            channels: Channel::ALL.iter().map(|c| c.as_str()).collect(),
            classes: Class::ALL.iter().map(|c| c.as_str()).collect(),
            severities,
        },
    )
}

/// Query of the new form: pre-filled from a customer, unit or order page.
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
}

async fn new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleComplaints)?.id;
    let mut v = RegForm {
        channel: "phone".into(),
        class: "quality".into(),
        severity: "minor".into(),
        ..Default::default()
    };
    let mut h = st.db.acquire().await?;
    if let Some(id) = q.equipment_id
        && let Ok(e) = store::archives::equipment::get(&mut h.c(), org, id).await
    {
        v.equipment_id = id.to_string();
        v.customer_id = e.customer_id.to_string();
        v.serial = e.serial;
        v.part_no = e.part_no;
        v.customer_name = e.customer_name;
        v.order_no = e.order_no.unwrap_or_default();
    }
    if let Some(id) = q.customer_id
        && let Ok(cu) = store::archives::customers::get_customer(&mut h.c(), org, id).await
    {
        v.customer_id = id.to_string();
        v.customer_name = cu.name;
    }
    drop(h);
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

fn reg_typed(f: &FormData, id: i64, version: i64) -> RegForm {
    let g = |k: &str| f.get(k).to_string();
    RegForm {
        id,
        version,
        number: String::new(),
        received_at: g("received_at"),
        customer_id: g("customer_id"),
        equipment_id: g("equipment_id"),
        channel: g("channel"),
        class: g("class"),
        severity: g("severity"),
        fault_category: g("fault_category"),
        customer_name: g("customer_name"),
        contact_name: g("contact_name"),
        contact_phone: g("contact_phone"),
        address: g("address"),
        order_no: g("order_no"),
        part_no: g("part_no"),
        serial: g("serial"),
        batch_no: g("batch_no"),
        ship_date: g("ship_date"),
        quantity: g("quantity"),
        defective_quantity: g("defective_quantity"),
        days_in_service: g("days_in_service"),
        description: g("description"),
        demand: g("demand"),
    }
}

/// Parses `YYYY-MM-DDTHH:MM` (a datetime-local input) in the organization's offset.
pub fn parse_local_time(
    errs: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    offset_min: i32,
) -> Option<i64> {
    let v = raw.map(str::trim).filter(|v| !v.is_empty())?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let fmt_s = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let t = time::PrimitiveDateTime::parse(v, fmt)
        .or_else(|_| time::PrimitiveDateTime::parse(v, fmt_s));
    match (t, time::UtcOffset::from_whole_seconds(offset_min * 60)) {
        (Ok(t), Ok(off)) => Some(t.assume_offset(off).unix_timestamp()),
        _ => {
            errs.add(field, "datetime", None);
            None
        }
    }
}

fn reg_draft(
    f: &FormData,
    severities: &[String],
    offset: i32,
) -> Result<(Registration, Option<i64>), FieldErrors> {
    let mut errs = FieldErrors::default();
    let received = parse_local_time(&mut errs, "received_at", f.opt("received_at"), offset);
    let customer_id = parse_opt_id(&mut errs, "customer_id", f.opt("customer_id"));
    let equipment_id = parse_opt_id(&mut errs, "equipment_id", f.opt("equipment_id"));
    let raw = RegistrationRaw {
        channel: f.opt("channel"),
        class: f.opt("class"),
        severity: f.opt("severity"),
        fault_category: f.opt("fault_category"),
        customer_id,
        customer_name: f.get("customer_name"),
        contact_name: f.opt("contact_name"),
        contact_phone: f.opt("contact_phone"),
        address: f.opt("address"),
        order_id: None,
        order_no: f.opt("order_no"),
        product_id: None,
        part_no: f.opt("part_no"),
        equipment_id,
        serial: f.opt("serial"),
        batch_no: f.opt("batch_no"),
        ship_date: f.opt("ship_date"),
        quantity: f.opt("quantity"),
        defective_quantity: f.opt("defective_quantity"),
        days_in_service: f.opt("days_in_service"),
        description: f.get("description"),
        demand: f.opt("demand"),
    };
    match Registration::parse(errs, raw, severities) {
        Ok(r) => Ok((r, received)),
        Err(domain::DomainError::Invalid(e)) => Err(e),
        Err(_) => Err(FieldErrors::default()),
    }
}

async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleComplaints)?.id;
    let (severities, _) = choices(&st, org).await?;
    let typed = reg_typed(&f, 0, 0);
    let res = match reg_draft(&f, &severities, ctx.tr.offset_min) {
        Ok((r, received)) => service::register(&st, &ctx, r, received).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match res {
        Ok(c) => Ok(see_other(&format!("/complaints/{}?ok=registered", c.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                &st,
                &ctx,
                &uri,
                typed,
                errs,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

fn reg_of(c: &Complaint) -> RegForm {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    RegForm {
        id: c.id,
        version: c.version,
        number: c.number.clone(),
        received_at: String::new(),
        customer_id: c.customer_id.map(|v| v.to_string()).unwrap_or_default(),
        equipment_id: c.equipment_id.map(|v| v.to_string()).unwrap_or_default(),
        channel: c.channel.clone(),
        class: c.class.clone(),
        severity: c.severity.clone(),
        fault_category: s(&c.fault_category),
        customer_name: c.customer_name.clone(),
        contact_name: s(&c.contact_name),
        contact_phone: s(&c.contact_phone),
        address: s(&c.address),
        order_no: s(&c.order_no),
        part_no: s(&c.part_no),
        serial: s(&c.serial),
        batch_no: s(&c.batch_no),
        ship_date: s(&c.ship_date),
        quantity: n(c.quantity),
        defective_quantity: n(c.defective_quantity),
        days_in_service: n(c.days_in_service),
        description: c.description.clone(),
        demand: s(&c.demand),
    }
}

async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Permission::HandleComplaints)?;
    let c = service::get(&st, &ctx, id).await?;
    form(
        &st,
        &ctx,
        &uri,
        reg_of(&c),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleComplaints)?.id;
    let version = f.version()?;
    let (severities, _) = choices(&st, org).await?;
    let mut typed = reg_typed(&f, id, version);
    let res = match reg_draft(&f, &severities, ctx.tr.offset_min) {
        Ok((r, _)) => service::edit_registration(&st, &ctx, id, version, r).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match res {
        Ok(c) => Ok(see_other(&format!("/complaints/{}?ok=saved", c.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                &st,
                &ctx,
                &uri,
                typed,
                errs,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ (AppError::Stale | AppError::StaleBy(..))) => {
            let banner = match &e {
                AppError::StaleBy(by, at) => {
                    crate::app::stale_by(&ctx.tr, &format!("{by}\u{1f}{at}"))
                }
                _ => ctx.tr.t("error.stale_form").to_string(),
            };
            let cur = service::get(&st, &ctx, id).await?;
            typed.version = cur.version;
            form(
                &st,
                &ctx,
                &uri,
                typed,
                Errs::default(),
                banner,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The form of one move, re-shown after a refusal.
#[derive(Default)]
struct Open {
    action: String,
    errs: Errs,
    typed: HashMap<String, String>,
}

#[derive(askama::Template)]
#[template(path = "complaints/detail.html")]
struct DetailPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    open: Open,
    banner: String,
    departments: Vec<(i64, String)>,
    classes: Vec<&'static str>,
    responsibilities: Vec<&'static str>,
    remedy_types: Vec<&'static str>,
    can_capa: bool,
    can_handle: bool,
    att: AttachmentsBlock,
}

impl DetailPage {
    /// The typed value of a field of the open form, else the stored default.
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
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn money(&self, fen: &Option<i64>) -> String {
        fen.map(format_fen).unwrap_or_default()
    }
    fn num(&self, v: &Option<i64>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    fn hours(&self, secs: impl std::borrow::Borrow<i64>) -> String {
        format!("{:.1}", *secs.borrow() as f64 / 3600.0)
    }
    /// The confirm form's fields: (name, label key, input type, stored value).
    fn confirm_fields(&self) -> Vec<(&'static str, &'static str, &'static str, String)> {
        let c = &self.d.complaint;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("order_no", "complaints.order_no", "text", s(&c.order_no)),
            ("part_no", "complaints.part_no", "text", s(&c.part_no)),
            ("ship_date", "complaints.ship_date", "date", s(&c.ship_date)),
            (
                "quantity",
                "complaints.quantity",
                "number",
                self.num(&c.quantity),
            ),
            (
                "defective_quantity",
                "complaints.defective_quantity",
                "number",
                self.num(&c.defective_quantity),
            ),
            ("demand", "complaints.demand", "text", s(&c.demand)),
        ]
    }
    /// The analysis form's text fields: (name, label key, stored value).
    fn analysis_fields(&self) -> Vec<(&'static str, &'static str, String)> {
        let c = &self.d.complaint;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            (
                "fault_category",
                "complaints.fault_category",
                s(&c.fault_category),
            ),
            (
                "investigation",
                "complaints.investigation",
                s(&c.investigation),
            ),
            ("cause", "complaints.cause", s(&c.cause)),
            (
                "inspection_result",
                "complaints.inspection_result",
                s(&c.inspection_result),
            ),
            (
                "inspection_basis",
                "complaints.inspection_basis",
                s(&c.inspection_basis),
            ),
        ]
    }
    /// The yes/no field of a verdict move.
    fn yn_field(&self, action: &str) -> &'static str {
        if action == "respond" {
            "accepted"
        } else {
            "satisfied"
        }
    }
    /// The free-text field of a move, or of the verdict moves.
    fn text_field(&self, action: &str) -> &'static str {
        match action {
            "explain" => "explanation",
            "progress" => "message",
            "complete" => "implementation",
            "withdraw" | "pause" => "reason",
            "respond" => "response",
            _ => "note",
        }
    }
    fn may_decide(&self, id: &i64) -> bool {
        self.d.my_approvals.contains(id)
    }
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
    // `detail` checks that the user may see the complaint; the blocks below rely on it.
    let d = service::detail(st, ctx, id).await?;
    let org = ctx.org()?.id;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let att = AttachmentsBlock::load_seen(st, ctx, uri, "complaint", id).await?;
    let s = Shell::load(st, ctx, uri, "complaints.detail").await?;
    render_status(
        status,
        &DetailPage {
            tr: ctx.tr,
            s,
            d,
            open,
            banner,
            departments,
            classes: Class::ALL.iter().map(|c| c.as_str()).collect(),
            responsibilities: Responsibility::ALL.iter().map(|c| c.as_str()).collect(),
            remedy_types: RemedyType::ALL.iter().map(|c| c.as_str()).collect(),
            can_capa: ctx.can(Permission::ManageCapa),
            can_handle: ctx.can(Permission::HandleComplaints),
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

fn text(f: &FormData, field: &str, needed: bool) -> Result<Option<String>, AppError> {
    Ok(step_text(field, f.opt(field), needed)?)
}

fn yes(f: &FormData, field: &str) -> Result<bool, AppError> {
    match f.get(field) {
        "yes" | "1" | "true" => Ok(true),
        "no" | "0" | "false" => Ok(false),
        "" => Err(AppError::Invalid(FieldErrors::single(field, "required"))),
        _ => Err(AppError::Invalid(FieldErrors::single(field, "choice"))),
    }
}

/// Parses the form of a move (shared with nothing: the API has its own JSON body).
fn step_of(action: &str, f: &FormData) -> Result<Step, AppError> {
    Ok(match action {
        "confirm" => Step::Confirm,
        "analyse" => {
            let mut errs = FieldErrors::default();
            let dep = parse_opt_id(
                &mut errs,
                "responsible_department_id",
                f.opt("responsible_department_id"),
            );
            Step::Analyse(Analysis::parse(
                errs,
                AnalysisRaw {
                    class: f.opt("class"),
                    responsibility: f.opt("responsibility"),
                    responsible_department_id: dep,
                    fault_category: f.opt("fault_category"),
                    investigation: f.opt("investigation"),
                    cause: f.opt("cause"),
                    inspection_result: f.opt("inspection_result"),
                    inspection_basis: f.opt("inspection_basis"),
                },
            )?)
        }
        "explain" => Step::Explain(text(f, "explanation", true)?.unwrap_or_default()),
        "respond" => {
            let accepted = yes(f, "accepted")?;
            Step::Respond {
                accepted,
                text: text(f, "response", true)?.unwrap_or_default(),
            }
        }
        "propose" => {
            let mut errs = FieldErrors::default();
            let amount = match f.opt("amount").map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(y) => match parse_yuan(y) {
                    Some(v) => Some(v),
                    None => {
                        errs.add("amount", "yuan", None);
                        None
                    }
                },
            };
            Step::Propose(Remedy::parse(
                errs,
                RemedyRaw {
                    remedy_type: f.opt("remedy_type"),
                    amount_fen: amount,
                    detail: f.opt("detail"),
                    proposed_by: f.opt("proposed_by"),
                    agreed_reply_date: f.opt("agreed_reply_date"),
                },
            )?)
        }
        "agree" => Step::Agree {
            note: text(f, "note", false)?,
        },
        "start" => Step::Start {
            note: text(f, "note", false)?,
        },
        "progress" => Step::Progress(text(f, "message", true)?.unwrap_or_default()),
        "complete" => Step::Complete(text(f, "implementation", true)?.unwrap_or_default()),
        "visit" => {
            let satisfied = yes(f, "satisfied")?;
            Step::Visit {
                satisfied,
                note: text(f, "note", !satisfied)?,
            }
        }
        "withdraw" => Step::Withdraw(text(f, "reason", true)?.unwrap_or_default()),
        "pause" => Step::Pause(text(f, "reason", true)?.unwrap_or_default()),
        "resume" => Step::Resume(text(f, "note", false)?),
        _ => return Err(AppError::NotFound),
    })
}

/// Fields the confirm form may fill in before confirming (the seed's six facts).
const CONFIRM_FIELDS: [&str; 6] = [
    "order_no",
    "part_no",
    "ship_date",
    "quantity",
    "defective_quantity",
    "demand",
];

/// Applies the confirm form's facts to the registration first, when any changed.
async fn confirm_facts(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    f: &FormData,
) -> AppResult<i64> {
    let c = service::get(&st.clone(), ctx, id).await?;
    let mut r = service::registration_of(&c);
    let mut errs = FieldErrors::default();
    let typed = |k: &str| {
        f.opt(k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let mut changed = false;
    for k in CONFIRM_FIELDS {
        let Some(v) = typed(k) else { continue };
        changed = true;
        match k {
            "order_no" => r.order_no = Some(v),
            "part_no" => r.part_no = Some(v),
            "ship_date" => {
                if !domain::org::valid_date(&v) {
                    errs.add(k, "date", None);
                }
                r.ship_date = Some(v)
            }
            "quantity" => r.quantity = domain::complaints::draft::count(&mut errs, k, Some(&v)),
            "defective_quantity" => {
                r.defective_quantity = domain::complaints::draft::count(&mut errs, k, Some(&v))
            }
            _ => r.demand = Some(v),
        }
    }
    if let (Some(q), Some(d)) = (r.quantity, r.defective_quantity)
        && d > q
    {
        errs.add("defective_quantity", "defective_over_quantity", None);
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    if !changed {
        return Ok(version);
    }
    Ok(service::edit_registration(st, ctx, id, version, r)
        .await?
        .version)
}

async fn act(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let res = async {
        let step = step_of(&action, &f)?;
        let version = if action == "confirm" {
            confirm_facts(&st, &ctx, id, version, &f).await?
        } else {
            version
        };
        service::act(&st, &ctx, id, version, step).await
    }
    .await;
    match res {
        Ok(c) => Ok(see_other(&format!(
            "/complaints/{}{}",
            c.id,
            flash_query(&action)
        ))),
        Err(e) => refused(&st, &ctx, &uri, id, &action, &f, e).await,
    }
}

/// The flash query after a move (written out so every message key is visible).
fn flash_query(action: &str) -> &'static str {
    match action {
        "confirm" => "?ok=confirm",
        "analyse" => "?ok=analyse",
        "explain" => "?ok=explain",
        "respond" => "?ok=respond",
        "propose" => "?ok=propose",
        "agree" => "?ok=agree",
        "start" => "?ok=start",
        "progress" => "?ok=progress",
        "complete" => "?ok=complete",
        "visit" => "?ok=visit",
        "withdraw" => "?ok=withdraw",
        "pause" => "?ok=pause",
        "resume" => "?ok=resume",
        _ => "?ok=saved",
    }
}

/// Re-renders the detail page after a refused move: field errors beside the open form
/// (422), a stale version or a forbidden move as a banner (409).
async fn refused(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    action: &str,
    f: &FormData,
    e: AppError,
) -> AppResult<Response> {
    let typed: HashMap<String, String> = f
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (errs, banner, status) = match e {
        AppError::Invalid(fe) => (
            Errs::of(&ctx.tr, &fe),
            ctx.tr.t("common.form_errors").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        AppError::Transition(t) => (
            Errs::default(),
            ctx.tr.t(&format!("transition.{t}")).to_string(),
            StatusCode::CONFLICT,
        ),
        AppError::StaleBy(by, at) => (
            Errs::default(),
            crate::app::stale_by(&ctx.tr, &format!("{by}\u{1f}{at}")),
            StatusCode::CONFLICT,
        ),
        AppError::Stale => (
            Errs::default(),
            ctx.tr.t("error.stale").to_string(),
            StatusCode::CONFLICT,
        ),
        other => return Err(other),
    };
    let open = Open {
        action: action.to_string(),
        errs,
        typed,
    };
    detail_page(st, ctx, uri, id, open, banner, status).await
}

async fn decide(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, aid)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    let approved = f.get("decision") == "approve";
    let comment = f.opt("comment").map(String::from);
    match service::decide(&st, &ctx, id, aid, approved, comment).await {
        Ok(c) => Ok(see_other(&format!(
            "/complaints/{}{}",
            c.id,
            if approved {
                "?ok=approved"
            } else {
                "?ok=rejected"
            }
        ))),
        Err(e) => refused(&st, &ctx, &uri, id, "decide", &f, e).await,
    }
}

#[derive(askama::Template)]
#[template(path = "complaints/tasks.html")]
struct TasksPage {
    s: Shell,
    tr: Tr,
    items: Vec<Task>,
}

async fn tasks(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let items = service::my_tasks(&st, &ctx, 200).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaints.my_tasks").await?;
    render(&TasksPage {
        tr: ctx.tr,
        s,
        items,
    })
}

async fn task_done(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let note = f
        .opt("note")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    let t = service::finish_task(&st, &ctx, id, note).await?;
    let back = if f.get("back") == "complaint" {
        format!("/complaints/{}?ok=task_done#tasks", t.complaint_id)
    } else {
        "/complaints/tasks?ok=task_done".to_string()
    };
    Ok(see_other(&back))
}
