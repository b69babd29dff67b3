//! The HTTP load generator of `bench/run.sh`: one named workload against a running
//! server for a bounded time on N keep-alive connections; prints one JSON line with
//! requests/s, p50 / p99 / max latency in ms, errors and the status counts.
//!
//! ```text
//! load --base http://127.0.0.1:PORT --workload NAME [--seconds 15] [--connections 32]
//!      [--token API_TOKEN] [--password ADMIN_PASSWORD] [--study ID] [--status S]
//! ```
//!
//! Workloads: login, create, move, list, list-page, detail, figures, figures-all,
//! search-serial, search-cn, stats. Each prepares what it needs first (untimed): a session
//! for the HTML pages, units to complain about, received complaints to confirm.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use bench::{Args, Maker, Req, addr_of, enc, once, run};
use hyper::header::COOKIE;

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
/// The pre-session CSRF value the login form is sent with (cookie and field must match).
const CSRF: &str = "0123456789abcdef0123456789abcdef";

struct Ctx {
    addr: std::net::SocketAddr,
    token: String,
    password: String,
}

impl Ctx {
    async fn api(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let r = once(self.addr, &Req::get(path).bearer(&self.token)).await?;
        if r.status != 200 {
            bail!(
                "GET {path}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
            );
        }
        r.json()
    }

    fn login_req(&self) -> Req {
        Req::post(
            "/login",
            FORM,
            format!(
                "_csrf={CSRF}&login=admin&password={}&next=%2F",
                enc(&self.password)
            ),
        )
        .header(COOKIE, &format!("as_csrf={CSRF}"))
    }

    /// A signed-in session cookie of `admin` for the HTML pages.
    async fn session(&self) -> anyhow::Result<String> {
        let r = once(self.addr, &self.login_req()).await?;
        let v = r
            .cookie("as_session")
            .ok_or_else(|| anyhow!("login answered {} without a session", r.status))?;
        Ok(format!("as_session={v}"))
    }

    /// Units as (id, customer id, serial), first page of the equipment list.
    async fn units(&self) -> anyhow::Result<Vec<(i64, i64, String)>> {
        // The generator's units (serials "SN-…"): the list sorts by serial, and after a first
        // pass the 100,000 imported "BENCH-PM-…" units came first, so a second pass searched
        // and complained about other units than the first.
        let v = self.api("/api/v1/equipment?per_page=200&q=SN-").await?;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        let out: Vec<(i64, i64, String)> = items
            .iter()
            .filter_map(|i| {
                Some((
                    i["id"].as_i64()?,
                    i["customer_id"].as_i64()?,
                    i["serial"].as_str()?.to_string(),
                ))
            })
            .collect();
        if out.is_empty() {
            bail!("no units in /api/v1/equipment");
        }
        Ok(out)
    }

    async fn department(&self, code: &str) -> anyhow::Result<i64> {
        let v = self.api("/api/v1/departments?per_page=200").await?;
        let items = v["items"]
            .as_array()
            .or_else(|| v.as_array())
            .cloned()
            .unwrap_or_default();
        items
            .iter()
            .find(|d| d["code"].as_str() == Some(code))
            .and_then(|d| d["id"].as_i64())
            .ok_or_else(|| anyhow!("no department {code}"))
    }
}

type Check = fn(u16) -> bool;

fn ok_200(s: u16) -> bool {
    s == 200
}
fn ok_201(s: u16) -> bool {
    s == 201
}
fn ok_303(s: u16) -> bool {
    s == 303
}

fn fixed(r: Req) -> Maker {
    Arc::new(move |_, _| Some(r.clone()))
}

