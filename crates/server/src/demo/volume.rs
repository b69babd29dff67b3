//! Benchmark volume (`aftersales demo --scale N --volume`), bulk-written on top of the demo
//! archives. Per scale unit: 800 more customers (1,000 with the archives' 200), 10,000
//! complaints spread over every lifecycle state with their events, department tasks,
//! approvals, repeat counts, SLA clock, timeline entries and search documents; 10,000 service
//! orders of every kind and status; and 1,000 responses with 20 answers each to one
//! satisfaction study. `--scale 100` gives the full scale of issue 7: 100,000 customers,
//! 300,000 units, 1,000,000 complaints, 1,000,000 service orders, 2,000,000 answers.
//!
//! Multi-row INSERTs in large transactions (one per chunk), ids back by unique keys, no
//! per-row round trips. Numbers continue the organization's counters (which are moved past
//! them), so complaints and orders created later do not collide. Deterministic (fixed seed).
//! Not written: audit rows per step (one audit row records the whole load), notifications,
//! CAPAs, service-order events and checklist results.

use std::collections::HashMap;

use domain::calendar::WorkCalendar;
use domain::search::{index_tokens, normalize};
use store::Tx;
use store::archives::bulk;
use store::complaints::settings::Duty;
use store::volume::{self as vol, UnitRef, V};

use super::complaints::Who;
use crate::app::AppState;
use crate::complaints::sla::{self, Clock, Times};
use crate::error::{AppError, AppResult};

/// Extra customers per scale unit (the archives write 200).
pub const CUSTOMERS_PER_UNIT: usize = 800;
/// Complaints per scale unit.
pub const COMPLAINTS_PER_UNIT: usize = 10_000;
/// Service orders per scale unit.
pub const ORDERS_PER_UNIT: usize = 10_000;
/// Survey responses per scale unit (each with [`ITEMS`] answers).
pub const RESPONSES_PER_UNIT: usize = 1_000;

/// Complaints written per transaction.
const CHUNK: usize = 5_000;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// What the volume wrote.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub customers: usize,
    pub complaints: usize,
    pub complaint_events: usize,
    pub complaint_tasks: usize,
    pub service_orders: usize,
    pub study_id: i64,
    pub responses: usize,
    pub answers: usize,
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Picks an index by integer weights.
fn weighted(rng: &mut Rng, weights: &[usize]) -> usize {
    let total: usize = weights.iter().sum();
    let mut r = rng.below(total);
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

const FAULTS: [&str; 12] = [
    "主控柜报警",
    "电机异响",
    "管路漏水",
    "通讯中断",
    "显示屏黑屏",
    "安装不规范",
    "服务响应慢",
    "发票错误",
    "变频器过热",
    "传感器失灵",
    "润滑不良",
    "外观划伤",
];
const SYMPTOMS: [&str; 6] = [
    "运行中突然停机",
    "开机后报警无法复位",
    "振动明显增大",
    "压力波动",
    "间歇性通讯故障",
    "输出功率下降",
];
const DEMANDS: [&str; 4] = ["尽快上门维修", "更换不良部件", "退货退款", "书面说明原因"];

/// (status, weight in ‰): every state, most complaints finished as in a real history.
const STATUSES: [(&str, usize); 12] = [
    ("received", 50),
    ("confirmed", 30),
    ("analysing", 50),
    ("not_ours", 20),
    ("remedy_proposed", 30),
    ("remedy_approved", 20),
    ("remedy_agreed", 20),
    ("implementing", 50),
    ("return_visit", 50),
    ("closed", 580),
    ("reopened", 20),
    ("withdrawn", 80),
];

/// One move of a generated complaint.
struct Move {
    action: &'static str,
    from: Option<&'static str>,
    to: &'static str,
    /// Hours after the previous move (scaled to fit).
    hours: i64,
    /// The responsibility-matrix step whose tasks this move creates.
    tasks: Option<&'static str>,
}

fn mv(
    action: &'static str,
    from: Option<&'static str>,
    to: &'static str,
    hours: i64,
    tasks: Option<&'static str>,
) -> Move {
    Move {
        action,
        from,
        to,
        hours,
        tasks,
    }
}

/// The moves that lead to `status` (`serious`: approvals are needed; `via_not_ours`: the
/// explanation path; `reopened_once`: a closed complaint that went round twice).
fn path(status: &str, serious: bool, via_not_ours: bool, reopened_once: bool) -> Vec<Move> {
    let mut p = vec![mv("register", None, "received", 0, Some("register"))];
    if status == "received" {
        return p;
    }
    if status == "withdrawn" {
        if serious {
            p.push(mv(
                "confirm",
                Some("received"),
                "confirmed",
                2,
                Some("confirm"),
            ));
            p.push(mv("withdraw", Some("confirmed"), "withdrawn", 30, None));
        } else {
            p.push(mv("withdraw", Some("received"), "withdrawn", 20, None));
        }
        return p;
    }
    p.push(mv(
        "confirm",
        Some("received"),
        "confirmed",
        2,
        Some("confirm"),
    ));
    if status == "confirmed" {
        return p;
    }
    p.push(mv(
        "analyse",
        Some("confirmed"),
        "analysing",
        20,
        Some("analyse"),
    ));
    if status == "analysing" {
        return p;
    }
    let not_ours = status == "not_ours" || (via_not_ours && status == "return_visit");
    if not_ours {
        p.push(mv("explain", Some("analysing"), "not_ours", 24, None));
        if status == "not_ours" {
            return p;
        }
        p.push(mv(
            "respond",
            Some("not_ours"),
            "return_visit",
            48,
            Some("visit"),
        ));
        return p;
    }
    let remedy = |p: &mut Vec<Move>, from: &'static str, until: &str| -> bool {
        p.push(mv(
            "propose",
            Some(from),
            "remedy_proposed",
            24,
            Some("remedy"),
        ));
        if until == "remedy_proposed" {
            return true;
        }
        let mut at = "remedy_proposed";
        if serious {
            p.push(mv(
                "approve",
                Some("remedy_proposed"),
                "remedy_approved",
                12,
                None,
            ));
            at = "remedy_approved";
            if until == "remedy_approved" {
                return true;
            }
        }
        p.push(mv("agree", Some(at), "remedy_agreed", 24, None));
        if until == "remedy_agreed" {
            return true;
        }
        p.push(mv(
            "start",
            Some("remedy_agreed"),
            "implementing",
            12,
            Some("implement"),
        ));
        p.push(mv(
            "progress",
            Some("implementing"),
            "implementing",
            24,
            None,
        ));
        if until == "implementing" {
            return true;
        }
        p.push(mv(
            "complete",
            Some("implementing"),
            "return_visit",
            48,
            Some("visit"),
        ));
        until == "return_visit"
    };
    if remedy(&mut p, "analysing", status) {
        return p;
    }
    if reopened_once || status == "reopened" {
        p.push(mv("visit", Some("return_visit"), "reopened", 72, None));
        if status == "reopened" {
            return p;
        }
        remedy(&mut p, "reopened", "return_visit");
    }
    p.push(mv("visit", Some("return_visit"), "closed", 72, None));
    p
}

