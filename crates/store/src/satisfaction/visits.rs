//! Return visits (回访): the per-organization rules (a row with the defaults on first read),
//! the visit record and its list with SQL filters and staff scope, version-checked writes,
//! and what the generation needs: complaints waiting for a visit, completed service orders
//! not yet considered by the sampling, the sampling's running count per month, and the
//! survey response a low-score trigger reads. Every query carries `org_id`.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::maintenance::orders::{Val, record};
use crate::{Page, PageReq, on, run};

record!(
    /// The visit and trigger rules of an organization.
    VisitSettings {
        complaint_days: i64 = "s.complaint_days",
        order_days: i64 = "s.order_days",
        tier1_max: i64 = "s.tier1_max",
        tier1_percent: i64 = "s.tier1_percent",
        tier2_max: i64 = "s.tier2_max",
        tier2_percent: i64 = "s.tier2_percent",
        tier3_percent: i64 = "s.tier3_percent",
        low_rating: i64 = "s.low_rating",
        low_score: i64 = "s.low_score",
        /// task or complaint.
        low_score_action: String = "s.low_score_action",
        link_days: i64 = "s.link_days",
        updated_at: i64 = "s.updated_at",
        version: i64 = "s.version",
    }
);

/// The values written by a settings change.
#[derive(Debug, Clone)]
pub struct SettingsValues {
    pub complaint_days: i64,
    pub order_days: i64,
    pub tier1_max: i64,
    pub tier1_percent: i64,
    pub tier2_max: i64,
    pub tier2_percent: i64,
    pub tier3_percent: i64,
    pub low_rating: i64,
    pub low_score: i64,
    pub low_score_action: String,
    pub link_days: i64,
}

/// The settings of `org`, written with `defaults` first when the organization has none (a
/// concurrent first read inserts nothing twice).
pub async fn settings(
    c: &mut Conn<'_>,
    org: i64,
    defaults: &SettingsValues,
    now: i64,
) -> StoreResult<VisitSettings> {
    let sql = format!(
        "SELECT {} FROM visit_settings s WHERE s.org_id = $1",
        VisitSettings::COLUMNS
    );
    let found: Option<VisitSettings> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).fetch_optional(x).await)?;
    if let Some(s) = found {
        return Ok(s);
    }
    let d = defaults;
    run!(c, x => sqlx::query(
        "INSERT INTO visit_settings (org_id, complaint_days, order_days, tier1_max, tier1_percent, tier2_max,
            tier2_percent, tier3_percent, low_rating, low_score, low_score_action, link_days, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) ON CONFLICT (org_id) DO NOTHING")
        .bind(org).bind(d.complaint_days).bind(d.order_days).bind(d.tier1_max).bind(d.tier1_percent)
        .bind(d.tier2_max).bind(d.tier2_percent).bind(d.tier3_percent).bind(d.low_rating).bind(d.low_score)
        .bind(d.low_score_action.clone()).bind(d.link_days).bind(now).execute(x).await)?;
    let s: Option<VisitSettings> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).fetch_optional(x).await)?;
    s.ok_or(StoreError::NotFound)
}

/// Writes the settings read at `version` (stale: `Conflict`).
pub async fn put_settings(
    c: &mut Conn<'_>,
    org: i64,
    version: i64,
    v: &SettingsValues,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE visit_settings SET complaint_days = $1, order_days = $2, tier1_max = $3, tier1_percent = $4,
            tier2_max = $5, tier2_percent = $6, tier3_percent = $7, low_rating = $8, low_score = $9,
            low_score_action = $10, link_days = $11, updated_at = $12, version = version + 1
         WHERE org_id = $13 AND version = $14")
        .bind(v.complaint_days).bind(v.order_days).bind(v.tier1_max).bind(v.tier1_percent).bind(v.tier2_max)
        .bind(v.tier2_percent).bind(v.tier3_percent).bind(v.low_rating).bind(v.low_score)
        .bind(v.low_score_action.clone()).bind(v.link_days).bind(now).bind(org).bind(version)
        .execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Takes the organization's generation lock until the transaction ends (the settings row;
/// on SQLite the write lock is already held), so two workers generating at once run one
/// after the other and the second sees what the first wrote.
pub async fn lock_generation(c: &mut Conn<'_>, org: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE visit_settings SET updated_at = updated_at WHERE org_id = $1")
        .bind(org).execute(x).await)?;
    Ok(())
}

