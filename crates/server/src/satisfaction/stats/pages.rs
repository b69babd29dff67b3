//! The study report (`/studies/{id}/report`, printable: no navigation, a page per section)
//! and the satisfaction overview (`/satisfaction`).

use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use store::PageReq;
use store::satisfaction::stats::TextAnswer;

use super::{Ci, GroupStat, StudyStats, chart, service};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Shell, render};

/// Free-text answers per report page.
pub const TEXTS_PER_PAGE: i64 = 50;

/// A number with one decimal, "—" for none.
pub fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.1}"))
}

/// A number with `places` decimals, "—" for none.
pub fn num_to(v: Option<f64>, places: usize) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.places$}"))
}

/// "[low, high]" with one decimal, "—" without an interval.
pub fn interval(c: &Ci) -> String {
    match (c.low, c.high) {
        (Some(l), Some(h)) => format!("[{l:.1}, {h:.1}]"),
        _ => "—".to_string(),
    }
}

/// One headline figure as shown.
pub struct Headline {
    /// Element id (tests, print).
    pub id: &'static str,
    pub label: String,
    pub value: String,
    pub n: i64,
    pub ci: String,
    pub note: String,
}

/// An items-table row.
pub struct ItemRow {
    pub id: i64,
    pub dimension: String,
    pub text: String,
    pub kind: String,
    pub scale: String,
    pub n: i64,
    pub mean: String,
    pub sd: String,
    pub score: String,
    pub ci: String,
    pub weight: String,
    pub importance: String,
}

/// A dimensions-table row.
pub struct DimRow {
    pub id: i64,
    pub name: String,
    pub items: i64,
    pub score: String,
    pub importance: String,
    pub alpha: String,
    pub cases: i64,
    /// α below 0.7.
    pub low: bool,
}

/// A matrix-table row.
pub struct IpaRow {
    pub text: String,
    pub importance: String,
    pub performance: String,
    pub quadrant: String,
    pub label: String,
}

/// A breakdown row.
pub struct GroupRow {
    pub label: String,
    pub responses: i64,
    pub score: String,
    pub score_ci: String,
    pub csat: String,
    pub csat_ci: String,
    pub nps: String,
    pub nps_ci: String,
}

/// A free-text row.
pub struct TextRow {
    pub time: String,
    pub customer: String,
    pub score: String,
    pub channel: String,
    pub text: String,
}

/// A breakdown as shown.
pub struct Section {
    pub by: &'static str,
    pub rows: Vec<GroupRow>,
}

/// The label of a breakdown group ("not recorded" for a missing key).
pub fn group_label(tr: &Tr, g: &GroupStat) -> String {
    match (&g.code, &g.name, g.id) {
        (Some(c), Some(n), _) => format!("{c} {n}"),
        (None, Some(n), _) => n.clone(),
        (_, None, Some(id)) => format!("#{id}"),
        _ => tr.t("sat_stats.not_recorded").to_string(),
    }
}

fn group_row(tr: &Tr, g: &GroupStat) -> GroupRow {
    GroupRow {
        label: group_label(tr, g),
        responses: g.responses,
        score: num(g.score.value),
        score_ci: interval(&g.score),
        csat: num(g.csat.value),
        csat_ci: interval(&g.csat),
        nps: num(g.nps.value),
        nps_ci: interval(&g.nps),
    }
}

fn text_row(tr: &Tr, t: &TextAnswer) -> TextRow {
    TextRow {
        time: tr.time(t.submitted_at),
        customer: t.customer_name.clone().unwrap_or_default(),
        score: num(t.score),
        channel: tr.tk("sat_stats.channel", &t.channel),
        text: t.text.clone(),
    }
}

/// Everything the report shows, as display strings.
pub struct ReportView {
    pub headlines: Vec<Headline>,
    pub items: Vec<ItemRow>,
    pub dimensions: Vec<DimRow>,
    pub ipa_svg: String,
    pub ipa: Vec<IpaRow>,
    pub cut_importance: String,
    pub cut_performance: String,
    pub sections: Vec<Section>,
    pub computed: String,
}

