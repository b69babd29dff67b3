//! Shared parts of the benchmark programs: a lean HTTP/1.1 load engine on hyper (one
//! keep-alive connection per worker, requests made by a closure), latency statistics, a
//! one-shot client for setup requests, and a tiny argument parser. Not timed tests: the
//! programs measure, `bench/run.sh` prints and records.

pub mod limit;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    /// Path and query (origin form).
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Req {
    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Req {
        Req {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
    /// A POST of `body` with a content type.
    pub fn post(
        path: impl Into<String>,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Req {
        Req {
            method: Method::POST,
            path: path.into(),
            headers: vec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type),
            )],
            body: body.into(),
        }
    }
    /// Adds a header (values that are not valid header text are dropped).
    pub fn header(mut self, name: HeaderName, value: &str) -> Req {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
    /// Adds `Authorization: Bearer token` when a token is given.
    pub fn bearer(self, token: &str) -> Req {
        if token.is_empty() {
            return self;
        }
        self.header(hyper::header::AUTHORIZATION, &format!("Bearer {token}"))
    }
}

/// A response as the setup code sees it.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
    /// The value of cookie `name` set by this response.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(hyper::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let first = v.split(';').next()?;
                let (k, val) = first.split_once('=')?;
                (k.trim() == name).then(|| val.trim().to_string())
            })
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

async fn send(s: &mut Sender, addr: SocketAddr, r: &Req) -> anyhow::Result<Resp> {
    s.ready().await?;
    let mut b = Request::builder()
        .method(r.method.clone())
        .uri(&r.path)
        .header(hyper::header::HOST, addr.to_string());
    for (k, v) in &r.headers {
        b = b.header(k, v);
    }
    let resp = s.send_request(b.body(Full::new(r.body.clone()))?).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Resp {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// One request on a fresh connection (setup, probes).
pub async fn once(addr: SocketAddr, r: &Req) -> anyhow::Result<Resp> {
    let mut s = connect(addr).await?;
    send(&mut s, addr, r).await
}

/// Makes the request number `seq` of worker `worker`; `None` ends that worker (e.g. the
/// complaints to move are used up).
pub type Maker = Arc<dyn Fn(usize, u64) -> Option<Req> + Send + Sync>;

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub requests: u64,
    /// Responses with an unexpected status, and transport failures.
    pub errors: u64,
    pub seconds: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub statuses: BTreeMap<u16, u64>,
    /// The first unexpected response or failure, shortened.
    pub first_error: Option<String>,
}

impl Outcome {
    /// As JSON (the fields `bench/run.sh` reads).
    pub fn json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        serde_json::json!({
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds),
            "rps": round(self.rps),
            "p50_ms": round(self.p50_ms),
            "p99_ms": round(self.p99_ms),
            "max_ms": round(self.max_ms),
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "first_error": self.first_error,
        })
    }
}

#[derive(Default)]
struct WorkerResult {
    lat_us: Vec<u32>,
    errors: u64,
    statuses: BTreeMap<u16, u64>,
    first_error: Option<String>,
}

/// Runs `connections` workers against `addr` for `duration`, each on its own keep-alive
/// connection (reconnecting after a failure), sending what `make` gives; a response counts
/// as an error unless `ok(status)`. Latency is from sending to the last body byte.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    ok: fn(u16) -> bool,
    make: Maker,
) -> Outcome {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for w in 0..connections.max(1) {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut res = WorkerResult::default();
            let mut conn: Option<Sender> = None;
            let mut seq = 0u64;
            while Instant::now() < deadline {
                let Some(req) = make(w, seq) else { break };
                seq += 1;
                let t0 = Instant::now();
                let got = async {
                    if conn.is_none() {
                        conn = Some(connect(addr).await?);
                    }
                    let s = conn.as_mut().ok_or_else(|| anyhow!("no connection"))?;
                    send(s, addr, &req).await
                }
                .await;
                let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                match got {
                    Ok(r) => {
                        res.lat_us.push(us);
                        *res.statuses.entry(r.status).or_default() += 1;
                        if !ok(r.status) {
                            res.errors += 1;
                            if res.first_error.is_none() {
                                res.first_error = Some(format!(
                                    "{} {}: {}",
                                    r.status,
                                    req.path,
                                    String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
                                ));
                            }
                        }
                    }
                    Err(e) => {
                        res.errors += 1;
                        conn = None;
                        if res.first_error.is_none() {
                            res.first_error = Some(format!("{}: {e:#}", req.path));
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            res
        }));
    }
    let mut all = Vec::new();
    let mut out = Outcome::default();
    for t in tasks {
        if let Ok(r) = t.await {
            all.extend(r.lat_us);
            out.errors += r.errors;
            for (k, v) in r.statuses {
                *out.statuses.entry(k).or_default() += v;
            }
            if out.first_error.is_none() {
                out.first_error = r.first_error;
            }
        }
    }
    out.seconds = start.elapsed().as_secs_f64();
    all.sort_unstable();
    out.requests = all.len() as u64;
    out.rps = all.len() as f64 / out.seconds.max(1e-9);
    let pick = |q: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * q) as usize).min(all.len() - 1);
        all[i] as f64 / 1000.0
    };
    out.p50_ms = pick(0.50);
    out.p99_ms = pick(0.99);
    out.max_ms = all.last().map_or(0.0, |x| *x as f64 / 1000.0);
    out
}

/// `--name value` arguments and `--flag`s.
pub struct Args(Vec<String>);

impl Args {
    /// The process arguments.
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }
    /// The value after `--name`.
    pub fn get(&self, name: &str) -> Option<String> {
        let key = format!("--{name}");
        self.0
            .iter()
            .position(|a| *a == key)
            .and_then(|i| self.0.get(i + 1).cloned())
    }
    /// The value after `--name`, or `default`.
    pub fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }
    /// A number after `--name`, or `default`.
    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow!("--{name}: not a number: {v}")),
        }
    }
    /// Whether `--name` is present.
    pub fn flag(&self, name: &str) -> bool {
        let key = format!("--{name}");
        self.0.contains(&key)
    }
}

/// The socket address of a base URL like `http://127.0.0.1:8080`.
pub fn addr_of(base: &str) -> anyhow::Result<SocketAddr> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// base URLs: {base}"))?;
    let host = rest.split('/').next().unwrap_or(rest);
    host.parse()
        .map_err(|e| anyhow!("base URL {base}: {e} (use an IP address and port)"))
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
