//! Checklist templates (one per maintenance level, each including the level below it) and
//! their items. Every query carries `org_id`; template updates carry the version read.

use sqlx::QueryBuilder;

use super::orders::record;
use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

record!(
    /// A checklist template (a maintenance level).
    Template {
        id: i64 = "t.id",
        /// Unique in the organization (routine, quarterly, annual…).
        code: String = "t.code",
        name: String = "t.name",
        /// The level below, whose items this one includes.
        includes_id: Option<i64> = "t.includes_id",
        includes_name: Option<String> = "(SELECT b.name FROM checklist_templates b WHERE b.id = t.includes_id)",
        /// Active items of this level alone.
        own_items: i64 = "(SELECT COUNT(*) FROM checklist_items i WHERE i.template_id = t.id AND i.active = TRUE)",
        active: bool = "t.active",
        created_at: i64 = "t.created_at",
        updated_at: i64 = "t.updated_at",
        version: i64 = "t.version",
    }
);

record!(
    /// A checklist item.
    Item {
        id: i64 = "i.id",
        template_id: i64 = "i.template_id",
        /// A, B, C… (the seed's groups).
        group_code: String = "i.group_code",
        group_name: String = "i.group_name",
        /// Order inside its level (1, 2, 3…).
        position: i64 = "i.position",
        text: String = "i.text",
        /// pass_fail, measure, text or photo.
        kind: String = "i.kind",
        /// Unit of a measured value (MΩ, V, ℃…).
        unit: Option<String> = "i.unit",
        min_value: Option<f64> = "i.min_value",
        max_value: Option<f64> = "i.max_value",
        required: bool = "i.required",
        active: bool = "i.active",
        created_at: i64 = "i.created_at",
    }
);

/// Values written for an item.
#[derive(Debug, Clone)]
pub struct ItemValues<'a> {
    pub group_code: &'a str,
    pub group_name: &'a str,
    pub text: &'a str,
    pub kind: &'a str,
    pub unit: Option<&'a str>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub required: bool,
}

/// Inserts a template; returns its id.
pub async fn insert_template(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
    name: &str,
    includes_id: Option<i64>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO checklist_templates (org_id, code, name, includes_id, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, TRUE, $5, $5, 1) RETURNING id")
        .bind(org).bind(code).bind(name).bind(includes_id).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a template read at `version` (stale: `Conflict`).
#[allow(clippy::too_many_arguments)]
pub async fn update_template(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    code: &str,
    name: &str,
    includes_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE checklist_templates SET code = $4, name = $5, includes_id = $6, updated_at = $7, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(code).bind(name).bind(includes_id).bind(now).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Retires or restores a template.
pub async fn set_template_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE checklist_templates SET active = $3, updated_at = $4, version = version + 1
         WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(active).bind(now).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Marks a template changed (its items were edited) without touching its version, so an
/// open edit form of its name stays valid.
pub async fn touch_template(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE checklist_templates SET updated_at = $3 WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(now).execute(x).await)?;
    Ok(())
}

/// One template.
pub async fn get_template(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Template> {
    let r: Option<Template> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Template::COLUMNS).push(" FROM checklist_templates t WHERE t.org_id = ").push_bind(org)
            .push(" AND t.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// The template with `code`, if any.
pub async fn template_id_by_code(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM checklist_templates WHERE org_id = $1 AND code = $2")
        .bind(org).bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when another template of the organization has `code`.
pub async fn code_taken(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    Ok(template_id_by_code(c, org, code)
        .await?
        .is_some_and(|id| Some(id) != except))
}

/// The templates of the organization (a handful), by code.
pub async fn templates(
    c: &mut Conn<'_>,
    org: i64,
    include_retired: bool,
) -> StoreResult<Vec<Template>> {
    Ok(on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Template::COLUMNS).push(" FROM checklist_templates t WHERE t.org_id = ").push_bind(org);
        if !include_retired {
            q.push(" AND t.active = TRUE");
        }
        q.push(" ORDER BY t.code LIMIT 1000");
        q.build_query_as().fetch_all(x).await
    })?)
}

/// Every template's `(id, includes_id)`, to follow the levels.
pub async fn links(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, Option<i64>)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, includes_id FROM checklist_templates WHERE org_id = $1")
        .bind(org).fetch_all(x).await)?)
}

