//! HTML pages of the complaint settings under `/complaints/settings`: an overview, the work
//! calendar (form, listed dates by year, a year view and a working-time calculator), SLA
//! targets, approval rules, the responsibility matrix and numbering. Forms re-render with
//! field messages (422) or a stale-version banner (409), keeping what was typed.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::FieldErrors;
use domain::archives::equipment::{date_of_days, days_of};
use domain::auth::{Permission, Role};
use domain::calendar::WorkCalendar;
use domain::complaints::{RemedyType, Responsibility, format_number};
use serde::Deserialize;
use store::calendar::Day;
use store::complaints::settings::{ApprovalRule, Duty, Settings, SlaTarget};

use super::input;
use super::service::{
    self, CalendarData, CalendarInput, DayInput, DutyInput, Overview, RuleInput, STATUTORY_YEAR,
    STEPS, TargetInput,
};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render, render_status, see_other};

const DAY: i64 = 86_400;
// Prefixes of vocabulary keys (complaints.toml and complaint_settings.toml).
const SEVERITY: &str = "complaint.severity";
const REMEDY: &str = "complaint.remedy_type";
const RESPONSIBILITY: &str = "complaint.responsibility";
const WEEKDAY: &str = "complaint_settings.wd";

fn can_edit(ctx: &Ctx) -> bool {
    ctx.can(Permission::ManageComplaintSettings)
}

/// Local "YYYY-MM-DD HH:MM" of an instant at a UTC offset.
fn local_text(t: i64, offset_minutes: i64) -> (String, String, usize) {
    let l = t + offset_minutes * 60;
    let d = l.div_euclid(DAY);
    let m = l.rem_euclid(DAY) / 60;
    (
        date_of_days(d),
        format!("{:02}:{:02}", m / 60, m % 60),
        weekday(d) + 1,
    )
}

/// Weekday index of a day number, 0 = Monday (1970-01-01 was a Thursday).
fn weekday(d: i64) -> usize {
    (d + 3).rem_euclid(7) as usize
}

// ---------- overview ----------

#[derive(askama::Template)]
#[template(path = "complaints/settings_index.html")]
struct IndexPage {
    s: Shell,
    tr: Tr,
    o: Overview,
    example: String,
    active_rules: usize,
    listed_days: usize,
    can_edit: bool,
}

