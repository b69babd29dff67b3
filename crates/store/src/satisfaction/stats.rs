//! Satisfaction statistics, aggregated in SQL (DOMAIN.md §7): every function returns sums
//! and counts made by the database (`GROUP BY`, conditional `COUNT`), never answer rows; the
//! arithmetic on them is `domain::satisfaction::stats`.
//!
//! Indexes: per-item aggregates read `survey_answers_study_item (study_id, item_id, value)`
//! only (an index-only scan grouped in index order: no sort, no table access); per-response
//! figures and breakdowns read `survey_responses_study` and probe `survey_answers` by its
//! primary key (response_id, item_id); the text list walks `survey_responses_study`
//! newest first and stops at the page; visits read `return_visits_org_month`.
//!
//! The cache `study_stats` holds a study's computed body; it is valid while its `responses`
//! equals `studies.responses` (the counter the answer transaction increments), so adding a
//! response invalidates it without any work on the answer path.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::{Page, PageReq, on, run};

/// A study with what its statistics need to know about it and its template.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyHead {
    pub id: i64,
    pub template_id: i64,
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    /// draft, open or closed.
    pub status: String,
    /// The counter of responses (the cache key).
    pub responses: i64,
    pub invited: i64,
    pub template_code: String,
    pub template_name: String,
    pub version_no: i64,
}

type HeadRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    i64,
);

fn head(r: HeadRow) -> StudyHead {
    StudyHead {
        id: r.0,
        template_id: r.1,
        name: r.2,
        period_start: r.3,
        period_end: r.4,
        status: r.5,
        responses: r.6,
        invited: r.7,
        template_code: r.8,
        template_name: r.9,
        version_no: r.10,
    }
}

const HEAD: &str = "SELECT s.id AS id, s.template_id AS template_id, s.name AS name,
        s.period_start AS period_start, s.period_end AS period_end, s.status AS status,
        s.responses AS responses, s.invited AS invited, t.code AS code, t.name AS template_name,
        t.version_no AS version_no
    FROM studies s JOIN survey_templates t ON t.id = s.template_id";

/// One study of `org` (None: no such study in this organization).
pub async fn study(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Option<StudyHead>> {
    let sql = format!("{HEAD} WHERE s.org_id = $1 AND s.id = $2");
    let r: Option<HeadRow> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.map(head))
}

/// Every study of `org` made with a version of template `code` (drafts left out), by
/// period; at most `limit`, the latest ones.
pub async fn studies_of_code(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
    limit: i64,
) -> StoreResult<Vec<StudyHead>> {
    let sql = format!(
        "SELECT * FROM ({HEAD} WHERE s.org_id = $1 AND t.code = $2 AND s.status <> 'draft'
            ORDER BY s.period_start DESC, s.id DESC LIMIT $3) x
         ORDER BY x.period_start, x.id"
    );
    let rows: Vec<HeadRow> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(code.to_string()).bind(limit).fetch_all(x).await)?;
    Ok(rows.into_iter().map(head).collect())
}

/// The template codes of `org` that have studies (drafts left out): (code, the newest
/// version's name), by code.
pub async fn codes(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT t.code,
            (SELECT t2.name FROM survey_templates t2 WHERE t2.org_id = $1 AND t2.code = t.code
             ORDER BY t2.version_no DESC LIMIT 1)
         FROM studies s JOIN survey_templates t ON t.id = s.template_id
         WHERE s.org_id = $1 AND s.status <> 'draft'
         GROUP BY t.code ORDER BY t.code")
        .bind(org).fetch_all(x).await)?)
}

/// The cached body of a study: (responses it was computed at, computed_at, body JSON).
pub async fn cached(c: &mut Conn<'_>, study: i64) -> StoreResult<Option<(i64, i64, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT responses, computed_at, body FROM study_stats WHERE study_id = $1")
        .bind(study).fetch_optional(x).await)?)
}

