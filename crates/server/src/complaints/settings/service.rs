//! Changes to the complaint settings: the work calendar with its holidays and make-up days,
//! SLA targets, approval rules, the responsibility matrix and numbering. Reads need
//! `ViewComplaints`, changes `ManageComplaintSettings`; every change is checked against the
//! version read and audited in its transaction.

use domain::auth::{Permission, Role};
use domain::calendar::{DayKind, WorkCalendar, china_statutory};
use domain::complaints::draft::MAX_AMOUNT_FEN;
use domain::complaints::{RemedyType, Responsibility};
use domain::text;
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::audit::{Actor, NewEntry};
use store::calendar::{self as cal_repo, Calendar, Day};
use store::complaints::settings::{self as repo, ApprovalRule, Duty, Settings, SlaTarget};
use store::{Conn, Tx};

use super::input::{self, MAX_ATTACHMENT_BYTES, MAX_MINUTES};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// Name of the calendar created on first save (stored data, like the demo's).
pub const DEFAULT_CALENDAR_NAME: &str = "默认工作日历";
/// The year whose State Council schedule is built in.
pub const STATUTORY_YEAR: i32 = 2026;

/// The steps of the responsibility matrix, in lifecycle order.
pub const STEPS: [&str; 7] = [
    "register",
    "confirm",
    "analyse",
    "remedy",
    "implement",
    "prevent",
    "visit",
];

/// The seed's matrix (DOMAIN.md §1.5) as (step, department code, duty).
pub const SEED_MATRIX: &[(&str, &str, &str)] = &[
    ("register", "BIZ", "登记客户投诉，填写客户投诉登记表"),
    ("confirm", "BIZ", "确认投诉问题，核实订单与产品信息"),
    (
        "confirm",
        "MKT",
        "配合确认投诉，提供订单编号、料号、数量、交运日期",
    ),
    ("confirm", "SVC", "检验并确认质量问题"),
    (
        "analyse",
        "BIZ",
        "调查投诉原因，提报产品开发缺陷，调查设计合理性",
    ),
    ("analyse", "SVC", "分析质量问题原因，拟定对策"),
    ("remedy", "PRD", "提出产品处理措施（严重质量投诉）"),
    ("remedy", "BIZ", "提出处理办法，与客户协商一致"),
    ("implement", "SVC", "监督对策的执行"),
    ("implement", "BIZ", "跟进处理落实，向客户通报进度"),
    ("prevent", "SVC", "拟定改善方法，防止同类问题再次发生"),
    ("prevent", "BIZ", "提出并跟进改善方案，确认改善效果"),
    (
        "prevent",
        "PUR",
        "拟定改善方法（供应商质量），防止同类问题再次发生",
    ),
    ("visit", "BIZ", "沟通处理结果，反馈客户意见"),
];

/// Bounds of the whole-number settings: (field, lowest, highest).
pub const RANGES: [(&str, i64, i64); 6] = [
    ("number_digits", 3, 10),
    ("recurrence_days", 0, 3650),
    ("return_visit_days", 1, 90),
    ("warn_percent", 0, 90),
    ("capa_effect_days", 0, 3650),
    ("capa_effect_units", 0, 1_000_000_000),
];

/// The bounds of one whole-number setting.
pub fn range(field: &str) -> (i64, i64) {
    RANGES
        .iter()
        .find(|r| r.0 == field)
        .map(|r| (r.1, r.2))
        .unwrap_or((0, i64::MAX))
}

fn manage(ctx: &Ctx) -> AppResult<i64> {
    Ok(ctx.require(Permission::ManageComplaintSettings)?.id)
}

fn view(ctx: &Ctx) -> AppResult<i64> {
    Ok(ctx.require(Permission::ViewComplaints)?.id)
}

fn invalid(errs: FieldErrors) -> AppResult<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

// ---------- work calendar ----------

/// The organization's work calendar as shown and edited; `id` and `version` are 0 while
/// the built-in default (standard hours, the 2026 schedule) is in use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarData {
    pub id: i64,
    pub name: String,
    /// Minutes east of UTC (Asia/Shanghai: 480).
    pub utc_offset_minutes: i64,
    /// Working periods, e.g. "09:00-12:00,13:00-18:00".
    pub periods: String,
    /// Working weekdays as digits, 1 = Monday … 7 = Sunday.
    pub weekdays: String,
    /// Holidays and make-up working days, by date.
    pub days: Vec<Day>,
    pub updated_at: Option<i64>,
    pub version: i64,
}

