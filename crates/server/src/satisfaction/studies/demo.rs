//! The demo study: this quarter, every consenting customer as the population, a sample of
//! about 100 (fewer at small scale), opened, and about 60% of it answered through the same
//! save path as the customers' links, with plausible, varied answers (mostly satisfied, a
//! few low scores, some free text in Chinese) so the statistics and the report have data.

use domain::satisfaction::sampling::{self, Confidence, Population, SplitMix64, status};
use store::audit::{Actor, NewEntry};
use store::satisfaction::studies::{self as repo, Answer, InvitationFilter, StudyValues};
use store::satisfaction::surveys::{self, Item};

use super::service::{self, Entry};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// The seed of the demo draw and answers (fixed: the demo is the same every time).
const SEED: i64 = 20_240_601;

const GOOD: &[&str] = &[
    "工程师响应很快，现场处理专业，非常满意。",
    "服务态度很好，讲解清楚，下次还会选择你们。",
    "维修一次解决问题，效率高。",
    "回访及时，感谢！",
];
const NEUTRAL: &[&str] = &[
    "总体还可以，备件到货时间希望再短一些。",
    "电话预约等了比较久，其他都不错。",
];
const BAD: &[&str] = &[
    "等待上门时间太长，设备停机影响生产。",
    "同一个故障修了两次才好，希望提高一次修复率。",
    "费用说明不够清楚，希望改进。",
];

/// How satisfied a demo respondent is.
#[derive(Clone, Copy)]
enum Mood {
    Good,
    Neutral,
    Bad,
}

fn value(rng: &mut SplitMix64, it: &Item, mood: Mood) -> i64 {
    let (lo, hi) = service::bounds(it);
    let span = (hi - lo) as f64;
    // A share of the scale per mood, then a small random step.
    let (from, to) = match (it.kind.as_str(), mood) {
        ("nps", Mood::Good) => (0.8, 1.0),
        ("nps", Mood::Neutral) => (0.6, 0.8),
        ("nps", Mood::Bad) => (0.0, 0.5),
        (_, Mood::Good) => (0.7, 1.0),
        (_, Mood::Neutral) => (0.45, 0.75),
        (_, Mood::Bad) => (0.0, 0.3),
    };
    let f = from + (to - from) * (rng.below(1001) as f64 / 1000.0);
    (lo + (f * span).round() as i64).clamp(lo, hi)
}

fn answers(rng: &mut SplitMix64, items: &[Item]) -> Vec<Answer> {
    let mood = match rng.below(100) {
        0..=69 => Mood::Good,
        70..=89 => Mood::Neutral,
        _ => Mood::Bad,
    };
    let mut out = vec![];
    for it in items {
        if it.kind == "text" {
            // About a quarter of the respondents write something (more when unhappy).
            let writes = match mood {
                Mood::Bad => rng.below(100) < 70,
                _ => rng.below(100) < 20,
            };
            if writes || it.required {
                let pool = match mood {
                    Mood::Good => GOOD,
                    Mood::Neutral => NEUTRAL,
                    Mood::Bad => BAD,
                };
                out.push(Answer {
                    item_id: it.id,
                    value: None,
                    text: Some(pool[rng.below(pool.len() as u64) as usize].to_string()),
                });
            }
            continue;
        }
        // Optional questions are now and then skipped.
        if !it.required && rng.below(100) < 5 {
            continue;
        }
        out.push(Answer {
            item_id: it.id,
            value: Some(value(rng, it, mood) as f64),
            text: None,
        });
    }
    out
}

/// Creates the demo study of `org` on template `template_id`, draws it, opens it and
/// answers about 60% of its invitations. Nothing happens without consenting customers.
pub async fn seed_demo(st: &AppState, org: i64, template_id: i64) -> AppResult<()> {
    let now = st.now();
    let off = st.settings.server.utc_offset_minutes;
    let actor = Actor::system("demo");
    let (start, end) = service::current_quarter(now, off);
    let mut tx = st.db.begin().await?;
    let full = surveys::load(&mut tx.c(), org, template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pop = Population::default();
    let ids = repo::population(&mut tx.c(), org, &pop, None).await?;
    let n = ids.len() as i64;
    if n == 0 {
        return Ok(());
    }
    let size = sampling::sample_size(Some(n), Confidence::P95, 0.05, 0.5).min(100);
    let name = format!("{} {}", start.get(0..4).unwrap_or(""), "季度客户满意度调查");
    let id = repo::insert(
        &mut tx.c(),
        org,
        &StudyValues {
            template_id,
            name: &name,
            period_start: &start,
            period_end: &end,
            population: &pop,
            population_size: n,
            confidence_percent: 95,
            margin_percent: 5.0,
            sample_size: size,
            seed: SEED,
            link_days: 30,
        },
        None,
        now,
    )
    .await?;
    let sample = sampling::draw(&ids, size as usize, SEED as u64);
    let rows: Vec<(i64, String)> = sample
        .into_iter()
        .map(|c| (c, service::new_token()))
        .collect();
    repo::insert_invitations(&mut tx.c(), org, id, &rows, now + 30 * 86_400, now).await?;
    repo::fill_keys(&mut tx.c(), org, id, None, None).await?;
    repo::set_drawn(&mut tx.c(), org, id, n, size, now).await?;
    let drawn = repo::get(&mut tx.c(), org, id).await?;
    repo::set_status(&mut tx.c(), org, id, drawn.version, status::OPEN, now).await?;
    let study = repo::get(&mut tx.c(), org, id).await?;
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor: &actor,
            action: "create",
            entity: service::ENTITY,
            entity_id: Some(id),
            before: None,
            after: serde_json::to_value(&study).ok(),
        },
    )
    .await?;
    let invs = repo::invitations(
        &mut tx.c(),
        org,
        id,
        &InvitationFilter::default(),
        store::PageReq::new(Some(1), Some(200)),
    )
    .await?;
    let mut rng = SplitMix64::new(SEED as u64);
    // Answers spread over the quarter so far (at most 30 days back).
    let from = domain::archives::equipment::unix_of_date(&start, off).unwrap_or(now);
    let span = (now - from).clamp(1, 30 * 86_400) as u64;
    let link = Actor::system("link");
    for inv in &invs.items {
        if rng.below(100) >= 60 {
            continue;
        }
        let a = answers(&mut rng, &full.items);
        let phone = rng.below(100) < 20;
        let entry = Entry {
            channel: if phone { "phone" } else { "link" },
            entered_by: None,
            actor: if phone { &actor } else { &link },
        };
        let at = now - rng.below(span) as i64;
        service::save(&mut tx, inv, &study, &full, &a, &entry, at).await?;
    }
    tx.commit().await?;
    Ok(())
}
