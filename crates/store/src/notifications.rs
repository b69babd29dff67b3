//! In-app notifications: SLA warnings and escalations, approvals waiting, overdue
//! corrective actions. Fanned out to users with one INSERT … SELECT per notice.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// One notification.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    /// An i18n key under `notice.` (sla_warning, sla_breach, approval_waiting, capa_overdue…).
    pub kind: String,
    /// The record it is about: complaint, capa.
    pub ref_kind: String,
    pub ref_id: i64,
    /// JSON arguments of the message (number, target…).
    pub args: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

type Row = (i64, String, String, i64, String, i64, Option<i64>);

fn notification(r: Row) -> Notification {
    Notification {
        id: r.0,
        kind: r.1,
        ref_kind: r.2,
        ref_id: r.3,
        args: r.4,
        created_at: r.5,
        read_at: r.6,
    }
}

/// Who receives a notice: members with one of these roles, in one of these departments, or
/// these users. A user matching several ways gets one row.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub roles: Vec<String>,
    pub departments: Vec<i64>,
    pub users: Vec<i64>,
}

/// Sends a notice to its audience in one statement; returns how many users got it.
#[allow(clippy::too_many_arguments)]
pub async fn notify(
    c: &mut Conn<'_>,
    org: i64,
    who: &Audience,
    kind: &str,
    ref_kind: &str,
    ref_id: i64,
    args: &str,
    now: i64,
) -> StoreResult<u64> {
    if who.roles.is_empty() && who.departments.is_empty() && who.users.is_empty() {
        return Ok(0);
    }
    Ok(run!(c, x => {
        let mut q = QueryBuilder::new(
            "INSERT INTO notifications (org_id, user_id, kind, ref_kind, ref_id, args, created_at) SELECT m.org_id, m.user_id, ");
        q.push_bind(kind.to_string()).push(", ").push_bind(ref_kind.to_string()).push(", ").push_bind(ref_id)
            .push(", ").push_bind(args.to_string()).push(", ").push_bind(now)
            .push(" FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.active AND m.org_id = ").push_bind(org)
            .push(" AND (m.role IN (''");
        for r in &who.roles {
            q.push(", ").push_bind(r.clone());
        }
        q.push(") OR m.user_id IN (-1");
        for u in &who.users {
            q.push(", ").push_bind(*u);
        }
        q.push(") OR EXISTS (SELECT 1 FROM membership_departments md WHERE md.user_id = m.user_id AND md.org_id = m.org_id AND md.department_id IN (-1");
        for d in &who.departments {
            q.push(", ").push_bind(*d);
        }
        q.push(")))");
        q.build().execute(x).await
    })?)
}

/// One notice to one user about one record: an entry of [`notify_each`].
#[derive(Debug, Clone)]
pub struct Personal {
    pub user_id: i64,
    pub ref_id: i64,
    pub args: String,
}

/// Sends notices of one kind to one user each (active members of the organization only), a
/// statement per 500; returns how many were stored.
pub async fn notify_each(
    c: &mut Conn<'_>,
    org: i64,
    kind: &str,
    ref_kind: &str,
    notices: &[Personal],
    now: i64,
) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in notices.chunks(500) {
        n += run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO notifications (org_id, user_id, kind, ref_kind, ref_id, args, created_at) SELECT m.org_id, m.user_id, ");
            q.push_bind(kind.to_string()).push(", ").push_bind(ref_kind.to_string())
                .push(", v.column2, v.column3, ").push_bind(now).push(" FROM (");
            // VALUES name their columns column1, column2, … on both backends.
            q.push_values(chunk, |mut b, p| {
                b.push_bind(p.user_id).push_bind(p.ref_id).push_bind(p.args.clone());
            });
            q.push(") v JOIN memberships m ON m.user_id = v.column1 AND m.org_id = ").push_bind(org)
                .push(" JOIN users u ON u.id = m.user_id WHERE u.active");
            q.build().execute(x).await
        })?;
    }
    Ok(n)
}

/// A user's notifications, newest first.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    user: i64,
    unread_only: bool,
    p: PageReq,
) -> StoreResult<Page<Notification>> {
    let (total,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM notifications WHERE org_id = $1 AND user_id = $2 AND (read_at IS NULL OR NOT $3)")
        .bind(org).bind(user).bind(unread_only).fetch_one(x).await)?;
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, kind, ref_kind, ref_id, args, created_at, read_at FROM notifications
         WHERE org_id = $1 AND user_id = $2 AND (read_at IS NULL OR NOT $3) ORDER BY created_at DESC, id DESC
         LIMIT $4 OFFSET $5")
        .bind(org).bind(user).bind(unread_only).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(notification).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Unread count (the badge in the navigation).
pub async fn unread(c: &mut Conn<'_>, org: i64, user: i64) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM notifications WHERE org_id = $1 AND user_id = $2 AND read_at IS NULL")
        .bind(org).bind(user).fetch_one(x).await)?;
    Ok(n)
}

/// Marks one (or, with `None`, all) of a user's notifications read.
pub async fn mark_read(
    c: &mut Conn<'_>,
    org: i64,
    user: i64,
    id: Option<i64>,
    now: i64,
) -> StoreResult<u64> {
    Ok(run!(c, x => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE org_id = $2 AND user_id = $3 AND read_at IS NULL
            AND ($4 = 0 OR id = $4)")
        .bind(now).bind(org).bind(user).bind(id.unwrap_or(0)).execute(x).await)?)
}

/// One of a user's notifications; `None` when it is not theirs (or not in this organization).
pub async fn get(
    c: &mut Conn<'_>,
    org: i64,
    user: i64,
    id: i64,
) -> StoreResult<Option<Notification>> {
    let r: Option<Row> = on!(c, x => sqlx::query_as(
        "SELECT id, kind, ref_kind, ref_id, args, created_at, read_at FROM notifications
         WHERE org_id = $1 AND user_id = $2 AND id = $3")
        .bind(org).bind(user).bind(id).fetch_optional(x).await)?;
    Ok(r.map(notification))
}
