//! Survey templates: a template with its dimensions and items. A template that has answers
//! is never changed in place; an edit writes a new version (same code, version_no + 1).

use crate::db::Conn;
use crate::error::StoreResult;
use crate::maintenance::orders::record;
use crate::on;

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
    let template: Option<Template> =
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(org).bind(id).fetch_optional(x).await)?;
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
    let items: Vec<Item> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(x).await)?;
    Ok(Some(Full {
        template,
        dimensions,
        items,
    }))
}