impl CalendarData {
    /// The calendar as working-time arithmetic sees it (standard hours if it ever fails to parse).
    pub fn work_calendar(&self) -> WorkCalendar {
        WorkCalendar::from_parts(
            i32::try_from(self.utc_offset_minutes).unwrap_or(480),
            &self.periods,
            &self.weekdays,
            &day_parts(&self.days),
        )
        .unwrap_or_else(|_| WorkCalendar::standard())
    }
}

/// The calendar's header fields as typed.
#[derive(Debug, Clone, Default)]
pub struct CalendarInput {
    pub name: String,
    /// Minutes east of UTC, -720 … 840.
    pub utc_offset_minutes: i64,
    /// e.g. "09:00-12:00,13:00-18:00".
    pub periods: String,
    /// e.g. "12345".
    pub weekdays: String,
}

/// A holiday or make-up working day as typed.
#[derive(Debug, Clone, Default)]
pub struct DayInput {
    /// YYYY-MM-DD.
    pub day: String,
    /// holiday or workday.
    pub kind: String,
    /// e.g. 国庆节.
    pub name: Option<String>,
}

fn day_parts(days: &[Day]) -> Vec<(String, DayKind)> {
    days.iter()
        .filter_map(|d| DayKind::parse(&d.kind).map(|k| (d.day.clone(), k)))
        .collect()
}

/// The built-in State Council schedule of `year` (empty when not built in).
pub fn statutory_days(year: i32) -> Vec<Day> {
    china_statutory(year)
        .into_iter()
        .map(|(day, k, name)| Day {
            day,
            kind: k.as_str().to_string(),
            name: Some(name.to_string()),
        })
        .collect()
}

fn builtin() -> CalendarData {
    let w = WorkCalendar::standard();
    CalendarData {
        id: 0,
        name: DEFAULT_CALENDAR_NAME.to_string(),
        utc_offset_minutes: i64::from(w.utc_offset_minutes),
        periods: w.periods_text(),
        weekdays: w.weekdays_text(),
        days: statutory_days(STATUTORY_YEAR),
        updated_at: None,
        version: 0,
    }
}

async fn load_calendar(c: &mut Conn<'_>, org: i64) -> AppResult<CalendarData> {
    let Some(k) = cal_repo::default_for(c, org).await? else {
        return Ok(builtin());
    };
    let days = cal_repo::days(c, org, k.id).await?;
    Ok(CalendarData {
        id: k.id,
        name: k.name,
        utc_offset_minutes: k.utc_offset_minutes,
        periods: k.periods,
        weekdays: k.weekdays,
        days,
        updated_at: Some(k.updated_at),
        version: k.version,
    })
}

/// Validates a calendar with its days; the periods and weekdays come back in canonical form.
fn check_calendar(
    name: &str,
    utc_offset_minutes: i64,
    periods: &str,
    weekdays: &str,
    days: &[(String, DayKind)],
) -> AppResult<(String, WorkCalendar)> {
    let mut errs = FieldErrors::default();
    let name = text::required(&mut errs, "name", name, 100);
    // Out-of-range offsets fail in from_parts with `invalid` on the field.
    let offset = i32::try_from(utc_offset_minutes).unwrap_or(i32::MAX);
    match WorkCalendar::from_parts(offset, periods, weekdays, days) {
        Ok(w) => {
            invalid(errs)?;
            Ok((name, w))
        }
        Err(DomainError::Invalid(f)) => {
            errs.0.extend(f.0);
            Err(AppError::Invalid(errs))
        }
        Err(e) => Err(e.into()),
    }
}

/// The work calendar (the built-in default until first saved).
pub async fn calendar(st: &AppState, ctx: &Ctx) -> AppResult<CalendarData> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    load_calendar(&mut h.c(), org).await
}

/// Creates the calendar from the built-in default inside `tx`; returns it as stored.
async fn create_builtin(tx: &mut Tx, org: i64, now: i64) -> AppResult<Calendar> {
    let b = builtin();
    let id = cal_repo::insert(
        &mut tx.c(),
        org,
        &b.name,
        b.utc_offset_minutes,
        &b.periods,
        &b.weekdays,
        true,
        &b.days,
        now,
    )
    .await?;
    Ok(cal_repo::get(&mut tx.c(), org, id).await?)
}

