//! Organizations (tenants) and memberships: which users work in which organization, with
//! which role and in which departments.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{on, run};

/// An organization.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Org {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// A user's membership seen from the user.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MyOrg {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub role: String,
}

/// A member of an organization seen from the organization.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub active: bool,
    pub role: String,
    pub departments: Vec<i64>,
}

/// Creates an organization and its audit chain head; returns its id.
pub async fn create(c: &mut Conn<'_>, code: &str, name: &str, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO organizations (code, name, active, created_at, updated_at, version)
         VALUES ($1, $2, TRUE, $3, $3, 1) RETURNING id")
        .bind(code).bind(name).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// One organization by id.
pub async fn get(c: &mut Conn<'_>, id: i64) -> StoreResult<Org> {
    let r: (i64, String, String, bool) = on!(c, x => sqlx::query_as(
        "SELECT id, code, name, active FROM organizations WHERE id = $1")
        .bind(id).fetch_one(x).await)?;
    Ok(Org {
        id: r.0,
        code: r.1,
        name: r.2,
        active: r.3,
    })
}

/// An organization by its code, if any.
pub async fn by_code(c: &mut Conn<'_>, code: &str) -> StoreResult<Option<Org>> {
    let r: Option<(i64, String, String, bool)> = on!(c, x => sqlx::query_as(
        "SELECT id, code, name, active FROM organizations WHERE code = $1")
        .bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| Org {
        id: r.0,
        code: r.1,
        name: r.2,
        active: r.3,
    }))
}

/// Number of organizations in the deployment.
pub async fn count(c: &mut Conn<'_>) -> StoreResult<i64> {
    let (n,): (i64,) =
        on!(c, x => sqlx::query_as("SELECT COUNT(*) FROM organizations").fetch_one(x).await)?;
    Ok(n)
}

/// The organizations a user belongs to, with the role in each.
pub async fn for_user(c: &mut Conn<'_>, user: i64) -> StoreResult<Vec<MyOrg>> {
    let rows: Vec<(i64, String, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT o.id, o.code, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id
         WHERE m.user_id = $1 AND o.active ORDER BY o.name")
        .bind(user).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| MyOrg {
            id: r.0,
            code: r.1,
            name: r.2,
            role: r.3,
        })
        .collect())
}

/// Every organization (for system administrators).
pub async fn all(c: &mut Conn<'_>) -> StoreResult<Vec<Org>> {
    let rows: Vec<(i64, String, String, bool)> = on!(c, x => sqlx::query_as(
        "SELECT id, code, name, active FROM organizations ORDER BY name LIMIT 1000")
        .fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Org {
            id: r.0,
            code: r.1,
            name: r.2,
            active: r.3,
        })
        .collect())
}

/// Sets (inserts or replaces) a user's role and departments in an organization.
pub async fn set_membership(
    c: &mut Conn<'_>,
    user: i64,
    org: i64,
    role: &str,
    departments: &[i64],
    now: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role")
        .bind(user).bind(org).bind(role).bind(now).execute(x).await)?;
    run!(c, x => sqlx::query("DELETE FROM membership_departments WHERE user_id = $1 AND org_id = $2")
        .bind(user).bind(org).execute(x).await)?;
    for d in departments {
        // The department must belong to this organization; the SELECT makes a foreign one a no-op
        // that the caller's validation reports before we get here.
        run!(c, x => sqlx::query(
            "INSERT INTO membership_departments (user_id, org_id, department_id)
             SELECT $1, $2, id FROM departments WHERE id = $3 AND org_id = $2")
            .bind(user).bind(org).bind(d).execute(x).await)?;
    }
    Ok(())
}

/// A user's role and departments in an organization, if a member: one statement (the
/// departments aggregated into one text), since every complaint page and API call asks.
pub async fn membership(
    c: &mut Conn<'_>,
    user: i64,
    org: i64,
) -> StoreResult<Option<(String, Vec<i64>)>> {
    let row: Option<(String, Option<String>)> = match c {
        Conn::Sqlite(x) => sqlx::query_as(
            "SELECT m.role, (SELECT group_concat(d.department_id, ',') FROM membership_departments d
                 WHERE d.user_id = m.user_id AND d.org_id = m.org_id)
             FROM memberships m WHERE m.user_id = $1 AND m.org_id = $2")
            .bind(user).bind(org).fetch_optional(&mut **x).await?,
        Conn::Postgres(x) => sqlx::query_as(
            "SELECT m.role, (SELECT string_agg(CAST(d.department_id AS TEXT), ',') FROM membership_departments d
                 WHERE d.user_id = m.user_id AND d.org_id = m.org_id)
             FROM memberships m WHERE m.user_id = $1 AND m.org_id = $2")
            .bind(user).bind(org).fetch_optional(&mut **x).await?,
    };
    let Some((role, deps)) = row else {
        return Ok(None);
    };
    let mut deps: Vec<i64> = deps
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    deps.sort_unstable();
    Ok(Some((role, deps)))
}

/// Members of an organization, paginated, with their departments (two queries, no loop).
pub async fn members(
    c: &mut Conn<'_>,
    org: i64,
    p: crate::PageReq,
) -> StoreResult<crate::Page<Member>> {
    let (total,): (i64,) = on!(c, x => sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE org_id = $1")
        .bind(org).fetch_one(x).await)?;
    let rows: Vec<(i64, String, String, bool, String)> = on!(c, x => sqlx::query_as(
        "SELECT u.id, u.login, u.display_name, u.active, m.role FROM memberships m
         JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.login LIMIT $2 OFFSET $3")
        .bind(org).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    // Only the departments of this page's members, not of the whole organization.
    let deps: Vec<(i64, i64)> = on!(c, x => sqlx::query_as(
        "SELECT md.user_id, md.department_id FROM membership_departments md
         WHERE md.org_id = $1 AND md.user_id IN (
            SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.org_id = $1 ORDER BY u.login LIMIT $2 OFFSET $3)
         ORDER BY 1, 2")
        .bind(org).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    let mut by_user: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (u, d) in deps {
        by_user.entry(u).or_default().push(d);
    }
    let items = rows
        .into_iter()
        .map(|r| Member {
            user_id: r.0,
            departments: by_user.remove(&r.0).unwrap_or_default(),
            login: r.1,
            display_name: r.2,
            active: r.3,
            role: r.4,
        })
        .collect();
    Ok(crate::Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}
