//! API tokens: only a SHA-256 of the secret is stored; a token acts for one user in one
//! organization with that user's current role there.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::sessions::Principal;
use crate::{on, run};

/// A token as listed (never with its secret).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub login: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Stores a new token; returns its id.
pub async fn create(
    c: &mut Conn<'_>,
    user: i64,
    org: i64,
    name: &str,
    token_hash: &str,
    prefix: &str,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO api_tokens (user_id, org_id, name, token_hash, prefix, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(user).bind(org).bind(name).bind(token_hash).bind(prefix).bind(now).fetch_one(x).await)?;
    Ok(id)
}

type TokenRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

type PRow = (
    i64,
    i64,
    String,
    String,
    bool,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

/// The principal behind a live token (the user is active and still a member).
pub async fn lookup(c: &mut Conn<'_>, token_hash: &str) -> StoreResult<Option<(i64, Principal)>> {
    let r: Option<PRow> = on!(c, x => sqlx::query_as(
        "SELECT t.id, u.id, u.login, u.display_name, u.is_system_admin, u.locale, o.id, o.name, m.role,
                t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         JOIN organizations o ON o.id = t.org_id AND o.active
         JOIN memberships m ON m.user_id = t.user_id AND m.org_id = t.org_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active")
        .bind(token_hash).fetch_optional(x).await)?;
    Ok(r.map(|r| {
        (
            r.0,
            Principal {
                user_id: r.1,
                login: r.2,
                display_name: r.3,
                is_system_admin: r.4,
                locale: r.5,
                org: r.8.map(|role| (r.6, r.7, role)),
                session_id: None,
                csrf: None,
                last_seen_at: r.9.unwrap_or(0),
            },
        )
    }))
}

/// Notes the time a token was last used.
pub async fn touch(c: &mut Conn<'_>, id: i64, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id).bind(now).execute(x).await)?;
    Ok(())
}

/// Tokens of an organization, optionally of one user, newest first.
pub async fn list(c: &mut Conn<'_>, org: i64, user: Option<i64>) -> StoreResult<Vec<Token>> {
    let rows: Vec<TokenRow> = on!(c, x => sqlx::query_as(
        "SELECT t.id, t.user_id, u.login, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.org_id = $1 AND ($2 IS NULL OR t.user_id = $2) ORDER BY t.id DESC LIMIT 500")
        .bind(org).bind(user).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Token {
            id: r.0,
            user_id: r.1,
            login: r.2,
            name: r.3,
            prefix: r.4,
            created_at: r.5,
            last_used_at: r.6,
            revoked_at: r.7,
        })
        .collect())
}

/// One token of an organization.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Token> {
    let r: TokenRow = on!(c, x => sqlx::query_as(
        "SELECT t.id, t.user_id, u.login, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.org_id = $1 AND t.id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(Token {
        id: r.0,
        user_id: r.1,
        login: r.2,
        name: r.3,
        prefix: r.4,
        created_at: r.5,
        last_used_at: r.6,
        revoked_at: r.7,
    })
}

/// Revokes a token of an organization.
pub async fn revoke(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(org).bind(id).bind(now).execute(x).await)?;
    Ok(())
}
