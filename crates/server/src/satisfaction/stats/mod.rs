//! Satisfaction statistics (DOMAIN.md §7) of a study and over time: item and dimension
//! scores on 0-100, the weighted CSI, CSAT, NPS and CES, each with n and a 95% interval, the
//! response rate, Cronbach's α per dimension, the importance-performance matrix, breakdowns
//! by product, engineer, region and outlet, and the free-text answers with their scores.
//!
//! The database aggregates (`store::satisfaction::stats`), `domain::satisfaction::stats`
//! does the arithmetic (its module notes state every convention), `service` assembles and
//! caches a study's figures (`study_stats`, valid while the study's response counter is
//! unchanged). Served as the printable report `/studies/{id}/report` (`pages`, SVG charts in
//! `chart`), its workbook `/studies/{id}/report.xlsx` (`xlsx`), the overview `/satisfaction`
//! (trends across studies of a template code, return-visit ratings by month) and the JSON API
//! (`api`). Everyone with `ViewSatisfaction` (all roles, auditors included) reads them.

pub mod api;
pub mod chart;
pub mod pages;
pub mod service;
pub mod xlsx;

use axum::Router;
use axum::routing::get;
use domain::satisfaction::stats::Estimate;
use serde::{Deserialize, Serialize};
use store::satisfaction::stats::TextAnswer;
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;

/// Routes of the report, the workbook, the overview and their API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/studies/{id}/report", get(pages::report))
        .route("/studies/{id}/report.xlsx", get(xlsx::download))
        .route("/satisfaction", get(pages::overview))
        .merge(api::routes())
}

/// OpenAPI of the statistics.
#[derive(OpenApi)]
#[openapi(
    paths(api::study_stats, api::study_texts, api::trends),
    components(schemas(
        Ci,
        StudyRef,
        StudyStats,
        ItemStat,
        DimensionStat,
        IpaStat,
        IpaPoint,
        GroupStat,
        Breakdowns,
        TextAnswer,
        Trend,
        TrendPoint,
        VisitMonthStat,
        Overview
    ))
)]
pub struct Api;

/// An estimate with its sample size and 95% interval (null: no data / no interval).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ci {
    /// The sample size the estimate rests on.
    pub n: i64,
    pub value: Option<f64>,
    /// Lower end of the 95% interval.
    pub low: Option<f64>,
    /// Upper end of the 95% interval.
    pub high: Option<f64>,
}

impl From<Estimate> for Ci {
    fn from(e: Estimate) -> Ci {
        Ci {
            n: e.n,
            value: e.value,
            low: e.low,
            high: e.high,
        }
    }
}

/// The study a set of figures belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StudyRef {
    pub id: i64,
    pub name: String,
    /// YYYY-MM-DD.
    pub period_start: String,
    pub period_end: String,
    /// draft, open or closed.
    pub status: String,
    pub template_id: i64,
    pub template_code: String,
    pub template_name: String,
    pub version_no: i64,
}

/// The figures of one item (every item but free text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemStat {
    pub item_id: i64,
    pub dimension_id: Option<i64>,
    pub dimension: Option<String>,
    pub position: i64,
    /// scale, csat, nps or ces.
    pub kind: String,
    pub text: String,
    pub scale_min: i64,
    pub scale_max: i64,
    /// The importance weight as set on the template (scale items).
    pub weight: Option<f64>,
    /// The weight normalised over the scale items with answers (sums to 1): the weight CSI
    /// uses and the importance of the matrix.
    pub importance: Option<f64>,
    /// Mean on the item's own scale with its interval.
    pub mean: Ci,
    /// Sample standard deviation (n − 1).
    pub sd: Option<f64>,
    /// (mean − min) / (max − min) × 100 with the interval transformed the same way.
    pub score: Ci,
    /// Answers in the top two boxes (csat items).
    pub top_two: Option<i64>,
    /// Answers 9-10 and 0-6 (nps items).
    pub promoters: Option<i64>,
    pub detractors: Option<i64>,
}