/// Everything about one complaint before it is written.
struct Spec {
    unit: usize,
    status: &'static str,
    class: &'static str,
    severity: &'static str,
    fault: &'static str,
    channel: &'static str,
    received: i64,
    /// (move, instant).
    moves: Vec<(Move, i64)>,
    repeat_of: Option<usize>,
    number: String,
}

/// How much to write.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub customers: usize,
    pub complaints: usize,
    pub service_orders: usize,
    /// Survey responses, each with [`ITEMS`] answers (at most one per customer).
    pub responses: usize,
}

impl Sizes {
    /// The volume of `scale` units (at least one).
    pub fn per_scale(scale: usize) -> Sizes {
        let scale = scale.max(1);
        Sizes {
            customers: CUSTOMERS_PER_UNIT * scale,
            complaints: COMPLAINTS_PER_UNIT * scale,
            service_orders: ORDERS_PER_UNIT * scale,
            responses: RESPONSES_PER_UNIT * scale,
        }
    }
}

/// Writes the volume into `org` (whose demo archives, settings and users exist); returns
/// what it wrote.
pub async fn generate(
    st: &AppState,
    org: i64,
    users: &[Who<'_>],
    sizes: Sizes,
) -> AppResult<Counts> {
    let now = st.now();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ org as u64);
    let mut counts = Counts {
        customers: customers(st, org, sizes.customers, now).await?,
        ..Counts::default()
    };
    let id_of = |login: &str| {
        users
            .iter()
            .find(|u| u.login == login)
            .or(users.first())
            .map(|u| u.id)
    };
    let people = People {
        biz: id_of("business"),
        eng: id_of("engineer"),
        mgr: id_of("manager"),
        prd: id_of("production"),
    };
    let ctx = {
        let mut h = st.db.acquire().await?;
        let mut c = h.c();
        let units = vol::units(&mut c, org).await?;
        let cal = sla::calendar(&mut c, org).await?;
        let settings = store::complaints::settings::get(&mut c, org).await?;
        let matrix = store::complaints::settings::matrix(&mut c, org).await?;
        let mut clocks = HashMap::new();
        let mut levels: Vec<Option<String>> =
            units.iter().map(|u| u.contract_level.clone()).collect();
        levels.sort();
        levels.dedup();
        for sev in ["minor", "serious"] {
            for l in &levels {
                let k = sla::clock(&mut c, org, sev, l.as_deref()).await?;
                clocks.insert((sev, l.clone()), k);
            }
        }
        let mut deps = HashMap::new();
        for code in ["SVC", "BIZ", "PRD", "QA", "PUR"] {
            if let Some(id) = store::org::department_id_by_code(&mut c, org, code).await? {
                deps.insert(code, id);
            }
        }
        Gen {
            org,
            now,
            units,
            cal,
            return_visit_days: settings.return_visit_days.max(0) as u32,
            matrix,
            clocks,
            deps,
            people,
        }
    };
    if ctx.units.is_empty() {
        return Err(AppError::Internal("volume: the demo has no units".into()));
    }
    let total = sizes.complaints;
    let mut done = 0;
    while done < total {
        let n = CHUNK.min(total - done);
        let mut tx = st.db.begin().await?;
        let (events, tasks) = complaint_chunk(&mut tx, &ctx, &mut rng, n).await?;
        tx.commit().await?;
        counts.complaints += n;
        counts.complaint_events += events;
        counts.complaint_tasks += tasks;
        done += n;
    }
    let total = sizes.service_orders;
    let mut done = 0;
    while done < total {
        let n = (CHUNK * 2).min(total - done);
        let mut tx = st.db.begin().await?;
        service_orders(&mut tx, &ctx, &mut rng, n).await?;
        tx.commit().await?;
        counts.service_orders += n;
        done += n;
    }
    let (study, responses) = survey(st, &ctx, &mut rng, sizes.responses).await?;
    counts.study_id = study;
    counts.responses = responses;
    counts.answers = responses * ITEMS.len();
    Ok(counts)
}

/// The demo users who act in the generated history.
struct People {
    biz: Option<i64>,
    eng: Option<i64>,
    mgr: Option<i64>,
    prd: Option<i64>,
}