record!(
    /// A return visit with the names its page and list show.
    Visit {
        id: i64 = "v.id",
        /// complaint, service_order, survey or manual.
        source: String = "v.source",
        complaint_id: Option<i64> = "v.complaint_id",
        complaint_number: Option<String> = "(SELECT k.number FROM complaints k WHERE k.id = v.complaint_id)",
        complaint_status: Option<String> = "(SELECT k.status FROM complaints k WHERE k.id = v.complaint_id)",
        complaint_version: Option<i64> = "(SELECT k.version FROM complaints k WHERE k.id = v.complaint_id)",
        service_order_id: Option<i64> = "v.service_order_id",
        order_number: Option<String> = "(SELECT o.number FROM service_orders o WHERE o.id = v.service_order_id)",
        response_id: Option<i64> = "v.response_id",
        study_id: Option<i64> = "(SELECT r.study_id FROM survey_responses r WHERE r.id = v.response_id)",
        response_score: Option<f64> = "(SELECT r.score FROM survey_responses r WHERE r.id = v.response_id)",
        customer_id: Option<i64> = "v.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = v.customer_id)",
        equipment_id: Option<i64> = "v.equipment_id",
        serial: Option<String> = "(SELECT e.serial FROM equipment e WHERE e.id = v.equipment_id)",
        engineer_id: Option<i64> = "v.engineer_id",
        engineer_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = v.engineer_id)",
        assignee_id: Option<i64> = "v.assignee_id",
        assignee_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = v.assignee_id)",
        /// planned, done or cancelled.
        status: String = "v.status",
        /// YYYY-MM-DD.
        due_date: String = "v.due_date",
        visited_at: Option<i64> = "v.visited_at",
        /// phone, on_site or online.
        method: Option<String> = "v.method",
        /// 1 to 5.
        rating: Option<i64> = "v.rating",
        problem_category: Option<String> = "v.problem_category",
        /// The customer's own words.
        customer_words: Option<String> = "v.customer_words",
        follow_up: Option<String> = "v.follow_up",
        satisfied: Option<bool> = "v.satisfied",
        /// closed, reopened, complaint_opened or none.
        outcome: Option<String> = "v.outcome",
        outcome_complaint_id: Option<i64> = "v.outcome_complaint_id",
        outcome_complaint_number: Option<String> = "(SELECT k.number FROM complaints k WHERE k.id = v.outcome_complaint_id)",
        visitor_id: Option<i64> = "v.visitor_id",
        visitor_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = v.visitor_id)",
        cancel_reason: Option<String> = "v.cancel_reason",
        /// YYYY-MM of the due date.
        month: String = "v.month",
        created_at: i64 = "v.created_at",
        updated_at: i64 = "v.updated_at",
        version: i64 = "v.version",
    }
);

/// A new visit; the rest starts empty.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NewVisit {
    pub source: String,
    pub complaint_id: Option<i64>,
    pub service_order_id: Option<i64>,
    pub response_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub due_date: String,
}

fn month_of(date: &str) -> String {
    date.chars().take(7).collect()
}

