//! The audit trail pages: every change in the organization, filterable, with a
//! before → after view of each row.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use domain::auth::Permission;
use serde::Deserialize;
use store::PageReq;
use store::audit::{Entry, Filter};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Shell, render};

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit/{id}", get(entry))
}

/// Query of the audit list (shared with the API).
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct AuditQ {
    /// Record type: department, post, staff, user, membership, api_token, organization, customer, customer_contact, customer_site, outlet, product, order, equipment, meter_reading, complaint, complaint_task, attachment, capa, capa_action, work_calendar, complaint_settings, sla_target, approval_rule, responsibility_duty, part, stock_location, stock_move, engineer_profile, maintenance_plan, service_order, checklist_template, checklist_item, survey_template, return_visit, visit_settings, study, study_invitation, survey_response.
    pub entity: Option<String>,
    /// Record id.
    pub entity_id: Option<String>,
    /// create, update, retire, restore, delete, revoke, password_change, password_reset, confirm, analyse, explain, respond, propose, agree, start, progress, complete, visit, withdraw, pause, resume, approve, reject, finish, capa_finish, capa_start_check, capa_effective, capa_check_failed, capa_close, capa_escalate, add_day, remove_day, load_schedule, visit_record, visit_reassign, visit_cancel, study_open, study_close, study_draw, invitation_extend, survey_answer.
    pub action: Option<String>,
    /// Part of the actor's login.
    pub actor: Option<String>,
    /// From this day (YYYY-MM-DD, local time).
    pub from: Option<String>,
    /// Up to and including this day (YYYY-MM-DD).
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Midnight of a local day as Unix seconds.
fn day_start(d: &str, offset_min: i32) -> Option<i64> {
    if !domain::org::valid_date(d) {
        return None;
    }
    let y: i32 = d[0..4].parse().ok()?;
    let m: u8 = d[5..7].parse().ok()?;
    let day: u8 = d[8..10].parse().ok()?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() - i64::from(offset_min) * 60)
}

impl AuditQ {
    /// The store filter, with days turned into time bounds at the display offset.
    pub fn filter(&self, offset_min: i32) -> Filter {
        Filter {
            entity: nonempty(&self.entity),
            entity_id: nonempty(&self.entity_id).and_then(|s| s.parse().ok()),
            action: nonempty(&self.action),
            actor: nonempty(&self.actor),
            from: nonempty(&self.from).and_then(|d| day_start(&d, offset_min)),
            to: nonempty(&self.to)
                .and_then(|d| day_start(&d, offset_min))
                .map(|t| t + 86_400),
        }
    }
}

/// Lists audit rows of the organization.
pub async fn list_entries(st: &AppState, ctx: &Ctx, q: &AuditQ) -> AppResult<store::Page<Entry>> {
    let org = ctx.require(Permission::ViewAudit)?.id;
    let mut h = st.db.acquire().await?;
    Ok(store::audit::list(
        &mut h.c(),
        org,
        &q.filter(st.settings.server.utc_offset_minutes),
        PageReq::new(q.page, q.per_page),
    )
    .await?)
}

#[derive(askama::Template)]
#[template(path = "audit/list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Entry>,
    pager: Pager,
    entities: Vec<String>,
    q: AuditQ,
}

impl ListPage {
    fn v<'a>(&self, o: &'a Option<String>) -> &'a str {
        o.as_deref().unwrap_or("")
    }
}

async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<AuditQ>,
) -> AppResult<Response> {
    let page = list_entries(&st, &ctx, &q).await?;
    let entities = {
        let mut h = st.db.acquire().await?;
        store::audit::entities(&mut h.c(), ctx.org()?.id).await?
    };
    let s = Shell::load(&st, &ctx, &uri, "audit.title").await?;
    let mut pager = Pager::new(&uri, &page);
    if page.total > store::audit::COUNT_CAP {
        pager.total_text = format!("{}+", store::audit::COUNT_CAP);
    }
    render(&ListPage {
        tr: ctx.tr,
        s,
        pager,
        items: page.items,
        entities,
        q,
    })
}

/// One field of a before → after comparison.
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
    pub changed: bool,
}

fn show(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => other.to_string(),
    }
}

/// Field-by-field comparison of two JSON snapshots.
pub fn diff(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    let parse = |s: Option<&str>| -> serde_json::Map<String, serde_json::Value> {
        s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    let (b, a) = (parse(before), parse(after));
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let (bv, av) = (show(b.get(k)), show(a.get(k)));
            Change {
                field: k.clone(),
                changed: bv != av,
                before: bv,
                after: av,
            }
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "audit/entry.html")]
struct EntryPage {
    s: Shell,
    tr: Tr,
    e: Entry,
    changes: Vec<Change>,
}

async fn entry(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ViewAudit)?.id;
    let e = {
        let mut h = st.db.acquire().await?;
        store::audit::get(&mut h.c(), org, id).await?
    };
    let changes = diff(e.before.as_deref(), e.after.as_deref());
    let s = Shell::load(&st, &ctx, &uri, "audit.entry").await?;
    render(&EntryPage {
        tr: ctx.tr,
        s,
        e,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_fields() {
        let d = diff(
            Some(r#"{"name":"a","code":"X"}"#),
            Some(r#"{"name":"b","code":"X"}"#),
        );
        let name = d.iter().find(|c| c.field == "name").unwrap();
        assert!(name.changed);
        assert_eq!((name.before.as_str(), name.after.as_str()), ("a", "b"));
        assert!(!d.iter().find(|c| c.field == "code").unwrap().changed);
    }

    #[test]
    fn days_are_local() {
        // 2026-01-01 00:00 at +08:00 is 2025-12-31 16:00 UTC.
        assert_eq!(day_start("2026-01-01", 480), Some(1_767_196_800));
        assert_eq!(day_start("2026-13-01", 480), None);
    }
}