/// The stored calendar read at `version` (0: the built-in default, created now), for a change.
async fn calendar_for_change(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    version: i64,
    now: i64,
) -> AppResult<Calendar> {
    match cal_repo::default_for(&mut tx.c(), org).await? {
        Some(k) if k.version == version => Ok(k),
        Some(_) => Err(AppError::Stale),
        None if version != 0 => Err(AppError::Stale),
        None => {
            let k = create_builtin(tx, org, now).await?;
            audit(
                tx,
                ctx,
                org,
                now,
                Change {
                    action: "create",
                    entity: "work_calendar",
                    id: k.id,
                    before: None,
                    after: Some(&k),
                },
            )
            .await?;
            Ok(k)
        }
    }
}

/// Saves the name, offset, working periods and weekdays of the calendar read at `version`
/// (0 creates it, with the built-in schedule's days).
pub async fn save_calendar(
    st: &AppState,
    ctx: &Ctx,
    version: i64,
    input: &CalendarInput,
) -> AppResult<CalendarData> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let current = load_calendar(&mut tx.c(), org).await?;
    if current.version != version {
        return Err(AppError::Stale);
    }
    let (name, w) = check_calendar(
        &input.name,
        input.utc_offset_minutes,
        &input.periods,
        &input.weekdays,
        &day_parts(&current.days),
    )?;
    let (periods, weekdays) = (w.periods_text(), w.weekdays_text());
    let offset = i64::from(w.utc_offset_minutes);
    let (id, before) = if current.id == 0 {
        let id = cal_repo::insert(
            &mut tx.c(),
            org,
            &name,
            offset,
            &periods,
            &weekdays,
            true,
            &current.days,
            now,
        )
        .await?;
        (id, None)
    } else {
        let before = cal_repo::get(&mut tx.c(), org, current.id).await?;
        cal_repo::update(
            &mut tx.c(),
            org,
            current.id,
            version,
            &name,
            offset,
            &periods,
            &weekdays,
            now,
        )
        .await?;
        (current.id, Some(before))
    };
    let after = cal_repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if before.is_some() { "update" } else { "create" },
            entity: "work_calendar",
            id,
            before: before.as_ref(),
            after: Some(&after),
        },
    )
    .await?;
    let out = load_calendar(&mut tx.c(), org).await?;
    tx.commit().await?;
    Ok(out)
}

/// Adds a holiday or make-up working day to the calendar read at `version`. A date already
/// listed with the other kind is refused (`day_conflict`): remove it first.
pub async fn add_day(
    st: &AppState,
    ctx: &Ctx,
    version: i64,
    input: &DayInput,
) -> AppResult<CalendarData> {
    let org = manage(ctx)?;
    let mut errs = FieldErrors::default();
    let day = text::required(&mut errs, "day", &input.day, 10);
    let kind = match input.kind.trim() {
        "" => {
            errs.add("kind", "required", None);
            None
        }
        k => {
            let p = DayKind::parse(k);
            if p.is_none() {
                errs.add("kind", "choice", None);
            }
            p
        }
    };
    let name = text::optional(&mut errs, "day_name", input.name.as_deref(), 50);
    invalid(errs)?;
    // Without an error recorded, the kind parsed.
    let kind = kind.unwrap_or(DayKind::Holiday);
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = calendar_for_change(&mut tx, ctx, org, version, now).await?;
    let days = cal_repo::days(&mut tx.c(), org, k.id).await?;
    let existing = days.iter().find(|d| d.day == day).cloned();
    if existing.as_ref().is_some_and(|d| d.kind != kind.as_str()) {
        let mut e = FieldErrors::default();
        e.add("day", "day_conflict", Some(day));
        return Err(AppError::Invalid(e));
    }
    let mut parts = day_parts(&days);
    parts.retain(|(d, _)| *d != day);
    parts.push((day.clone(), kind));
    if let Err(AppError::Invalid(mut f)) = check_calendar(
        &k.name,
        k.utc_offset_minutes,
        &k.periods,
        &k.weekdays,
        &parts,
    ) {
        // The date is the only new input: its errors belong to the day field.
        for e in &mut f.0 {
            if e.field == "days" {
                e.field = "day".into();
            }
        }
        return Err(AppError::Invalid(f));
    }
    let d = Day {
        day,
        kind: kind.as_str().to_string(),
        name,
    };
    cal_repo::put_day(&mut tx.c(), org, k.id, &d).await?;
    cal_repo::touch(&mut tx.c(), org, k.id, k.version, now).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "add_day",
            entity: "work_calendar",
            id: k.id,
            before: existing.as_ref(),
            after: Some(&d),
        },
    )
    .await?;
    let out = load_calendar(&mut tx.c(), org).await?;
    tx.commit().await?;
    Ok(out)
}