/// Inserts planned visits; a visit that one of the unique indexes already holds (an open
/// visit of the complaint, a visit of the order or of the response) is skipped. Returns, for
/// each input row in order, its new id, or None when it was skipped. One statement per 500
/// rows: a sampling batch plans up to a thousand visits.
pub async fn insert_planned(
    c: &mut Conn<'_>,
    org: i64,
    rows: &[NewVisit],
    now: i64,
) -> StoreResult<Vec<Option<i64>>> {
    // A visit's source record: complaint, service order, survey response.
    type Key = (Option<i64>, Option<i64>, Option<i64>);
    let key = |v: &NewVisit| -> Key { (v.complaint_id, v.service_order_id, v.response_id) };
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let made: Vec<(i64, Key)> = on!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO return_visits (org_id, source, complaint_id, service_order_id, response_id, customer_id,
                    equipment_id, engineer_id, assignee_id, status, due_date, month, created_at, updated_at, version) ");
            q.push_values(chunk, |mut b, v| {
                b.push_bind(org).push_bind(v.source.clone()).push_bind(v.complaint_id)
                    .push_bind(v.service_order_id).push_bind(v.response_id).push_bind(v.customer_id)
                    .push_bind(v.equipment_id).push_bind(v.engineer_id).push_bind(v.assignee_id)
                    .push("'planned'").push_bind(v.due_date.clone()).push_bind(month_of(&v.due_date))
                    .push_bind(now).push_bind(now).push("1");
            });
            // `RETURNING` tells which rows were new, in no promised order: they are matched
            // back by the visit's source record, which the unique indexes make one per row
            // inserted (rows without one never conflict and take ids in input order).
            q.push(" ON CONFLICT DO NOTHING RETURNING id, complaint_id, service_order_id, response_id");
            q.build_query_as::<(i64, Option<i64>, Option<i64>, Option<i64>)>().fetch_all(x).await
                .map(|rows| rows.into_iter().map(|(id, a, b, r)| (id, (a, b, r))).collect())
        })?;
        let mut by_key: std::collections::HashMap<Key, Vec<i64>> = std::collections::HashMap::new();
        let mut made = made;
        made.sort_unstable_by_key(|m| std::cmp::Reverse(m.0));
        for (id, k) in made {
            by_key.entry(k).or_default().push(id);
        }
        for v in chunk {
            // Newest ids were pushed first: popping hands out the lowest (earliest) id first.
            out.push(by_key.get_mut(&key(v)).and_then(|ids| ids.pop()));
        }
    }
    Ok(out)
}

/// Columns a write may set (anything else is refused: the names go into SQL text).
const WRITABLE: &[&str] = &[
    "status",
    "assignee_id",
    "engineer_id",
    "due_date",
    "month",
    "visited_at",
    "method",
    "rating",
    "problem_category",
    "customer_words",
    "follow_up",
    "satisfied",
    "outcome",
    "outcome_complaint_id",
    "visitor_id",
    "cancel_reason",
];

/// Writes `fields` of a visit read at `version` and bumps the version (stale: `Conflict`).
pub async fn patch(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    fields: &[(&'static str, Val)],
    now: i64,
) -> StoreResult<()> {
    if let Some((col, _)) = fields.iter().find(|(c, _)| !WRITABLE.contains(c)) {
        return Err(StoreError::Config(format!(
            "return visit column {col} is not writable"
        )));
    }
    crate::maintenance::orders::versioned_update(c, "return_visits", org, id, version, fields, now)
        .await
}

/// One visit.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Visit> {
    let r: Option<Visit> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Visit::COLUMNS).push(" FROM return_visits v WHERE v.org_id = ").push_bind(org)
            .push(" AND v.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// Who may see which visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Staff: visits assigned to them, and visits of complaints they may see (recorded by
    /// them, or worked on by their departments).
    Staff {
        user_id: i64,
    },
}

/// Filters of the visit list; each one set narrows the list in SQL.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<String>,
    pub source: Option<String>,
    pub assignee_id: Option<i64>,
    /// Only visits nobody is assigned to.
    pub unassigned: bool,
    pub customer_id: Option<i64>,
    pub complaint_id: Option<i64>,
    pub service_order_id: Option<i64>,
    /// YYYY-MM of the due date.
    pub month: Option<String>,
    /// Planned and due on or before this date (YYYY-MM-DD).
    pub due_by: Option<String>,
    /// Planned and due before this date.
    pub overdue_before: Option<String>,
    /// Newest first (done visits) instead of earliest due first.
    pub newest: bool,
}