/// Stores a computed body; an older computation (fewer responses) never replaces a newer one.
pub async fn store_cache(
    c: &mut Conn<'_>,
    study: i64,
    responses: i64,
    now: i64,
    body: &str,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO study_stats (study_id, responses, computed_at, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (study_id) DO UPDATE SET responses = excluded.responses,
            computed_at = excluded.computed_at, body = excluded.body
         WHERE study_stats.responses <= excluded.responses")
        .bind(study).bind(responses).bind(now).bind(body.to_string()).execute(x).await)?;
    Ok(())
}

/// The aggregates of one item's numeric answers in a study.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ItemSums {
    pub item_id: i64,
    pub n: i64,
    pub sum: f64,
    pub sum_sq: f64,
    /// Answers in the top two boxes of the item's scale (value ≥ scale_max − 1).
    pub top_two: i64,
    /// Answers 9-10 (NPS promoters; meaningful for the nps item).
    pub promoters: i64,
    /// Answers 0-6 (NPS detractors; meaningful for the nps item).
    pub detractors: i64,
}

/// Per item of a study: n, Σ, Σ², top-two, promoters and detractors of its numeric answers.
///
/// The inner query groups the answers by (item, value) straight from
/// `survey_answers_study_item` (index-only, in index order); the outer one joins the few
/// item rows and applies each item's scale with CASE over at most a dozen values per item.
pub async fn item_sums(c: &mut Conn<'_>, study: i64) -> StoreResult<Vec<ItemSums>> {
    type Row = (i64, i64, Option<f64>, Option<f64>, i64, i64, i64);
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT h.item_id, CAST(SUM(h.cnt) AS BIGINT),
            CAST(SUM(h.value * h.cnt) AS DOUBLE PRECISION),
            CAST(SUM(h.value * h.value * h.cnt) AS DOUBLE PRECISION),
            CAST(SUM(CASE WHEN i.scale_max IS NOT NULL AND h.value >= i.scale_max - 1 THEN h.cnt ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN h.value >= 9 THEN h.cnt ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN h.value <= 6 THEN h.cnt ELSE 0 END) AS BIGINT)
         FROM (SELECT a.item_id, a.value, COUNT(*) AS cnt FROM survey_answers a
               WHERE a.study_id = $1 AND a.value IS NOT NULL GROUP BY a.item_id, a.value) h
         JOIN survey_items i ON i.id = h.item_id
         GROUP BY h.item_id ORDER BY h.item_id")
        .bind(study).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| ItemSums {
            item_id: r.0,
            n: r.1,
            sum: r.2.unwrap_or(0.0),
            sum_sq: r.3.unwrap_or(0.0),
            top_two: r.4,
            promoters: r.5,
            detractors: r.6,
        })
        .collect())
}

/// A study's responses: (count, count with a score, Σ score, Σ score²).
pub async fn response_sums(c: &mut Conn<'_>, study: i64) -> StoreResult<(i64, i64, f64, f64)> {
    let r: (i64, i64, Option<f64>, Option<f64>) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*), COUNT(r.score), CAST(SUM(r.score) AS DOUBLE PRECISION),
            CAST(SUM(r.score * r.score) AS DOUBLE PRECISION)
         FROM survey_responses r WHERE r.study_id = $1")
        .bind(study).fetch_one(x).await)?;
    Ok((r.0, r.1, r.2.unwrap_or(0.0), r.3.unwrap_or(0.0)))
}

/// Invitations of a study: (invited, answered). Revoked invitations are not counted as
/// invited unless they were answered (which keeps answered ⊆ invited).
pub async fn invitation_counts(c: &mut Conn<'_>, study: i64) -> StoreResult<(i64, i64)> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT COUNT(CASE WHEN status <> 'revoked' OR answered_at IS NOT NULL THEN 1 END),
            COUNT(CASE WHEN status = 'answered' OR answered_at IS NOT NULL THEN 1 END)
         FROM study_invitations WHERE study_id = $1")
        .bind(study).fetch_one(x).await)?)
}

/// Sums of one value over the complete cases of a dimension.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums3 {
    pub n: i64,
    pub sum: f64,
    pub sum_sq: f64,
}