/// Items of the templates `ids`: active ones, plus retired ones when `include_retired`, plus
/// (for an order's page) those that have a result on order `results_of`.
pub async fn items(
    c: &mut Conn<'_>,
    org: i64,
    ids: &[i64],
    include_retired: bool,
    results_of: Option<i64>,
) -> StoreResult<Vec<Item>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Item::COLUMNS).push(" FROM checklist_items i WHERE i.org_id = ").push_bind(org)
            .push(" AND i.template_id IN (");
        let mut s = q.separated(", ");
        for id in ids {
            s.push_bind(*id);
        }
        q.push(")");
        if !include_retired {
            q.push(" AND (i.active = TRUE");
            if let Some(o) = results_of {
                q.push(" OR i.id IN (SELECT r.item_id FROM service_order_results r WHERE r.order_id = ")
                    .push_bind(o)
                    .push(")");
            }
            q.push(")");
        }
        q.push(" ORDER BY i.template_id, i.position, i.id");
        q.build_query_as().fetch_all(x).await
    })?)
}

/// One item of a template.
pub async fn get_item(c: &mut Conn<'_>, org: i64, template: i64, id: i64) -> StoreResult<Item> {
    let r: Option<Item> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Item::COLUMNS).push(" FROM checklist_items i WHERE i.org_id = ").push_bind(org)
            .push(" AND i.template_id = ").push_bind(template).push(" AND i.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// One item of the organization, whatever its template.
pub async fn find_item(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Item> {
    let r: Option<Item> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Item::COLUMNS).push(" FROM checklist_items i WHERE i.org_id = ").push_bind(org)
            .push(" AND i.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// Adds an item at the end of its template; returns its id.
pub async fn insert_item(
    c: &mut Conn<'_>,
    org: i64,
    template: i64,
    v: &ItemValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO checklist_items (org_id, template_id, group_code, group_name, position, text, kind, unit,
            min_value, max_value, required, active, created_at)
         VALUES ($1, $2, $3, $4,
            (SELECT COALESCE(MAX(position), 0) + 1 FROM checklist_items WHERE template_id = $2),
            $5, $6, $7, $8, $9, $10, TRUE, $11) RETURNING id")
        .bind(org).bind(template).bind(v.group_code).bind(v.group_name).bind(v.text).bind(v.kind).bind(v.unit)
        .bind(v.min_value).bind(v.max_value).bind(v.required).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Rewrites an item's fields.
pub async fn update_item(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    v: &ItemValues<'_>,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE checklist_items SET group_code = $3, group_name = $4, text = $5, kind = $6, unit = $7,
            min_value = $8, max_value = $9, required = $10 WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(v.group_code).bind(v.group_name).bind(v.text).bind(v.kind).bind(v.unit)
        .bind(v.min_value).bind(v.max_value).bind(v.required).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Retires or restores an item (results recorded against it stay).
pub async fn set_item_active(c: &mut Conn<'_>, org: i64, id: i64, active: bool) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query("UPDATE checklist_items SET active = $3 WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(active).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Numbers the items of a template 1, 2, 3… in the order of `ids`.
pub async fn renumber(c: &mut Conn<'_>, org: i64, template: i64, ids: &[i64]) -> StoreResult<()> {
    for (i, id) in ids.iter().enumerate() {
        let pos = i as i64 + 1;
        run!(c, x => sqlx::query(
            "UPDATE checklist_items SET position = $4 WHERE org_id = $1 AND template_id = $2 AND id = $3
                AND position <> $4")
            .bind(org).bind(template).bind(*id).bind(pos).execute(x).await)?;
    }
    Ok(())
}
