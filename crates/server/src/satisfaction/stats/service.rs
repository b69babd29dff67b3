//! Assembling a study's figures from the database's sums, the cache, the free-text pages,
//! and the overview (trends across studies, return-visit ratings by month).
//!
//! Cache: `study_stats` keeps the last computed body with the study's response counter at
//! the time. A request serves it while the counter is unchanged (a response adds one in the
//! answer transaction; answers are never edited), otherwise recomputes and upserts it. The
//! counter is read before the sums, so a response arriving meanwhile can only make the
//! stored key older than the data, which leads to one more recomputation, never to stale
//! figures. The response rate is always counted afresh (one index-only count): invitations
//! change without responses.

use domain::auth::Permission;
use domain::satisfaction::stats as calc;
use domain::satisfaction::stats::Sums;
use store::satisfaction::stats::{self as repo, By, GroupSums, StudyHead, Sums3};
use store::satisfaction::surveys::{self, Full};
use store::{Page, PageReq};

use super::{
    Breakdowns, Ci, DimensionStat, GroupStat, IpaPoint, IpaStat, ItemStat, Overview, StudyRef,
    StudyStats, Trend, TrendPoint, VisitMonthStat,
};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// Free-text answers kept in the cached body (the report's first page).
pub const TEXTS_CACHED: i64 = 50;
/// Groups listed per breakdown.
pub const GROUPS: i64 = 100;
/// Studies per template code in a trend (the latest ones).
pub const TREND_STUDIES: i64 = 24;
/// Months of return-visit ratings on the overview.
pub const VISIT_MONTHS: i32 = 12;

fn sums(s: &Sums3) -> Sums {
    Sums {
        n: s.n,
        sum: s.sum,
        sum_sq: s.sum_sq,
    }
}

fn study_ref(h: &StudyHead) -> StudyRef {
    StudyRef {
        id: h.id,
        name: h.name.clone(),
        period_start: h.period_start.clone(),
        period_end: h.period_end.clone(),
        status: h.status.clone(),
        template_id: h.template_id,
        template_code: h.template_code.clone(),
        template_name: h.template_name.clone(),
        version_no: h.version_no,
    }
}

