//! HTML pages of corrective actions: the filtered list, the detail (8D sections, actions with
//! owners and due dates, the effectiveness panel, status moves as forms), the 8D form, and
//! opening a CAPA from a complaint. Refused moves re-render the detail with the reason.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::FieldErrors;
use domain::auth::Permission;
use domain::complaints::capa::{ActionDraft, ActionRaw, CapaStatus, Discipline, EightD, EightDRaw};
use serde::Deserialize;
use store::PageReq;
use store::complaints::capa::{Capa, CapaRow, Filter, Sort};

use super::service::{self, Detail, Opened};
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
    pub status: Option<String>,
    pub overdue: Option<String>,
    pub complaint: Option<i64>,
    pub mine: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
}

fn statuses() -> Vec<&'static str> {
    CapaStatus::ALL.iter().map(|s| s.as_str()).collect()
}

fn disciplines() -> Vec<&'static str> {
    Discipline::ALL.iter().map(|d| d.as_str()).collect()
}

#[derive(askama::Template)]
#[template(path = "complaints/capa_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<CapaRow>,
    pager: Pager,
    q: String,
    status: String,
    overdue: bool,
    mine: bool,
    complaint: String,
    statuses: Vec<&'static str>,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// The CAPA list with its filters.
pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let overdue = q.overdue.as_deref() == Some("1");
    let mine = q.mine.as_deref() == Some("1");
    let f = Filter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        overdue,
        complaint_id: q.complaint,
        owner_id: mine.then_some(ctx.user_id),
        q: q.q.clone(),
        today: String::new(),
        sort: Sort::parse(q.sort.as_deref().unwrap_or("")),
    };
    let page = service::list(&st, &ctx, f, PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "capa.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.unwrap_or_default(),
        status: q.status.unwrap_or_default(),
        overdue,
        mine,
        complaint: q.complaint.map(|c| c.to_string()).unwrap_or_default(),
        statuses: statuses(),
        s,
    })
}

/// The typed values of the add-action form.
#[derive(Default)]
struct ActionForm {
    discipline: String,
    description: String,
    owner_id: String,
    due_date: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/capa_view.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    can_edit: bool,
    can_audit: bool,
    owners: Vec<(i64, String)>,
    disciplines: Vec<&'static str>,
    /// Errors of the add-action form.
    errs: Errs,
    /// Why a move was refused.
    banner: String,
    /// The fields a refused move needs, translated.
    missing: Vec<String>,
    nv: ActionForm,
}

impl ViewPage {
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn is_owner(&self, id: &i64, typed: &str) -> bool {
        typed == id.to_string()
    }
    fn can(&self, mv: &str) -> bool {
        self.can_edit && self.d.moves.contains(&mv)
    }
    fn open(&self) -> bool {
        self.can_edit && self.d.capa.status != "closed"
    }
}

#[allow(clippy::too_many_arguments)]
async fn view_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    errs: Errs,
    banner: String,
    missing: Vec<String>,
    nv: ActionForm,
    status: StatusCode,
) -> AppResult<Response> {
    let d = service::detail(st, ctx, id).await?;
    let org = ctx.require(Permission::ViewComplaints)?.id;
    let can_edit = ctx.can(Permission::ManageCapa);
    let owners = if can_edit {
        service::owners(st, org).await?
    } else {
        vec![]
    };
    let nv = ActionForm {
        owner_id: if nv.owner_id.is_empty() {
            d.capa.owner_id.map(|o| o.to_string()).unwrap_or_default()
        } else {
            nv.owner_id
        },
        ..nv
    };
    let s = Shell::load(st, ctx, uri, "capa.capa").await?;
    render_status(
        status,
        &ViewPage {
            tr: ctx.tr,
            s,
            d,
            can_edit,
            can_audit: ctx.can(Permission::ViewAudit),
            owners,
            disciplines: disciplines(),
            errs,
            banner,
            missing,
            nv,
        },
    )
}

