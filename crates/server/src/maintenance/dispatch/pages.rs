//! HTML pages of dispatch: the week calendar (a 7-day grid per engineer, overlapping
//! appointments highlighted), the engineers with their profiles, and the profile form.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::archives::customers::split_list;
use domain::auth::Permission;
use serde::Deserialize;
use store::maintenance::dispatch::Engineer;

use super::service::{self, ProfileDraft, WeekView};
use super::week;
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Query of the week calendar.
#[derive(Debug, Deserialize, Default)]
pub struct WeekQ {
    /// `YYYY-Www`; this week when absent.
    pub week: Option<String>,
    /// Only this engineer (user id).
    pub engineer: Option<String>,
    /// Only this team.
    pub team: Option<String>,
}

/// A day column's heading.
pub struct DayHead {
    pub date: String,
    /// ISO weekday number, 1 = Monday.
    pub wd: String,
    pub today: bool,
}

/// An order in a day cell.
pub struct CellOrder {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    /// "09:00–11:00" (local time; a day it only continues into shows "…").
    pub time: String,
    pub customer: String,
    pub conflict: bool,
}

/// One engineer's row: the seven day cells.
pub struct RowView {
    pub user_id: i64,
    pub name: String,
    pub team: String,
    pub conflicts: i64,
    pub cells: Vec<Vec<CellOrder>>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/dispatch_week.html")]
struct WeekPage {
    s: Shell,
    tr: Tr,
    v: WeekView,
    heads: Vec<DayHead>,
    rows: Vec<RowView>,
    engineers: Vec<Engineer>,
    engineer: String,
    team: String,
    /// The filters as a query suffix for the prev / next links.
    keep: String,
}

fn layout(v: &WeekView, off: i32, today: &str) -> (Vec<DayHead>, Vec<RowView>) {
    let heads = v
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| DayHead {
            date: d.clone(),
            wd: (i + 1).to_string(),
            today: d == today,
        })
        .collect();
    let rows = v
        .engineers
        .iter()
        .map(|e| {
            let cells = (0..7)
                .map(|i| {
                    let from = v.start + i * 86_400;
                    let to = from + 86_400;
                    e.orders
                        .iter()
                        .filter(|o| o.start < to && o.end > from)
                        .map(|o| {
                            let a = if o.start >= from {
                                week::hm(o.start, off)
                            } else {
                                "…".into()
                            };
                            let b = if o.end <= to {
                                week::hm(o.end, off)
                            } else {
                                "…".into()
                            };
                            CellOrder {
                                id: o.id,
                                number: o.number.clone(),
                                kind: o.kind.clone(),
                                status: o.status.clone(),
                                time: format!("{a}–{b}"),
                                customer: o.customer_name.clone().unwrap_or_default(),
                                conflict: o.conflict,
                            }
                        })
                        .collect()
                })
                .collect();
            RowView {
                user_id: e.user_id,
                name: e.name.clone(),
                team: e.team.clone().unwrap_or_default(),
                conflicts: e.conflicts,
                cells,
            }
        })
        .collect();
    (heads, rows)
}

pub async fn week_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<WeekQ>,
) -> AppResult<Response> {
    let engineer = q
        .engineer
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let team = q.team.clone().unwrap_or_default();
    let v = match service::week_view(&st, &ctx, q.week.as_deref(), engineer, Some(&team)).await {
        Ok(v) => v,
        // A mistyped week in the address: show this week.
        Err(AppError::Invalid(_)) => return Ok(see_other("/dispatch")),
        Err(e) => return Err(e),
    };
    let off = ctx.tr.offset_min;
    let today = week::fmt_date(week::local_date(st.now(), off));
    let (heads, rows) = layout(&v, off, &today);
    let mut keep = vec![];
    if let Some(e) = engineer {
        keep.push(("engineer".to_string(), e.to_string()));
    }
    if !team.is_empty() {
        keep.push(("team".to_string(), team.clone()));
    }
    let keep = if keep.is_empty() {
        String::new()
    } else {
        format!(
            "&{}",
            serde_urlencoded::to_string(&keep).unwrap_or_default()
        )
    };
    let engineers = service::engineers(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "dispatch.title").await?;
    render(&WeekPage {
        tr: ctx.tr,
        s,
        v,
        heads,
        rows,
        engineers,
        engineer: engineer.map(|e| e.to_string()).unwrap_or_default(),
        team,
        keep,
    })
}

// ---------- engineers and their profiles ----------

#[derive(askama::Template)]
#[template(path = "maintenance/dispatch_engineers.html")]
struct EngineersPage {
    s: Shell,
    tr: Tr,
    items: Vec<Engineer>,
    others: Vec<(i64, String, String)>,
    can_plan: bool,
}

pub async fn engineers(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let items = service::engineers(&st, &ctx).await?;
    let can_plan = ctx.can(Permission::PlanMaintenance);
    let others = if can_plan {
        service::others(&st, &ctx).await?
    } else {
        vec![]
    };
    let s = Shell::load(&st, &ctx, &uri, "dispatch.engineers").await?;
    render(&EngineersPage {
        tr: ctx.tr,
        s,
        items,
        others,
        can_plan,
    })
}

/// Query of the "give a profile to" form.
#[derive(Debug, Deserialize, Default)]
pub struct AddQ {
    pub user: Option<i64>,
}

pub async fn add(ctx: Ctx, Query(q): Query<AddQ>) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    match q.user {
        Some(id) => Ok(see_other(&format!("/dispatch/engineers/{id}"))),
        None => Ok(see_other("/dispatch/engineers")),
    }
}

/// What the profile form shows: the typed values.
struct ProfileForm {
    user_id: i64,
    name: String,
    version: i64,
    regions: String,
    skills: String,
    team: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/dispatch_engineer_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: ProfileForm,
    errs: Errs,
    banner: String,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: ProfileForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let s = Shell::load(st, ctx, uri, "dispatch.profile").await?;
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

pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(user_id): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let e = service::engineer(&st, &ctx, user_id).await?;
    let v = ProfileForm {
        user_id,
        name: e.name,
        version: e.version,
        regions: e.regions.join("、"),
        skills: e.skills.join("、"),
        team: e.team.unwrap_or_default(),
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

pub async fn save(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(user_id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match ProfileDraft::parse(
        &split_list(f.get("regions")),
        &split_list(f.get("skills")),
        f.opt("team"),
    ) {
        Ok(d) => service::save_profile(&st, &ctx, user_id, version, d).await,
        Err(e) => Err(e),
    };
    let typed = |version: i64, name: String| ProfileForm {
        user_id,
        name,
        version,
        regions: f.get("regions").into(),
        skills: f.get("skills").into(),
        team: f.get("team").into(),
    };
    match r {
        Ok(_) => Ok(see_other("/dispatch/engineers?ok=saved")),
        Err(AppError::Invalid(e)) => {
            let cur = service::engineer(&st, &ctx, user_id).await?;
            let errs = Errs::of(&ctx.tr, &e);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form(
                &st,
                &ctx,
                &uri,
                typed(version, cur.name),
                errs,
                String::new(),
                status,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::engineer(&st, &ctx, user_id).await?;
            let banner = ctx.tr.t("error.stale_form").to_string();
            let v = typed(cur.version, cur.name);
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
