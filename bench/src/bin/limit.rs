//! The raw database limit of `bench/run.sh`, in the server's own database with the server's
//! connection settings: single-row durable commits per second with N writers, and the
//! complaint figures' and a study's aggregates timed directly. Prints one JSON line.
//!
//! ```text
//! limit --url DATABASE_URL [--seconds 10] [--writers 32] [--org demo] [--study ID] [--runs 5]
//! ```

use std::time::Duration;

use anyhow::anyhow;
use bench::Args;
use bench::limit;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::from_env();
    let url = a.get("url").ok_or_else(|| anyhow!("--url is required"))?;
    let seconds: f64 = a.num("seconds", 10.0)?;
    let writers: usize = a.num("writers", 32)?;
    let runs: usize = a.num("runs", 5)?;
    let db = store::Db::connect(&url, writers as u32 + 2).await?;
    let mut out = serde_json::json!({
        "durability": limit::durability(&db).await?,
        "writers": writers,
    });
    if !a.flag("no-commits") {
        let rate = limit::commits(&db, writers, Duration::from_secs_f64(seconds)).await?;
        out["commits_per_s"] = ((rate * 10.0).round() / 10.0).into();
    }
    db.close().await;
    // The aggregates on a pool of two (the figures use two connections at once), so the
    // timed runs reuse the warmed connections and their statement caches.
    let db = store::Db::connect(&url, 2).await?;
    let org = {
        let mut h = db.acquire().await?;
        store::tenants::by_code(&mut h.c(), &a.or("org", "demo")).await?
    };
    if let Some(org) = org {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64;
        for (key, from) in [("figures_ms", None), ("figures_all_ms", Some((2020, 1)))] {
            let iv = limit::interval(now, from);
            let (ms, total) = limit::median_ms(runs, || limit::figures(&db, org.id, &iv)).await?;
            out[key] = ((ms * 100.0).round() / 100.0).into();
            out[key.replace("_ms", "_complaints")] = total.into();
        }
        if let Some(study) = a.get("study").and_then(|s| s.parse::<i64>().ok()) {
            let (ms, answers) = limit::median_ms(runs, || limit::study(&db, study)).await?;
            out["study_ms"] = ((ms * 100.0).round() / 100.0).into();
            out["study_answers"] = answers.into();
        }
    }
    db.close().await;
    println!("{out}");
    Ok(())
}