fn push_filter<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, org: i64, scope: Scope, f: &Filter)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE v.org_id = ").push_bind(org);
    if let Scope::Staff { user_id } = scope {
        q.push(" AND (v.assignee_id = ").push_bind(user_id);
        q.push(" OR v.complaint_id IN (SELECT c.id FROM complaints c WHERE c.org_id = v.org_id AND (c.recorded_by = ")
            .push_bind(user_id);
        q.push(
            " OR c.responsible_department_id IN (SELECT md.department_id FROM membership_departments md \
             WHERE md.org_id = c.org_id AND md.user_id = ",
        )
        .push_bind(user_id);
        q.push(
            ") OR EXISTS (SELECT 1 FROM complaint_tasks t JOIN membership_departments md \
             ON md.department_id = t.department_id AND md.org_id = t.org_id \
             WHERE t.complaint_id = c.id AND md.user_id = ",
        )
        .push_bind(user_id);
        q.push("))))");
    }
    if !f.statuses.is_empty() {
        q.push(" AND v.status IN (");
        let mut s = q.separated(", ");
        for st in &f.statuses {
            s.push_bind(st.clone());
        }
        q.push(")");
    }
    if let Some(v) = &f.source {
        q.push(" AND v.source = ").push_bind(v.clone());
    }
    if let Some(v) = f.assignee_id {
        q.push(" AND v.assignee_id = ").push_bind(v);
    }
    if f.unassigned {
        q.push(" AND v.assignee_id IS NULL");
    }
    if let Some(v) = f.customer_id {
        q.push(" AND v.customer_id = ").push_bind(v);
    }
    if let Some(v) = f.complaint_id {
        q.push(" AND v.complaint_id = ").push_bind(v);
    }
    if let Some(v) = f.service_order_id {
        q.push(" AND v.service_order_id = ").push_bind(v);
    }
    if let Some(v) = &f.month {
        q.push(" AND v.month = ").push_bind(v.clone());
    }
    if let Some(d) = &f.due_by {
        q.push(" AND v.status = 'planned' AND v.due_date <= ")
            .push_bind(d.clone());
    }
    if let Some(d) = &f.overdue_before {
        q.push(" AND v.status = 'planned' AND v.due_date < ")
            .push_bind(d.clone());
    }
}

/// Rows counted at most (the pager shows "10000+" beyond).
pub const COUNT_CAP: i64 = 10_000;

/// A page of visits matching `f`.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    scope: Scope,
    f: &Filter,
    p: PageReq,
) -> StoreResult<Page<Visit>> {
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM return_visits v");
        push_filter(&mut q, org, scope, f);
        q.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(") n");
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<Visit> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Visit::COLUMNS).push(" FROM return_visits v");
        push_filter(&mut q, org, scope, f);
        q.push(if f.newest {
            " ORDER BY v.updated_at DESC, v.id DESC"
        } else {
            " ORDER BY v.due_date, v.id"
        });
        q.push(" LIMIT ").push_bind(p.per_page).push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Whether a visit is in the user's scope.
pub async fn visible(c: &mut Conn<'_>, org: i64, scope: Scope, id: i64) -> StoreResult<bool> {
    if scope == Scope::All {
        return Ok(true);
    }
    let (n,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM return_visits v");
        push_filter(&mut q, org, scope, &Filter::default());
        q.push(" AND v.id = ").push_bind(id);
        q.build_query_as().fetch_one(x).await
    })?;
    Ok(n > 0)
}

/// Visit counts of a user: (planned assigned to them, of which due by `today`).
pub async fn my_counts(
    c: &mut Conn<'_>,
    org: i64,
    user: i64,
    today: &str,
) -> StoreResult<(i64, i64)> {
    let r: (i64, i64) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN due_date <= $3 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM return_visits WHERE org_id = $1 AND assignee_id = $2 AND status = 'planned'")
        .bind(org).bind(user).bind(today.to_string()).fetch_one(x).await)?;
    Ok(r)
}

/// A complaint waiting for its return visit with no visit made for this round: no planned
/// visit, and none created since it last entered the return-visit step.
#[derive(Debug, Clone)]
pub struct ComplaintDue {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub recorded_by: Option<i64>,
    /// When it entered the return-visit step (its last event moving there).
    pub entered_at: i64,
}

/// Complaints of `org` in `return_visit` without a visit for this round (one query).
pub async fn complaints_due(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<ComplaintDue>> {
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>, i64);
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT k.id, k.customer_id, k.equipment_id, k.recorded_by,
            COALESCE((SELECT MAX(e.at) FROM complaint_events e WHERE e.complaint_id = k.id
                AND e.to_status = 'return_visit'), k.updated_at) AS entered_at
         FROM complaints k
         WHERE k.org_id = $1 AND k.status = 'return_visit'
           AND NOT EXISTS (SELECT 1 FROM return_visits v WHERE v.org_id = k.org_id AND v.complaint_id = k.id
               AND (v.status = 'planned' OR v.created_at >= COALESCE((SELECT MAX(e.at) FROM complaint_events e
                   WHERE e.complaint_id = k.id AND e.to_status = 'return_visit'), k.updated_at)))
         ORDER BY k.id")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| ComplaintDue {
            id: r.0,
            customer_id: r.1,
            equipment_id: r.2,
            recorded_by: r.3,
            entered_at: r.4,
        })
        .collect())
}