/// The CAPA detail page.
pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    view_page(
        &st,
        &ctx,
        &uri,
        id,
        Errs::default(),
        String::new(),
        vec![],
        ActionForm::default(),
        StatusCode::OK,
    )
    .await
}

/// Re-renders the detail after a refused move: the reason on top, the missing fields listed.
async fn refused(st: &AppState, ctx: &Ctx, uri: &Uri, id: i64, e: AppError) -> AppResult<Response> {
    let tr = ctx.tr;
    let (status, banner, missing) = match e {
        AppError::Invalid(f) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("capa.move_missing").to_string(),
            f.0.iter()
                .map(|x| format!("{}: {}", tr.tk("capa", &x.field), tr.field(x)))
                .collect(),
        ),
        AppError::Transition(code) => (
            StatusCode::CONFLICT,
            tr.t(&format!("transition.{code}")).to_string(),
            vec![],
        ),
        AppError::Stale => (
            StatusCode::CONFLICT,
            tr.t("error.stale").to_string(),
            vec![],
        ),
        e => return Err(e),
    };
    view_page(
        st,
        ctx,
        uri,
        id,
        Errs::default(),
        banner,
        missing,
        ActionForm::default(),
        status,
    )
    .await
}

/// What the 8D form shows: the typed values.
#[derive(Default)]
struct EightDForm {
    id: i64,
    version: i64,
    number: String,
    title: String,
    owner_id: String,
    due_date: String,
    d1_team: String,
    d2_problem: String,
    d3_containment: String,
    d4_occurrence: String,
    d4_escape: String,
    d5_action: String,
    d6_validation: String,
    d7_prevention: String,
    d8_closure: String,
    effect_days: String,
    effect_units: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/capa_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: EightDForm,
    errs: Errs,
    banner: String,
    owners: Vec<(i64, String)>,
}

impl FormPage {
    fn is_owner(&self, id: &i64) -> bool {
        self.v.owner_id == id.to_string()
    }
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: EightDForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageCapa)?.id;
    let owners = service::owners(st, org).await?;
    let s = Shell::load(st, ctx, uri, "capa.edit").await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            owners,
        },
    )
}

fn stored(k: Capa) -> EightDForm {
    let s = |v: Option<String>| v.unwrap_or_default();
    EightDForm {
        id: k.id,
        version: k.version,
        number: k.number,
        title: k.title,
        owner_id: k.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        due_date: s(k.due_date),
        d1_team: s(k.d1_team),
        d2_problem: s(k.d2_problem),
        d3_containment: s(k.d3_containment),
        d4_occurrence: s(k.d4_occurrence),
        d4_escape: s(k.d4_escape),
        d5_action: s(k.d5_action),
        d6_validation: s(k.d6_validation),
        d7_prevention: s(k.d7_prevention),
        d8_closure: s(k.d8_closure),
        effect_days: k.effect_days.to_string(),
        effect_units: k.effect_units.to_string(),
    }
}