/// The display form of a study's figures.
pub fn view(tr: &Tr, s: &StudyStats) -> ReportView {
    let t = |k: &str| tr.t(k).to_string();
    let head = |id, key: &str, c: &Ci, note: String| Headline {
        id,
        label: t(key),
        value: num(c.value),
        n: c.n,
        ci: interval(c),
        note,
    };
    let headlines = vec![
        head("fig-csi", "sat_stats.csi", &s.csi, t("sat_stats.csi_note")),
        head(
            "fig-csat",
            "sat_stats.csat",
            &s.csat,
            t("sat_stats.csat_note"),
        ),
        head("fig-nps", "sat_stats.nps", &s.nps, t("sat_stats.nps_note")),
        head("fig-ces", "sat_stats.ces", &s.ces, t("sat_stats.ces_note")),
        head(
            "fig-rate",
            "sat_stats.response_rate",
            &s.response_rate,
            format!("{} / {}", s.answered, s.invited),
        ),
    ];
    let items = s
        .items
        .iter()
        .map(|i| ItemRow {
            id: i.item_id,
            dimension: i.dimension.clone().unwrap_or_default(),
            text: i.text.clone(),
            kind: tr.tk("sat_stats.kind", &i.kind),
            scale: format!("{}-{}", i.scale_min, i.scale_max),
            n: i.mean.n,
            mean: num_to(i.mean.value, 2),
            sd: num_to(i.sd, 2),
            score: num(i.score.value),
            ci: interval(&i.score),
            weight: i.weight.map(|w| format!("{w}")).unwrap_or_default(),
            importance: i
                .importance
                .map(|w| format!("{:.1}%", w * 100.0))
                .unwrap_or_default(),
        })
        .collect();
    let dimensions = s
        .dimensions
        .iter()
        .map(|d| DimRow {
            id: d.dimension_id,
            name: d.name.clone(),
            items: d.items,
            score: num(d.score),
            importance: d
                .importance
                .map(|w| format!("{:.1}%", w * 100.0))
                .unwrap_or_default(),
            alpha: num_to(d.alpha, 3),
            cases: d.complete_cases,
            low: d.acceptable == Some(false),
        })
        .collect();
    let quadrant_keys = ["fix_first", "keep", "opportunity", "maintain"];
    let ipa_texts = chart::IpaTexts {
        title: t("sat_stats.ipa"),
        importance: t("sat_stats.importance"),
        performance: t("sat_stats.performance"),
        quadrants: quadrant_keys.map(|q| tr.tk("sat_stats.quadrant", q)),
    };
    let (ipa_svg, ipa, cut_importance, cut_performance) = match &s.ipa {
        Some(m) => (
            chart::ipa(
                &m.points
                    .iter()
                    .map(|p| chart::IpaDot {
                        label: p.text.clone(),
                        importance: p.importance,
                        performance: p.performance,
                        quadrant: p.quadrant.clone(),
                    })
                    .collect::<Vec<_>>(),
                m.importance_cut,
                m.performance_cut,
                &ipa_texts,
            ),
            m.points
                .iter()
                .map(|p| IpaRow {
                    text: p.text.clone(),
                    importance: format!("{:.1}%", p.importance * 100.0),
                    performance: format!("{:.1}", p.performance),
                    quadrant: p.quadrant.clone(),
                    label: tr.tk("sat_stats.quadrant", &p.quadrant),
                })
                .collect(),
            format!("{:.1}%", m.importance_cut * 100.0),
            format!("{:.1}", m.performance_cut),
        ),
        None => (String::new(), vec![], String::new(), String::new()),
    };
    let sections = ["product", "engineer", "region", "outlet"]
        .into_iter()
        .map(|by| Section {
            by,
            rows: s
                .breakdowns
                .of(by)
                .iter()
                .map(|g| group_row(tr, g))
                .collect(),
        })
        .collect();
    ReportView {
        headlines,
        items,
        dimensions,
        ipa_svg,
        ipa,
        cut_importance,
        cut_performance,
        sections,
        computed: tr.time(s.computed_at),
    }
}

#[derive(askama::Template)]
#[template(path = "satisfaction/report.html")]
struct ReportPage {
    s: Shell,
    tr: Tr,
    st: StudyStats,
    v: ReportView,
    texts: Vec<TextRow>,
    texts_total: i64,
    pager: Option<Pager>,
}

/// Query of the report: the page of free-text answers.
#[derive(Debug, Deserialize, Default)]
pub struct ReportQ {
    pub page: Option<i64>,
}