/// What the generator reads once.
struct Gen {
    org: i64,
    now: i64,
    units: Vec<UnitRef>,
    cal: WorkCalendar,
    return_visit_days: u32,
    matrix: Vec<Duty>,
    clocks: HashMap<(&'static str, Option<String>), Clock>,
    deps: HashMap<&'static str, i64>,
    people: People,
}

fn doc(kind: &'static str, ref_id: i64, title: String, text: &str) -> bulk::DocRow {
    bulk::DocRow {
        kind,
        ref_id,
        title,
        text: normalize(text),
        tokens: index_tokens(text),
    }
}

/// Customers beyond the archives' (company names, in the same regions), searchable.
async fn customers(st: &AppState, org: i64, n: usize, now: i64) -> AppResult<usize> {
    const REGIONS: [(&str, &str); 7] = [
        ("华东", "上海"),
        ("华北", "北京"),
        ("华南", "广州"),
        ("华中", "武汉"),
        ("西南", "成都"),
        ("西北", "西安"),
        ("东北", "沈阳"),
    ];
    const WORDS: [&str; 8] = [
        "联创", "海通", "正泰", "新华", "长城", "明远", "汇丰", "同力",
    ];
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let (region, city) = REGIONS[i % REGIONS.len()];
        rows.push(bulk::CustomerRow {
            code: format!("V{:07}", i + 1),
            name: format!(
                "{city}{}{}有限公司（{}）",
                WORDS[(i / 7) % WORDS.len()],
                ["机电", "设备", "实业", "科技"][i % 4],
                i + 1
            ),
            kind: "company",
            industry: "制造业".into(),
            region: region.into(),
            address: format!("{city}市{}路{}号", WORDS[i % WORDS.len()], i % 900 + 1),
            tags: "[]".into(),
        });
    }
    let mut tx = st.db.begin().await?;
    for chunk in rows.chunks(20_000) {
        bulk::customers(&mut tx.c(), org, now, chunk).await?;
    }
    let ids: HashMap<String, i64> = bulk::ids(&mut tx.c(), org, bulk::Table::Customers)
        .await?
        .into_iter()
        .collect();
    let docs: Vec<bulk::DocRow> = rows
        .iter()
        .filter_map(|c| {
            let id = *ids.get(&c.code)?;
            Some(doc(
                "customer",
                id,
                format!("{} ({})", c.name, c.code),
                &format!("{} {} {} {}", c.code, c.name, c.region, c.address),
            ))
        })
        .collect();
    bulk::docs(&mut tx.c(), org, &docs).await?;
    tx.commit().await?;
    Ok(n)
}

const COMPLAINT_COLS: &[&str] = &[
    "org_id",
    "number",
    "channel",
    "status",
    "class",
    "severity",
    "fault_category",
    "received_at",
    "acknowledged_at",
    "customer_id",
    "customer_name",
    "contact_name",
    "contact_phone",
    "address",
    "order_id",
    "order_no",
    "product_id",
    "part_no",
    "equipment_id",
    "serial",
    "batch_no",
    "ship_date",
    "quantity",
    "defective_quantity",
    "days_in_service",
    "description",
    "demand",
    "responsibility",
    "responsible_department_id",
    "investigation",
    "cause",
    "inspection_result",
    "inspection_basis",
    "explanation",
    "customer_response",
    "remedy_type",
    "remedy_amount_fen",
    "remedy_detail",
    "remedy_proposed_by",
    "agreed_reply_date",
    "approval_round",
    "implementation",
    "visit_due",
    "visit_result",
    "visit_note",
    "repeat_count",
    "capa_required",
    "reopen_count",
    "contract_level",
    "paused_at",
    "confirmed_at",
    "first_response_at",
    "remedy_agreed_at",
    "closed_at",
    "ack_due",
    "response_due",
    "remedy_due",
    "close_due",
    "next_due",
    "warn_at",
    "ack_met",
    "response_met",
    "remedy_met",
    "close_met",
    "resolution_secs",
    "month",
    "received_day",
    "recorded_by",
    "created_at",
    "updated_at",
    "version",
];