/// A completed service order the sampling has not considered yet.
#[derive(Debug, Clone)]
pub struct OrderDone {
    pub id: i64,
    pub completed_at: i64,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub created_by: Option<i64>,
}

/// Up to `limit` completed (completed, accepted or closed) service orders of `org` that have
/// no sampling mark, in completion order, after the (completion time, id) `after` (`None`:
/// from the first). A run passes the last order of its previous batch, so it walks
/// `service_orders_org_completed` once (migration 0012) instead of sorting every completed
/// order again for each batch.
pub async fn orders_unmarked(
    c: &mut Conn<'_>,
    org: i64,
    after: Option<(i64, i64)>,
    limit: i64,
) -> StoreResult<Vec<OrderDone>> {
    type Row = (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let (at, id) = after.unwrap_or((i64::MIN, i64::MIN));
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT o.id, o.completed_at, o.customer_id, o.equipment_id, o.engineer_id, o.created_by
         FROM service_orders o
         WHERE o.org_id = $1 AND o.completed_at IS NOT NULL AND (o.completed_at, o.id) > ($2, $3)
           AND o.status IN ('completed', 'accepted', 'closed')
           AND NOT EXISTS (SELECT 1 FROM visit_order_marks m WHERE m.service_order_id = o.id)
         ORDER BY o.completed_at, o.id LIMIT $4")
        .bind(org).bind(at).bind(id).bind(limit).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| OrderDone {
            id: r.0,
            completed_at: r.1,
            customer_id: r.2,
            equipment_id: r.3,
            engineer_id: r.4,
            created_by: r.5,
        })
        .collect())
}

/// The sampling's running count of a month: (orders seen, orders picked).
pub async fn sampling(c: &mut Conn<'_>, org: i64, month: &str) -> StoreResult<(i64, i64)> {
    let r: Option<(i64, i64)> = on!(c, x => sqlx::query_as(
        "SELECT seen, picked FROM visit_sampling WHERE org_id = $1 AND month = $2")
        .bind(org).bind(month.to_string()).fetch_optional(x).await)?;
    Ok(r.unwrap_or((0, 0)))
}

/// Stores the running count of a month.
pub async fn put_sampling(
    c: &mut Conn<'_>,
    org: i64,
    month: &str,
    seen: i64,
    picked: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO visit_sampling (org_id, month, seen, picked) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, month) DO UPDATE SET seen = excluded.seen, picked = excluded.picked")
        .bind(org).bind(month.to_string()).bind(seen).bind(picked).execute(x).await)?;
    Ok(())
}

/// A sampling decision.
#[derive(Debug, Clone)]
pub struct Mark {
    pub service_order_id: i64,
    pub month: String,
    pub position: i64,
    pub picked: bool,
}