/// Cronbach's sufficient statistics of one dimension over its complete cases.
#[derive(Debug, Clone, PartialEq)]
pub struct DimSums {
    pub dimension_id: i64,
    /// Of the per-case totals (Σ of the case's values over the dimension's items).
    pub total: Sums3,
    /// Per scale item of the dimension: (item id, sums of its values over the same cases).
    pub items: Vec<(i64, Sums3)>,
}

/// Per dimension: the sums Cronbach's α needs, over its complete cases (responses that
/// answered every scale item of the dimension). `items` are the template's scale items as
/// (item id, dimension id).
///
/// One pass: the subquery groups the study's scale answers by (response, dimension) and
/// pivots each item's value into its own column (one `MAX(CASE …)` per item); the outer
/// query keeps the groups that hold all of the dimension's items and sums per dimension.
pub async fn cronbach_sums(
    c: &mut Conn<'_>,
    study: i64,
    template: i64,
    items: &[(i64, i64)],
) -> StoreResult<Vec<DimSums>> {
    if items.is_empty() {
        return Ok(vec![]);
    }
    let mut head = String::from(
        "SELECT g.dimension_id, COUNT(*), CAST(SUM(g.total) AS DOUBLE PRECISION),
            CAST(SUM(g.total * g.total) AS DOUBLE PRECISION)",
    );
    for j in 0..items.len() {
        head.push_str(&format!(
            ", CAST(SUM(g.v{j}) AS DOUBLE PRECISION), CAST(SUM(g.v{j} * g.v{j}) AS DOUBLE PRECISION)"
        ));
    }
    head.push_str(
        " FROM (SELECT a.response_id, i.dimension_id, COUNT(*) AS k, SUM(a.value) AS total",
    );
    let sums = 2 * items.len();
    // (dimension, complete cases, [Σ total, Σ total², then Σ v, Σ v² per item])
    let rows: Vec<(i64, i64, Vec<Option<f64>>)> = on!(c, x => {
        let mut q = QueryBuilder::new(head.as_str());
        for (j, (item, _)) in items.iter().enumerate() {
            q.push(", MAX(CASE WHEN a.item_id = ").push_bind(*item).push(format!(" THEN a.value END) AS v{j}"));
        }
        q.push(" FROM survey_answers a JOIN survey_items i ON i.id = a.item_id
            WHERE a.study_id = ").push_bind(study)
            .push(" AND i.template_id = ").push_bind(template)
            .push(" AND i.kind = 'scale' AND i.dimension_id IS NOT NULL AND a.value IS NOT NULL
            GROUP BY a.response_id, i.dimension_id) g
            JOIN (SELECT dimension_id, COUNT(*) AS k FROM survey_items WHERE template_id = ")
            .push_bind(template)
            .push(" AND kind = 'scale' AND dimension_id IS NOT NULL GROUP BY dimension_id) d
              ON d.dimension_id = g.dimension_id AND d.k = g.k
            GROUP BY g.dimension_id ORDER BY g.dimension_id");
        let rows = q.build().fetch_all(x).await;
        rows.and_then(|rows| {
            use sqlx::Row;
            rows.iter()
                .map(|r| {
                    let mut v = Vec::with_capacity(sums + 2);
                    for i in 2..sums + 4 {
                        v.push(r.try_get::<Option<f64>, _>(i)?);
                    }
                    Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?, v))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })
    })?;
    let at = |v: &[Option<f64>], i: usize| v.get(i).copied().flatten().unwrap_or(0.0);
    Ok(rows
        .into_iter()
        .map(|(dimension_id, n, v)| DimSums {
            dimension_id,
            total: Sums3 {
                n,
                sum: at(&v, 0),
                sum_sq: at(&v, 1),
            },
            items: items
                .iter()
                .enumerate()
                .filter(|(_, (_, d))| *d == dimension_id)
                .map(|(j, (item, _))| {
                    (
                        *item,
                        Sums3 {
                            n,
                            sum: at(&v, 2 + 2 * j),
                            sum_sq: at(&v, 3 + 2 * j),
                        },
                    )
                })
                .collect(),
        })
        .collect())
}

/// The breakdown dimension of the response figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Product,
    Engineer,
    Region,
    Outlet,
}

impl By {
    /// Every dimension, in display order.
    pub const ALL: [By; 4] = [By::Product, By::Engineer, By::Region, By::Outlet];

    /// The JSON / key name.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Product => "product",
            By::Engineer => "engineer",
            By::Region => "region",
            By::Outlet => "outlet",
        }
    }

    /// (response column, outer SELECT of id / code / name, the join naming the group).
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            By::Product => (
                "r.product_id",
                "g.k, p.part_no, p.name",
                " LEFT JOIN products p ON p.id = g.k",
            ),
            By::Engineer => (
                "r.engineer_id",
                "g.k, CAST(NULL AS TEXT), u.display_name",
                " LEFT JOIN users u ON u.id = g.k",
            ),
            By::Region => (
                "r.region",
                "CAST(NULL AS BIGINT), CAST(NULL AS TEXT), g.k",
                "",
            ),
            By::Outlet => (
                "r.outlet_id",
                "g.k, CAST(NULL AS TEXT), o.name",
                " LEFT JOIN outlets o ON o.id = g.k",
            ),
        }
    }
}