/// One transaction's worth of complaints; returns (events, tasks) written.
async fn complaint_chunk(
    tx: &mut Tx,
    g: &Gen,
    rng: &mut Rng,
    n: usize,
) -> AppResult<(usize, usize)> {
    let weights: Vec<usize> = STATUSES.iter().map(|s| s.1).collect();
    let mut specs: Vec<Spec> = Vec::with_capacity(n);
    let mut last_open: Option<usize> = None;
    for _ in 0..n {
        let status = STATUSES[weighted(rng, &weights)].0;
        let class = ["quality", "quality", "human", "other"][rng.below(4)];
        let serious = matches!(status, "remedy_approved") || rng.chance(30);
        let via_not_ours = rng.chance(20);
        let reopened_once = status == "closed" && rng.chance(4);
        let moves = path(status, serious, via_not_ours, reopened_once);
        let span: i64 = moves.iter().map(|m| m.hours).sum::<i64>() * HOUR;
        let finished = matches!(status, "closed" | "withdrawn");
        // Finished ones over the last three years; open ones in the last weeks.
        let received = if finished {
            g.now - rng.range(span + 2 * DAY, 3 * 365 * DAY)
        } else {
            g.now - span - rng.range(HOUR, 30 * DAY)
        };
        let mut at = received;
        let timed: Vec<(Move, i64)> = moves
            .into_iter()
            .map(|m| {
                if m.hours > 0 {
                    at += m.hours * HOUR / 2 + rng.range(0, m.hours * HOUR);
                    at = at.min(g.now - 60);
                }
                (m, at)
            })
            .collect();
        let mut unit = rng.below(g.units.len());
        let mut fault = FAULTS[rng.below(FAULTS.len())];
        let mut repeat_of = None;
        // Now and then an open complaint repeats the previous open one (same unit and fault,
        // inside the recurrence window): counted, CAPA required, found as its repeat.
        let early = matches!(status, "received" | "confirmed" | "analysing");
        if early && let Some(j) = last_open.filter(|_| rng.chance(10)) {
            let e: &Spec = &specs[j];
            if e.received < received {
                unit = e.unit;
                fault = e.fault;
                repeat_of = Some(j);
            }
        }
        if !finished {
            last_open = Some(specs.len());
        }
        specs.push(Spec {
            unit,
            status,
            class,
            severity: if serious { "serious" } else { "minor" },
            fault,
            channel: ["phone", "visit", "email", "web", "letter"][rng.below(5)],
            received,
            moves: timed,
            repeat_of,
            number: String::new(),
        });
    }
    // Numbers per year of receipt, continuing the counters.
    let mut per_year: HashMap<i64, i64> = HashMap::new();
    for s in &specs {
        *per_year.entry(year_of(&g.cal, s.received)).or_default() += 1;
    }
    let prefix = {
        let s = store::complaints::settings::get(&mut tx.c(), g.org).await?;
        (s.number_prefix, s.number_digits.max(1) as usize)
    };
    let mut next: HashMap<i64, i64> = HashMap::new();
    for (y, k) in &per_year {
        let first = vol::reserve_complaint_numbers(&mut tx.c(), g.org, *y, *k).await?;
        next.insert(*y, first);
    }
    for s in specs.iter_mut() {
        let y = year_of(&g.cal, s.received);
        let seq = next.get_mut(&y).map_or(0, |v| {
            *v += 1;
            *v - 1
        });
        s.number = domain::complaints::format_number(&prefix.0, y as i32, seq, prefix.1);
    }
    let rows: Vec<Vec<V>> = specs.iter().map(|s| complaint_row(g, s, rng)).collect();
    let ids: HashMap<String, i64> =
        vol::insert_keyed(&mut tx.c(), "complaints", COMPLAINT_COLS, &rows, "number")
            .await?
            .into_iter()
            .collect();
    let id = |s: &Spec| ids.get(&s.number).copied().unwrap_or(0);

    let mut events = Vec::new();
    let mut tasks = Vec::new();
    let mut approvals = Vec::new();
    let mut docs = Vec::with_capacity(specs.len());
    let mut timeline = Vec::with_capacity(specs.len());
    let p = &g.people;
    for s in &specs {
        let cid = id(s);
        let u = &g.units[s.unit];
        for (k, (m, at)) in s.moves.iter().enumerate() {
            let who = match m.action {
                "analyse" | "start" | "progress" | "complete" => p.eng,
                "propose" if s.class == "quality" => p.prd,
                "approve" => p.mgr,
                _ => p.biz,
            };
            events.push(vec![
                V::from(g.org),
                cid.into(),
                (*at).into(),
                who.into(),
                m.action.into(),
                m.from.into(),
                V::from(m.to),
                V::T(None),
                V::T(None),
            ]);
            if m.action == "approve" {
                let round = s.moves[..k]
                    .iter()
                    .filter(|(x, _)| x.action == "propose")
                    .count() as i64;
                approvals.push(approval_row(g, cid, round, Some(*at), s.moves[k - 1].1));
            }
            if let Some(step) = m.tasks {
                // A step's tasks are done by the next move; the last move's stay open
                // unless the complaint is finished.
                let done =
                    s.moves
                        .get(k + 1)
                        .map(|x| x.1)
                        .or(matches!(s.status, "closed" | "withdrawn").then_some(s.moves[k].1));
                for d in g.matrix.iter().filter(|d| d.step == step) {
                    tasks.push(vec![
                        V::from(g.org),
                        cid.into(),
                        step.into(),
                        d.department_id.into(),
                        d.duty.clone().into(),
                        (if done.is_some() { "done" } else { "open" }).into(),
                        (*at).into(),
                        done.into(),
                        done.and(p.biz).into(),
                        V::T(None),
                    ]);
                }
            }
        }
        if s.status == "remedy_proposed" && s.severity == "serious" {
            let round = s
                .moves
                .iter()
                .filter(|(x, _)| x.action == "propose")
                .count() as i64;
            let at = s.moves.last().map_or(s.received, |m| m.1);
            approvals.push(approval_row(g, cid, round, None, at));
        }
        let text = [
            s.number.as_str(),
            u.customer_name.as_str(),
            u.part_no.as_str(),
            u.serial.as_str(),
            u.order_no.as_deref().unwrap_or(""),
            s.fault,
            &description(s.fault, s.unit),
        ]
        .join(" ");
        docs.push(doc(
            "complaint",
            cid,
            format!("{} {}", s.number, u.customer_name),
            &text,
        ));
        // The receipt is read from the complaint itself (`store::timeline`).
        if s.status != "received" {
            timeline.push(bulk::EventRow {
                customer_id: Some(u.customer_id),
                equipment_id: Some(u.id),
                at: s.moves.last().map_or(s.received, |m| m.1),
                kind: timeline_kind(s.status),
                ref_id: cid,
                summary: s.number.clone(),
            });
        }
    }
    let mut c = tx.c();
    vol::insert(
        &mut c,
        "complaint_events",
        &[
            "org_id",
            "complaint_id",
            "at",
            "user_id",
            "action",
            "from_status",
            "to_status",
            "note",
            "data",
        ],
        &events,
    )
    .await?;
    vol::insert(
        &mut c,
        "complaint_tasks",
        &[
            "org_id",
            "complaint_id",
            "step",
            "department_id",
            "duty",
            "status",
            "created_at",
            "done_at",
            "done_by",
            "note",
        ],
        &tasks,
    )
    .await?;
    vol::insert(
        &mut c,
        "complaint_approvals",
        &[
            "org_id",
            "complaint_id",
            "round",
            "rule_id",
            "approver_role",
            "approver_department_id",
            "decision",
            "decided_by",
            "decided_at",
            "comment",
            "created_at",
        ],
        &approvals,
    )
    .await?;
    bulk::docs(&mut c, g.org, &docs).await?;
    bulk::events(&mut c, g.org, &timeline).await?;
    Ok((events.len(), tasks.len()))
}