/// Records sampling decisions (several rows per statement).
pub async fn insert_marks(c: &mut Conn<'_>, org: i64, marks: &[Mark]) -> StoreResult<()> {
    for chunk in marks.chunks(500) {
        run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO visit_order_marks (service_order_id, org_id, month, position, picked) ");
            q.push_values(chunk, |mut b, m| {
                b.push_bind(m.service_order_id).push_bind(org).push_bind(m.month.clone())
                    .push_bind(m.position).push_bind(m.picked);
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// The sampling counts of an organization's months, newest first.
pub async fn sampling_months(
    c: &mut Conn<'_>,
    org: i64,
    limit: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT month, seen, picked FROM visit_sampling WHERE org_id = $1 ORDER BY month DESC LIMIT $2")
        .bind(org).bind(limit).fetch_all(x).await)?)
}

/// The organizations (all of them: the generation is cheap where nothing waits).
pub async fn org_ids(c: &mut Conn<'_>) -> StoreResult<Vec<i64>> {
    let r: Vec<(i64,)> = on!(c, x => sqlx::query_as("SELECT id FROM organizations ORDER BY id")
        .fetch_all(x).await)?;
    Ok(r.into_iter().map(|r| r.0).collect())
}

/// What the low-score trigger reads of a survey response.
#[derive(Debug, Clone)]
pub struct ResponseFacts {
    pub id: i64,
    pub study_id: i64,
    pub customer_id: i64,
    pub score: Option<f64>,
    pub engineer_id: Option<i64>,
    pub entered_by: Option<i64>,
    pub service_order_id: Option<i64>,
    pub study_owner: Option<i64>,
    /// link or phone.
    pub channel: String,
    pub product_id: Option<i64>,
}

/// A survey response of `org` with its study's owner and the invitation's service order.
pub async fn response(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<ResponseFacts> {
    type Row = (
        i64,
        i64,
        i64,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
        Option<i64>,
    );
    let r: Option<Row> = on!(c, x => sqlx::query_as(
        "SELECT r.id, r.study_id, r.customer_id, r.score, r.engineer_id, r.entered_by,
            (SELECT i.service_order_id FROM study_invitations i WHERE i.id = r.invitation_id) AS service_order_id,
            (SELECT s.created_by FROM studies s WHERE s.id = r.study_id) AS study_owner, r.channel, r.product_id
         FROM survey_responses r WHERE r.org_id = $1 AND r.id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    let r = r.ok_or(StoreError::NotFound)?;
    Ok(ResponseFacts {
        id: r.0,
        study_id: r.1,
        customer_id: r.2,
        score: r.3,
        engineer_id: r.4,
        entered_by: r.5,
        service_order_id: r.6,
        study_owner: r.7,
        channel: r.8,
        product_id: r.9,
    })
}

/// The free-text answers of a response, in item order.
pub async fn text_answers(c: &mut Conn<'_>, response_id: i64) -> StoreResult<Vec<String>> {
    let r: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT a.text FROM survey_answers a JOIN survey_items i ON i.id = a.item_id
         WHERE a.response_id = $1 AND a.text IS NOT NULL AND a.text <> '' ORDER BY i.position, i.id")
        .bind(response_id).fetch_all(x).await)?;
    Ok(r.into_iter().map(|r| r.0).collect())
}

/// The response's answer to its template's csat item: (value, scale_min, scale_max).
pub async fn csat_answer(
    c: &mut Conn<'_>,
    response_id: i64,
) -> StoreResult<Option<(f64, i64, i64)>> {
    let r: Option<(Option<f64>, Option<i64>, Option<i64>)> = on!(c, x => sqlx::query_as(
        "SELECT a.value, i.scale_min, i.scale_max FROM survey_answers a JOIN survey_items i ON i.id = a.item_id
         WHERE a.response_id = $1 AND i.kind = 'csat' AND a.value IS NOT NULL ORDER BY i.position, i.id LIMIT 1")
        .bind(response_id).fetch_optional(x).await)?;
    Ok(r.and_then(|(v, lo, hi)| Some((v?, lo.unwrap_or(1), hi.unwrap_or(5)))))
}

/// The members of `org` who may be assigned visits (active; auditors excluded):
/// (id, display name, role).
pub async fn assignable(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT u.id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND u.active AND m.role IN ('admin', 'manager', 'engineer', 'staff')
         ORDER BY u.display_name, u.id")
        .bind(org).fetch_all(x).await)?)
}

/// Whether `user` is an active member of `org` who may be assigned visits.
pub async fn is_assignable(c: &mut Conn<'_>, org: i64, user: i64) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.user_id = $2 AND u.active AND m.role IN ('admin', 'manager', 'engineer', 'staff')")
        .bind(org).bind(user).fetch_one(x).await)?;
    Ok(n > 0)
}

/// The id of a service order of `org` by its number.
pub async fn order_id_by_number(
    c: &mut Conn<'_>,
    org: i64,
    number: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM service_orders WHERE org_id = $1 AND number = $2")
        .bind(org).bind(number.to_string()).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// The id of a complaint of `org` by its number.
pub async fn complaint_id_by_number(
    c: &mut Conn<'_>,
    org: i64,
    number: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM complaints WHERE org_id = $1 AND number = $2")
        .bind(org).bind(number.to_string()).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}
