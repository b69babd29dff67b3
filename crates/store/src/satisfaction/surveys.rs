//! Survey templates: a template with its dimensions and items. A template that has answers
//! is never changed in place; an edit writes a new version (same code, version_no + 1).

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::maintenance::orders::record;
use crate::{on, run};

record!(
    /// A survey template (one version of it).
    Template {
        id: i64 = "t.id",
        /// Shared by all versions of the template.
        code: String = "t.code",
        version_no: i64 = "t.version_no",
        name: String = "t.name",
        intro: Option<String> = "t.intro",
        /// active, superseded or retired.
        status: String = "t.status",
        previous_id: Option<i64> = "t.previous_id",
        created_at: i64 = "t.created_at",
        updated_at: i64 = "t.updated_at",
        version: i64 = "t.version",
    }
);

record!(
    /// A dimension (service stage) of a template.
    Dimension {
        id: i64 = "d.id",
        template_id: i64 = "d.template_id",
        position: i64 = "d.position",
        name: String = "d.name",
    }
);

record!(
    /// A question of a template.
    Item {
        id: i64 = "i.id",
        template_id: i64 = "i.template_id",
        dimension_id: Option<i64> = "i.dimension_id",
        position: i64 = "i.position",
        /// scale, csat, nps, ces or text.
        kind: String = "i.kind",
        text: String = "i.text",
        scale_min: Option<i64> = "i.scale_min",
        scale_max: Option<i64> = "i.scale_max",
        /// Importance weight (scale items); normalised when CSI is computed.
        weight: f64 = "i.weight",
        required: bool = "i.required",
    }
);

/// A template with its dimensions and items in display order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Full {
    pub template: Template,
    pub dimensions: Vec<Dimension>,
    pub items: Vec<Item>,
}

/// Loads one template of `org` with its dimensions and items (three indexed reads).
pub async fn load(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<Full>> {
    let sql = format!(
        "SELECT {} FROM survey_templates t WHERE t.org_id = $1 AND t.id = $2",
        Template::COLUMNS
    );
    let template: Option<Template> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org).bind(id).fetch_optional(x).await)?;
    let Some(template) = template else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {} FROM survey_dimensions d WHERE d.template_id = $1 ORDER BY d.position, d.id",
        Dimension::COLUMNS
    );
    let dimensions: Vec<Dimension> =
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(x).await)?;
    let sql = format!(
        "SELECT {} FROM survey_items i WHERE i.template_id = $1 ORDER BY i.position, i.id",
        Item::COLUMNS
    );
    let items: Vec<Item> =
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(x).await)?;
    Ok(Some(Full {
        template,
        dimensions,
        items,
    }))
}

record!(
    /// A template as listed: the version's header with its item and response counts.
    TemplateRow {
        id: i64 = "t.id",
        code: String = "t.code",
        version_no: i64 = "t.version_no",
        name: String = "t.name",
        /// active, superseded or retired.
        status: String = "t.status",
        previous_id: Option<i64> = "t.previous_id",
        updated_at: i64 = "t.updated_at",
        version: i64 = "t.version",
        items: i64 = "(SELECT COUNT(*) FROM survey_items i WHERE i.template_id = t.id)",
        /// Responses (answered questionnaires) to this version, through the studies using it
        /// (studies by organization, responses by study: both indexed).
        answers: i64 = "(SELECT COUNT(*) FROM studies s JOIN survey_responses r ON r.study_id = s.id
            WHERE s.org_id = t.org_id AND s.template_id = t.id)",
    }
);

/// Which templates the list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Every version, not only the latest of each code.
    pub all_versions: bool,
    /// Also retired templates.
    pub include_retired: bool,
}

/// The header of a template to insert.
#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    pub code: &'a str,
    pub version_no: i64,
    pub name: &'a str,
    pub intro: Option<&'a str>,
    /// active (or retired when a retired template gets a new version).
    pub status: &'a str,
    pub previous_id: Option<i64>,
    pub created_by: Option<i64>,
}