/// The response figures of one group of a breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSums {
    /// The product, engineer or outlet id (None for regions and for "not recorded").
    pub id: Option<i64>,
    /// The product's part number.
    pub code: Option<String>,
    /// The name (the region itself for regions); None: not recorded.
    pub name: Option<String>,
    pub responses: i64,
    /// n, Σ, Σ² of the responses' own scores.
    pub score: Sums3,
    /// csat answers and those in the top two boxes.
    pub csat_n: i64,
    pub csat_top: i64,
    /// nps answers, promoters and detractors.
    pub nps_n: i64,
    pub promoters: i64,
    pub detractors: i64,
}

type GroupRow = (
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<f64>,
    Option<f64>,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// A study's responses grouped by product, engineer, region or outlet (the keys fixed at
/// invitation, copied on the response): per group the response count, the sums of the
/// responses' scores, and the csat / nps counts (`csat` = (item id, lowest top-two value);
/// `nps` = item id). The `limit` largest groups.
pub async fn breakdown(
    c: &mut Conn<'_>,
    study: i64,
    by: By,
    csat: Option<(i64, f64)>,
    nps: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<GroupSums>> {
    let (col, outer, join) = by.sql();
    // An absent item is bound as id 0 (no row has it): the joins then find nothing.
    let (csat_id, csat_top) = csat.unwrap_or((0, f64::MAX));
    let sql = format!(
        "SELECT {outer}, g.responses, g.scored, g.s_sum, g.s_sq, g.c_n, g.c_top, g.n_n, g.n_pro, g.n_det
         FROM (SELECT {col} AS k, COUNT(*) AS responses, COUNT(r.score) AS scored,
                CAST(SUM(r.score) AS DOUBLE PRECISION) AS s_sum,
                CAST(SUM(r.score * r.score) AS DOUBLE PRECISION) AS s_sq,
                COUNT(ca.value) AS c_n, COUNT(CASE WHEN ca.value >= $2 THEN 1 END) AS c_top,
                COUNT(na.value) AS n_n, COUNT(CASE WHEN na.value >= 9 THEN 1 END) AS n_pro,
                COUNT(CASE WHEN na.value <= 6 THEN 1 END) AS n_det
               FROM survey_responses r
               LEFT JOIN survey_answers ca ON ca.response_id = r.id AND ca.item_id = $3
               LEFT JOIN survey_answers na ON na.response_id = r.id AND na.item_id = $4
               WHERE r.study_id = $1 GROUP BY {col}) g{join}
         ORDER BY g.responses DESC, 3, 1 LIMIT $5"
    );
    let rows: Vec<GroupRow> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(study).bind(csat_top).bind(csat_id).bind(nps.unwrap_or(0)).bind(limit)
        .fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| GroupSums {
            id: r.0,
            code: r.1,
            name: r.2,
            responses: r.3,
            score: Sums3 {
                n: r.4,
                sum: r.5.unwrap_or(0.0),
                sum_sq: r.6.unwrap_or(0.0),
            },
            csat_n: r.7,
            csat_top: r.8,
            nps_n: r.9,
            promoters: r.10,
            detractors: r.11,
        })
        .collect())
}