fn rotate(reqs: Vec<Req>) -> Maker {
    Arc::new(move |w, seq| Some(reqs[(w * 7919 + seq as usize) % reqs.len()].clone()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let a = Args::from_env();
    let base = a.get("base").ok_or_else(|| anyhow!("--base is required"))?;
    let workload = a
        .get("workload")
        .ok_or_else(|| anyhow!("--workload is required"))?;
    let seconds: f64 = a.num("seconds", 15.0)?;
    let connections: usize = a.num("connections", 32)?;
    let c = Ctx {
        addr: addr_of(&base)?,
        token: a.or("token", ""),
        password: a.or("password", ""),
    };
    let status = a.or("status", "implementing");
    let mut note = String::new();
    let prepared: anyhow::Result<Option<(Maker, Check)>> = async {
        Ok(Some(match workload.as_str() {
            "login" => (fixed(c.login_req()), ok_303 as Check),
            "create" => {
                let units = c.units().await?;
                let reqs = units
                    .iter()
                    .enumerate()
                    .map(|(i, (id, cu, _))| {
                        let body = serde_json::json!({
                            "channel": "phone",
                            "class": if i % 2 == 0 { "quality" } else { "other" },
                            "severity": if i % 3 == 0 { "serious" } else { "minor" },
                            "fault_category": "电机异响",
                            "customer_id": cu,
                            "equipment_id": id,
                            "contact_name": "设备科",
                            "contact_phone": "021-55550100",
                            "quantity": 1,
                            "defective_quantity": 1,
                            "description": "电机异响：客户反映设备运行中出现异响，影响正常生产。",
                            "demand": "尽快上门维修",
                        });
                        Req::post("/api/v1/complaints", JSON, body.to_string()).bearer(&c.token)
                    })
                    .collect();
                (rotate(reqs), ok_201 as Check)
            }
            "move" => {
                let max: usize = a.num("max-ids", 2_000)?;
                let mut todo: Vec<(i64, i64)> = Vec::new();
                // `--ids FILE`: "id version" lines (bench/run.sh reads them from the
                // database; paging the API deep into a million complaints is slow).
                if let Some(f) = a.get("ids") {
                    let text = std::fs::read_to_string(&f).with_context(|| f.clone())?;
                    todo.extend(text.lines().filter_map(|l| {
                        let (id, v) = l.trim().split_once([' ', '|'])?;
                        Some((id.parse().ok()?, v.parse().ok()?))
                    }));
                }
                let mut page = 1;
                while todo.len() < max {
                    let v = c
                        .api(&format!(
                            "/api/v1/complaints?status=received&sort=oldest&per_page=200&page={page}"
                        ))
                        .await?;
                    let items = v["items"].as_array().cloned().unwrap_or_default();
                    if items.is_empty() {
                        break;
                    }
                    todo.extend(
                        items
                            .iter()
                            .filter_map(|i| Some((i["id"].as_i64()?, i["version"].as_i64()?))),
                    );
                    page += 1;
                }
                if todo.is_empty() {
                    bail!("no received complaints to confirm");
                }
                note = format!("{} received complaints available", todo.len());
                let next = Arc::new(AtomicUsize::new(0));
                let token = c.token.clone();
                let m: Maker = Arc::new(move |_, _| {
                    let (id, version) = *todo.get(next.fetch_add(1, Ordering::Relaxed))?;
                    Some(
                        Req::post(
                            format!("/api/v1/complaints/{id}/actions/confirm"),
                            JSON,
                            format!("{{\"version\":{version}}}"),
                        )
                        .bearer(&token),
                    )
                });
                (m, ok_200 as Check)
            }
            "list" => {
                let d = c.department("SVC").await?;
                let r = Req::get(format!(
                    "/api/v1/complaints?status={status}&department_id={d}&sort=due"
                ))
                .bearer(&c.token);
                (fixed(r), ok_200 as Check)
            }
            "list-page" => {
                let d = c.department("SVC").await?;
                let s = c.session().await?;
                let r = Req::get(format!(
                    "/complaints?status={status}&department_id={d}&sort=due"
                ))
                .header(COOKIE, &s);
                (fixed(r), ok_200 as Check)
            }
            "detail" => {
                let s = c.session().await?;
                let v = c.api("/api/v1/complaints?per_page=1&sort=newest").await?;
                let max = v["items"][0]["id"]
                    .as_i64()
                    .ok_or_else(|| anyhow!("no complaints"))?;
                let n = max.min(100_000);
                let reqs = (0..2000)
                    .map(|k| {
                        let id = max - (k * 7_919) % n;
                        Req::get(format!("/complaints/{id}")).header(COOKIE, &s)
                    })
                    .collect();
                (rotate(reqs), ok_200 as Check)
            }
            "figures" | "figures-all" => {
                let s = c.session().await?;
                let path = if workload == "figures" {
                    "/complaints/figures".to_string()
                } else {
                    "/complaints/figures?from=2020-01-01".to_string()
                };
                (fixed(Req::get(path).header(COOKIE, &s)), ok_200 as Check)
            }
            "search-serial" => {
                let units = c.units().await?;
                let reqs = units
                    .iter()
                    .map(|(_, _, serial)| {
                        let tail: String = serial
                            .chars()
                            .rev()
                            .take(6)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        Req::get(format!("/api/v1/search?q={}", enc(&tail))).bearer(&c.token)
                    })
                    .collect();
                (rotate(reqs), ok_200 as Check)
            }
            "search-cn" => {
                let words = [
                    "恒通", "华信", "宏达", "金源", "瑞丰", "东方", "中联", "鼎盛", "永安", "天成",
                    "杭州", "深圳", "电机异响", "华东",
                ];
                let reqs = words
                    .iter()
                    .map(|w| Req::get(format!("/api/v1/search?q={}", enc(w))).bearer(&c.token))
                    .collect();
                (rotate(reqs), ok_200 as Check)
            }
            "stats" => {
                let study = a.or("study", "");
                let path = format!("/api/v1/studies/{study}/stats");
                let r = once(c.addr, &Req::get(path.clone()).bearer(&c.token)).await?;
                if study.is_empty() || r.status == 404 || r.status == 405 {
                    note = format!("n/a: GET {path} answered {}", r.status);
                    return Ok(None);
                }
                (fixed(Req::get(path).bearer(&c.token)), ok_200 as Check)
            }
            other => bail!("unknown workload {other}"),
        }))
    }
    .await;
    let mut out = serde_json::json!({ "workload": workload, "connections": connections });
    match prepared.with_context(|| format!("preparing {workload}")) {
        Err(e) => {
            out["na"] = true.into();
            out["note"] = format!("{e:#}").into();
        }
        Ok(None) => {
            out["na"] = true.into();
            out["note"] = note.into();
        }
        Ok(Some((make, ok))) => {
            let o = run(
                c.addr,
                connections,
                Duration::from_secs_f64(seconds),
                ok,
                make,
            )
            .await;
            if let serde_json::Value::Object(m) = o.json() {
                for (k, v) in m {
                    out[k] = v;
                }
            }
            if !note.is_empty() {
                out["note"] = note.into();
            }
        }
    }
    println!("{out}");
    Ok(())
}
