//! Browser sessions (only the token's hash is stored) and login throttling, both in the
//! database so any number of instances share them.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{on, run};

/// Who is behind a session or API token, resolved in one query.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub is_system_admin: bool,
    pub locale: Option<String>,
    /// The organization being worked in and the role there; `None` when the user has none.
    pub org: Option<(i64, String, String)>,
    pub session_id: Option<i64>,
    pub csrf: Option<String>,
    pub last_seen_at: i64,
}

/// Creates a session; returns its id.
pub async fn create(
    c: &mut Conn<'_>,
    token_hash: &str,
    user: i64,
    org: Option<i64>,
    csrf: &str,
    now: i64,
    ttl: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO sessions (token_hash, user_id, org_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id")
        .bind(token_hash).bind(user).bind(org).bind(csrf).bind(now).bind(now + ttl)
        .fetch_one(x).await)?;
    Ok(id)
}

type PRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    bool,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The principal of a live session; `None` when unknown, expired or the user is disabled.
pub async fn lookup(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<Principal>> {
    let r: Option<PRow> = on!(c, x => sqlx::query_as(
        "SELECT s.id, s.csrf_token, s.last_seen_at, u.id, u.login, u.display_name, u.is_system_admin,
                u.locale, o.id, o.name, m.role
         FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.org_id = s.org_id
         LEFT JOIN organizations o ON o.id = m.org_id AND o.active
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active")
        .bind(token_hash).bind(now).fetch_optional(x).await)?;
    Ok(r.map(|r| Principal {
        session_id: Some(r.0),
        csrf: Some(r.1),
        last_seen_at: r.2,
        user_id: r.3,
        login: r.4,
        display_name: r.5,
        is_system_admin: r.6,
        locale: r.7,
        org: match (r.8, r.9, r.10) {
            (Some(id), Some(name), Some(role)) => Some((id, name, role)),
            _ => None,
        },
    }))
}

/// Extends a session (sliding expiry); callers do it at most every few minutes.
pub async fn touch(c: &mut Conn<'_>, id: i64, now: i64, ttl: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1")
        .bind(id).bind(now).bind(now + ttl).execute(x).await)?;
    Ok(())
}

/// Switches the organization a session works in.
pub async fn set_org(c: &mut Conn<'_>, id: i64, org: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE sessions SET org_id = $2 WHERE id = $1")
        .bind(id).bind(org).execute(x).await)?;
    Ok(())
}

/// Ends one session.
pub async fn delete(c: &mut Conn<'_>, id: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(x).await)?;
    Ok(())
}

/// Ends every session of a user except `keep` (after a password change or reset).
pub async fn delete_for_user(c: &mut Conn<'_>, user: i64, keep: Option<i64>) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
        .bind(user).bind(keep).execute(x).await)?;
    Ok(())
}

/// Records a sign-in attempt.
pub async fn record_attempt(
    c: &mut Conn<'_>,
    login: &str,
    ip: &str,
    now: i64,
    success: bool,
) -> StoreResult<()> {
    run!(c, x => sqlx::query("INSERT INTO login_attempts (login, ip, at, success) VALUES ($1, $2, $3, $4)")
        .bind(login).bind(ip).bind(now).bind(success).execute(x).await)?;
    Ok(())
}

/// Failed attempts since `since` for this login and for this address.
pub async fn recent_failures(
    c: &mut Conn<'_>,
    login: &str,
    ip: &str,
    since: i64,
) -> StoreResult<(i64, i64)> {
    let (by_login, by_ip): (i64, i64) = on!(c, x => sqlx::query_as(
        "SELECT
            (SELECT COUNT(*) FROM login_attempts WHERE login = $1 AND at >= $3 AND NOT success),
            (SELECT COUNT(*) FROM login_attempts WHERE ip = $2 AND at >= $3 AND NOT success)")
        .bind(login).bind(ip).bind(since).fetch_one(x).await)?;
    Ok((by_login, by_ip))
}

/// Removes expired sessions and old login attempts; returns rows removed.
pub async fn cleanup(c: &mut Conn<'_>, now: i64, attempts_before: i64) -> StoreResult<u64> {
    let a = run!(c, x => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(x).await)?;
    let b = run!(c, x => sqlx::query("DELETE FROM login_attempts WHERE at < $1")
        .bind(attempts_before).execute(x).await)?;
    Ok(a + b)
}
