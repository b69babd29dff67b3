//! HTML pages of return visits: the list (/visits) with its views (mine, due, overdue, done,
//! all) and filters, the visit page (/visits/{id}) with the return-visit record form,
//! reassignment and cancellation, the by-hand form (/visits/new) and the rules
//! (/visits/settings). A refused form re-renders with everything typed (422 / 409).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::org::parse_opt_id;
use domain::satisfaction::visits::{
    LowScoreAction, Method, Record, RecordRaw, Settings, SettingsRaw, Source, VisitStatus,
    cancel_reason,
};
use serde::Deserialize;
use store::PageReq;
use store::satisfaction::visits::{Filter, Visit, VisitSettings};

use super::service::{self, Detail, Manual};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::complaints::pages::parse_local_time;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Page routes of return visits.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(list).post(create))
        .route("/visits/new", get(new))
        .route("/visits/settings", get(settings).post(save_settings))
        .route("/visits/generate", post(generate))
        .route("/visits/{id}", get(view))
        .route("/visits/{id}/{action}", post(act))
}

// ---------- list ----------

/// Query of the list page (shared with the API).
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    /// all, mine, due, overdue, done.
    pub view: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
    pub assignee_id: Option<String>,
    pub customer_id: Option<String>,
    pub complaint_id: Option<String>,
    pub service_order_id: Option<String>,
    /// YYYY-MM.
    pub month: Option<String>,
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

fn valid_month(m: &str) -> bool {
    domain::satisfaction::visits::valid_date(&format!("{m}-01"))
}

/// The views of the list.
pub const VIEWS: [&str; 5] = ["mine", "due", "overdue", "done", "all"];

/// The SQL filter of a list query for the signed-in user.
pub async fn filter_of(st: &AppState, ctx: &Ctx, q: &ListQ) -> AppResult<Filter> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let today = service::today(st, org).await?;
    let mut f = Filter {
        statuses: nonempty(&q.status)
            .filter(|s| VisitStatus::parse(s).is_some())
            .into_iter()
            .collect(),
        source: nonempty(&q.source).filter(|s| Source::parse(s).is_some()),
        assignee_id: id_of(&q.assignee_id),
        customer_id: id_of(&q.customer_id),
        complaint_id: id_of(&q.complaint_id),
        service_order_id: id_of(&q.service_order_id),
        month: nonempty(&q.month).filter(|m| valid_month(m)),
        ..Default::default()
    };
    match q.view.as_deref().unwrap_or("all") {
        "mine" => {
            f.assignee_id = Some(ctx.user_id);
            f.statuses = vec![VisitStatus::Planned.as_str().into()];
        }
        "due" => f.due_by = Some(today),
        "overdue" => f.overdue_before = Some(today),
        "done" => {
            f.statuses = vec![VisitStatus::Done.as_str().into()];
            f.newest = true;
        }
        _ => {}
    }
    Ok(f)
}

#[derive(askama::Template)]
#[template(path = "satisfaction/visit_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Visit>,
    pager: Pager,
    q: ListQ,
    view: String,
    views: Vec<&'static str>,
    sources: Vec<&'static str>,
    statuses: Vec<&'static str>,
    assignees: Vec<(i64, String, String)>,
    today: String,
    mine: (i64, i64),
    can_create: bool,
    can_manage: bool,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn overdue(&self, v: &Visit) -> bool {
        v.status == "planned" && v.due_date.as_str() < self.today.as_str()
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
    let assignees = service::assignable(&st, org).await?;
    let today = service::today(&st, org).await?;
    let mine = service::my_counts(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "visits.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        view: q.view.clone().unwrap_or_else(|| "all".into()),
        q,
        views: VIEWS.to_vec(),
        sources: Source::ALL.iter().map(|s| s.as_str()).collect(),
        statuses: VisitStatus::ALL.iter().map(|s| s.as_str()).collect(),
        assignees,
        today,
        mine,
        can_create: ctx.can(Permission::HandleVisits),
        can_manage: ctx.can(Permission::ManageSurveys),
        s,
    })
}

async fn generate(State(st): State<AppState>, ctx: Ctx, _f: FormData) -> AppResult<Response> {
    service::generate_now(&st, &ctx).await?;
    Ok(see_other("/visits?view=all&ok=visits_generated"))
}

// ---------- new visit ----------

