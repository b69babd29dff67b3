//! Attachments (photos, inspection reports, signed forms) of complaints and corrective
//! actions, kept in the database so that every instance can serve them. Every query carries
//! `org_id`; listings never read the bytes.

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// What is known about a stored file, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub id: i64,
    /// complaint or capa.
    pub entity: String,
    pub entity_id: i64,
    /// File name as uploaded, sanitised.
    pub name: String,
    /// Type decided from the file's first bytes and its extension.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    pub created_by: Option<i64>,
    /// Display name of the uploader.
    pub created_by_name: Option<String>,
    pub created_at: i64,
}

/// A file to store.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub entity: &'a str,
    pub entity_id: i64,
    pub name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub data: &'a [u8],
    pub created_by: Option<i64>,
    pub created_at: i64,
}

type Row = (
    i64,
    String,
    i64,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    i64,
);

/// The metadata SELECT (never the bytes) followed by a literal WHERE clause.
macro_rules! select_meta {
    ($tail:literal) => {
        concat!(
            "SELECT a.id, a.entity, a.entity_id, a.name, a.content_type, a.size, a.sha256, a.created_by,
                u.display_name, a.created_at
             FROM attachments a LEFT JOIN users u ON u.id = a.created_by ",
            $tail
        )
    };
}

fn meta(r: Row) -> AttachmentMeta {
    AttachmentMeta {
        id: r.0,
        entity: r.1,
        entity_id: r.2,
        name: r.3,
        content_type: r.4,
        size: r.5,
        sha256: r.6,
        created_by: r.7,
        created_by_name: r.8,
        created_at: r.9,
    }
}

/// Stores a file; returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, n: &NewAttachment<'_>) -> StoreResult<i64> {
    let size = n.data.len() as i64;
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO attachments (org_id, entity, entity_id, name, content_type, size, sha256, data, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(org).bind(n.entity).bind(n.entity_id).bind(n.name).bind(n.content_type).bind(size)
        .bind(n.sha256).bind(n.data).bind(n.created_by).bind(n.created_at).fetch_one(x).await)?;
    Ok(id)
}

/// The files of one record, oldest first.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    entity: &str,
    entity_id: i64,
) -> StoreResult<Vec<AttachmentMeta>> {
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(select_meta!(
        "WHERE a.org_id = $1 AND a.entity = $2 AND a.entity_id = $3 ORDER BY a.created_at, a.id"))
        .bind(org).bind(entity).bind(entity_id).fetch_all(x).await)?;
    Ok(rows.into_iter().map(meta).collect())
}

/// One file's description (`NotFound` when it is not in this organization).
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<AttachmentMeta> {
    let r: Option<Row> = on!(c, x => sqlx::query_as(select_meta!("WHERE a.org_id = $1 AND a.id = $2"))
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.map(meta).ok_or(StoreError::NotFound)
}

/// One file's bytes (`NotFound` when it is not in this organization).
pub async fn data(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Vec<u8>> {
    let r: Option<(Vec<u8>,)> = on!(c, x => sqlx::query_as(
        "SELECT data FROM attachments WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.map(|r| r.0).ok_or(StoreError::NotFound)
}

/// Removes a file.
pub async fn delete(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query("DELETE FROM attachments WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Whether a corrective action exists in this organization.
pub async fn capa_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM capas WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.is_some())
}