/// The study report.
pub async fn report(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<ReportQ>,
) -> AppResult<Response> {
    let stats = service::stats(&st, &ctx, id).await?;
    let page = q.page.unwrap_or(1).max(1);
    // The first page of texts is in the cached body; later pages are read.
    let texts = if page == 1 && stats.texts.len() as i64 >= TEXTS_PER_PAGE.min(stats.texts_total) {
        store::Page {
            items: stats
                .texts
                .iter()
                .take(TEXTS_PER_PAGE as usize)
                .cloned()
                .collect(),
            total: stats.texts_total,
            page: 1,
            per_page: TEXTS_PER_PAGE,
        }
    } else {
        service::texts(
            &st,
            &ctx,
            id,
            PageReq::new(Some(page), Some(TEXTS_PER_PAGE)),
        )
        .await?
        .1
    };
    let pager = (texts.total > TEXTS_PER_PAGE).then(|| Pager::new(&uri, &texts));
    let s = Shell::load(&st, &ctx, &uri, "sat_stats.report_title").await?;
    render(&ReportPage {
        v: view(&ctx.tr, &stats),
        texts: texts.items.iter().map(|t| text_row(&ctx.tr, t)).collect(),
        texts_total: texts.total,
        pager,
        st: stats,
        tr: ctx.tr,
        s,
    })
}

/// A trend table row.
pub struct TrendRow {
    pub study_id: i64,
    pub name: String,
    pub period: String,
    pub version: i64,
    pub responses: i64,
    pub csi: String,
    pub csi_ci: String,
    pub csat: String,
    pub csat_ci: String,
    pub nps: String,
    pub nps_ci: String,
    pub ces: String,
    pub ces_ci: String,
}

/// One template code on the overview.
pub struct TrendView {
    pub code: String,
    pub name: String,
    pub svg: String,
    pub rows: Vec<TrendRow>,
}

/// A month of return visits as shown.
pub struct VisitRow {
    pub month: String,
    pub done: i64,
    pub rated: i64,
    pub rating: String,
    pub rating_ci: String,
    pub judged: i64,
    pub satisfied: String,
    pub satisfied_ci: String,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/overview.html")]
struct OverviewPage {
    s: Shell,
    tr: Tr,
    trends: Vec<TrendView>,
    visits: Vec<VisitRow>,
    from_month: String,
}

/// The satisfaction overview.
pub async fn overview(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let o = service::overview(&st, &ctx).await?;
    let tr = &ctx.tr;
    let legend = [tr.t("sat_stats.csi"), tr.t("sat_stats.csat_percent")];
    let trends = o
        .trends
        .iter()
        .enumerate()
        .map(|(k, t)| TrendView {
            code: t.code.clone(),
            name: t.name.clone(),
            svg: chart::trend(
                &t.points
                    .iter()
                    .map(|p| chart::TrendDot {
                        label: p.study.name.clone(),
                        values: [
                            p.csi.value.map(|v| (v, p.csi.low, p.csi.high)),
                            p.csat.value.map(|v| (v, p.csat.low, p.csat.high)),
                        ],
                    })
                    .collect::<Vec<_>>(),
                &tr.t1("sat_stats.trend_of", &t.name),
                legend,
                &format!("trend-{k}"),
            ),
            rows: t
                .points
                .iter()
                .map(|p| TrendRow {
                    study_id: p.study.id,
                    name: p.study.name.clone(),
                    period: format!("{} — {}", p.study.period_start, p.study.period_end),
                    version: p.study.version_no,
                    responses: p.responses,
                    csi: num(p.csi.value),
                    csi_ci: interval(&p.csi),
                    csat: num(p.csat.value),
                    csat_ci: interval(&p.csat),
                    nps: num(p.nps.value),
                    nps_ci: interval(&p.nps),
                    ces: num_to(p.ces.value, 2),
                    ces_ci: match (p.ces.low, p.ces.high) {
                        (Some(l), Some(h)) => format!("[{l:.2}, {h:.2}]"),
                        _ => "—".to_string(),
                    },
                })
                .collect(),
        })
        .collect();
    let visits = o
        .visits
        .iter()
        .map(|v| VisitRow {
            month: v.month.clone(),
            done: v.done,
            rated: v.rating.n,
            rating: num_to(v.rating.value, 2),
            rating_ci: match (v.rating.low, v.rating.high) {
                (Some(l), Some(h)) => format!("[{l:.2}, {h:.2}]"),
                _ => "—".to_string(),
            },
            judged: v.satisfied.n,
            satisfied: v
                .satisfied
                .value
                .map_or_else(|| "—".to_string(), |p| format!("{p:.1}%")),
            satisfied_ci: interval(&v.satisfied),
        })
        .collect();
    let s = Shell::load(&st, &ctx, &uri, "sat_stats.overview_title").await?;
    render(&OverviewPage {
        tr: ctx.tr,
        s,
        trends,
        visits,
        from_month: o.from_month,
    })
}