/// Removes a listed date from the calendar read at `version`.
pub async fn remove_day(
    st: &AppState,
    ctx: &Ctx,
    version: i64,
    day: &str,
) -> AppResult<CalendarData> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = calendar_for_change(&mut tx, ctx, org, version, now).await?;
    let days = cal_repo::days(&mut tx.c(), org, k.id).await?;
    let before = days
        .into_iter()
        .find(|d| d.day == day.trim())
        .ok_or(AppError::NotFound)?;
    cal_repo::remove_day(&mut tx.c(), org, k.id, &before.day).await?;
    cal_repo::touch(&mut tx.c(), org, k.id, k.version, now).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "remove_day",
            entity: "work_calendar",
            id: k.id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    let out = load_calendar(&mut tx.c(), org).await?;
    tx.commit().await?;
    Ok(out)
}

/// Loads the built-in State Council schedule of `year` into the calendar read at `version`:
/// its dates replace what was listed on them; other dates stay. Returns the calendar and the
/// number of dates loaded.
pub async fn load_statutory(
    st: &AppState,
    ctx: &Ctx,
    version: i64,
    year: i32,
) -> AppResult<(CalendarData, usize)> {
    let org = manage(ctx)?;
    let days = statutory_days(year);
    if days.is_empty() {
        let mut e = FieldErrors::default();
        e.add("year", "no_schedule", Some(year.to_string()));
        return Err(AppError::Invalid(e));
    }
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let k = calendar_for_change(&mut tx, ctx, org, version, now).await?;
    cal_repo::replace_days(&mut tx.c(), org, k.id, &days).await?;
    cal_repo::touch(&mut tx.c(), org, k.id, k.version, now).await?;
    let summary = serde_json::json!({"year": year, "days": days.len()});
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "load_schedule",
            entity: "work_calendar",
            id: k.id,
            before: None,
            after: Some(&summary),
        },
    )
    .await?;
    let out = load_calendar(&mut tx.c(), org).await?;
    tx.commit().await?;
    Ok((out, days.len()))
}

/// The working-time calculator: the instant `minutes` working minutes after `from` on the
/// calendar the SLA clock uses; `None` when the calendar has no working time ahead.
pub async fn due(st: &AppState, ctx: &Ctx, from: i64, minutes: i64) -> AppResult<Option<i64>> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    let cal = crate::complaints::sla::calendar(&mut h.c(), org).await?;
    Ok(cal.add_working(from, minutes.saturating_mul(60)))
}

// ---------- numbering and windows ----------

/// Numbering, windows and limits (the defaults until first saved, version 0).
pub async fn settings(st: &AppState, ctx: &Ctx) -> AppResult<Settings> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org).await?)
}

/// Checks settings given as numbers (the API); the form parses into the same checks.
pub fn check_settings(errs: &mut FieldErrors, s: &Settings) {
    let prefix = s.number_prefix.trim();
    if prefix.is_empty() {
        errs.add("number_prefix", "required", None);
    } else {
        text::optional_code(errs, "number_prefix", Some(prefix), 10);
    }
    for (field, v) in [
        ("number_digits", s.number_digits),
        ("recurrence_days", s.recurrence_days),
        ("return_visit_days", s.return_visit_days),
        ("warn_percent", s.warn_percent),
        ("capa_effect_days", s.capa_effect_days),
        ("capa_effect_units", s.capa_effect_units),
    ] {
        let (lo, hi) = range(field);
        input::within(errs, field, Some(v), lo, hi);
    }
    if !(1..=MAX_ATTACHMENT_BYTES).contains(&s.attachment_max_bytes) {
        errs.add("attachment_max_bytes", "megabytes", None);
    }
}

/// Saves settings read at `s.version` (0 = never saved).
pub async fn save_settings(st: &AppState, ctx: &Ctx, s: &Settings) -> AppResult<Settings> {
    let org = manage(ctx)?;
    let mut errs = FieldErrors::default();
    check_settings(&mut errs, s);
    invalid(errs)?;
    let s = Settings {
        number_prefix: s.number_prefix.trim().to_string(),
        ..s.clone()
    };
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org).await?;
    if before.version != s.version {
        return Err(AppError::Stale);
    }
    repo::put(&mut tx.c(), org, &s, now).await?;
    let after = repo::get(&mut tx.c(), org).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if before.version == 0 {
                "create"
            } else {
                "update"
            },
            entity: "complaint_settings",
            id: org,
            before: (before.version != 0).then_some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- SLA targets ----------

