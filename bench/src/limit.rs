//! The raw database limit: single-row durable commits per second with N concurrent writers,
//! and the figures' aggregates timed directly, on a pool opened exactly as the server opens
//! it (`store::Db::connect`: SQLite WAL + `synchronous=FULL`, `BEGIN IMMEDIATE`; PostgreSQL
//! with the cluster's own `synchronous_commit`), in the server's own database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use store::complaints::figures::{self as fig, FigureFilter, Month, Plan, ShipFilter};
use store::{Backend, Db, on, run};

/// The durability settings in force, as the engine reports them.
pub async fn durability(db: &Db) -> anyhow::Result<serde_json::Value> {
    let mut h = db.acquire().await?;
    let mut c = h.c();
    Ok(match c.backend() {
        Backend::Sqlite => {
            let (mode,): (String,) =
                on!(&mut c, x => sqlx::query_as("PRAGMA journal_mode").fetch_one(x).await)?;
            let (sync,): (i64,) =
                on!(&mut c, x => sqlx::query_as("PRAGMA synchronous").fetch_one(x).await)?;
            serde_json::json!({"engine": "sqlite", "journal_mode": mode,
                "synchronous": match sync { 0 => "off", 1 => "normal", 2 => "full", _ => "extra" }})
        }
        Backend::Postgres => {
            let mut get = async |name: &str| -> anyhow::Result<String> {
                let (v,): (String,) = on!(&mut c, x => sqlx::query_as("SELECT current_setting($1)").bind(name.to_string()).fetch_one(x).await)?;
                Ok(v)
            };
            serde_json::json!({"engine": "postgres",
                "synchronous_commit": get("synchronous_commit").await?,
                "fsync": get("fsync").await?,
                "full_page_writes": get("full_page_writes").await?})
        }
    })
}