pub async fn index(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let o = service::overview(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaint_settings.title").await?;
    let year = local_text(st.now(), o.calendar.utc_offset_minutes).0[..4]
        .parse()
        .unwrap_or(STATUTORY_YEAR);
    render(&IndexPage {
        tr: ctx.tr,
        example: number_example(&o.settings, year),
        active_rules: o.approval_rules.iter().filter(|r| r.active).count(),
        listed_days: o.calendar.days.len(),
        can_edit: can_edit(&ctx),
        o,
        s,
    })
}

fn number_example(s: &Settings, year: i32) -> String {
    format_number(
        &s.number_prefix,
        year,
        1,
        usize::try_from(s.number_digits).unwrap_or(6),
    )
}

// ---------- work calendar ----------

/// Query of the calendar page: the year shown and the calculator's inputs.
#[derive(Debug, Deserialize, Default)]
pub struct CalendarQ {
    pub year: Option<i32>,
    pub from: Option<String>,
    pub hours: Option<String>,
}

/// The calendar form as typed.
struct CalForm {
    version: i64,
    name: String,
    offset: i64,
    periods: String,
    weekdays: String,
}

impl CalForm {
    fn of(c: &CalendarData) -> CalForm {
        CalForm {
            version: c.version,
            name: c.name.clone(),
            offset: c.utc_offset_minutes,
            periods: c.periods.clone(),
            weekdays: c.weekdays.clone(),
        }
    }
}

/// The add-day form as typed.
#[derive(Default)]
struct DayForm {
    day: String,
    kind: String,
    name: String,
}

/// One day of the year view (`day` 0 pads the week).
#[derive(Clone)]
struct Cell {
    day: i64,
    date: String,
    /// wk (working), off, hol (holiday), mk (make-up working day).
    class: &'static str,
    kind: String,
    name: String,
}

struct MonthView {
    month: u32,
    weeks: Vec<Vec<Cell>>,
}

/// A listed date with its weekday (1 = Monday).
struct ListedDay {
    d: Day,
    weekday: usize,
}

/// The working-time calculator.
#[derive(Default)]
struct Calc {
    from: String,
    hours: String,
    due: String,
    error: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_calendar.html")]
struct CalendarPage {
    s: Shell,
    tr: Tr,
    cal: CalendarData,
    v: CalForm,
    d: DayForm,
    errs: Errs,
    banner: String,
    offsets: Vec<(i64, String)>,
    weekday_boxes: Vec<(u32, bool)>,
    year: i32,
    year_days: Vec<ListedDay>,
    months: Vec<MonthView>,
    working_days: usize,
    has_schedule: bool,
    statutory_year: i32,
    can_edit: bool,
    calc: Calc,
}

/// The year view: twelve month grids, weeks from Monday.
fn months(w: &WorkCalendar, days: &[Day], year: i32) -> (Vec<MonthView>, usize) {
    let listed: BTreeMap<&str, &Day> = days.iter().map(|d| (d.day.as_str(), d)).collect();
    let mut out = Vec::new();
    let mut working = 0;
    let blank = Cell {
        day: 0,
        date: String::new(),
        class: "",
        kind: String::new(),
        name: String::new(),
    };
    for m in 1..=12u32 {
        let Some(first) = days_of(&format!("{year:04}-{m:02}-01")) else {
            continue;
        };
        let (ny, nm) = if m == 12 {
            (year + 1, 1)
        } else {
            (year, m + 1)
        };
        let next = days_of(&format!("{ny:04}-{nm:02}-01")).unwrap_or(first + 31);
        let mut cells: Vec<Cell> = vec![blank.clone(); weekday(first)];
        for d in first..next {
            let date = date_of_days(d);
            let works = w.is_working_day(&date);
            if works {
                working += 1;
            }
            let l = listed.get(date.as_str());
            let class = match l.map(|x| x.kind.as_str()) {
                Some("holiday") => "hol",
                Some(_) => "mk",
                None if works => "wk",
                None => "off",
            };
            cells.push(Cell {
                day: d - first + 1,
                kind: l.map(|x| x.kind.clone()).unwrap_or_default(),
                name: l.and_then(|x| x.name.clone()).unwrap_or_default(),
                date,
                class,
            });
        }
        while !cells.len().is_multiple_of(7) {
            cells.push(blank.clone());
        }
        out.push(MonthView {
            month: m,
            weeks: cells.chunks(7).map(<[Cell]>::to_vec).collect(),
        });
    }
    (out, working)
}

fn offsets() -> Vec<(i64, String)> {
    (-48..=56)
        .map(|q| q * 15)
        .map(|m| (m, input::offset_text(m)))
        .collect()
}

async fn calc(
    st: &AppState,
    ctx: &Ctx,
    w: &WorkCalendar,
    offset: i64,
    q: &CalendarQ,
) -> AppResult<Calc> {
    let tr = ctx.tr;
    let (from, hours) = match (&q.from, &q.hours) {
        (Some(f), Some(h)) => (f.trim().to_string(), h.trim().to_string()),
        _ => {
            // Prefilled with now and one working day, so the first click shows something.
            let (d, hm, _) = local_text(st.now(), offset);
            return Ok(Calc {
                from: format!("{d}T{hm}"),
                hours: "8".into(),
                ..Default::default()
            });
        }
    };
    let mut c = Calc {
        from: from.clone(),
        hours: hours.clone(),
        ..Default::default()
    };
    let start = from.split_once(['T', ' ']).and_then(|(d, hm)| {
        let (h, m) = hm.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
        if h > 23 || m > 59 {
            return None;
        }
        w.local_instant(d.trim(), h * 60 + m)
    });
    let Some(start) = start else {
        c.error = tr.t("complaint_settings.calc_bad_from").to_string();
        return Ok(c);
    };
    let mut errs = FieldErrors::default();
    let Some(minutes) = input::duration(&mut errs, "hours", Some(&hours)) else {
        c.error = errs.0.first().map(|e| tr.field(e)).unwrap_or_default();
        return Ok(c);
    };
    match service::due(st, ctx, start, minutes).await? {
        Some(t) => {
            let (d, hm, wd) = local_text(t, offset);
            c.due = format!("{d} {hm} ({})", tr.tk(WEEKDAY, &wd.to_string()));
        }
        None => c.error = tr.t("complaint_settings.calc_never").to_string(),
    }
    Ok(c)
}

#[allow(clippy::too_many_arguments)]
async fn calendar_render(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    q: &CalendarQ,
    v: Option<CalForm>,
    d: DayForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let cal = service::calendar(st, ctx).await?;
    let w = cal.work_calendar();
    let this_year = local_text(st.now(), cal.utc_offset_minutes).0[..4]
        .parse()
        .unwrap_or(STATUTORY_YEAR);
    let year = q.year.unwrap_or(this_year).clamp(1900, 2199);
    let prefix = format!("{year:04}-");
    let year_days: Vec<ListedDay> = cal
        .days
        .iter()
        .filter(|d| d.day.starts_with(&prefix))
        .map(|d| ListedDay {
            weekday: days_of(&d.day).map(weekday).unwrap_or(0) + 1,
            d: d.clone(),
        })
        .collect();
    let (months, working_days) = months(&w, &cal.days, year);
    let calc = calc(st, ctx, &w, cal.utc_offset_minutes, q).await?;
    let v = v.unwrap_or_else(|| CalForm::of(&cal));
    let weekday_boxes = (1..=7u32)
        .map(|n| (n, v.weekdays.contains(char::from(b'0' + n as u8))))
        .collect();
    let s = Shell::load(st, ctx, uri, "complaint_settings.calendar").await?;
    render_status(
        status,
        &CalendarPage {
            tr: ctx.tr,
            s,
            v,
            d,
            errs,
            banner,
            offsets: offsets(),
            weekday_boxes,
            year,
            year_days,
            months,
            working_days,
            has_schedule: !service::statutory_days(year).is_empty(),
            statutory_year: STATUTORY_YEAR,
            can_edit: can_edit(ctx),
            calc,
            cal,
        },
    )
}

pub async fn calendar_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<CalendarQ>,
) -> AppResult<Response> {
    calendar_render(
        &st,
        &ctx,
        &uri,
        &q,
        None,
        DayForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn calendar_save(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let input = CalendarInput {
        name: f.get("name").to_string(),
        // Anything but a number is out of range, reported as `invalid` on the field.
        utc_offset_minutes: f
            .get("utc_offset_minutes")
            .trim()
            .parse()
            .unwrap_or(i64::MAX),
        periods: f.get("periods").to_string(),
        weekdays: f.all("weekday").concat(),
    };
    let typed = |version: i64| CalForm {
        version,
        name: input.name.clone(),
        offset: input.utc_offset_minutes,
        periods: input.periods.clone(),
        weekdays: input.weekdays.clone(),
    };
    let q = CalendarQ::default();
    match service::save_calendar(&st, &ctx, version, &input).await {
        Ok(_) => Ok(see_other("/complaints/settings/calendar?ok=saved")),
        Err(AppError::Invalid(e)) => {
            calendar_render(
                &st,
                &ctx,
                &uri,
                &q,
                Some(typed(version)),
                DayForm::default(),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::calendar(&st, &ctx).await?;
            calendar_render(
                &st,
                &ctx,
                &uri,
                &q,
                Some(typed(cur.version)),
                DayForm::default(),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

fn year_of(day: &str) -> Option<i32> {
    day.trim().get(..4)?.parse().ok()
}

/// Re-renders the calendar page after a failed change of its dates.
async fn day_failed(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    year: Option<i32>,
    d: DayForm,
    e: AppError,
) -> AppResult<Response> {
    let q = CalendarQ {
        year,
        ..Default::default()
    };
    let (errs, banner, status) = match e {
        AppError::Invalid(f) => (
            Errs::of(&ctx.tr, &f),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        AppError::Stale => (
            Errs::default(),
            ctx.tr.t("error.stale_form").to_string(),
            StatusCode::CONFLICT,
        ),
        e => return Err(e),
    };
    calendar_render(st, ctx, uri, &q, None, d, errs, banner, status).await
}

pub async fn day_add(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let input = DayInput {
        day: f.get("day").to_string(),
        kind: f.get("kind").to_string(),
        name: f.opt("day_name").map(str::to_string),
    };
    let year = year_of(&input.day);
    match service::add_day(&st, &ctx, version, &input).await {
        Ok(_) => Ok(see_other(&format!(
            "/complaints/settings/calendar?ok=day_added&year={}",
            year.unwrap_or(STATUTORY_YEAR)
        ))),
        Err(e) => {
            let d = DayForm {
                day: input.day.clone(),
                kind: input.kind.clone(),
                name: input.name.clone().unwrap_or_default(),
            };
            day_failed(&st, &ctx, &uri, year, d, e).await
        }
    }
}

pub async fn day_remove(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let day = f.get("day").to_string();
    let year = year_of(&day);
    match service::remove_day(&st, &ctx, version, &day).await {
        Ok(_) => Ok(see_other(&format!(
            "/complaints/settings/calendar?ok=day_removed&year={}",
            year.unwrap_or(STATUTORY_YEAR)
        ))),
        Err(e) => day_failed(&st, &ctx, &uri, year, DayForm::default(), e).await,
    }
}

pub async fn statutory_load(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let year: i32 = f.get("year").trim().parse().unwrap_or(0);
    match service::load_statutory(&st, &ctx, version, year).await {
        Ok(_) => Ok(see_other(&format!(
            "/complaints/settings/calendar?ok=schedule_loaded&year={year}"
        ))),
        Err(e) => day_failed(&st, &ctx, &uri, Some(year), DayForm::default(), e).await,
    }
}

// ---------- SLA targets ----------

/// A target with its budgets as hours text.
struct TargetRow {
    t: SlaTarget,
    ack: String,
    response: String,
    remedy: String,
    close: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_sla.html")]
struct SlaPage {
    s: Shell,
    tr: Tr,
    rows: Vec<TargetRow>,
    severities: Vec<String>,
    can_edit: bool,
}

pub async fn sla_list(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let (targets, severities) = service::targets(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaint_settings.sla").await?;
    let rows = targets
        .into_iter()
        .map(|t| TargetRow {
            ack: input::duration_text(t.ack_minutes),
            response: input::duration_text(t.response_minutes),
            remedy: input::duration_text(t.remedy_minutes),
            close: input::duration_text(t.close_minutes),
            t,
        })
        .collect();
    render(&SlaPage {
        tr: ctx.tr,
        s,
        rows,
        severities,
        can_edit: can_edit(&ctx),
    })
}

/// The target form as typed (budgets in hours).
#[derive(Default)]
struct SlaForm {
    id: i64,
    version: i64,
    severity: String,
    contract_level: String,
    ack: String,
    response: String,
    remedy: String,
    close: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_sla_form.html")]
struct SlaFormPage {
    s: Shell,
    tr: Tr,
    v: SlaForm,
    errs: Errs,
    banner: String,
    severities: Vec<String>,
}

async fn sla_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: SlaForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageComplaintSettings)?;
    let (_, severities) = service::targets(st, ctx).await?;
    let title = if v.id == 0 {
        "complaint_settings.sla_new"
    } else {
        "complaint_settings.sla_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &SlaFormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            severities,
        },
    )
}

pub async fn sla_new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    sla_form(
        &st,
        &ctx,
        &uri,
        SlaForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn sla_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let t = service::get_target(&st, &ctx, id).await?;
    let v = SlaForm {
        id,
        version: t.version,
        ack: input::duration_text(t.ack_minutes),
        response: input::duration_text(t.response_minutes),
        remedy: input::duration_text(t.remedy_minutes),
        close: input::duration_text(t.close_minutes),
        severity: t.severity,
        contract_level: t.contract_level,
    };
    sla_form(
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

fn target_of(f: &FormData) -> (FieldErrors, TargetInput) {
    let mut errs = FieldErrors::default();
    let t = TargetInput {
        severity: f.get("severity").to_string(),
        contract_level: f.get("contract_level").to_string(),
        ack_minutes: input::duration(&mut errs, "ack", f.opt("ack")),
        response_minutes: input::duration(&mut errs, "response", f.opt("response")),
        remedy_minutes: input::duration(&mut errs, "remedy", f.opt("remedy")),
        close_minutes: input::duration(&mut errs, "close", f.opt("close")),
    };
    (errs, t)
}

fn sla_typed(f: &FormData, id: i64, version: i64) -> SlaForm {
    SlaForm {
        id,
        version,
        severity: f.get("severity").into(),
        contract_level: f.get("contract_level").into(),
        ack: f.get("ack").into(),
        response: f.get("response").into(),
        remedy: f.get("remedy").into(),
        close: f.get("close").into(),
    }
}

pub async fn sla_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let (errs, t) = target_of(&f);
    match service::create_target(&st, &ctx, errs, &t).await {
        Ok(_) => Ok(see_other("/complaints/settings/sla?ok=created")),
        Err(AppError::Invalid(e)) => {
            sla_form(
                &st,
                &ctx,
                &uri,
                sla_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn sla_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let (errs, t) = target_of(&f);
    match service::update_target(&st, &ctx, id, version, errs, &t).await {
        Ok(_) => Ok(see_other("/complaints/settings/sla?ok=saved")),
        Err(AppError::Invalid(e)) => {
            sla_form(
                &st,
                &ctx,
                &uri,
                sla_typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_target(&st, &ctx, id).await?;
            sla_form(
                &st,
                &ctx,
                &uri,
                sla_typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn sla_delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::delete_target(&st, &ctx, id, f.version()?).await?;
    Ok(see_other("/complaints/settings/sla?ok=sla_target_deleted"))
}

// ---------- approval rules ----------

/// A rule with its conditions and approver in words.
struct RuleRow {
    r: ApprovalRule,
    conditions: String,
    approver: String,
}

fn conditions(tr: &Tr, r: &ApprovalRule) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &r.remedy_type {
        parts.push(format!(
            "{}: {}",
            tr.t("complaint_settings.remedy_type"),
            tr.tk(REMEDY, t)
        ));
    }
    if let Some(f) = r.min_amount_fen {
        parts.push(tr.t1("complaint_settings.amount_above", &input::yuan_text(f)));
    }
    if let Some(x) = &r.responsibility {
        parts.push(format!(
            "{}: {}",
            tr.t("complaint_settings.responsibility"),
            tr.tk(RESPONSIBILITY, x)
        ));
    }
    if let Some(x) = &r.severity {
        parts.push(format!(
            "{}: {}",
            tr.t("complaint_settings.severity_label"),
            tr.tk(SEVERITY, x)
        ));
    }
    if parts.is_empty() {
        tr.t("complaint_settings.any_remedy").to_string()
    } else {
        parts.join(tr.t("complaint_settings.and"))
    }
}

fn approver(tr: &Tr, r: &ApprovalRule) -> String {
    match (&r.approver_role, &r.approver_department) {
        (Some(role), _) => tr.role(role),
        (None, Some(d)) => d.clone(),
        (None, None) => String::new(),
    }
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_approvals.html")]
struct RulesPage {
    s: Shell,
    tr: Tr,
    rows: Vec<RuleRow>,
    can_edit: bool,
}

pub async fn rules_list(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let rules = service::rules(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaint_settings.approvals").await?;
    let tr = ctx.tr;
    let rows = rules
        .into_iter()
        .map(|r| RuleRow {
            conditions: conditions(&tr, &r),
            approver: approver(&tr, &r),
            r,
        })
        .collect();
    render(&RulesPage {
        tr,
        s,
        rows,
        can_edit: can_edit(&ctx),
    })
}

/// The rule form as typed (the amount in yuan; the approver as `role:x` or `department:id`).
struct RuleForm {
    id: i64,
    version: i64,
    remedy_type: String,
    min_amount: String,
    responsibility: String,
    severity: String,
    approver: String,
    note: String,
    active: bool,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_approval_form.html")]
struct RuleFormPage {
    s: Shell,
    tr: Tr,
    v: RuleForm,
    errs: Errs,
    banner: String,
    remedies: Vec<&'static str>,
    resps: Vec<&'static str>,
    severities: Vec<String>,
    approvers: Vec<(String, String)>,
}

async fn rule_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: RuleForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageComplaintSettings)?.id;
    let (_, severities) = service::targets(st, ctx).await?;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let tr = ctx.tr;
    let mut approvers: Vec<(String, String)> = Role::ALL
        .iter()
        .filter(|r| !r.read_only())
        .map(|r| (format!("role:{}", r.as_str()), tr.role(r.as_str())))
        .collect();
    approvers.extend(
        departments
            .into_iter()
            .map(|(id, name)| (format!("department:{id}"), name)),
    );
    let title = if v.id == 0 {
        "complaint_settings.rule_new"
    } else {
        "complaint_settings.rule_edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &RuleFormPage {
            tr,
            s,
            v,
            errs,
            banner,
            remedies: RemedyType::ALL.iter().map(|r| r.as_str()).collect(),
            resps: Responsibility::ALL.iter().map(|r| r.as_str()).collect(),
            severities,
            approvers,
        },
    )
}

fn rule_typed(f: &FormData, id: i64, version: i64) -> RuleForm {
    RuleForm {
        id,
        version,
        remedy_type: f.get("remedy_type").into(),
        min_amount: f.get("min_amount").into(),
        responsibility: f.get("responsibility").into(),
        severity: f.get("severity").into(),
        approver: f.get("approver").into(),
        note: f.get("note").into(),
        active: f.checked("active"),
    }
}

fn rule_of(f: &FormData) -> (FieldErrors, RuleInput) {
    let mut errs = FieldErrors::default();
    let min_amount_fen = input::yuan(&mut errs, "min_amount", f.opt("min_amount"));
    let (role, department) = match f.get("approver").split_once(':') {
        Some(("role", r)) => (Some(r.to_string()), None),
        Some(("department", d)) => match d.parse::<i64>() {
            Ok(d) => (None, Some(d)),
            Err(_) => {
                errs.add("approver", "choice", None);
                (None, None)
            }
        },
        _ => (None, None),
    };
    let r = RuleInput {
        remedy_type: f.opt("remedy_type").map(str::to_string),
        min_amount_fen,
        responsibility: f.opt("responsibility").map(str::to_string),
        severity: f.opt("severity").map(str::to_string),
        approver_role: role,
        approver_department_id: department,
        note: f.opt("note").map(str::to_string),
        active: Some(f.checked("active")),
    };
    (errs, r)
}

pub async fn rule_new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = RuleForm {
        id: 0,
        version: 0,
        remedy_type: String::new(),
        min_amount: String::new(),
        responsibility: String::new(),
        severity: String::new(),
        approver: "role:manager".into(),
        note: String::new(),
        active: true,
    };
    rule_form(
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

pub async fn rule_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let r = service::get_rule(&st, &ctx, id).await?;
    let approver = match (&r.approver_role, r.approver_department_id) {
        (Some(role), _) => format!("role:{role}"),
        (None, Some(d)) => format!("department:{d}"),
        (None, None) => String::new(),
    };
    let v = RuleForm {
        id,
        version: r.version,
        remedy_type: r.remedy_type.unwrap_or_default(),
        min_amount: r.min_amount_fen.map(input::yuan_text).unwrap_or_default(),
        responsibility: r.responsibility.unwrap_or_default(),
        severity: r.severity.unwrap_or_default(),
        approver,
        note: r.note.unwrap_or_default(),
        active: r.active,
    };
    rule_form(
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

pub async fn rule_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let (errs, r) = rule_of(&f);
    match service::create_rule(&st, &ctx, errs, &r).await {
        Ok(_) => Ok(see_other("/complaints/settings/approvals?ok=created")),
        Err(AppError::Invalid(e)) => {
            rule_form(
                &st,
                &ctx,
                &uri,
                rule_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn rule_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let (errs, r) = rule_of(&f);
    match service::update_rule(&st, &ctx, id, version, errs, &r).await {
        Ok(_) => Ok(see_other("/complaints/settings/approvals?ok=saved")),
        Err(AppError::Invalid(e)) => {
            rule_form(
                &st,
                &ctx,
                &uri,
                rule_typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_rule(&st, &ctx, id).await?;
            rule_form(
                &st,
                &ctx,
                &uri,
                rule_typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn rule_activate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_rule_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(
        "/complaints/settings/approvals?ok=rule_activated",
    ))
}

pub async fn rule_deactivate(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_rule_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(
        "/complaints/settings/approvals?ok=rule_deactivated",
    ))
}

// ---------- responsibility matrix ----------

/// The add-row form as typed.
#[derive(Default)]
struct DutyForm {
    step: String,
    department_id: String,
    duty: String,
    sort: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_matrix.html")]
struct MatrixPage {
    s: Shell,
    tr: Tr,
    rows: Vec<Duty>,
    steps: Vec<&'static str>,
    departments: Vec<(i64, String)>,
    v: DutyForm,
    errs: Errs,
    banner: String,
    can_edit: bool,
}

async fn matrix_render(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: DutyForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let rows = service::matrix(st, ctx).await?;
    let org = ctx.org()?.id;
    let departments = {
        let mut h = st.db.acquire().await?;
        store::org::department_choices(&mut h.c(), org).await?
    };
    let s = Shell::load(st, ctx, uri, "complaint_settings.matrix").await?;
    render_status(
        status,
        &MatrixPage {
            tr: ctx.tr,
            s,
            rows,
            steps: STEPS.to_vec(),
            departments,
            v,
            errs,
            banner,
            can_edit: can_edit(ctx),
        },
    )
}

pub async fn matrix_page(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    matrix_render(
        &st,
        &ctx,
        &uri,
        DutyForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn duty_add(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let mut errs = FieldErrors::default();
    let department_id = match f.get("department_id").trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => Some(0),
        },
    };
    let sort = match f.get("sort").trim() {
        "" => None,
        v => Some(input::whole(&mut errs, "sort", Some(v), 0, 1000)),
    };
    let d = DutyInput {
        step: f.get("step").to_string(),
        department_id,
        duty: f.get("duty").to_string(),
        sort,
    };
    match service::add_duty(&st, &ctx, errs, &d).await {
        Ok(_) => Ok(see_other("/complaints/settings/matrix?ok=duty_added")),
        Err(AppError::Invalid(e)) => {
            let v = DutyForm {
                step: f.get("step").into(),
                department_id: f.get("department_id").into(),
                duty: f.get("duty").into(),
                sort: f.get("sort").into(),
            };
            matrix_render(
                &st,
                &ctx,
                &uri,
                v,
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn duty_remove(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::remove_duty(&st, &ctx, id).await?;
    Ok(see_other("/complaints/settings/matrix?ok=duty_removed"))
}

pub async fn matrix_seed(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    _f: FormData,
) -> AppResult<Response> {
    match service::load_seed_matrix(&st, &ctx).await {
        Ok(0) => Ok(see_other("/complaints/settings/matrix?ok=matrix_unchanged")),
        Ok(_) => Ok(see_other("/complaints/settings/matrix?ok=matrix_seeded")),
        Err(AppError::Transition(code)) => {
            matrix_render(
                &st,
                &ctx,
                &uri,
                DutyForm::default(),
                Errs::default(),
                ctx.tr.t(&format!("transition.{code}")).to_string(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------- numbering and windows ----------

/// The numbering form as typed (the attachment limit in MB).
struct NumForm {
    version: i64,
    number_prefix: String,
    number_digits: String,
    recurrence_days: String,
    return_visit_days: String,
    warn_percent: String,
    capa_effect_days: String,
    capa_effect_units: String,
    attachment_mb: String,
}

impl NumForm {
    fn of(s: &Settings) -> NumForm {
        NumForm {
            version: s.version,
            number_prefix: s.number_prefix.clone(),
            number_digits: s.number_digits.to_string(),
            recurrence_days: s.recurrence_days.to_string(),
            return_visit_days: s.return_visit_days.to_string(),
            warn_percent: s.warn_percent.to_string(),
            capa_effect_days: s.capa_effect_days.to_string(),
            capa_effect_units: s.capa_effect_units.to_string(),
            attachment_mb: input::megabytes_text(s.attachment_max_bytes),
        }
    }

    /// The typed value of a whole-number field.
    fn field(&self, name: &str) -> &str {
        match name {
            "number_digits" => &self.number_digits,
            "recurrence_days" => &self.recurrence_days,
            "return_visit_days" => &self.return_visit_days,
            "warn_percent" => &self.warn_percent,
            "capa_effect_days" => &self.capa_effect_days,
            "capa_effect_units" => &self.capa_effect_units,
            _ => "",
        }
    }

    fn typed(f: &FormData, version: i64) -> NumForm {
        NumForm {
            version,
            number_prefix: f.get("number_prefix").into(),
            number_digits: f.get("number_digits").into(),
            recurrence_days: f.get("recurrence_days").into(),
            return_visit_days: f.get("return_visit_days").into(),
            warn_percent: f.get("warn_percent").into(),
            capa_effect_days: f.get("capa_effect_days").into(),
            capa_effect_units: f.get("capa_effect_units").into(),
            attachment_mb: f.get("attachment_mb").into(),
        }
    }
}

/// One whole-number field of the numbering form.
struct NumField {
    field: &'static str,
    value: String,
    range: String,
}

#[derive(askama::Template)]
#[template(path = "complaints/settings_numbering.html")]
struct NumberingPage {
    s: Shell,
    tr: Tr,
    v: NumForm,
    numbers: Vec<NumField>,
    errs: Errs,
    banner: String,
    example: String,
    can_edit: bool,
}

async fn numbering_render(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: Option<NumForm>,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    let cur = service::settings(st, ctx).await?;
    let v = v.unwrap_or_else(|| NumForm::of(&cur));
    let s = Shell::load(st, ctx, uri, "complaint_settings.numbering").await?;
    let year = local_text(st.now(), 480).0[..4]
        .parse()
        .unwrap_or(STATUTORY_YEAR);
    render_status(
        status,
        &NumberingPage {
            tr: ctx.tr,
            s,
            example: number_example(&cur, year),
            numbers: service::RANGES
                .iter()
                .map(|&(field, lo, hi)| NumField {
                    field,
                    value: v.field(field).to_string(),
                    range: format!("{lo} – {hi}"),
                })
                .collect(),
            v,
            errs,
            banner,
            can_edit: can_edit(ctx),
        },
    )
}

pub async fn numbering_page(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    numbering_render(
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

fn settings_of(f: &FormData, version: i64) -> (FieldErrors, Settings) {
    let mut errs = FieldErrors::default();
    let mut whole = |field: &str| {
        let (lo, hi) = service::range(field);
        input::whole(&mut errs, field, f.opt(field), lo, hi)
    };
    let s = Settings {
        number_prefix: f.get("number_prefix").trim().to_string(),
        number_digits: whole("number_digits"),
        recurrence_days: whole("recurrence_days"),
        return_visit_days: whole("return_visit_days"),
        warn_percent: whole("warn_percent"),
        capa_effect_days: whole("capa_effect_days"),
        capa_effect_units: whole("capa_effect_units"),
        attachment_max_bytes: 0,
        version,
    };
    let attachment_max_bytes = input::megabytes(&mut errs, "attachment_mb", f.opt("attachment_mb"));
    (
        errs,
        Settings {
            attachment_max_bytes,
            ..s
        },
    )
}

pub async fn numbering_save(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageComplaintSettings)?;
    let version = f.version()?;
    let (mut errs, s) = settings_of(&f, version);
    let r = if errs.is_empty() {
        service::save_settings(&st, &ctx, &s).await
    } else {
        // Report the prefix with the numbers that failed to parse.
        let mut all = FieldErrors::default();
        service::check_settings(&mut all, &s);
        errs.0
            .extend(all.0.into_iter().filter(|e| e.field == "number_prefix"));
        Err(AppError::Invalid(errs))
    };
    match r {
        Ok(_) => Ok(see_other("/complaints/settings/numbering?ok=saved")),
        Err(AppError::Invalid(mut e)) => {
            for x in &mut e.0 {
                if x.field == "attachment_max_bytes" {
                    x.field = "attachment_mb".into();
                }
            }
            numbering_render(
                &st,
                &ctx,
                &uri,
                Some(NumForm::typed(&f, version)),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::settings(&st, &ctx).await?;
            numbering_render(
                &st,
                &ctx,
                &uri,
                Some(NumForm::typed(&f, cur.version)),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