/// The typed values of the by-hand form.
#[derive(Default, Clone)]
struct NewForm {
    customer_id: String,
    customer_name: String,
    equipment_id: String,
    serial: String,
    service_order_id: String,
    order_number: String,
    complaint_id: String,
    complaint_number: String,
    assignee_id: String,
    due_date: String,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/visit_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: NewForm,
    errs: Errs,
    assignees: Vec<(i64, String, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: NewForm,
    errs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleVisits)?.id;
    let assignees = service::assignable(st, org).await?;
    let s = Shell::load(st, ctx, uri, "visits.new").await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            assignees,
        },
    )
}

/// Query of the by-hand form: pre-filled from a customer, unit, order or complaint page.
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub service_order_id: Option<i64>,
    pub complaint_id: Option<i64>,
}

async fn new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleVisits)?.id;
    let mut v = NewForm {
        assignee_id: ctx.user_id.to_string(),
        ..Default::default()
    };
    let mut h = st.db.acquire().await?;
    if let Some(id) = q.customer_id
        && let Ok(c) = store::archives::customers::get_customer(&mut h.c(), org, id).await
    {
        v.customer_id = id.to_string();
        v.customer_name = c.name;
    }
    if let Some(id) = q.equipment_id
        && let Ok(e) = store::archives::equipment::get(&mut h.c(), org, id).await
    {
        v.equipment_id = id.to_string();
        v.serial = e.serial;
    }
    if let Some(id) = q.service_order_id
        && let Ok(o) = store::maintenance::orders::get(&mut h.c(), org, id).await
    {
        v.service_order_id = id.to_string();
        v.order_number = o.number;
    }
    if let Some(id) = q.complaint_id
        && let Ok(k) = store::complaints::get(&mut h.c(), org, id).await
    {
        v.complaint_id = id.to_string();
        v.complaint_number = k.number;
    }
    drop(h);
    form(&st, &ctx, &uri, v, Errs::default(), StatusCode::OK).await
}

fn new_typed(f: &FormData) -> NewForm {
    let g = |k: &str| f.get(k).trim().to_string();
    NewForm {
        customer_id: g("customer_id"),
        customer_name: g("customer_name"),
        equipment_id: g("equipment_id"),
        serial: g("serial"),
        service_order_id: g("service_order_id"),
        order_number: g("order_number"),
        complaint_id: g("complaint_id"),
        complaint_number: g("complaint_number"),
        assignee_id: g("assignee_id"),
        due_date: g("due_date"),
    }
}

/// Resolves the typed names and numbers to ids (a picked id stays unless its text changed).
async fn manual_of(st: &AppState, org: i64, v: &NewForm) -> AppResult<Manual> {
    let mut errs = FieldErrors::default();
    let mut h = st.db.acquire().await?;
    let mut m = Manual {
        customer_id: parse_opt_id(&mut errs, "customer_name", Some(&v.customer_id)),
        equipment_id: parse_opt_id(&mut errs, "serial", Some(&v.equipment_id)),
        service_order_id: parse_opt_id(&mut errs, "order_number", Some(&v.service_order_id)),
        complaint_id: parse_opt_id(&mut errs, "complaint_number", Some(&v.complaint_id)),
        assignee_id: parse_opt_id(&mut errs, "assignee_id", Some(&v.assignee_id)),
        due_date: Some(v.due_date.clone()).filter(|d| !d.is_empty()),
    };
    if m.customer_id.is_none() && !v.customer_name.is_empty() {
        m.customer_id =
            store::archives::customers::customer_id_by_name(&mut h.c(), org, &v.customer_name)
                .await?;
        if m.customer_id.is_none() {
            errs.add("customer_name", "unknown", None);
        }
    }
    if m.equipment_id.is_none() && !v.serial.is_empty() {
        m.equipment_id = store::archives::lookup::equipment_by_serial(
            &mut h.c(),
            org,
            std::slice::from_ref(&v.serial),
        )
        .await?
        .first()
        .map(|x| x.1);
        if m.equipment_id.is_none() {
            errs.add("serial", "unknown", None);
        }
    }
    if m.service_order_id.is_none() && !v.order_number.is_empty() {
        m.service_order_id =
            store::satisfaction::visits::order_id_by_number(&mut h.c(), org, &v.order_number)
                .await?;
        if m.service_order_id.is_none() {
            errs.add("order_number", "unknown", None);
        }
    }
    if m.complaint_id.is_none() && !v.complaint_number.is_empty() {
        m.complaint_id = store::satisfaction::visits::complaint_id_by_number(
            &mut h.c(),
            org,
            &v.complaint_number,
        )
        .await?;
        if m.complaint_id.is_none() {
            errs.add("complaint_number", "unknown", None);
        }
    }
    // The form names its fields by what is typed; the service by ids.
    let m = Manual::check(errs, m)?;
    Ok(m)
}