/// An SLA target as typed; budgets in working minutes, `None` = no target.
#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    /// minor, serious or a new level (creates it).
    pub severity: String,
    /// '' = any contract.
    pub contract_level: String,
    pub ack_minutes: Option<i64>,
    pub response_minutes: Option<i64>,
    pub remedy_minutes: Option<i64>,
    pub close_minutes: Option<i64>,
}

/// The SLA targets and the severities they define.
pub async fn targets(st: &AppState, ctx: &Ctx) -> AppResult<(Vec<SlaTarget>, Vec<String>)> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    let t = repo::sla_targets(&mut h.c(), org).await?;
    let s = repo::severities(&mut h.c(), org).await?;
    Ok((t, s))
}

/// Checks the budgets of a target (the form parses hours into these).
pub fn check_budgets(errs: &mut FieldErrors, t: &TargetInput) {
    for (field, v) in [
        ("ack_minutes", t.ack_minutes),
        ("response_minutes", t.response_minutes),
        ("remedy_minutes", t.remedy_minutes),
        ("close_minutes", t.close_minutes),
    ] {
        if v.is_some_and(|m| !(1..=MAX_MINUTES).contains(&m)) {
            errs.add(field, "duration", None);
        }
    }
}

async fn check_target(
    tx: &mut Tx,
    org: i64,
    mut errs: FieldErrors,
    t: &TargetInput,
    id: i64,
) -> AppResult<(String, String)> {
    let severity = input::level_name(&mut errs, "severity", &t.severity, true);
    let level = input::level_name(&mut errs, "contract_level", &t.contract_level, false);
    check_budgets(&mut errs, t);
    invalid(errs)?;
    let all = repo::sla_targets(&mut tx.c(), org).await?;
    if all
        .iter()
        .any(|x| x.id != id && x.severity == severity && x.contract_level == level)
    {
        return Err(AppError::Invalid(FieldErrors::single("severity", "taken")));
    }
    Ok((severity, level))
}

