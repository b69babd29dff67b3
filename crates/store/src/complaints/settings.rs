//! Complaint settings as data: numbering, windows and limits; SLA targets per severity and
//! contract level; remedy approval rules; the responsibility matrix.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// Numbering, windows and limits of one organization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// Complaint number prefix, e.g. "TS" for TS-2026-000123.
    pub number_prefix: String,
    /// Digits of the sequence part.
    pub number_digits: i64,
    /// A complaint matching one received within this many days is a repeat.
    pub recurrence_days: i64,
    /// Working days allowed for the return visit after completion.
    pub return_visit_days: i64,
    /// Warn when this share (%) of an SLA budget is left.
    pub warn_percent: i64,
    /// A corrective action is effective after this many days without recurrence (0 = not used).
    pub capa_effect_days: i64,
    /// … or after this many units shipped without recurrence (0 = not used).
    pub capa_effect_units: i64,
    /// Largest attachment accepted, in bytes.
    pub attachment_max_bytes: i64,
    pub version: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            number_prefix: "TS".into(),
            number_digits: 6,
            recurrence_days: 180,
            return_visit_days: 3,
            warn_percent: 20,
            capa_effect_days: 90,
            capa_effect_units: 0,
            attachment_max_bytes: 10 * 1024 * 1024,
            version: 0,
        }
    }
}

type SettingsRow = (String, i64, i64, i64, i64, i64, i64, i64, i64);

