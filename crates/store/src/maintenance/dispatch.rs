//! Dispatch: engineer profiles (regions, skills, team), the scheduled orders of engineers in
//! a time window, overlapping appointments (conflicts), load, and what an order needs of its
//! engineer (the customer's region, the product's category).

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// An order without a scheduled end counts as occupying this long (seconds) from its start.
pub const DEFAULT_DURATION: i64 = 3600;

/// Statuses of orders that still need their engineer (they count towards load).
pub const OPEN_STATUSES: [&str; 4] = ["created", "scheduled", "dispatched", "on_site"];

/// A member of the organization who does service work: an engineer by role, or anyone
/// given a profile.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Engineer {
    pub user_id: i64,
    pub login: String,
    pub name: String,
    /// The member's role in the organization.
    pub role: String,
    pub regions: Vec<String>,
    pub skills: Vec<String>,
    pub team: Option<String>,
    /// False until a profile is saved.
    pub has_profile: bool,
    /// The profile's version; 0 when there is none yet.
    pub version: i64,
    pub updated_at: Option<i64>,
}

type EngRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn list_of(s: Option<&str>) -> Vec<String> {
    s.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

fn engineer(r: EngRow) -> Engineer {
    Engineer {
        user_id: r.0,
        login: r.1,
        name: r.2,
        role: r.3,
        regions: list_of(r.4.as_deref()),
        skills: list_of(r.5.as_deref()),
        team: r.6,
        has_profile: r.7.is_some(),
        version: r.7.unwrap_or(0),
        updated_at: r.8,
    }
}

macro_rules! select_engineers {
    () => {
        "SELECT u.id, u.login, u.display_name, m.role, p.regions, p.skills, p.team, p.version, p.updated_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         LEFT JOIN engineer_profiles p ON p.user_id = m.user_id AND p.org_id = m.org_id "
    };
}

/// The engineers of an organization (role engineer, or with a profile), active users only,
/// by team and name.
pub async fn engineers(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<Engineer>> {
    let rows: Vec<EngRow> = on!(c, x => sqlx::query_as(concat!(select_engineers!(),
        "WHERE m.org_id = $1 AND u.active AND (m.role = 'engineer' OR p.user_id IS NOT NULL)
         ORDER BY COALESCE(p.team, ''), u.display_name, u.id"))
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(engineer).collect())
}

/// One member of an organization as an engineer (with or without a profile).
pub async fn engineer_of(c: &mut Conn<'_>, org: i64, user_id: i64) -> StoreResult<Engineer> {
    let r: EngRow = on!(c, x => sqlx::query_as(concat!(select_engineers!(),
        "WHERE m.org_id = $1 AND m.user_id = $2"))
        .bind(org).bind(user_id).fetch_one(x).await)?;
    Ok(engineer(r))
}

/// Active members without a profile who are not engineers by role: (user id, name, role),
/// for giving someone else a profile.
pub async fn others(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT u.id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND u.active AND m.role NOT IN ('engineer', 'auditor')
           AND NOT EXISTS (SELECT 1 FROM engineer_profiles p WHERE p.user_id = m.user_id AND p.org_id = m.org_id)
         ORDER BY u.display_name, u.id")
        .bind(org).fetch_all(x).await)?)
}

/// Saves a profile read at `version` (0: there was none, so it is inserted); a profile
/// written by someone else meanwhile is a stale-version conflict.
#[allow(clippy::too_many_arguments)]
pub async fn save_profile(
    c: &mut Conn<'_>,
    org: i64,
    user_id: i64,
    version: i64,
    regions: &[String],
    skills: &[String],
    team: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let regions = serde_json::to_string(regions).unwrap_or_else(|_| "[]".into());
    let skills = serde_json::to_string(skills).unwrap_or_else(|_| "[]".into());
    let stale = || StoreError::Conflict("stale version".into());
    if version == 0 {
        let r = run!(c, x => sqlx::query(
            "INSERT INTO engineer_profiles (user_id, org_id, regions, skills, team, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, 1)")
            .bind(user_id).bind(org).bind(&regions).bind(&skills).bind(team).bind(now).execute(x).await);
        return match r {
            Ok(_) => Ok(()),
            Err(e) => match StoreError::from_sqlx(e) {
                StoreError::Conflict(_) => Err(stale()),
                e => Err(e),
            },
        };
    }
    let n = run!(c, x => sqlx::query(
        "UPDATE engineer_profiles SET regions = $4, skills = $5, team = $6, updated_at = $7, version = version + 1
         WHERE user_id = $1 AND org_id = $2 AND version = $3")
        .bind(user_id).bind(org).bind(version).bind(&regions).bind(&skills).bind(team).bind(now)
        .execute(x).await)?;
    if n == 1 { Ok(()) } else { Err(stale()) }
}

/// An order with an appointment, as the week calendar shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Slot {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub engineer_id: i64,
    pub start: i64,
    /// The scheduled end, or start + one hour when none was set.
    pub end: i64,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub site: Option<String>,
}

type SlotRow = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// Orders (not cancelled) assigned to an engineer whose appointment overlaps `[from, to)`,
/// optionally for one engineer only; by engineer and start.
pub async fn scheduled(
    c: &mut Conn<'_>,
    org: i64,
    from: i64,
    to: i64,
    engineer_id: Option<i64>,
) -> StoreResult<Vec<Slot>> {
    let rows: Vec<SlotRow> = on!(c, x => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT o.id, o.number, o.kind, o.status, o.engineer_id, o.scheduled_start,
                COALESCE(o.scheduled_end, o.scheduled_start + ");
        q.push(DEFAULT_DURATION.to_string()).push(
            "), o.customer_id, cu.name, o.site
             FROM service_orders o LEFT JOIN customers cu ON cu.id = o.customer_id
             WHERE o.org_id = ").push_bind(org)
            .push(" AND o.engineer_id IS NOT NULL AND o.scheduled_start IS NOT NULL AND o.status <> 'cancelled'")
            .push(" AND o.scheduled_start < ").push_bind(to)
            .push(" AND COALESCE(o.scheduled_end, o.scheduled_start + ").push(DEFAULT_DURATION.to_string())
            .push(") > ").push_bind(from);
        if let Some(e) = engineer_id {
            q.push(" AND o.engineer_id = ").push_bind(e);
        }
        q.push(" ORDER BY o.engineer_id, o.scheduled_start, o.id");
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Slot {
            id: r.0,
            number: r.1,
            kind: r.2,
            status: r.3,
            engineer_id: r.4,
            start: r.5,
            end: r.6,
            customer_id: r.7,
            customer_name: r.8,
            site: r.9,
        })
        .collect())
}

/// Orders of an engineer (not cancelled) whose appointment overlaps `[start, end)`, except
/// `exclude_order`: (id, number, start, end) by start. For the dispatch form's warning.
pub async fn conflicts_for(
    c: &mut Conn<'_>,
    org: i64,
    engineer_id: i64,
    start: i64,
    end: i64,
    exclude_order: Option<i64>,
) -> StoreResult<Vec<(i64, String, i64, i64)>> {
    // A missing end counts as start + one hour, like the calendar shows it.
    let end = end.max(start + 1);
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, number, scheduled_start, COALESCE(scheduled_end, scheduled_start + 3600) FROM service_orders
         WHERE org_id = $1 AND engineer_id = $2 AND status <> 'cancelled' AND scheduled_start IS NOT NULL
           AND scheduled_start < $4 AND COALESCE(scheduled_end, scheduled_start + 3600) > $3 AND id <> $5
         ORDER BY scheduled_start, id")
        .bind(org).bind(engineer_id).bind(start).bind(end).bind(exclude_order.unwrap_or(0))
        .fetch_all(x).await)?)
}

/// Open orders per engineer in a week: scheduled in `[from, to)`, or unscheduled and due
/// between `from_date` and `to_date` (inclusive, YYYY-MM-DD). (engineer id, count).
pub async fn load(
    c: &mut Conn<'_>,
    org: i64,
    from: i64,
    to: i64,
    from_date: &str,
    to_date: &str,
) -> StoreResult<Vec<(i64, i64)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT engineer_id, COUNT(*) FROM service_orders
         WHERE org_id = $1 AND engineer_id IS NOT NULL
           AND status IN ('created', 'scheduled', 'dispatched', 'on_site')
           AND ((scheduled_start >= $2 AND scheduled_start < $3)
                OR (scheduled_start IS NULL AND due_date >= $4 AND due_date <= $5))
         GROUP BY engineer_id")
        .bind(org).bind(from).bind(to).bind(from_date).bind(to_date).fetch_all(x).await)?)
}