/// A free-text answer with its response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TextAnswer {
    pub response_id: i64,
    pub item_id: i64,
    pub text: String,
    pub submitted_at: i64,
    /// The response's own score on 0-100 (null without scale answers).
    pub score: Option<f64>,
    /// link or phone.
    pub channel: String,
    pub customer_id: i64,
    pub customer_name: Option<String>,
}

type TextRow = (
    i64,
    i64,
    String,
    i64,
    Option<f64>,
    String,
    i64,
    Option<String>,
);

/// One page of a study's free-text answers to `items` (the template's text items), newest
/// response first, with the total.
pub async fn texts(
    c: &mut Conn<'_>,
    study: i64,
    items: &[i64],
    p: PageReq,
) -> StoreResult<Page<TextAnswer>> {
    if items.is_empty() {
        return Ok(Page {
            items: vec![],
            total: 0,
            page: p.page,
            per_page: p.per_page,
        });
    }
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM survey_answers a WHERE a.study_id = ");
        q.push_bind(study).push(" AND a.item_id IN (");
        let mut s = q.separated(", ");
        for i in items {
            s.push_bind(*i);
        }
        q.push(") AND a.text IS NOT NULL AND a.text <> ''");
        q.build_query_as().fetch_one(x).await
    })?;
    let rows: Vec<TextRow> = on!(c, x => {
        let mut q = QueryBuilder::new(
            "SELECT a.response_id, a.item_id, a.text, r.submitted_at, r.score, r.channel,
                r.customer_id, cu.name
             FROM survey_responses r
             JOIN survey_answers a ON a.response_id = r.id
             LEFT JOIN customers cu ON cu.id = r.customer_id
             WHERE r.study_id = ");
        q.push_bind(study).push(" AND a.item_id IN (");
        let mut s = q.separated(", ");
        for i in items {
            s.push_bind(*i);
        }
        q.push(") AND a.text IS NOT NULL AND a.text <> ''
             ORDER BY r.submitted_at DESC, r.id DESC, a.item_id LIMIT ")
            .push_bind(p.per_page).push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| TextAnswer {
                response_id: r.0,
                item_id: r.1,
                text: r.2,
                submitted_at: r.3,
                score: r.4,
                channel: r.5,
                customer_id: r.6,
                customer_name: r.7,
            })
            .collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Done return visits of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitMonth {
    /// YYYY-MM (the visit's `month`).
    pub month: String,
    pub done: i64,
    /// n, Σ, Σ² of the ratings (1-5) given.
    pub rating: Sums3,
    /// Visits with a satisfied / unsatisfied judgement, and the satisfied ones.
    pub judged: i64,
    pub satisfied: i64,
}

/// Done return visits of `org` per month from `from_month` (YYYY-MM) on.
pub async fn visit_months(
    c: &mut Conn<'_>,
    org: i64,
    from_month: &str,
) -> StoreResult<Vec<VisitMonth>> {
    type Row = (String, i64, i64, Option<i64>, Option<i64>, i64, i64);
    let rows: Vec<Row> = on!(c, x => sqlx::query_as(
        "SELECT v.month, COUNT(*), COUNT(v.rating), CAST(SUM(v.rating) AS BIGINT),
            CAST(SUM(v.rating * v.rating) AS BIGINT), COUNT(v.satisfied),
            COUNT(CASE WHEN v.satisfied THEN 1 END)
         FROM return_visits v WHERE v.org_id = $1 AND v.month >= $2 AND v.status = 'done'
         GROUP BY v.month ORDER BY v.month")
        .bind(org).bind(from_month.to_string()).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| VisitMonth {
            month: r.0,
            done: r.1,
            rating: Sums3 {
                n: r.2,
                sum: r.3.unwrap_or(0) as f64,
                sum_sq: r.4.unwrap_or(0) as f64,
            },
            judged: r.5,
            satisfied: r.6,
        })
        .collect())
}