/// The study `id` of the caller's organization (404 for another organization's).
async fn head(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<(i64, StudyHead)> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    let s = repo::study(&mut h.c(), org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((org, s))
}

/// The figures of study `id`, from the cache while it is valid.
pub async fn stats(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<StudyStats> {
    let (org, h) = head(st, ctx, id).await?;
    study_stats(st, org, &h).await
}

/// The figures of a study already checked to belong to `org` (no permission check).
pub async fn study_stats(st: &AppState, org: i64, h: &StudyHead) -> AppResult<StudyStats> {
    let (cached, (invited, answered)) = {
        let mut c = st.db.acquire().await?;
        let cached = repo::cached(&mut c.c(), h.id).await?;
        let counts = repo::invitation_counts(&mut c.c(), h.id).await?;
        (cached, counts)
    };
    let mut s = match cached
        .filter(|(responses, _, _)| *responses == h.responses)
        .and_then(|(_, _, body)| serde_json::from_str::<StudyStats>(&body).ok())
    {
        Some(mut s) => {
            s.cached = true;
            // The study's own fields may have changed (name, status) without responses.
            s.study = study_ref(h);
            s
        }
        None => {
            // Seconds over two million answers: off the request workers' threads.
            let s = store::offload(compute(st, org, h)).await?;
            match serde_json::to_string(&s) {
                Ok(body) => {
                    // A failed cache write costs the next request a recomputation only.
                    if let Err(e) = save(st, h.id, h.responses, s.computed_at, &body).await {
                        tracing::warn!(error = ?e, study = h.id, "study stats not cached");
                    }
                }
                Err(e) => tracing::warn!(error = ?e, study = h.id, "study stats not serialisable"),
            }
            s
        }
    };
    s.invited = invited;
    s.answered = answered;
    s.response_rate = calc::response_rate(answered, invited).into();
    Ok(s)
}

async fn save(st: &AppState, id: i64, responses: i64, now: i64, body: &str) -> AppResult<()> {
    let mut tx = st.db.begin().await?;
    repo::store_cache(&mut tx.c(), id, responses, now, body).await?;
    tx.commit().await?;
    Ok(())
}

/// The scale range of an item, with the defaults of its kind when the template left it
/// open (csat / scale 1-5, nps 0-10, ces 1-7).
fn range(i: &surveys::Item) -> (i64, i64) {
    let (lo, hi) = match i.kind.as_str() {
        "nps" => (0, 10),
        "ces" => (1, 7),
        _ => (1, 5),
    };
    let lo = i.scale_min.unwrap_or(lo);
    (lo, i.scale_max.unwrap_or(hi).max(lo))
}

/// Computes every figure of a study from the database's sums (no cache).
pub async fn compute(st: &AppState, org: i64, h: &StudyHead) -> AppResult<StudyStats> {
    let now = st.now();
    let full: Full = {
        let mut c = st.db.acquire().await?;
        surveys::load(&mut c.c(), org, h.template_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let first = |kind: &str| full.items.iter().find(|i| i.kind == kind);
    let csat_item = first("csat");
    let nps_item = first("nps");
    let scale_items: Vec<(i64, i64)> = full
        .items
        .iter()
        .filter(|i| i.kind == "scale")
        .filter_map(|i| i.dimension_id.map(|d| (i.id, d)))
        .collect();
    let text_items: Vec<i64> = full
        .items
        .iter()
        .filter(|i| i.kind == "text")
        .map(|i| i.id)
        .collect();
    let csat_top = csat_item.map(|i| (i.id, (range(i).1 - 1) as f64));
    let nps_id = nps_item.map(|i| i.id);
    // Three connections at once: the item sums, the dimension pivot, the rest.
    let items_q = async {
        let mut c = st.db.acquire().await?;
        let items = repo::item_sums(&mut c.c(), h.id).await?;
        let resp = repo::response_sums(&mut c.c(), h.id).await?;
        Ok::<_, AppError>((items, resp))
    };
    let dims_q = async {
        let mut c = st.db.acquire().await?;
        Ok::<_, AppError>(repo::cronbach_sums(&mut c.c(), h.id, h.template_id, &scale_items).await?)
    };
    let rest_q = async {
        let mut c = st.db.acquire().await?;
        let mut groups = Vec::with_capacity(4);
        for by in By::ALL {
            groups.push(repo::breakdown(&mut c.c(), h.id, by, csat_top, nps_id, GROUPS).await?);
        }
        let texts = repo::texts(
            &mut c.c(),
            h.id,
            &text_items,
            PageReq {
                page: 1,
                per_page: TEXTS_CACHED,
            },
        )
        .await?;
        Ok::<_, AppError>((groups, texts))
    };
    let ((item_sums, resp), dim_sums, (groups, texts)) = tokio::try_join!(items_q, dims_q, rest_q)?;
    Ok(assemble(
        now, h, &full, &item_sums, resp, &dim_sums, groups, texts,
    ))
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    now: i64,
    h: &StudyHead,
    full: &Full,
    item_sums: &[repo::ItemSums],
    resp: (i64, i64, f64, f64),
    dim_sums: &[repo::DimSums],
    groups: Vec<Vec<GroupSums>>,
    texts: Page<store::satisfaction::stats::TextAnswer>,
) -> StudyStats {
    let of = |id: i64| item_sums.iter().find(|s| s.item_id == id);
    let dim_name = |id: Option<i64>| {
        id.and_then(|d| full.dimensions.iter().find(|x| x.id == d))
            .map(|d| d.name.clone())
    };
    let response_sums = Sums {
        n: resp.1,
        sum: resp.2,
        sum_sq: resp.3,
    };
    // Scale items with their score (None: no answers), in template order.
    let scored_items: Vec<(&surveys::Item, Option<f64>)> = full
        .items
        .iter()
        .filter(|i| i.kind == "scale")
        .map(|i| {
            let (lo, hi) = range(i);
            let s = of(i.id).map(|x| Sums {
                n: x.n,
                sum: x.sum,
                sum_sq: x.sum_sq,
            });
            let score = s.and_then(|s| calc::item_score(&s, lo as f64, hi as f64).score.value);
            (i, score)
        })
        .collect();
    let weighted: Vec<(f64, Option<f64>)> =
        scored_items.iter().map(|(i, s)| (i.weight, *s)).collect();
    let ipa = calc::ipa(&weighted);
    let importance = |id: i64| -> Option<f64> {
        let m = ipa.as_ref()?;
        let j = scored_items.iter().position(|(i, _)| i.id == id)?;
        m.points.get(j).copied().flatten().map(|p| p.0)
    };
    let items: Vec<ItemStat> = full
        .items
        .iter()
        .filter(|i| i.kind != "text")
        .map(|i| {
            let (lo, hi) = range(i);
            let x = of(i.id).copied().unwrap_or_default();
            let s = Sums {
                n: x.n,
                sum: x.sum,
                sum_sq: x.sum_sq,
            };
            let r = calc::item_score(&s, lo as f64, hi as f64);
            ItemStat {
                item_id: i.id,
                dimension_id: i.dimension_id,
                dimension: dim_name(i.dimension_id),
                position: i.position,
                kind: i.kind.clone(),
                text: i.text.clone(),
                scale_min: lo,
                scale_max: hi,
                weight: (i.kind == "scale").then_some(i.weight),
                importance: importance(i.id),
                mean: r.mean.into(),
                sd: r.sd,
                score: r.score.into(),
                top_two: (i.kind == "csat").then_some(x.top_two),
                promoters: (i.kind == "nps").then_some(x.promoters),
                detractors: (i.kind == "nps").then_some(x.detractors),
            }
        })
        .collect();
    let dimensions = full
        .dimensions
        .iter()
        .map(|d| {
            let mine: Vec<&(&surveys::Item, Option<f64>)> = scored_items
                .iter()
                .filter(|(i, _)| i.dimension_id == Some(d.id))
                .collect();
            let scored: Vec<(f64, f64)> = mine
                .iter()
                .filter_map(|(i, s)| s.map(|s| (i.weight, s)))
                .collect();
            let w = calc::normalised_weights(&scored.iter().map(|x| x.0).collect::<Vec<_>>());
            let score = (!scored.is_empty())
                .then(|| scored.iter().zip(&w).map(|((_, s), w)| s * w).sum::<f64>());
            let imp: Vec<f64> = mine.iter().filter_map(|(i, _)| importance(i.id)).collect();
            let ds = dim_sums.iter().find(|x| x.dimension_id == d.id);
            let alpha = ds.and_then(|ds| {
                let items: Vec<Sums> = ds.items.iter().map(|(_, s)| sums(s)).collect();
                calc::cronbach_alpha(&items, &sums(&ds.total))
            });
            DimensionStat {
                dimension_id: d.id,
                name: d.name.clone(),
                items: mine.len() as i64,
                score,
                importance: (!imp.is_empty()).then(|| imp.iter().sum()),
                alpha,
                complete_cases: ds.map_or(0, |d| d.total.n),
                acceptable: alpha.map(|a| a >= calc::ALPHA_ACCEPTABLE),
            }
        })
        .collect();
    let headline_item = |kind: &str| full.items.iter().find(|i| i.kind == kind);
    let csat = headline_item("csat")
        .map(|i| {
            let x = of(i.id).copied().unwrap_or_default();
            calc::csat(x.top_two, x.n)
        })
        .unwrap_or_default();
    let nps = headline_item("nps")
        .map(|i| {
            let x = of(i.id).copied().unwrap_or_default();
            calc::nps(x.promoters, x.detractors, x.n)
        })
        .unwrap_or_default();
    let ces = headline_item("ces")
        .map(|i| {
            let (lo, hi) = range(i);
            let x = of(i.id).copied().unwrap_or_default();
            calc::ces(
                &Sums {
                    n: x.n,
                    sum: x.sum,
                    sum_sq: x.sum_sq,
                },
                lo as f64,
                hi as f64,
            )
        })
        .unwrap_or_default();
    let ipa = ipa.map(|m| IpaStat {
        importance_cut: m.importance_cut,
        performance_cut: m.performance_cut,
        points: m
            .points
            .iter()
            .zip(&scored_items)
            .filter_map(|(p, (i, _))| {
                p.map(|(imp, perf, q)| IpaPoint {
                    item_id: i.id,
                    text: i.text.clone(),
                    importance: imp,
                    performance: perf,
                    quadrant: q.as_str().to_string(),
                })
            })
            .collect(),
    });
    let mut g = groups.into_iter().map(|v| v.iter().map(group).collect());
    let breakdowns = Breakdowns {
        product: g.next().unwrap_or_default(),
        engineer: g.next().unwrap_or_default(),
        region: g.next().unwrap_or_default(),
        outlet: g.next().unwrap_or_default(),
    };
    StudyStats {
        study: study_ref(h),
        computed_at: now,
        cached: false,
        responses: resp.0,
        invited: 0,
        answered: 0,
        response_rate: Ci::default(),
        csi: calc::csi(&weighted, &response_sums).into(),
        csat: csat.into(),
        nps: nps.into(),
        ces: ces.into(),
        response_score: calc::mean_ci(&response_sums, 0.0, 100.0).into(),
        items,
        dimensions,
        ipa,
        breakdowns,
        texts: texts.items,
        texts_total: texts.total,
    }
}

fn group(g: &GroupSums) -> GroupStat {
    GroupStat {
        id: g.id,
        code: g.code.clone(),
        name: g.name.clone(),
        responses: g.responses,
        score: calc::mean_ci(&sums(&g.score), 0.0, 100.0).into(),
        csat: calc::csat(g.csat_top, g.csat_n).into(),
        nps: calc::nps(g.promoters, g.detractors, g.nps_n).into(),
    }
}

/// One page of a study's free-text answers, newest first.
pub async fn texts(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    p: PageReq,
) -> AppResult<(StudyHead, Page<store::satisfaction::stats::TextAnswer>)> {
    let (org, h) = head(st, ctx, id).await?;
    let mut c = st.db.acquire().await?;
    let full = surveys::load(&mut c.c(), org, h.template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let items: Vec<i64> = full
        .items
        .iter()
        .filter(|i| i.kind == "text")
        .map(|i| i.id)
        .collect();
    let page = repo::texts(&mut c.c(), h.id, &items, p).await?;
    Ok((h, page))
}

/// The study `id` checked for the caller (404 across organizations).
pub async fn study(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<StudyHead> {
    Ok(head(st, ctx, id).await?.1)
}

/// YYYY-MM of `months` months before the month of `date` (YYYY-MM-DD).
pub fn month_back(date: &str, months: i32) -> String {
    let y: i32 = date.get(0..4).and_then(|s| s.parse().ok()).unwrap_or(1970);
    let m: i32 = date.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(1);
    let k = y * 12 + m - 1 - months;
    format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1)
}

/// The overview of the caller's organization: every template code's trend across its
/// studies (each study's figures as on its report) and the return-visit ratings of the
/// last twelve months.
pub async fn overview(st: &AppState, ctx: &Ctx) -> AppResult<Overview> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let now = st.now();
    let (codes, studies, from_month, visits) = {
        let mut c = st.db.acquire().await?;
        let cal = crate::complaints::sla::calendar(&mut c.c(), org).await?;
        let from_month = month_back(&cal.local_date(now), VISIT_MONTHS - 1);
        let codes = repo::codes(&mut c.c(), org).await?;
        let mut studies = Vec::with_capacity(codes.len());
        for (code, _) in &codes {
            studies.push(repo::studies_of_code(&mut c.c(), org, code, TREND_STUDIES).await?);
        }
        let visits = repo::visit_months(&mut c.c(), org, &from_month).await?;
        (codes, studies, from_month, visits)
    };
    let mut trends = Vec::with_capacity(codes.len());
    for ((code, name), heads) in codes.into_iter().zip(studies) {
        let mut points = Vec::with_capacity(heads.len());
        for h in &heads {
            let s = study_stats(st, org, h).await?;
            points.push(TrendPoint {
                study: s.study,
                responses: s.responses,
                csi: s.csi,
                csat: s.csat,
                nps: s.nps,
                ces: s.ces,
            });
        }
        trends.push(Trend { code, name, points });
    }
    Ok(Overview {
        trends,
        from_month,
        visits: visits
            .iter()
            .map(|v| VisitMonthStat {
                month: v.month.clone(),
                done: v.done,
                rating: calc::mean_ci(&sums(&v.rating), 1.0, 5.0).into(),
                satisfied: calc::share(v.satisfied, v.judged).into(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_back() {
        assert_eq!(month_back("2026-03-15", 11), "2025-04");
        assert_eq!(month_back("2026-01-01", 0), "2026-01");
        assert_eq!(month_back("2026-01-01", 1), "2025-12");
    }
}