/// What dispatch needs to know of an order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrderNeeds {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub engineer_id: Option<i64>,
    pub scheduled_start: Option<i64>,
    pub scheduled_end: Option<i64>,
    pub due_date: Option<String>,
    pub reported_at: i64,
    /// The region of the unit's site, else of the customer.
    pub region: Option<String>,
    /// The product's category.
    pub category: Option<String>,
    pub product_name: Option<String>,
}

/// The needs of one order of an organization.
pub async fn order_needs(c: &mut Conn<'_>, org: i64, order_id: i64) -> StoreResult<OrderNeeds> {
    type R = (
        i64,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let r: R = on!(c, x => sqlx::query_as(
        "SELECT o.id, o.number, o.status, o.engineer_id, o.scheduled_start, o.scheduled_end, o.due_date,
            o.reported_at, COALESCE(s.region, cu.region), p.category, p.name
         FROM service_orders o
         LEFT JOIN equipment e ON e.id = o.equipment_id AND e.org_id = o.org_id
         LEFT JOIN customer_sites s ON s.id = e.site_id AND s.org_id = o.org_id
         LEFT JOIN customers cu ON cu.id = COALESCE(o.customer_id, e.customer_id) AND cu.org_id = o.org_id
         LEFT JOIN products p ON p.id = COALESCE(o.product_id, e.product_id) AND p.org_id = o.org_id
         WHERE o.org_id = $1 AND o.id = $2")
        .bind(org).bind(order_id).fetch_one(x).await)?;
    Ok(OrderNeeds {
        id: r.0,
        number: r.1,
        status: r.2,
        engineer_id: r.3,
        scheduled_start: r.4,
        scheduled_end: r.5,
        due_date: r.6,
        reported_at: r.7,
        region: r.8,
        category: r.9,
        product_name: r.10,
    })
}