/// The form field of a service field error.
fn form_field(f: &str) -> &str {
    match f {
        "customer_id" => "customer_name",
        "equipment_id" => "serial",
        "service_order_id" => "order_number",
        "complaint_id" => "complaint_number",
        other => other,
    }
}

async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let org = ctx.require(Permission::HandleVisits)?.id;
    let mut typed = new_typed(&f);
    // A picked record whose text was changed is typed anew.
    if f.get("picked_customer") != typed.customer_name {
        typed.customer_id.clear();
    }
    if f.get("picked_serial") != typed.serial {
        typed.equipment_id.clear();
    }
    if f.get("picked_order") != typed.order_number {
        typed.service_order_id.clear();
    }
    if f.get("picked_complaint") != typed.complaint_number {
        typed.complaint_id.clear();
    }
    let res = match manual_of(&st, org, &typed).await {
        Ok(m) => service::create(&st, &ctx, m).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(v) => Ok(see_other(&format!("/visits/{}?ok=visit_created", v.id))),
        Err(AppError::Invalid(fe)) => {
            let mut mapped = FieldErrors::default();
            for e in fe.0 {
                mapped.add(form_field(&e.field), e.code, e.arg);
            }
            let errs = Errs::of(&ctx.tr, &mapped);
            form(
                &st,
                &ctx,
                &uri,
                typed,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------- visit page ----------

/// The form of one move, re-shown after a refusal.
#[derive(Default)]
struct Open {
    action: String,
    errs: Errs,
    typed: HashMap<String, String>,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/visit_detail.html")]
struct DetailPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    open: Open,
    banner: String,
    assignees: Vec<(i64, String, String)>,
    methods: Vec<&'static str>,
    now_local: String,
    today: String,
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
        self.open.action == action || (self.open.action.is_empty() && action == "record")
    }
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn num(&self, v: &Option<i64>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    fn overdue(&self) -> bool {
        self.d.visit.status == "planned" && self.d.visit.due_date.as_str() < self.today.as_str()
    }
    fn score(&self) -> String {
        self.d
            .visit
            .response_score
            .map(|s| format!("{s:.1}"))
            .unwrap_or_default()
    }
}

/// A time as a datetime-local value in the reader's offset.
fn local_input(tr: &Tr, t: i64) -> String {
    tr.time(t).replacen(' ', "T", 1)
}

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
    let assignees = service::assignable(st, org).await?;
    let today = service::today(st, org).await?;
    let s = Shell::load(st, ctx, uri, "visits.detail").await?;
    render_status(
        status,
        &DetailPage {
            now_local: local_input(&ctx.tr, st.now()),
            tr: ctx.tr,
            s,
            d,
            open,
            banner,
            assignees,
            methods: Method::ALL.iter().map(|m| m.as_str()).collect(),
            today,
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

/// The flash query after a move (written out so every message key is visible).
fn flash_query(action: &str) -> &'static str {
    match action {
        "record" => "?ok=visit_recorded",
        "reassign" => "?ok=visit_reassigned",
        _ => "?ok=visit_cancelled",
    }
}

async fn act(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let res = match action.as_str() {
        "record" => {
            let low_rating = service::detail(&st, &ctx, id).await?.low_rating;
            let mut errs = FieldErrors::default();
            let at = parse_local_time(
                &mut errs,
                "visited_at",
                f.opt("visited_at"),
                ctx.tr.offset_min,
            );
            match Record::parse(
                errs,
                RecordRaw {
                    visited_at: at,
                    method: f.opt("method"),
                    rating: f.opt("rating"),
                    problem_category: f.opt("problem_category"),
                    customer_words: f.opt("customer_words"),
                    follow_up: f.opt("follow_up"),
                    satisfied: f.opt("satisfied"),
                },
                low_rating,
                st.now(),
            ) {
                Ok(r) => service::record(&st, &ctx, id, version, r).await,
                Err(e) => Err(e.into()),
            }
        }
        "reassign" => {
            let mut errs = FieldErrors::default();
            match parse_opt_id(&mut errs, "assignee_id", f.opt("assignee_id")) {
                Some(u) if errs.is_empty() => service::reassign(&st, &ctx, id, version, u).await,
                _ => Err(AppError::Invalid(FieldErrors::single(
                    "assignee_id",
                    "required",
                ))),
            }
        }
        "cancel" => match cancel_reason(f.opt("reason")) {
            Ok(reason) => service::cancel(&st, &ctx, id, version, reason).await,
            Err(e) => Err(e.into()),
        },
        _ => return Err(AppError::NotFound),
    };
    match res {
        Ok(v) => Ok(see_other(&format!(
            "/visits/{}{}",
            v.id,
            flash_query(&action)
        ))),
        Err(e) => {
            let (errs, banner, status) = refusal(&ctx.tr, e)?;
            let open = Open {
                action: action.clone(),
                errs,
                typed: f
                    .pairs()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            };
            detail_page(&st, &ctx, &uri, id, open, banner, status).await
        }
    }
}

// ---------- rules ----------

#[derive(askama::Template)]
#[template(path = "satisfaction/visit_settings.html")]
struct SettingsPage {
    s: Shell,
    tr: Tr,
    v: HashMap<String, String>,
    version: i64,
    errs: Errs,
    banner: String,
    can_edit: bool,
    actions: Vec<&'static str>,
    sampling: Vec<(String, i64, i64)>,
}

impl SettingsPage {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// The settings fields, in form order.
const FIELDS: [&str; 11] = [
    "complaint_days",
    "order_days",
    "tier1_max",
    "tier1_percent",
    "tier2_max",
    "tier2_percent",
    "tier3_percent",
    "low_rating",
    "low_score",
    "low_score_action",
    "link_days",
];

fn values_of(s: &VisitSettings) -> HashMap<String, String> {
    let n = [
        s.complaint_days,
        s.order_days,
        s.tier1_max,
        s.tier1_percent,
        s.tier2_max,
        s.tier2_percent,
        s.tier3_percent,
        s.low_rating,
        s.low_score,
    ];
    let mut m: HashMap<String, String> = FIELDS
        .iter()
        .zip(n.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.insert("low_score_action".into(), s.low_score_action.clone());
    m.insert("link_days".into(), s.link_days.to_string());
    m
}

#[allow(clippy::too_many_arguments)]
async fn settings_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: Option<HashMap<String, String>>,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let cur = service::settings(st, ctx).await?;
    let sampling = service::sampling(st, ctx).await?;
    let s = Shell::load(st, ctx, uri, "visits.settings").await?;
    render_status(
        status,
        &SettingsPage {
            tr: ctx.tr,
            s,
            v: v.unwrap_or_else(|| values_of(&cur)),
            version: cur.version,
            errs,
            banner,
            can_edit: ctx.can(Permission::ManageSurveys),
            actions: LowScoreAction::ALL.iter().map(|a| a.as_str()).collect(),
            sampling,
        },
    )
}

async fn settings(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    settings_page(
        &st,
        &ctx,
        &uri,
        None,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn save_settings(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let version = f.version()?;
    let typed: HashMap<String, String> = FIELDS
        .iter()
        .map(|k| (k.to_string(), f.get(k).to_string()))
        .collect();
    let res = match Settings::parse(
        FieldErrors::default(),
        SettingsRaw {
            complaint_days: f.opt("complaint_days"),
            order_days: f.opt("order_days"),
            tier1_max: f.opt("tier1_max"),
            tier1_percent: f.opt("tier1_percent"),
            tier2_max: f.opt("tier2_max"),
            tier2_percent: f.opt("tier2_percent"),
            tier3_percent: f.opt("tier3_percent"),
            low_rating: f.opt("low_rating"),
            low_score: f.opt("low_score"),
            low_score_action: f.opt("low_score_action"),
            link_days: f.opt("link_days"),
        },
    ) {
        Ok(s) => service::put_settings(&st, &ctx, version, &s).await,
        Err(e) => Err(e.into()),
    };
    match res {
        Ok(_) => Ok(see_other("/visits/settings?ok=saved")),
        Err(e) => {
            let (errs, banner, status) = refusal(&ctx.tr, e)?;
            settings_page(&st, &ctx, &uri, Some(typed), errs, banner, status).await
        }
    }
}