/// The figures of one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DimensionStat {
    pub dimension_id: i64,
    pub name: String,
    /// Scale items in the dimension.
    pub items: i64,
    /// Weighted mean of its items' scores (weights normalised within the dimension).
    pub score: Option<f64>,
    /// Sum of its items' normalised weights (its share of the CSI).
    pub importance: Option<f64>,
    /// Cronbach's α over the complete cases (null: fewer than two items or cases, or no
    /// variance).
    pub alpha: Option<f64>,
    /// Complete cases: responses that answered every scale item of the dimension.
    pub complete_cases: i64,
    /// α ≥ 0.7 (null without α).
    pub acceptable: Option<bool>,
}

/// One item placed in the importance-performance matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpaPoint {
    pub item_id: i64,
    pub text: String,
    /// The normalised weight.
    pub importance: f64,
    /// The item's score on 0-100.
    pub performance: f64,
    /// fix_first (important, low), keep (important, high), opportunity (unimportant, low) or
    /// maintain (unimportant, high); a point on a cut line counts as important / high.
    pub quadrant: String,
}

/// The importance-performance matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpaStat {
    /// Mean importance of the items placed.
    pub importance_cut: f64,
    /// Mean score of the items placed.
    pub performance_cut: f64,
    pub points: Vec<IpaPoint>,
}

/// The figures of one group of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupStat {
    /// The product, engineer or outlet id (null for regions and for "not recorded").
    pub id: Option<i64>,
    /// The product's part number.
    pub code: Option<String>,
    /// Product, engineer or outlet name, or the region; null: not recorded.
    pub name: Option<String>,
    pub responses: i64,
    /// Mean of the responses' own scores (0-100) with its interval.
    pub score: Ci,
    /// CSAT in % with the Wilson interval.
    pub csat: Ci,
    pub nps: Ci,
}

/// Breakdowns of the responses (the 100 largest groups of each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Breakdowns {
    pub product: Vec<GroupStat>,
    pub engineer: Vec<GroupStat>,
    pub region: Vec<GroupStat>,
    pub outlet: Vec<GroupStat>,
}

impl Breakdowns {
    /// The groups of `by` (product, engineer, region or outlet).
    pub fn of(&self, by: &str) -> &[GroupStat] {
        match by {
            "product" => &self.product,
            "engineer" => &self.engineer,
            "region" => &self.region,
            _ => &self.outlet,
        }
    }
}

/// Everything on a study's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StudyStats {
    pub study: StudyRef,
    /// When the figures were computed (Unix seconds).
    pub computed_at: i64,
    /// Served from the cache.
    pub cached: bool,
    /// Responses counted.
    pub responses: i64,
    /// Invitations (not revoked) and those answered, as of this request.
    pub invited: i64,
    pub answered: i64,
    /// answered / invited in % with the Wilson interval.
    pub response_rate: Ci,
    /// Σ wᵢ scoreᵢ (weights normalised over the scale items with answers), 0-100; the
    /// interval from the responses' own scores (n = responses with a score).
    pub csi: Ci,
    /// Share of the csat item's answers in its top two boxes, in %.
    pub csat: Ci,
    /// % promoters (9-10) − % detractors (0-6) of the nps item, −100..100.
    pub nps: Ci,
    /// Mean of the ces item (1-7).
    pub ces: Ci,
    /// Mean of the responses' own scores (0-100).
    pub response_score: Ci,
    pub items: Vec<ItemStat>,
    pub dimensions: Vec<DimensionStat>,
    pub ipa: Option<IpaStat>,
    pub breakdowns: Breakdowns,
    /// The newest free-text answers (first page; all of them: the texts API).
    pub texts: Vec<TextAnswer>,
    pub texts_total: i64,
}

/// One study in a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrendPoint {
    pub study: StudyRef,
    pub responses: i64,
    pub csi: Ci,
    pub csat: Ci,
    pub nps: Ci,
    pub ces: Ci,
}

/// The studies of one template code (all its versions), by period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trend {
    pub code: String,
    /// The newest version's name.
    pub name: String,
    pub points: Vec<TrendPoint>,
}

/// Done return visits of one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VisitMonthStat {
    /// YYYY-MM.
    pub month: String,
    /// Visits done.
    pub done: i64,
    /// Mean rating (1-5) with its interval; n = visits rated.
    pub rating: Ci,
    /// Share of the judged visits the customer was satisfied with, in %, Wilson interval.
    pub satisfied: Ci,
}

/// The satisfaction overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Overview {
    pub trends: Vec<Trend>,
    /// First month shown (YYYY-MM).
    pub from_month: String,
    pub visits: Vec<VisitMonthStat>,
}