async fn target(tx: &mut Tx, org: i64, id: i64) -> AppResult<SlaTarget> {
    repo::sla_targets(&mut tx.c(), org)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

/// One SLA target.
pub async fn get_target(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<SlaTarget> {
    let (all, _) = targets(st, ctx).await?;
    all.into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

/// Adds an SLA target; a new severity name adds that severity level. `errs` carries parse
/// errors of the form (hours), reported with the rest.
pub async fn create_target(
    st: &AppState,
    ctx: &Ctx,
    errs: FieldErrors,
    t: &TargetInput,
) -> AppResult<SlaTarget> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let (severity, contract_level) = check_target(&mut tx, org, errs, t, 0).await?;
    let row = SlaTarget {
        id: 0,
        severity,
        contract_level,
        ack_minutes: t.ack_minutes,
        response_minutes: t.response_minutes,
        remedy_minutes: t.remedy_minutes,
        close_minutes: t.close_minutes,
        version: 0,
    };
    let id = repo::put_sla_target(&mut tx.c(), org, &row, now).await?;
    let after = target(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "sla_target",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates an SLA target read at `version`.
pub async fn update_target(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    errs: FieldErrors,
    t: &TargetInput,
) -> AppResult<SlaTarget> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = target(&mut tx, org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let (severity, contract_level) = check_target(&mut tx, org, errs, t, id).await?;
    let row = SlaTarget {
        id,
        severity,
        contract_level,
        ack_minutes: t.ack_minutes,
        response_minutes: t.response_minutes,
        remedy_minutes: t.remedy_minutes,
        close_minutes: t.close_minutes,
        version,
    };
    repo::put_sla_target(&mut tx.c(), org, &row, now).await?;
    let after = target(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "sla_target",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes an SLA target read at `version`.
pub async fn delete_target(st: &AppState, ctx: &Ctx, id: i64, version: i64) -> AppResult<()> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = target(&mut tx, org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::delete_sla_target(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: "sla_target",
            id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------- approval rules ----------

/// An approval rule as typed: conditions left out match anything; exactly one approver.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// repair, replace, return, refund, compensation or explanation.
    pub remedy_type: Option<String>,
    /// The rule applies to amounts strictly above this, in fen.
    pub min_amount_fen: Option<i64>,
    /// ours, customer_use, supplier, logistics or not_established.
    pub responsibility: Option<String>,
    /// A severity the organization knows.
    pub severity: Option<String>,
    /// A role that approves (not auditor), or
    pub approver_role: Option<String>,
    /// a department that approves.
    pub approver_department_id: Option<i64>,
    pub note: Option<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checks a rule; `errs` carries the form's parse errors (the amount in yuan).
async fn check_rule(
    tx: &mut Tx,
    org: i64,
    mut errs: FieldErrors,
    r: &RuleInput,
) -> AppResult<ApprovalRule> {
    let remedy_type = blank(&r.remedy_type).map(str::to_string);
    if remedy_type
        .as_deref()
        .is_some_and(|t| RemedyType::parse(t).is_none())
    {
        errs.add("remedy_type", "choice", None);
    }
    if r.min_amount_fen
        .is_some_and(|f| !(0..=MAX_AMOUNT_FEN).contains(&f))
    {
        errs.add("min_amount", "yuan", None);
    }
    let responsibility = blank(&r.responsibility).map(str::to_string);
    if responsibility
        .as_deref()
        .is_some_and(|t| Responsibility::parse(t).is_none())
    {
        errs.add("responsibility", "choice", None);
    }
    let severity = blank(&r.severity).map(str::to_string);
    if let Some(s) = &severity
        && !repo::severities(&mut tx.c(), org).await?.contains(s)
    {
        errs.add("severity", "choice", None);
    }
    let role = blank(&r.approver_role).map(str::to_string);
    let department = if role.is_some() {
        None
    } else {
        r.approver_department_id
    };
    match (&role, r.approver_department_id) {
        (None, None) => errs.add("approver", "required", None),
        (Some(_), Some(_)) => errs.add("approver", "approver_one", None),
        // A read-only role may never decide, so a rule naming it would block every remedy.
        (Some(role), None) => {
            if Role::parse(role).is_none_or(Role::read_only) {
                errs.add("approver", "choice", None);
            }
        }
        (None, Some(d)) => {
            if !store::org::department_exists(&mut tx.c(), org, d).await? {
                errs.add("approver", "choice", None);
            }
        }
    }
    let note = text::optional(&mut errs, "note", r.note.as_deref(), 200);
    invalid(errs)?;
    Ok(ApprovalRule {
        id: 0,
        remedy_type,
        min_amount_fen: r.min_amount_fen,
        responsibility,
        severity,
        approver_role: role,
        approver_department_id: department,
        approver_department: None,
        note,
        active: r.active.unwrap_or(true),
        version: 0,
    })
}

async fn rule(tx: &mut Tx, org: i64, id: i64) -> AppResult<ApprovalRule> {
    repo::approval_rules(&mut tx.c(), org, false)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

/// Every approval rule, active or not.
pub async fn rules(st: &AppState, ctx: &Ctx) -> AppResult<Vec<ApprovalRule>> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    Ok(repo::approval_rules(&mut h.c(), org, false).await?)
}

/// One approval rule.
pub async fn get_rule(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<ApprovalRule> {
    rules(st, ctx)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

/// Adds an approval rule.
pub async fn create_rule(
    st: &AppState,
    ctx: &Ctx,
    errs: FieldErrors,
    r: &RuleInput,
) -> AppResult<ApprovalRule> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let row = check_rule(&mut tx, org, errs, r).await?;
    let id = repo::put_approval_rule(&mut tx.c(), org, &row, now).await?;
    let after = rule(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "approval_rule",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates an approval rule read at `version` (its active flag included).
pub async fn update_rule(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    errs: FieldErrors,
    r: &RuleInput,
) -> AppResult<ApprovalRule> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = rule(&mut tx, org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let mut row = check_rule(&mut tx, org, errs, r).await?;
    row.id = id;
    row.version = version;
    if r.active.is_none() {
        row.active = before.active;
    }
    repo::put_approval_rule(&mut tx.c(), org, &row, now).await?;
    let after = rule(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "approval_rule",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Activates or deactivates an approval rule read at `version`.
pub async fn set_rule_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<ApprovalRule> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = rule(&mut tx, org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let row = ApprovalRule {
        active,
        ..before.clone()
    };
    repo::put_approval_rule(&mut tx.c(), org, &row, now).await?;
    let after = rule(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "approval_rule",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- responsibility matrix ----------

/// A matrix row as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DutyInput {
    /// register, confirm, analyse, remedy, implement, prevent or visit.
    pub step: String,
    pub department_id: Option<i64>,
    pub duty: String,
    /// Order within the step; after the last row when absent.
    pub sort: Option<i64>,
}

/// The matrix in lifecycle order of the steps.
pub async fn matrix(st: &AppState, ctx: &Ctx) -> AppResult<Vec<Duty>> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    Ok(sorted(repo::matrix(&mut h.c(), org).await?))
}

/// Orders rows by the lifecycle position of their step, then their order.
pub fn sorted(mut rows: Vec<Duty>) -> Vec<Duty> {
    let pos = |s: &str| STEPS.iter().position(|x| *x == s).unwrap_or(STEPS.len());
    rows.sort_by_key(|r| (pos(&r.step), r.sort, r.id));
    rows
}

/// Adds a matrix row; `errs` carries the form's parse errors.
pub async fn add_duty(
    st: &AppState,
    ctx: &Ctx,
    mut errs: FieldErrors,
    d: &DutyInput,
) -> AppResult<Duty> {
    let org = manage(ctx)?;
    let step = d.step.trim();
    if step.is_empty() {
        errs.add("step", "required", None);
    } else if !STEPS.contains(&step) {
        errs.add("step", "choice", None);
    }
    let duty = text::required(&mut errs, "duty", &d.duty, 200);
    if let Some(s) = d.sort {
        input::within(&mut errs, "sort", Some(s), 0, 1000);
    }
    let now = st.now();
    let mut tx = st.db.begin().await?;
    match d.department_id {
        None => errs.add("department_id", "required", None),
        Some(id) => {
            if !store::org::department_exists(&mut tx.c(), org, id).await? {
                errs.add("department_id", "choice", None);
            }
        }
    }
    invalid(errs)?;
    let department = d.department_id.unwrap_or(0);
    let rows = repo::matrix(&mut tx.c(), org).await?;
    let sort = d.sort.unwrap_or_else(|| {
        rows.iter()
            .filter(|r| r.step == step)
            .map(|r| r.sort + 1)
            .max()
            .unwrap_or(1)
    });
    let id = repo::add_duty(&mut tx.c(), org, step, department, &duty, sort, now).await?;
    let after = duty_row(&mut tx, org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "responsibility_duty",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn duty_row(tx: &mut Tx, org: i64, id: i64) -> AppResult<Duty> {
    repo::matrix(&mut tx.c(), org)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

/// Removes a matrix row.
pub async fn remove_duty(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<()> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = duty_row(&mut tx, org, id).await?;
    repo::remove_duty(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: "responsibility_duty",
            id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts the seed's matrix rows whose department code exists and that are not there yet;
/// returns the rows added.
async fn insert_seed_matrix(tx: &mut Tx, org: i64, now: i64) -> AppResult<Vec<i64>> {
    let codes = repo::department_codes(&mut tx.c(), org).await?;
    let existing = repo::matrix(&mut tx.c(), org).await?;
    let mut added = Vec::new();
    for (i, (step, code, duty)) in SEED_MATRIX.iter().enumerate() {
        let Some(dep) = codes
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, id)| *id)
        else {
            continue;
        };
        if existing
            .iter()
            .any(|r| r.step == *step && r.department_id == dep && r.duty == *duty)
        {
            continue;
        }
        let id = repo::add_duty(&mut tx.c(), org, step, dep, duty, i as i64 + 1, now).await?;
        added.push(id);
    }
    Ok(added)
}

/// Loads the seed's matrix, matching departments by code (BIZ, MKT, SVC, PRD, PUR); rows
/// already present are skipped. Returns how many rows were added; refused when no department
/// has one of those codes.
pub async fn load_seed_matrix(st: &AppState, ctx: &Ctx) -> AppResult<usize> {
    let org = manage(ctx)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let codes = repo::department_codes(&mut tx.c(), org).await?;
    if !SEED_MATRIX
        .iter()
        .any(|(_, code, _)| codes.iter().any(|(c, _)| c.eq_ignore_ascii_case(code)))
    {
        return Err(AppError::Transition("seed_departments_missing"));
    }
    let added = insert_seed_matrix(&mut tx, org, now).await?;
    for id in &added {
        let after = duty_row(&mut tx, org, *id).await?;
        audit(
            &mut tx,
            ctx,
            org,
            now,
            Change {
                action: "create",
                entity: "responsibility_duty",
                id: *id,
                before: None,
                after: Some(&after),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added.len())
}

// ---------- everything at once, and the demo's defaults ----------

/// Every complaint setting of the organization.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub settings: Settings,
    pub calendar: CalendarData,
    pub sla_targets: Vec<SlaTarget>,
    /// minor, serious and the extra levels of the SLA targets.
    pub severities: Vec<String>,
    pub approval_rules: Vec<ApprovalRule>,
    pub responsibility_matrix: Vec<Duty>,
}

/// Every complaint setting, in one read.
pub async fn overview(st: &AppState, ctx: &Ctx) -> AppResult<Overview> {
    let org = view(ctx)?;
    let mut h = st.db.acquire().await?;
    let mut c = h.c();
    Ok(Overview {
        settings: repo::get(&mut c, org).await?,
        calendar: load_calendar(&mut c, org).await?,
        sla_targets: repo::sla_targets(&mut c, org).await?,
        severities: repo::severities(&mut c, org).await?,
        approval_rules: repo::approval_rules(&mut c, org, false).await?,
        responsibility_matrix: sorted(repo::matrix(&mut c, org).await?),
    })
}

/// The demo's SLA targets: (severity, contract level, ack, response, remedy, close) minutes.
const SEED_TARGETS: [(&str, &str, i64, i64, i64, i64); 3] = [
    ("minor", "", 60, 240, 2400, 4800),
    ("serious", "", 30, 120, 960, 2400),
    ("serious", "gold", 15, 60, 480, 1200),
];

/// Inserts the demo's complaint settings into an organization that has none: SLA targets
/// (minor, serious, and serious under a "gold" contract at half the time), approval rules
/// (serious → the BIZ and PRD departments; refunds above ¥5,000 and any compensation → the
/// manager), the seed's responsibility matrix and the 2026 calendar. Call once, on an empty
/// organization: it does not check what is there. One audit row records it.
pub async fn seed_defaults(tx: &mut Tx, org: i64, now: i64) -> AppResult<()> {
    for (severity, level, ack, response, remedy, close) in SEED_TARGETS {
        let t = SlaTarget {
            id: 0,
            severity: severity.into(),
            contract_level: level.into(),
            ack_minutes: Some(ack),
            response_minutes: Some(response),
            remedy_minutes: Some(remedy),
            close_minutes: Some(close),
            version: 0,
        };
        repo::put_sla_target(&mut tx.c(), org, &t, now).await?;
    }
    let codes = repo::department_codes(&mut tx.c(), org).await?;
    let dep = |code: &str| codes.iter().find(|(c, _)| c == code).map(|(_, id)| *id);
    let mk = |remedy_type: Option<&str>,
              min_amount_fen: Option<i64>,
              severity: Option<&str>,
              role: Option<&str>,
              department: Option<i64>| ApprovalRule {
        id: 0,
        remedy_type: remedy_type.map(str::to_string),
        min_amount_fen,
        responsibility: None,
        severity: severity.map(str::to_string),
        approver_role: role.map(str::to_string),
        approver_department_id: department,
        approver_department: None,
        note: None,
        active: true,
        version: 0,
    };
    let mut rules = Vec::new();
    for code in ["BIZ", "PRD"] {
        if let Some(d) = dep(code) {
            rules.push(mk(None, None, Some("serious"), None, Some(d)));
        }
    }
    rules.push(mk(
        Some("refund"),
        Some(500_000),
        None,
        Some("manager"),
        None,
    ));
    rules.push(mk(Some("compensation"), None, None, Some("manager"), None));
    for r in &rules {
        repo::put_approval_rule(&mut tx.c(), org, r, now).await?;
    }
    let duties = insert_seed_matrix(tx, org, now).await?;
    let calendar = match cal_repo::default_for(&mut tx.c(), org).await? {
        Some(k) => k.id,
        None => create_builtin(tx, org, now).await?.id,
    };
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor: &Actor::system("seed"),
            action: "create",
            entity: "complaint_settings",
            entity_id: Some(org),
            before: None,
            after: Some(serde_json::json!({
                "sla_targets": SEED_TARGETS.len(),
                "approval_rules": rules.len(),
                "responsibility_matrix": duties.len(),
                "work_calendar": calendar,
            })),
        },
    )
    .await?;
    Ok(())
}