fn timeline_kind(status: &str) -> &'static str {
    match status {
        "confirmed" => "complaint_confirmed",
        "analysing" => "complaint_analysing",
        "not_ours" => "complaint_not_ours",
        "remedy_proposed" => "complaint_remedy_proposed",
        "remedy_approved" => "complaint_remedy_approved",
        "remedy_agreed" => "complaint_remedy_agreed",
        "implementing" => "complaint_implementing",
        "return_visit" => "complaint_return_visit",
        "closed" => "complaint_closed",
        "reopened" => "complaint_reopened",
        "withdrawn" => "complaint_withdrawn",
        _ => "complaint",
    }
}

fn approval_row(g: &Gen, cid: i64, round: i64, decided: Option<i64>, created: i64) -> Vec<V> {
    vec![
        V::from(g.org),
        cid.into(),
        round.into(),
        V::I(None),
        "manager".into(),
        V::I(None),
        decided.map(|_| "approved").into(),
        decided.and(g.people.mgr).into(),
        decided.into(),
        decided.map(|_| "同意").into(),
        created.into(),
    ]
}

fn year_of(cal: &WorkCalendar, t: i64) -> i64 {
    cal.local_date(t)[0..4].parse().unwrap_or(1970)
}

fn description(fault: &str, unit: usize) -> String {
    format!(
        "{fault}：客户反映设备{}，影响正常生产。",
        SYMPTOMS[unit % SYMPTOMS.len()]
    )
}

/// The complaint's columns, in [`COMPLAINT_COLS`] order.
fn complaint_row(g: &Gen, s: &Spec, rng: &mut Rng) -> Vec<V> {
    let u = &g.units[s.unit];
    let when = |action: &str| {
        s.moves
            .iter()
            .rev()
            .find(|m| m.0.action == action)
            .map(|m| m.1)
    };
    let reached = |action: &str| when(action).is_some();
    let analysed = reached("analyse");
    let not_ours = reached("explain");
    let proposed = reached("propose");
    let (responsibility, dep) = if !analysed {
        (None, None)
    } else if not_ours {
        (Some("customer_use"), None)
    } else {
        match s.class {
            // Ours + quality would require a CAPA before completion; the volume keeps it out.
            "quality" => (Some("supplier"), g.deps.get("PUR").copied()),
            "human" => (Some("ours"), g.deps.get("SVC").copied()),
            _ => (Some("not_established"), g.deps.get("BIZ").copied()),
        }
    };
    let rounds = s.moves.iter().filter(|m| m.0.action == "propose").count() as i64;
    let approval_round = if s.severity == "serious" { rounds } else { 0 };
    let acknowledged = s.received + rng.range(60, 1_800);
    let first_response = when("confirm").or(when("explain"));
    let reopened = s.moves.iter().filter(|m| m.0.to == "reopened").count() as i64;
    let closed = (s.status == "closed").then(|| when("visit")).flatten();
    let remedy_agreed = match s.status {
        "reopened" => None,
        _ => when("agree").or(when("respond")),
    };
    let visit_due = when("complete")
        .or(when("respond"))
        .filter(|_| matches!(s.status, "return_visit" | "closed" | "reopened"))
        .and_then(|t| {
            g.cal
                .add_working_days(&g.cal.local_date(t), g.return_visit_days)
        });
    let visit_result = match s.status {
        "closed" => Some("satisfied"),
        "reopened" => Some("unsatisfied"),
        _ => None,
    };
    let times = Times {
        received_at: s.received,
        acknowledged_at: Some(acknowledged),
        first_response_at: first_response,
        remedy_agreed_at: remedy_agreed,
        closed_at: closed,
        finished: matches!(s.status, "closed" | "withdrawn"),
    };
    let clock = g
        .clocks
        .get(&(s.severity, u.contract_level.clone()))
        .or_else(|| g.clocks.get(&(s.severity, None)));
    let f = clock.map(|k| sla::compute(k, &times, &[], &|_, _| false));
    let due = |i: usize| f.as_ref().and_then(|f| f.dues[i]);
    let met = |i: usize| f.as_ref().and_then(|f| f.met[i]);
    let resolution = closed.map(|c| domain::sla::elapsed(&g.cal, s.received, c, &[]));
    let last = s.moves.last().map_or(s.received, |m| m.1);
    let month = g.cal.local_date(s.received)[0..7].to_string();
    let remedy_type = ["repair", "replace", "refund", "compensation"][s.unit % 4];
    let amount = matches!(remedy_type, "refund" | "compensation")
        .then_some(50_000 + (s.unit as i64 % 50) * 10_000);
    let days_in_service = u.ship_date.as_deref().and_then(|d| {
        let start = g.cal.local_instant(d, 0)?;
        Some(((s.received - start) / DAY).max(0))
    });
    let repeat = i64::from(s.repeat_of.is_some());
    vec![
        V::from(g.org),
        s.number.clone().into(),
        s.channel.into(),
        s.status.into(),
        s.class.into(),
        s.severity.into(),
        s.fault.into(),
        s.received.into(),
        acknowledged.into(),
        Some(u.customer_id).into(),
        u.customer_name.clone().into(),
        Some("设备科").into(),
        Some(format!("021-5555{:04}", s.unit % 10_000)).into(),
        u.address.clone().into(),
        u.order_id.into(),
        u.order_no.clone().into(),
        Some(u.product_id).into(),
        Some(u.part_no.clone()).into(),
        Some(u.id).into(),
        Some(u.serial.clone()).into(),
        Some(format!("B{}{:02}", &month[0..4], 1 + s.unit % 12)).into(),
        u.ship_date.clone().into(),
        Some(1 + (s.unit as i64 % 5)).into(),
        Some(1i64).into(),
        days_in_service.into(),
        description(s.fault, s.unit).into(),
        Some(DEMANDS[s.unit % DEMANDS.len()]).into(),
        responsibility.into(),
        dep.into(),
        analysed.then_some("现场检查并调阅运行记录").into(),
        analysed
            .then_some(if not_ours {
                "客户超负荷使用"
            } else {
                "元器件批次不良"
            })
            .into(),
        analysed.then_some("检验报告 QA-2026-017").into(),
        analysed.then_some("GB/T 3797 及产品使用说明书").into(),
        not_ours
            .then_some("经检验为超负荷使用所致，已提供检验报告。")
            .into(),
        reached("respond").then_some("认可").into(),
        proposed.then_some(remedy_type).into(),
        V::I(if proposed { amount } else { None }),
        proposed.then_some("更换主控板并承担运费").into(),
        proposed.then_some("生产部、业务部").into(),
        V::T(None),
        approval_round.into(),
        reached("complete").then_some("已更换并调试正常").into(),
        visit_due.into(),
        visit_result.into(),
        (s.status == "reopened")
            .then_some("问题复发，客户不满意")
            .into(),
        repeat.into(),
        (repeat > 0).into(),
        reopened.into(),
        u.contract_level.clone().into(),
        V::I(None),
        when("confirm").into(),
        first_response.into(),
        remedy_agreed.into(),
        closed.into(),
        due(0).into(),
        due(1).into(),
        due(2).into(),
        due(3).into(),
        f.as_ref().and_then(|f| f.next_due).into(),
        f.as_ref().and_then(|f| f.warn_at).into(),
        V::B(met(0)),
        V::B(met(1)),
        V::B(met(2)),
        V::B(met(3)),
        resolution.into(),
        month.into(),
        crate::complaints::figures::local_day(&g.cal, s.received).into(),
        g.people.biz.into(),
        s.received.into(),
        last.into(),
        V::from(1 + s.moves.len() as i64 - 1),
    ]
}