/// Commits per second of one-row transactions by `writers` concurrent writers for
/// `duration`, each row in its own transaction begun as the server begins its own.
pub async fn commits(db: &Db, writers: usize, duration: Duration) -> anyhow::Result<f64> {
    {
        let mut h = db.acquire().await?;
        let mut c = h.c();
        run!(&mut c, x => sqlx::query("DROP TABLE IF EXISTS bench_limit").execute(x).await)?;
        run!(&mut c, x => sqlx::query(
            "CREATE TABLE bench_limit (id BIGINT PRIMARY KEY, writer BIGINT NOT NULL, at BIGINT NOT NULL, payload TEXT NOT NULL)")
            .execute(x).await)?;
    }
    let payload = "售后服务投诉登记：客户反映设备运行中出现异响，影响正常生产。".repeat(3);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for w in 0..writers.max(1) {
        let (db, done, payload) = (db.clone(), done.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            let mut seq = 0i64;
            while Instant::now() < deadline {
                let mut tx = db.begin().await?;
                let id = w as i64 * 1_000_000_000 + seq;
                run!(&mut tx.c(), x => sqlx::query(
                    "INSERT INTO bench_limit (id, writer, at, payload) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(w as i64).bind(seq).bind(payload.clone()).execute(x).await)?;
                tx.commit().await?;
                done.fetch_add(1, Ordering::Relaxed);
                seq += 1;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| anyhow!("writer: {e}"))??;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut h = db.acquire().await?;
    run!(&mut h.c(), x => sqlx::query("DROP TABLE IF EXISTS bench_limit").execute(x).await)?;
    Ok(done.load(Ordering::Relaxed) as f64 / secs)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The figures' interval in the demo's time zone (UTC+8): from `from` (or the first day of
/// the month eleven months back) to today inclusive, with its months.
pub struct Interval {
    pub start: i64,
    pub end: i64,
    pub from: String,
    pub to: String,
    pub months: Vec<Month>,
}

/// The interval of the figures page for `from` (`None`: its default of twelve months).
pub fn interval(now: i64, from: Option<(i64, i64)>) -> Interval {
    const OFFSET: i64 = 8 * 3600;
    let today = (now + OFFSET).div_euclid(86_400);
    let (ty, tm, td) = civil_from_days(today);
    let (fy, fm) = from.unwrap_or_else(|| {
        let k = ty * 12 + tm - 1 - 11;
        (k.div_euclid(12), k.rem_euclid(12) + 1)
    });
    let at = |y: i64, m: i64, d: i64| days_from_civil(y, m, d) * 86_400 - OFFSET;
    let start = at(fy, fm, 1);
    let end = (today + 1) * 86_400 - OFFSET;
    let mut months = Vec::new();
    let (mut y, mut m) = (fy, fm);
    while at(y, m, 1) < end {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let (a, b) = (at(y, m, 1), at(ny, nm, 1).min(end));
        months.push(Month {
            label: format!("{y:04}-{m:02}"),
            start: a,
            end: b,
            first_day: (a + OFFSET).div_euclid(86_400),
            end_day: (b + OFFSET).div_euclid(86_400),
        });
        (y, m) = (ny, nm);
    }
    Interval {
        start,
        end,
        from: format!("{fy:04}-{fm:02}-01"),
        to: format!("{ty:04}-{tm:02}-{td:02}"),
        months,
    }
}

/// 0-based position of the `num`/`den` percentile among `n` (as the server computes it).
fn rank(n: i64, num: i64, den: i64) -> i64 {
    (n - 1).max(0) * num / den
}

/// The statements the complaint figures run (the roll-ups over the whole organization), on
/// two connections at once as the server runs them, without HTTP, rendering or the rest;
/// returns milliseconds and the total.
pub async fn figures(db: &Db, org: i64, iv: &Interval) -> anyhow::Result<(f64, i64)> {
    let t0 = Instant::now();
    let how = {
        let mut h = db.acquire().await?;
        fig::strategy(&mut h.c()).await?
    };
    let f = FigureFilter {
        org,
        from: Some(iv.start),
        to: Some(iv.end),
        part_no: None,
        department_id: None,
        from_day: Some((iv.start + 8 * 3600).div_euclid(86_400)),
        to_day: Some((iv.end + 8 * 3600).div_euclid(86_400)),
    };
    let s = ShipFilter {
        org,
        from: Some(iv.from.clone()),
        to: Some(iv.to.clone()),
    };
    let plan = Plan::choose(&f, how);
    let first = async {
        let mut h = db.acquire().await?;
        let t = fig::totals(&mut h.c(), &f, plan).await?;
        let walk = how.walk && t.closed >= 20_000;
        if t.closed > 0 {
            fig::resolution_at(&mut h.c(), &f, rank(t.closed, 1, 2), t.closed, walk).await?;
            fig::resolution_at(&mut h.c(), &f, rank(t.closed, 9, 10), t.closed, walk).await?;
        }
        Ok::<_, anyhow::Error>(t.total)
    };
    let second = async {
        let mut h = db.acquire().await?;
        fig::by_month(&mut h.c(), &f, &iv.months, plan).await?;
        fig::by_cause(&mut h.c(), &f, plan).await?;
        let parts = fig::by_part(&mut h.c(), &f, plan, 30).await?;
        fig::by_department(&mut h.c(), &f, plan, 200).await?;
        fig::units_shipped(&mut h.c(), &s, None, Plan::Rollup).await?;
        let names: Vec<String> = parts.iter().filter_map(|p| p.0.clone()).collect();
        fig::units_by_part(&mut h.c(), &s, &names, Plan::Rollup).await?;
        Ok::<_, anyhow::Error>(())
    };
    let (total, ()) = tokio::try_join!(first, second)?;
    Ok((t0.elapsed().as_secs_f64() * 1000.0, total))
}

/// A study's per-item answer counts, means and value distribution, straight from the
/// answers (what any study figures need at least); returns milliseconds and answers seen.
pub async fn study(db: &Db, study: i64) -> anyhow::Result<(f64, i64)> {
    let t0 = Instant::now();
    let mut h = db.acquire().await?;
    let mut c = h.c();
    let rows: Vec<(i64, i64, Option<f64>)> = on!(&mut c, x => sqlx::query_as(
        "SELECT item_id, COUNT(value), AVG(value) FROM survey_answers WHERE study_id = $1 GROUP BY item_id")
        .bind(study).fetch_all(x).await)?;
    let _dist: Vec<(i64, Option<f64>, i64)> = on!(&mut c, x => sqlx::query_as(
        "SELECT item_id, value, COUNT(*) FROM survey_answers WHERE study_id = $1 GROUP BY item_id, value")
        .bind(study).fetch_all(x).await)?;
    Ok((
        t0.elapsed().as_secs_f64() * 1000.0,
        rows.iter().map(|r| r.1).sum(),
    ))
}

/// The median of `runs` timings of `f` (after one warm-up), with the count the last run saw.
pub async fn median_ms<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<(f64, i64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(f64, i64)>>,
{
    let mut n = f().await?.1;
    let mut v = Vec::new();
    for _ in 0..runs.max(1) {
        let (ms, k) = f().await?;
        v.push(ms);
        n = k;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok((v[v.len() / 2], n))
}