/// The 8D form.
pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageCapa)?;
    let k = service::get(&st, &ctx, id).await?;
    if k.status == CapaStatus::Closed.as_str() {
        return Err(AppError::Transition("capa_closed"));
    }
    form(
        &st,
        &ctx,
        &uri,
        stored(k),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

fn typed(f: &FormData, k: &Capa, version: i64) -> EightDForm {
    let g = |n: &str| f.get(n).to_string();
    EightDForm {
        id: k.id,
        version,
        number: k.number.clone(),
        title: g("title"),
        owner_id: g("owner_id"),
        due_date: g("due_date"),
        d1_team: g("d1_team"),
        d2_problem: g("d2_problem"),
        d3_containment: g("d3_containment"),
        d4_occurrence: g("d4_occurrence"),
        d4_escape: g("d4_escape"),
        d5_action: g("d5_action"),
        d6_validation: g("d6_validation"),
        d7_prevention: g("d7_prevention"),
        d8_closure: g("d8_closure"),
        effect_days: g("effect_days"),
        effect_units: g("effect_units"),
    }
}

/// Saves the 8D form.
pub async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageCapa)?;
    let version = f.version()?;
    let cur = service::get(&st, &ctx, id).await?;
    let r = match EightD::parse(
        FieldErrors::default(),
        EightDRaw {
            title: f.get("title"),
            owner_id: f.opt("owner_id"),
            due_date: f.opt("due_date"),
            d1_team: f.opt("d1_team"),
            d2_problem: f.opt("d2_problem"),
            d3_containment: f.opt("d3_containment"),
            d4_occurrence: f.opt("d4_occurrence"),
            d4_escape: f.opt("d4_escape"),
            d5_action: f.opt("d5_action"),
            d6_validation: f.opt("d6_validation"),
            d7_prevention: f.opt("d7_prevention"),
            d8_closure: f.opt("d8_closure"),
            effect_days: f.opt("effect_days"),
            effect_units: f.opt("effect_units"),
        },
        (cur.effect_days, cur.effect_units),
    ) {
        Ok(d) => service::update(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(k) => Ok(see_other(&format!("/capas/{}?ok=saved", k.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, &cur, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let now = service::get(&st, &ctx, id).await?;
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, &now, now.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Adds an action from the detail page.
pub async fn add_action(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageCapa)?;
    let r = match ActionDraft::parse(
        FieldErrors::default(),
        ActionRaw {
            discipline: f.opt("discipline"),
            description: f.get("description"),
            owner_id: f.opt("owner_id"),
            due_date: f.opt("due_date"),
        },
    ) {
        Ok(d) => service::add_action(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/capas/{id}?ok=capa_action_added#actions"
        ))),
        Err(AppError::Invalid(e)) => {
            let nv = ActionForm {
                discipline: f.get("discipline").into(),
                description: f.get("description").into(),
                owner_id: f.get("owner_id").into(),
                due_date: f.get("due_date").into(),
            };
            view_page(
                &st,
                &ctx,
                &uri,
                id,
                Errs::of(&ctx.tr, &e),
                String::new(),
                vec![],
                nv,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Transition(_)) => refused(&st, &ctx, &uri, id, e).await,
        Err(e) => Err(e),
    }
}

/// Marks an action done.
pub async fn finish_action(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, action_id)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    let result = f.opt("result").map(str::to_string);
    match service::finish_action(&st, &ctx, id, action_id, result).await {
        Ok(_) => Ok(see_other(&format!(
            "/capas/{id}?ok=capa_action_done#actions"
        ))),
        Err(e @ (AppError::Transition(_) | AppError::Invalid(_))) => {
            refused(&st, &ctx, &uri, id, e).await
        }
        Err(e) => Err(e),
    }
}

async fn moved(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    r: AppResult<Capa>,
    to: String,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(see_other(&to)),
        Err(e @ (AppError::Transition(_) | AppError::Invalid(_) | AppError::Stale)) => {
            refused(st, ctx, uri, id, e).await
        }
        Err(e) => Err(e),
    }
}

/// Starts the effectiveness check.
pub async fn start_check(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = service::start_check(&st, &ctx, id, f.version()?).await;
    let to = format!("/capas/{id}?ok=capa_check_started");
    moved(&st, &ctx, &uri, id, r, to).await
}

/// "Evaluate now".
pub async fn evaluate(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    let r = service::evaluate(&st, &ctx, id).await.map(|(_, k)| k);
    let to = format!("/capas/{id}?ok=capa_evaluated");
    moved(&st, &ctx, &uri, id, r, to).await
}

/// Closes the CAPA.
pub async fn close(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = service::close(&st, &ctx, id, f.version()?).await;
    let to = format!("/capas/{id}?ok=capa_closed");
    moved(&st, &ctx, &uri, id, r, to).await
}

/// Opens a CAPA from a complaint, or goes to the one it already has.
pub async fn open(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    match service::open(&st, &ctx, id).await? {
        Opened::Created(k) => Ok(see_other(&format!("/capas/{}?ok=capa_opened", k.id))),
        Opened::Existing(k) => Ok(see_other(&format!("/capas/{k}?ok=capa_exists"))),
    }
}