const ORDER_COLS: &[&str] = &[
    "org_id",
    "number",
    "kind",
    "status",
    "equipment_id",
    "customer_id",
    "product_id",
    "site",
    "plan_id",
    "template_id",
    "due_date",
    "complaint_id",
    "source_order_id",
    "engineer_id",
    "reported_at",
    "scheduled_start",
    "scheduled_end",
    "dispatched_at",
    "arrived_at",
    "completed_at",
    "accepted_at",
    "accepted_by",
    "signature",
    "rating",
    "closed_at",
    "cancelled_at",
    "cancel_reason",
    "symptom",
    "diagnosis",
    "cause",
    "actions",
    "labor_minutes",
    "fee_fen",
    "parts_cost_fen",
    "first_time_fix",
    "overdue_notified_at",
    "month",
    "created_by",
    "created_at",
    "updated_at",
    "version",
];

/// (kind, weight ‰) and (status, weight ‰) of the generated service orders.
const ORDER_KINDS: [(&str, usize); 7] = [
    ("maintenance", 500),
    ("repair", 300),
    ("installation", 80),
    ("delivery", 40),
    ("return_exchange", 30),
    ("take_back", 20),
    ("tech_support", 30),
];
const ORDER_STATUSES: [(&str, usize); 8] = [
    ("created", 60),
    ("scheduled", 50),
    ("dispatched", 60),
    ("on_site", 30),
    ("completed", 100),
    ("accepted", 100),
    ("closed", 570),
    ("cancelled", 30),
];

/// One transaction's worth of service orders of every kind and status, numbered from the
/// organization's counters.
async fn service_orders(tx: &mut Tx, g: &Gen, rng: &mut Rng, n: usize) -> AppResult<()> {
    let kw: Vec<usize> = ORDER_KINDS.iter().map(|k| k.1).collect();
    let sw: Vec<usize> = ORDER_STATUSES.iter().map(|k| k.1).collect();
    struct O {
        unit: usize,
        kind: &'static str,
        status: &'static str,
        reported: i64,
    }
    let mut os = Vec::with_capacity(n);
    for _ in 0..n {
        let status = ORDER_STATUSES[weighted(rng, &sw)].0;
        let reported = if matches!(status, "closed" | "cancelled" | "accepted") {
            g.now - rng.range(10 * DAY, 3 * 365 * DAY)
        } else {
            g.now - rng.range(HOUR, 20 * DAY)
        };
        os.push(O {
            unit: rng.below(g.units.len()),
            kind: ORDER_KINDS[weighted(rng, &kw)].0,
            status,
            reported,
        });
    }
    let mut per_year: HashMap<i64, i64> = HashMap::new();
    for o in &os {
        *per_year.entry(year_of(&g.cal, o.reported)).or_default() += 1;
    }
    let mut next = HashMap::new();
    for (y, k) in &per_year {
        next.insert(
            *y,
            store::maintenance::numbers::reserve(&mut tx.c(), g.org, *y, *k).await?,
        );
    }
    let rank = |s: &str| ORDER_STATUSES.iter().position(|x| x.0 == s).unwrap_or(0);
    let mut rows = Vec::with_capacity(n);
    for o in &os {
        let u = &g.units[o.unit];
        let y = year_of(&g.cal, o.reported);
        let seq = next.get_mut(&y).map_or(0, |v| {
            *v += 1;
            *v - 1
        });
        let r = rank(o.status);
        let cancelled = o.status == "cancelled";
        let step = |k: usize, h: i64| (!cancelled && r >= k).then_some(o.reported + h * HOUR);
        let scheduled = step(1, 20);
        let dispatched = step(2, 24);
        let arrived = step(3, 30);
        let completed = step(4, 34);
        let accepted = step(5, 36);
        let closed = step(6, 60);
        let repair = o.kind == "repair";
        let due = (o.kind == "maintenance").then(|| g.cal.local_date(o.reported + 7 * DAY));
        rows.push(vec![
            V::from(g.org),
            store::maintenance::numbers::format(y, seq).into(),
            o.kind.into(),
            o.status.into(),
            Some(u.id).into(),
            Some(u.customer_id).into(),
            Some(u.product_id).into(),
            u.address.clone().into(),
            V::I(None),
            V::I(None),
            due.into(),
            V::I(None),
            V::I(None),
            dispatched.and(g.people.eng).into(),
            o.reported.into(),
            scheduled.into(),
            scheduled.map(|t| t + 4 * HOUR).into(),
            dispatched.into(),
            arrived.into(),
            completed.into(),
            accepted.into(),
            accepted.map(|_| "设备科").into(),
            V::T(None),
            accepted.map(|_| 3 + (o.unit as i64 % 3)).into(),
            closed.into(),
            cancelled.then_some(o.reported + DAY).into(),
            cancelled.then_some("客户取消").into(),
            repair.then_some(SYMPTOMS[o.unit % SYMPTOMS.len()]).into(),
            (repair && completed.is_some())
                .then_some("控制板元件老化")
                .into(),
            (repair && completed.is_some()).then_some("元件老化").into(),
            completed.map(|_| "更换部件并调试").into(),
            completed.map(|_| 60 + (o.unit as i64 % 4) * 30).into(),
            V::from(if repair { 30_000 } else { 0 }),
            V::from(if repair { 12_000 } else { 0 }),
            V::B((repair && completed.is_some()).then_some(o.unit % 10 != 0)),
            V::I(None),
            g.cal.local_date(o.reported)[0..7].to_string().into(),
            g.people.biz.into(),
            o.reported.into(),
            closed.or(completed).unwrap_or(o.reported).into(),
            V::from(1 + r as i64),
        ]);
    }
    vol::insert(&mut tx.c(), "service_orders", ORDER_COLS, &rows).await?;
    Ok(())
}

