//! Work calendars: working periods, working weekdays, statutory holidays and make-up working
//! days (调休). One calendar per organization is the default; it is created on first use.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// A work calendar as stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Calendar {
    pub id: i64,
    pub name: String,
    /// Minutes east of UTC (Asia/Shanghai: 480).
    pub utc_offset_minutes: i64,
    /// Working periods, e.g. "09:00-12:00,13:00-18:00".
    pub periods: String,
    /// Working weekdays as digits, 1 = Monday … 7 = Sunday, e.g. "12345".
    pub weekdays: String,
    pub is_default: bool,
    pub updated_at: i64,
    pub version: i64,
}

/// A holiday or make-up working day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Day {
    /// YYYY-MM-DD.
    pub day: String,
    /// holiday or workday.
    pub kind: String,
    pub name: Option<String>,
}

type Row = (i64, String, i64, String, String, bool, i64, i64);

fn calendar(r: Row) -> Calendar {
    Calendar {
        id: r.0,
        name: r.1,
        utc_offset_minutes: r.2,
        periods: r.3,
        weekdays: r.4,
        is_default: r.5,
        updated_at: r.6,
        version: r.7,
    }
}

/// The organization's default calendar, if it has one.
pub async fn default_for(c: &mut Conn<'_>, org: i64) -> StoreResult<Option<Calendar>> {
    let r: Option<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, name, utc_offset_minutes, periods, weekdays, is_default, updated_at, version
         FROM work_calendars WHERE org_id = $1 AND is_default ORDER BY id LIMIT 1")
        .bind(org).fetch_optional(x).await)?;
    Ok(r.map(calendar))
}

/// One calendar of the organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Calendar> {
    let r: Option<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, name, utc_offset_minutes, periods, weekdays, is_default, updated_at, version
         FROM work_calendars WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.map(calendar).ok_or(StoreError::NotFound)
}

/// Inserts a calendar with its days; returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
    utc_offset_minutes: i64,
    periods: &str,
    weekdays: &str,
    is_default: bool,
    days: &[Day],
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO work_calendars (org_id, name, utc_offset_minutes, periods, weekdays, is_default, created_at,
            updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) RETURNING id")
        .bind(org).bind(name).bind(utc_offset_minutes).bind(periods).bind(weekdays).bind(is_default).bind(now)
        .fetch_one(x).await)?;
    replace_days(c, org, id, days).await?;
    Ok(id)
}

/// Updates the working hours and weekdays if `version` is still current.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    name: &str,
    utc_offset_minutes: i64,
    periods: &str,
    weekdays: &str,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE work_calendars SET name = $1, utc_offset_minutes = $2, periods = $3, weekdays = $4, updated_at = $5,
            version = version + 1
         WHERE org_id = $6 AND id = $7 AND version = $8")
        .bind(name).bind(utc_offset_minutes).bind(periods).bind(weekdays).bind(now).bind(org).bind(id).bind(version)
        .execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Bumps the version after the days changed (so concurrent day edits conflict).
pub async fn touch(c: &mut Conn<'_>, org: i64, id: i64, version: i64, now: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE work_calendars SET updated_at = $1, version = version + 1 WHERE org_id = $2 AND id = $3 AND version = $4")
        .bind(now).bind(org).bind(id).bind(version).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// The calendar's holidays and make-up days, by date.
pub async fn days(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Vec<Day>> {
    let rows: Vec<(String, String, Option<String>)> = on!(c, x => sqlx::query_as(
        "SELECT day, kind, name FROM calendar_days WHERE org_id = $1 AND calendar_id = $2 ORDER BY day")
        .bind(org).bind(id).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(day, kind, name)| Day { day, kind, name })
        .collect())
}

/// The calendar's days as (date, kind) pairs, read as one aggregated row: sqlx hands each
/// SQLite row over from its worker thread separately, and the 39 rows of a year's statutory
/// schedule cost 374 µs that way on every registration and complaint page (measured).
pub async fn day_kinds(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Vec<(String, String)>> {
    let (all,): (String,) = match c {
        Conn::Sqlite(x) => {
            sqlx::query_as(
                "SELECT COALESCE(group_concat(day || '=' || kind, ','), '') FROM calendar_days
             WHERE org_id = $1 AND calendar_id = $2",
            )
            .bind(org)
            .bind(id)
            .fetch_one(&mut **x)
            .await?
        }
        Conn::Postgres(x) => {
            sqlx::query_as(
                "SELECT COALESCE(string_agg(day || '=' || kind, ','), '') FROM calendar_days
             WHERE org_id = $1 AND calendar_id = $2",
            )
            .bind(org)
            .bind(id)
            .fetch_one(&mut **x)
            .await?
        }
    };
    Ok(all
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(d, k)| (d.to_string(), k.to_string()))
        .collect())
}

/// Adds or replaces one day.
pub async fn put_day(c: &mut Conn<'_>, org: i64, id: i64, d: &Day) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM calendar_days WHERE calendar_id = $1 AND day = $2 AND org_id = $3")
        .bind(id).bind(&d.day).bind(org).execute(x).await)?;
    run!(c, x => sqlx::query(
        "INSERT INTO calendar_days (calendar_id, org_id, day, kind, name) VALUES ($1, $2, $3, $4, $5)")
        .bind(id).bind(org).bind(&d.day).bind(&d.kind).bind(&d.name).execute(x).await)?;
    Ok(())
}

/// Removes one day; false when it was not there.
pub async fn remove_day(c: &mut Conn<'_>, org: i64, id: i64, day: &str) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query("DELETE FROM calendar_days WHERE calendar_id = $1 AND day = $2 AND org_id = $3")
        .bind(id).bind(day).bind(org).execute(x).await)?;
    Ok(n == 1)
}

/// Replaces the days of the years present in `days` (loading a published schedule).
pub async fn replace_days(c: &mut Conn<'_>, org: i64, id: i64, days: &[Day]) -> StoreResult<()> {
    for d in days {
        put_day(c, org, id, d).await?;
    }
    Ok(())
}