/// The organization's settings (the defaults until first saved; version 0 then).
pub async fn get(c: &mut Conn<'_>, org: i64) -> StoreResult<Settings> {
    let r: Option<SettingsRow> = on!(c, x => sqlx::query_as(
        "SELECT number_prefix, number_digits, recurrence_days, return_visit_days, warn_percent, capa_effect_days,
            capa_effect_units, attachment_max_bytes, version
         FROM complaint_settings WHERE org_id = $1")
        .bind(org).fetch_optional(x).await)?;
    Ok(r.map(|r| Settings {
        number_prefix: r.0,
        number_digits: r.1,
        recurrence_days: r.2,
        return_visit_days: r.3,
        warn_percent: r.4,
        capa_effect_days: r.5,
        capa_effect_units: r.6,
        attachment_max_bytes: r.7,
        version: r.8,
    })
    .unwrap_or_default())
}

/// Saves settings read at `s.version` (0 = never saved).
pub async fn put(c: &mut Conn<'_>, org: i64, s: &Settings, now: i64) -> StoreResult<()> {
    let n = if s.version == 0 {
        let exists: Option<(i64,)> = on!(c, x => sqlx::query_as("SELECT version FROM complaint_settings WHERE org_id = $1")
            .bind(org).fetch_optional(x).await)?;
        if exists.is_some() {
            return Err(StoreError::Conflict("stale version".into()));
        }
        run!(c, x => sqlx::query(
            "INSERT INTO complaint_settings (org_id, number_prefix, number_digits, recurrence_days, return_visit_days,
                warn_percent, capa_effect_days, capa_effect_units, attachment_max_bytes, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)")
            .bind(org).bind(&s.number_prefix).bind(s.number_digits).bind(s.recurrence_days).bind(s.return_visit_days)
            .bind(s.warn_percent).bind(s.capa_effect_days).bind(s.capa_effect_units).bind(s.attachment_max_bytes)
            .bind(now).execute(x).await)?
    } else {
        run!(c, x => sqlx::query(
            "UPDATE complaint_settings SET number_prefix = $1, number_digits = $2, recurrence_days = $3,
                return_visit_days = $4, warn_percent = $5, capa_effect_days = $6, capa_effect_units = $7,
                attachment_max_bytes = $8, updated_at = $9, version = version + 1
             WHERE org_id = $10 AND version = $11")
            .bind(&s.number_prefix).bind(s.number_digits).bind(s.recurrence_days).bind(s.return_visit_days)
            .bind(s.warn_percent).bind(s.capa_effect_days).bind(s.capa_effect_units).bind(s.attachment_max_bytes)
            .bind(now).bind(org).bind(s.version).execute(x).await)?
    };
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Reserves `n` consecutive sequence numbers of `year` in one upsert (in the caller's
/// transaction, so numbers never repeat and gaps only come from rolled-back registrations;
/// two first complaints of a year at once do not clash on the insert); returns the first.
pub async fn next_numbers(c: &mut Conn<'_>, org: i64, year: i64, n: i64) -> StoreResult<i64> {
    let (first,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO complaint_counters (org_id, year, next) VALUES ($1, $2, 1 + $3)
         ON CONFLICT (org_id, year) DO UPDATE SET next = complaint_counters.next + $3
         RETURNING next - $3")
        .bind(org).bind(year).bind(n).fetch_one(x).await)?;
    Ok(first)
}

/// Working-time budgets (minutes) for one severity and contract level ('' = any contract).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SlaTarget {
    pub id: i64,
    pub severity: String,
    pub contract_level: String,
    pub ack_minutes: Option<i64>,
    pub response_minutes: Option<i64>,
    pub remedy_minutes: Option<i64>,
    pub close_minutes: Option<i64>,
    pub version: i64,
}

type SlaRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

/// Every SLA target of the organization, by severity then contract level.
pub async fn sla_targets(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<SlaTarget>> {
    let rows: Vec<SlaRow> = on!(c, x => sqlx::query_as(
        "SELECT id, severity, contract_level, ack_minutes, response_minutes, remedy_minutes, close_minutes, version
         FROM sla_targets WHERE org_id = $1 ORDER BY severity, contract_level")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| SlaTarget {
            id: r.0,
            severity: r.1,
            contract_level: r.2,
            ack_minutes: r.3,
            response_minutes: r.4,
            remedy_minutes: r.5,
            close_minutes: r.6,
            version: r.7,
        })
        .collect())
}

/// Inserts or updates the target of (severity, contract level); `version` 0 inserts.
pub async fn put_sla_target(
    c: &mut Conn<'_>,
    org: i64,
    t: &SlaTarget,
    now: i64,
) -> StoreResult<i64> {
    if t.version == 0 {
        let (id,): (i64,) = on!(c, x => sqlx::query_as(
            "INSERT INTO sla_targets (org_id, severity, contract_level, ack_minutes, response_minutes, remedy_minutes,
                close_minutes, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) RETURNING id")
            .bind(org).bind(&t.severity).bind(&t.contract_level).bind(t.ack_minutes).bind(t.response_minutes)
            .bind(t.remedy_minutes).bind(t.close_minutes).bind(now).fetch_one(x).await)?;
        return Ok(id);
    }
    let n = run!(c, x => sqlx::query(
        "UPDATE sla_targets SET severity = $1, contract_level = $2, ack_minutes = $3, response_minutes = $4,
            remedy_minutes = $5, close_minutes = $6, updated_at = $7, version = version + 1
         WHERE org_id = $8 AND id = $9 AND version = $10")
        .bind(&t.severity).bind(&t.contract_level).bind(t.ack_minutes).bind(t.response_minutes)
        .bind(t.remedy_minutes).bind(t.close_minutes).bind(now).bind(org).bind(t.id).bind(t.version)
        .execute(x).await)?;
    if n == 1 {
        Ok(t.id)
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Deletes an SLA target.
pub async fn delete_sla_target(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query("DELETE FROM sla_targets WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The severities the organization knows: minor, serious and any level with an SLA target.
pub async fn severities(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT severity FROM sla_targets WHERE org_id = $1 ORDER BY severity")
        .bind(org).fetch_all(x).await)?;
    let mut out = vec![
        domain::complaints::MINOR.to_string(),
        domain::complaints::SERIOUS.to_string(),
    ];
    for (s,) in rows {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A remedy approval rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApprovalRule {
    pub id: i64,
    pub remedy_type: Option<String>,
    /// The rule applies to amounts strictly above this (fen).
    pub min_amount_fen: Option<i64>,
    pub responsibility: Option<String>,
    pub severity: Option<String>,
    /// The approving role (manager, …), or
    pub approver_role: Option<String>,
    /// the approving department.
    pub approver_department_id: Option<i64>,
    pub approver_department: Option<String>,
    pub note: Option<String>,
    pub active: bool,
    pub version: i64,
}

type RuleRow = (
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    bool,
    i64,
);

/// The organization's approval rules (`active_only` for routing).
pub async fn approval_rules(
    c: &mut Conn<'_>,
    org: i64,
    active_only: bool,
) -> StoreResult<Vec<ApprovalRule>> {
    let rows: Vec<RuleRow> = on!(c, x => sqlx::query_as(
        "SELECT r.id, r.remedy_type, r.min_amount_fen, r.responsibility, r.severity, r.approver_role,
            r.approver_department_id, d.name, r.note, r.active, r.version
         FROM approval_rules r LEFT JOIN departments d ON d.id = r.approver_department_id
         WHERE r.org_id = $1 AND (r.active OR NOT $2) ORDER BY r.id")
        .bind(org).bind(active_only).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| ApprovalRule {
            id: r.0,
            remedy_type: r.1,
            min_amount_fen: r.2,
            responsibility: r.3,
            severity: r.4,
            approver_role: r.5,
            approver_department_id: r.6,
            approver_department: r.7,
            note: r.8,
            active: r.9,
            version: r.10,
        })
        .collect())
}

/// Inserts (`version` 0) or updates an approval rule; returns its id.
pub async fn put_approval_rule(
    c: &mut Conn<'_>,
    org: i64,
    r: &ApprovalRule,
    now: i64,
) -> StoreResult<i64> {
    if r.version == 0 {
        let (id,): (i64,) = on!(c, x => sqlx::query_as(
            "INSERT INTO approval_rules (org_id, remedy_type, min_amount_fen, responsibility, severity, approver_role,
                approver_department_id, note, active, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) RETURNING id")
            .bind(org).bind(&r.remedy_type).bind(r.min_amount_fen).bind(&r.responsibility).bind(&r.severity)
            .bind(&r.approver_role).bind(r.approver_department_id).bind(&r.note).bind(r.active).bind(now)
            .fetch_one(x).await)?;
        return Ok(id);
    }
    let n = run!(c, x => sqlx::query(
        "UPDATE approval_rules SET remedy_type = $1, min_amount_fen = $2, responsibility = $3, severity = $4,
            approver_role = $5, approver_department_id = $6, note = $7, active = $8, updated_at = $9,
            version = version + 1
         WHERE org_id = $10 AND id = $11 AND version = $12")
        .bind(&r.remedy_type).bind(r.min_amount_fen).bind(&r.responsibility).bind(&r.severity)
        .bind(&r.approver_role).bind(r.approver_department_id).bind(&r.note).bind(r.active).bind(now)
        .bind(org).bind(r.id).bind(r.version).execute(x).await)?;
    if n == 1 {
        Ok(r.id)
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// One row of the responsibility matrix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Duty {
    pub id: i64,
    /// register, confirm, analyse, remedy, implement, prevent, visit.
    pub step: String,
    pub department_id: i64,
    pub department: String,
    pub duty: String,
    pub sort: i64,
}

/// The matrix, by step then order.
pub async fn matrix(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<Duty>> {
    let rows: Vec<(i64, String, i64, String, String, i64)> = on!(c, x => sqlx::query_as(
        "SELECT m.id, m.step, m.department_id, d.name, m.duty, m.sort
         FROM responsibility_matrix m JOIN departments d ON d.id = m.department_id
         WHERE m.org_id = $1 ORDER BY m.step, m.sort, m.id")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Duty {
            id: r.0,
            step: r.1,
            department_id: r.2,
            department: r.3,
            duty: r.4,
            sort: r.5,
        })
        .collect())
}

/// Adds a matrix row; returns its id.
pub async fn add_duty(
    c: &mut Conn<'_>,
    org: i64,
    step: &str,
    department_id: i64,
    duty: &str,
    sort: i64,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO responsibility_matrix (org_id, step, department_id, duty, sort, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(org).bind(step).bind(department_id).bind(duty).bind(sort).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Removes a matrix row.
pub async fn remove_duty(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query("DELETE FROM responsibility_matrix WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Active departments that have a code, as (code, id): the seed's matrix and approval rules
/// name departments by code (BIZ, MKT, SVC, PRD, PUR).
pub async fn department_codes(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = on!(c, x => sqlx::query_as(
        "SELECT code, id FROM departments WHERE org_id = $1 AND active AND code IS NOT NULL ORDER BY code LIMIT 1000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}