/// An item to insert; `dimension` is an index into the dimension names inserted with it.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub dimension: Option<usize>,
    pub kind: &'a str,
    pub text: &'a str,
    pub scale_min: Option<i64>,
    pub scale_max: Option<i64>,
    pub weight: f64,
    pub required: bool,
}

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// The templates of `org`: by default the latest version of each code (found through the
/// unique (org, code, version_no) index), without retired ones; ordered by name.
pub async fn list(c: &mut Conn<'_>, org: i64, f: ListFilter) -> StoreResult<Vec<TemplateRow>> {
    let mut sql = format!(
        "SELECT {} FROM survey_templates t WHERE t.org_id = $1",
        TemplateRow::COLUMNS
    );
    if !f.all_versions {
        sql.push_str(
            " AND t.version_no = (SELECT MAX(t2.version_no) FROM survey_templates t2
                WHERE t2.org_id = t.org_id AND t2.code = t.code)",
        );
    }
    if !f.include_retired {
        sql.push_str(" AND t.status <> 'retired'");
    }
    sql.push_str(" ORDER BY t.name, t.code, t.version_no DESC");
    Ok(on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org).fetch_all(x).await)?)
}

/// Every version of the template `code`, newest first.
pub async fn versions(c: &mut Conn<'_>, org: i64, code: &str) -> StoreResult<Vec<TemplateRow>> {
    let sql = format!(
        "SELECT {} FROM survey_templates t WHERE t.org_id = $1 AND t.code = $2 ORDER BY t.version_no DESC",
        TemplateRow::COLUMNS
    );
    Ok(
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org).bind(code).fetch_all(x).await)?,
    )
}

/// One template header of `org`.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Template> {
    let sql = format!(
        "SELECT {} FROM survey_templates t WHERE t.org_id = $1 AND t.id = $2",
        Template::COLUMNS
    );
    Ok(
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org).bind(id).fetch_one(x).await)?,
    )
}

/// The id of the newest version of `code` (preferring an active one), if the code exists.
pub async fn id_by_code(c: &mut Conn<'_>, org: i64, code: &str) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM survey_templates WHERE org_id = $1 AND code = $2
         ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, version_no DESC LIMIT 1")
        .bind(org).bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when any version of `code` exists in `org`.
pub async fn code_taken(c: &mut Conn<'_>, org: i64, code: &str) -> StoreResult<bool> {
    Ok(id_by_code(c, org, code).await?.is_some())
}

/// True when someone answered this template (a response in a study that uses it): its items
/// may then never change.
pub async fn has_answers(c: &mut Conn<'_>, template_id: i64) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM studies s WHERE s.template_id = $1
           AND EXISTS (SELECT 1 FROM survey_responses r WHERE r.study_id = s.id)")
        .bind(template_id).fetch_one(x).await)?;
    Ok(n > 0)
}

/// Inserts dimensions and items of template `id` (one statement each, positions from 1).
async fn insert_rows(
    c: &mut Conn<'_>,
    id: i64,
    dimensions: &[&str],
    items: &[NewItem<'_>],
) -> StoreResult<()> {
    if !dimensions.is_empty() {
        let rows: Vec<(i64, &str)> = (1..).zip(dimensions.iter().copied()).collect();
        run!(c, x => {
            let mut q = QueryBuilder::new("INSERT INTO survey_dimensions (template_id, position, name) ");
            q.push_values(&rows, |mut b, (pos, name)| {
                b.push_bind(id).push_bind(*pos).push_bind(name.to_string());
            });
            q.build().execute(x).await
        })?;
    }
    // dimension ids by position, read back (the order of a multi-row RETURNING is not promised)
    let ids: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM survey_dimensions WHERE template_id = $1 ORDER BY position")
        .bind(id).fetch_all(x).await)?;
    if items.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, &NewItem<'_>)> = (1..).zip(items.iter()).collect();
    run!(c, x => {
        let mut q = QueryBuilder::new(
            "INSERT INTO survey_items (template_id, dimension_id, position, kind, text, scale_min, scale_max,
                weight, required) ");
        q.push_values(&rows, |mut b, (pos, it)| {
            let dim = it.dimension.and_then(|d| ids.get(d)).map(|r| r.0);
            b.push_bind(id).push_bind(dim).push_bind(*pos).push_bind(it.kind.to_string())
                .push_bind(it.text.to_string()).push_bind(it.scale_min).push_bind(it.scale_max)
                .push_bind(it.weight).push_bind(it.required);
        });
        q.build().execute(x).await
    })?;
    Ok(())
}

