//! User accounts: logins, password hashes, language preference.

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{on, run};

/// A user account (never carries the password hash outward).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub is_system_admin: bool,
    pub locale: Option<String>,
    pub active: bool,
    pub version: i64,
}

type Row = (i64, String, String, bool, Option<String>, bool, i64);
type AuthRow = (i64, String, String, bool, Option<String>, bool, i64, String);

fn to_user(r: Row) -> User {
    User {
        id: r.0,
        login: r.1,
        display_name: r.2,
        is_system_admin: r.3,
        locale: r.4,
        active: r.5,
        version: r.6,
    }
}

/// Creates a user; returns the id. A taken login is a `Conflict`.
pub async fn insert(
    c: &mut Conn<'_>,
    login: &str,
    display_name: &str,
    password_hash: &str,
    is_system_admin: bool,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO users (login, display_name, password_hash, is_system_admin, locale, active,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, NULL, TRUE, $5, $5, 1) RETURNING id")
        .bind(login).bind(display_name).bind(password_hash).bind(is_system_admin).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

/// A user by id.
pub async fn get(c: &mut Conn<'_>, id: i64) -> StoreResult<User> {
    let r: Row = on!(c, x => sqlx::query_as(
        "SELECT id, login, display_name, is_system_admin, locale, active, version FROM users WHERE id = $1")
        .bind(id).fetch_one(x).await)?;
    Ok(to_user(r))
}

/// A user by login, with the password hash, for sign-in.
pub async fn by_login(c: &mut Conn<'_>, login: &str) -> StoreResult<Option<(User, String)>> {
    let r: Option<AuthRow> = on!(c, x => sqlx::query_as(
        "SELECT id, login, display_name, is_system_admin, locale, active, version, password_hash
         FROM users WHERE login = $1")
        .bind(login).fetch_optional(x).await)?;
    Ok(r.map(|r| (to_user((r.0, r.1, r.2, r.3, r.4, r.5, r.6)), r.7)))
}

/// The password hash of a user.
pub async fn password_hash(c: &mut Conn<'_>, id: i64) -> StoreResult<String> {
    let (h,): (String,) = on!(c, x => sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(id).fetch_one(x).await)?;
    Ok(h)
}

/// Replaces the password hash.
pub async fn set_password(c: &mut Conn<'_>, id: i64, hash: &str, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE users SET password_hash = $2, updated_at = $3, version = version + 1 WHERE id = $1")
        .bind(id).bind(hash).bind(now).execute(x).await)?;
    Ok(())
}

/// Stores the preferred language.
pub async fn set_locale(c: &mut Conn<'_>, id: i64, locale: &str) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE users SET locale = $2 WHERE id = $1")
        .bind(id).bind(locale).execute(x).await)?;
    Ok(())
}

/// Updates name and active flag.
pub async fn update(
    c: &mut Conn<'_>,
    id: i64,
    display_name: &str,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE users SET display_name = $2, active = $3, updated_at = $4, version = version + 1 WHERE id = $1")
        .bind(id).bind(display_name).bind(active).bind(now).execute(x).await)?;
    Ok(())
}

/// Number of users in the deployment.
pub async fn count(c: &mut Conn<'_>) -> StoreResult<i64> {
    let (n,): (i64,) =
        on!(c, x => sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(x).await)?;
    Ok(n)
}