/// The study's items: (kind, dimension index, text, min, max, weight).
#[allow(clippy::type_complexity)]
pub const ITEMS: [(&str, Option<usize>, &str, i64, i64, f64); 20] = [
    ("scale", Some(0), "报修电话是否容易接通", 1, 5, 1.0),
    ("scale", Some(0), "工程师到场是否及时", 1, 5, 1.5),
    ("scale", Some(0), "处理进度是否及时告知", 1, 5, 1.0),
    ("scale", Some(1), "服务人员态度是否友好", 1, 5, 1.0),
    ("scale", Some(1), "是否遵守现场规定", 1, 5, 0.5),
    ("scale", Some(1), "是否清理工作现场", 1, 5, 0.5),
    ("scale", Some(2), "故障是否一次修复", 1, 5, 2.0),
    ("scale", Some(2), "技术说明是否清楚", 1, 5, 1.0),
    ("scale", Some(2), "维修后设备运行是否稳定", 1, 5, 1.5),
    ("scale", Some(3), "产品质量是否满意", 1, 5, 2.0),
    ("scale", Some(3), "产品性能是否符合预期", 1, 5, 1.0),
    ("scale", Some(3), "故障率是否可以接受", 1, 5, 1.0),
    ("scale", Some(4), "配件供应是否及时", 1, 5, 1.0),
    ("scale", Some(4), "收费是否合理透明", 1, 5, 1.0),
    ("scale", Some(4), "发票与单据是否准确", 1, 5, 0.5),
    ("csat", None, "总体而言，您对我们的服务是否满意", 1, 5, 0.0),
    ("nps", None, "您向同行推荐我们的可能性有多大", 0, 10, 0.0),
    ("ces", None, "解决问题是否省心", 1, 7, 0.0),
    ("text", None, "您最满意的方面", 0, 0, 0.0),
    ("text", None, "您希望我们改进的方面", 0, 0, 0.0),
];
const DIMENSIONS: [&str; 5] = ["服务响应", "服务态度", "技术能力", "产品质量", "配件与费用"];