/// Inserts a template with its dimensions and items (in the caller's transaction); returns
/// its id. A taken (code, version_no) is a `Conflict`.
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    t: &NewTemplate<'_>,
    dimensions: &[&str],
    items: &[NewItem<'_>],
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO survey_templates (org_id, code, version_no, name, intro, status, previous_id, created_by,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1) RETURNING id")
        .bind(org).bind(t.code).bind(t.version_no).bind(t.name).bind(t.intro).bind(t.status)
        .bind(t.previous_id).bind(t.created_by).bind(now).fetch_one(x).await)?;
    insert_rows(c, id, dimensions, items).await?;
    Ok(id)
}

/// Writes a new version of template `old` read at `version`: the old one becomes superseded
/// (its questions stay as they were, for the studies that used them), the new one gets
/// version_no + 1 and points back to it. Returns the new id.
#[allow(clippy::too_many_arguments)]
pub async fn new_version(
    c: &mut Conn<'_>,
    org: i64,
    old: &Template,
    version: i64,
    name: &str,
    intro: Option<&str>,
    dimensions: &[&str],
    items: &[NewItem<'_>],
    created_by: Option<i64>,
    now: i64,
) -> StoreResult<i64> {
    let r = run!(c, x => sqlx::query(
        "UPDATE survey_templates SET status = 'superseded', updated_at = $4, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3 AND status <> 'superseded'")
        .bind(org).bind(old.id).bind(version).bind(now).execute(x).await)?;
    stale_check(r)?;
    let status = if old.status == "retired" {
        "retired"
    } else {
        "active"
    };
    insert(
        c,
        org,
        &NewTemplate {
            code: &old.code,
            version_no: old.version_no + 1,
            name,
            intro,
            status,
            previous_id: Some(old.id),
            created_by,
        },
        dimensions,
        items,
        now,
    )
    .await
}

/// Replaces the header, dimensions and items of a template that has no answers, in place
/// (same version_no), if `version` is still current.
#[allow(clippy::too_many_arguments)]
pub async fn replace(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    name: &str,
    intro: Option<&str>,
    dimensions: &[&str],
    items: &[NewItem<'_>],
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE survey_templates SET name = $4, intro = $5, updated_at = $6, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(name).bind(intro).bind(now).execute(x).await)?;
    stale_check(r)?;
    run!(c, x => sqlx::query("DELETE FROM survey_items WHERE template_id = $1").bind(id).execute(x).await)?;
    run!(c, x => sqlx::query("DELETE FROM survey_dimensions WHERE template_id = $1").bind(id).execute(x).await)?;
    insert_rows(c, id, dimensions, items).await
}

/// Retires (status retired) or restores (status active) a template read at `version`; a
/// superseded version is left alone (`Conflict`).
pub async fn set_retired(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    retired: bool,
    now: i64,
) -> StoreResult<()> {
    let status = if retired { "retired" } else { "active" };
    let r = run!(c, x => sqlx::query(
        "UPDATE survey_templates SET status = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3 AND status <> 'superseded'")
        .bind(org).bind(id).bind(version).bind(status).bind(now).execute(x).await)?;
    stale_check(r)
}
