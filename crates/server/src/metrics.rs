//! Request and job metrics in Prometheus text format. Per instance by design: Prometheus
//! scrapes each instance and sums.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The method as a label: the common ones by name, anything else as OTHER (a client can send
/// any token as a method; it must not add a series per token).
fn method_name(m: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    KNOWN.iter().find(|k| **k == m).copied().unwrap_or("OTHER")
}

/// Request series by route, then by method and status.
type ByRoute = BTreeMap<String, BTreeMap<(&'static str, u16), Series>>;

/// Counters of one instance.
#[derive(Default)]
pub struct Metrics {
    /// By route, then method and status: a request already seen is counted without allocating
    /// (a flat `(String, String, u16)` key needed two `String`s per lookup).
    requests: Mutex<ByRoute>,
    /// Requests this instance answered.
    pub requests_done: AtomicU64,
    /// Jobs this instance finished.
    pub jobs_done: AtomicU64,
    /// Jobs this instance saw fail.
    pub jobs_failed: AtomicU64,
}

impl Metrics {
    /// Requests answered and jobs ended so far: changes whenever the instance did work.
    pub fn activity(&self) -> u64 {
        self.requests_done.load(Ordering::Relaxed)
            + self.jobs_done.load(Ordering::Relaxed)
            + self.jobs_failed.load(Ordering::Relaxed)
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let Ok(mut m) = self.requests.lock() else {
            return;
        };
        let by_route = match m.get_mut(route) {
            Some(r) => r,
            None => m.entry(route.to_string()).or_default(),
        };
        let s = by_route.entry((method_name(method), status)).or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// Notes a job outcome.
    pub fn job(&self, ok: bool) {
        let c = if ok {
            &self.jobs_done
        } else {
            &self.jobs_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition; `queue` is the job table's counts by status.
    pub fn render(&self, queue: &[(String, i64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP aftersales_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE aftersales_http_requests_total counter");
        let snapshot: BTreeMap<(&'static str, String, u16), Series> = self
            .requests
            .lock()
            .map(|m| {
                m.iter()
                    .flat_map(|(route, r)| {
                        r.iter().map(move |((method, status), s)| {
                            ((*method, route.clone(), *status), s.clone())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        for ((method, route, status), s) in &snapshot {
            let _ = writeln!(
                out,
                "aftersales_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP aftersales_http_request_duration_seconds Request latency."
        );
        let _ = writeln!(
            out,
            "# TYPE aftersales_http_request_duration_seconds histogram"
        );
        let mut by_route: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((method, route, _), s) in &snapshot {
            let e = by_route
                .entry((method.to_string(), route.clone()))
                .or_default();
            e.count += s.count;
            e.sum += s.sum;
            for i in 0..BUCKETS.len() {
                e.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in &by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "aftersales_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "aftersales_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "aftersales_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "aftersales_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP aftersales_jobs_processed_total Jobs run by this instance."
        );
        let _ = writeln!(out, "# TYPE aftersales_jobs_processed_total counter");
        let _ = writeln!(
            out,
            "aftersales_jobs_processed_total{{outcome=\"done\"}} {}",
            self.jobs_done.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "aftersales_jobs_processed_total{{outcome=\"failed\"}} {}",
            self.jobs_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP aftersales_jobs Jobs in the shared queue by status."
        );
        let _ = writeln!(out, "# TYPE aftersales_jobs gauge");
        for (status, n) in queue {
            let _ = writeln!(out, "aftersales_jobs{{status=\"{status}\"}} {n}");
        }
        out
    }
}

/// Middleware: counts every request by its route template (never the raw path, which would
/// make one series per record id).
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    st.metrics.requests_done.fetch_add(1, Ordering::Relaxed);
    st.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    /// Requests of one route, method and status add up in one series; a method outside the
    /// common ones is counted as OTHER instead of opening a series of its own.
    #[test]
    fn requests_are_counted_per_route_method_and_status() {
        let m = super::Metrics::default();
        m.observe("GET", "/complaints", 200, 0.004);
        m.observe("GET", "/complaints", 200, 0.02);
        m.observe("BREW", "/complaints", 405, 0.001);
        let text = m.render(&[]);
        assert!(
            text.contains(
                "aftersales_http_requests_total{method=\"GET\",route=\"/complaints\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "aftersales_http_requests_total{method=\"OTHER\",route=\"/complaints\",status=\"405\"} 1"
            ),
            "{text}"
        );
        assert!(!text.contains("BREW"), "{text}");
        assert!(
            text.contains(
                "aftersales_http_request_duration_seconds_bucket{method=\"GET\",route=\"/complaints\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
    }
}