/// One template, one closed study over the customers, `n` answered invitations with all
/// the items answered; returns (study id, responses).
async fn survey(st: &AppState, g: &Gen, rng: &mut Rng, n: usize) -> AppResult<(i64, usize)> {
    let now = g.now;
    let mut tx = st.db.begin().await?;
    let customers = vol::customers(&mut tx.c(), g.org).await?;
    let n = n.min(customers.len());
    let code = format!("BENCH-CSI-{now}");
    let tpl = vol::insert_keyed(
        &mut tx.c(),
        "survey_templates",
        &[
            "org_id",
            "code",
            "version_no",
            "name",
            "intro",
            "status",
            "previous_id",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ],
        &[vec![
            V::from(g.org),
            code.clone().into(),
            1i64.into(),
            "客户满意度调查（年度）".into(),
            Some("感谢您抽出时间评价我们的售后服务。").into(),
            "active".into(),
            V::I(None),
            g.people.mgr.into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]],
        "code",
    )
    .await?;
    let tpl = tpl.first().map(|r| r.1).unwrap_or(0);
    let dims: HashMap<String, i64> = vol::insert_keyed(
        &mut tx.c(),
        "survey_dimensions",
        &["template_id", "position", "name"],
        &DIMENSIONS
            .iter()
            .enumerate()
            .map(|(i, d)| vec![V::from(tpl), (i as i64 + 1).into(), (*d).into()])
            .collect::<Vec<_>>(),
        "position",
    )
    .await?
    .into_iter()
    .collect();
    let items: HashMap<String, i64> = vol::insert_keyed(
        &mut tx.c(),
        "survey_items",
        &[
            "template_id",
            "dimension_id",
            "position",
            "kind",
            "text",
            "scale_min",
            "scale_max",
            "weight",
            "required",
        ],
        &ITEMS
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let text = it.0 == "text";
                vec![
                    V::from(tpl),
                    it.1.and_then(|d| dims.get(&(d + 1).to_string()).copied())
                        .into(),
                    (i as i64 + 1).into(),
                    it.0.into(),
                    it.2.into(),
                    V::I((!text).then_some(it.3)),
                    V::I((!text).then_some(it.4)),
                    it.5.into(),
                    (!text).into(),
                ]
            })
            .collect::<Vec<_>>(),
        "position",
    )
    .await?
    .into_iter()
    .collect();
    let item_ids: Vec<i64> = (1..=ITEMS.len())
        .map(|p| items.get(&p.to_string()).copied().unwrap_or(0))
        .collect();
    let start = now - 200 * DAY;
    let end = now - 20 * DAY;
    let study_name = format!("{}年度客户满意度调查", &g.cal.local_date(start)[0..4]);
    let study = vol::insert_keyed(
        &mut tx.c(),
        "studies",
        &[
            "org_id",
            "template_id",
            "name",
            "period_start",
            "period_end",
            "population",
            "population_size",
            "confidence_percent",
            "margin_percent",
            "sample_size",
            "seed",
            "status",
            "link_days",
            "invited",
            "responses",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ],
        &[vec![
            V::from(g.org),
            tpl.into(),
            study_name.into(),
            g.cal.local_date(start).into(),
            g.cal.local_date(end).into(),
            "{}".into(),
            (customers.len() as i64).into(),
            95i64.into(),
            3.0f64.into(),
            (n as i64).into(),
            7i64.into(),
            "closed".into(),
            30i64.into(),
            (n as i64).into(),
            (n as i64).into(),
            g.people.mgr.into(),
            start.into(),
            end.into(),
            1i64.into(),
        ]],
        "template_id",
    )
    .await?;
    let study = study.first().map(|r| r.1).unwrap_or(0);
    tx.commit().await?;
    // Product and region of each customer's first unit (the breakdown keys).
    let mut first_unit: HashMap<i64, &UnitRef> = HashMap::new();
    for u in &g.units {
        first_unit.entry(u.customer_id).or_insert(u);
    }
    let mut done = 0;
    while done < n {
        let part = &customers[done..(done + CHUNK).min(n)];
        let mut tx = st.db.begin().await?;
        let mut invs = Vec::with_capacity(part.len());
        let mut answered = Vec::with_capacity(part.len());
        for (k, (cid, name, region)) in part.iter().enumerate() {
            let at = rng.range(start, end);
            let u = first_unit.get(cid);
            invs.push(vec![
                V::from(g.org),
                study.into(),
                (*cid).into(),
                Some(format!(
                    "{}联系人",
                    name.chars().take(2).collect::<String>()
                ))
                .into(),
                V::T(None),
                format!("bench-{study}-{:08}", done + k).into(),
                (at + 30 * DAY).into(),
                "answered".into(),
                Some(at).into(),
                u.map(|u| u.product_id).into(),
                g.people.eng.into(),
                region.clone().into(),
                V::I(None),
                V::I(None),
                (at - DAY).into(),
            ]);
            answered.push(at);
        }
        let inv_ids: HashMap<String, i64> = vol::insert_keyed(
            &mut tx.c(),
            "study_invitations",
            &[
                "org_id",
                "study_id",
                "customer_id",
                "contact_name",
                "contact_phone",
                "token",
                "expires_at",
                "status",
                "answered_at",
                "product_id",
                "engineer_id",
                "region",
                "outlet_id",
                "service_order_id",
                "created_at",
            ],
            &invs,
            "customer_id",
        )
        .await?
        .into_iter()
        .collect();
        let mut values: Vec<Vec<i64>> = Vec::with_capacity(part.len());
        let mut resps = Vec::with_capacity(part.len());
        for (k, (cid, _, region)) in part.iter().enumerate() {
            // Mostly satisfied customers, some unhappy ones.
            let mood = rng.below(10) as i64;
            let vals: Vec<i64> = ITEMS
                .iter()
                .map(|it| {
                    let span = it.4 - it.3;
                    let base = if mood == 0 { span / 3 } else { span * 3 / 4 };
                    (it.3 + base + rng.range(-1, 2)).clamp(it.3, it.4)
                })
                .collect();
            let (mut num, mut den) = (0.0, 0.0);
            for (it, v) in ITEMS.iter().zip(&vals) {
                if it.0 == "scale" {
                    num += it.5 * (v - it.3) as f64 / (it.4 - it.3) as f64 * 100.0;
                    den += it.5;
                }
            }
            let u = first_unit.get(cid);
            resps.push(vec![
                V::from(g.org),
                study.into(),
                inv_ids.get(&cid.to_string()).copied().into(),
                tpl.into(),
                (*cid).into(),
                "link".into(),
                V::I(None),
                answered[k].into(),
                V::F((den > 0.0).then(|| num / den)),
                u.map(|u| u.product_id).into(),
                g.people.eng.into(),
                region.clone().into(),
                V::I(None),
            ]);
            values.push(vals);
        }
        let resp_ids: HashMap<String, i64> = vol::insert_keyed(
            &mut tx.c(),
            "survey_responses",
            &[
                "org_id",
                "study_id",
                "invitation_id",
                "template_id",
                "customer_id",
                "channel",
                "entered_by",
                "submitted_at",
                "score",
                "product_id",
                "engineer_id",
                "region",
                "outlet_id",
            ],
            &resps,
            "customer_id",
        )
        .await?
        .into_iter()
        .collect();
        let mut answers = Vec::with_capacity(part.len() * ITEMS.len());
        for (k, (cid, _, _)) in part.iter().enumerate() {
            let rid = resp_ids.get(&cid.to_string()).copied().unwrap_or(0);
            for (j, it) in ITEMS.iter().enumerate() {
                let text = it.0 == "text";
                answers.push(vec![
                    V::from(rid),
                    item_ids[j].into(),
                    study.into(),
                    V::F((!text).then_some(values[k][j] as f64)),
                    V::T(text.then(|| {
                        ["服务及时，工程师专业", "希望缩短配件等待时间", "整体满意"][(k + j) % 3]
                            .to_string()
                    })),
                ]);
            }
        }
        vol::insert(
            &mut tx.c(),
            "survey_answers",
            &["response_id", "item_id", "study_id", "value", "text"],
            &answers,
        )
        .await?;
        tx.commit().await?;
        done += part.len();
    }
    Ok((study, n))
}
