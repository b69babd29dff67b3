//! The rules that make visits. [`generate`] (the `satisfaction.visits` job, every 600 s, and
//! the managers' "generate now"): every complaint waiting at its return visit gets one
//! planned visit per round, and completed service orders are sampled per month of
//! completion by the tiers (each order considered once, its position in the month deciding).
//! [`after_response`]: a low survey score opens a follow-up visit or a complaint.
//!
//! Exactly once with several workers: each organization's run takes the settings row's lock
//! first and reads what is waiting only after it (PostgreSQL; SQLite's write transaction is
//! already exclusive); the unique indexes of migration 0005 (one planned visit per
//! complaint, one visit per order and per response, one mark per order) back this up.
//!
//! Changes made by the rules are audited under a system actor (no user account):
//! `satisfaction.visits` for generated visits, `satisfaction.low_score` for the trigger's
//! visit or complaint.

use std::collections::BTreeMap;

use domain::calendar::WorkCalendar;
use domain::complaints::draft::Registration;
use domain::complaints::{Channel, Class};
use domain::satisfaction::visits::{LowScoreAction, Settings, Source};
use serde::Serialize;
use store::audit::Actor;
use store::satisfaction::visits::{self as repo, NewVisit, SettingsValues, VisitSettings};
use store::{Conn, Db, Tx};

use crate::complaints::service::{By, register_in};
use crate::complaints::sla;
use crate::error::{AppError, AppResult};

/// The audit entity and timeline kind of a visit.
pub const KIND: &str = "return_visit";
/// The system actor of generated visits.
pub const GENERATOR: &str = "satisfaction.visits";
/// The system actor of the low-score trigger.
pub const TRIGGER: &str = "satisfaction.low_score";
/// Completed orders sampled per transaction.
const BATCH: i64 = 1000;

/// What one generation run made.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Generated {
    /// Visits planned for complaints at their return visit.
    pub complaint_visits: usize,
    /// Completed service orders considered by the sampling.
    pub orders_considered: usize,
    /// Visits planned for the orders picked.
    pub order_visits: usize,
}

impl Generated {
    fn add(&mut self, o: Generated) {
        self.complaint_visits += o.complaint_visits;
        self.orders_considered += o.orders_considered;
        self.order_visits += o.order_visits;
    }
}

/// The stored defaults of a new organization.
pub fn default_values() -> SettingsValues {
    values_of(&Settings::default())
}

/// The stored form of settings.
pub fn values_of(s: &Settings) -> SettingsValues {
    SettingsValues {
        complaint_days: s.complaint_days,
        order_days: s.order_days,
        tier1_max: s.tier1_max,
        tier1_percent: s.tier1_percent,
        tier2_max: s.tier2_max,
        tier2_percent: s.tier2_percent,
        tier3_percent: s.tier3_percent,
        low_rating: s.low_rating,
        low_score: s.low_score,
        low_score_action: s.low_score_action.as_str().into(),
        link_days: s.link_days,
    }
}

/// The rules of a stored settings row.
pub fn rules_of(v: &VisitSettings) -> Settings {
    Settings {
        complaint_days: v.complaint_days,
        order_days: v.order_days,
        tier1_max: v.tier1_max,
        tier1_percent: v.tier1_percent,
        tier2_max: v.tier2_max,
        tier2_percent: v.tier2_percent,
        tier3_percent: v.tier3_percent,
        low_rating: v.low_rating,
        low_score: v.low_score,
        low_score_action: LowScoreAction::parse(&v.low_score_action)
            .unwrap_or(LowScoreAction::Task),
        link_days: v.link_days,
    }
}

/// The settings row of `org` (written with the defaults on first read).
pub async fn settings_row(c: &mut Conn<'_>, org: i64, now: i64) -> AppResult<VisitSettings> {
    Ok(repo::settings(c, org, &default_values(), now).await?)
}

/// The `n`-th working day after the local date of `t`.
fn due_after(cal: &WorkCalendar, t: i64, n: i64) -> String {
    let day = cal.local_date(t);
    cal.add_working_days(&day, n.clamp(0, 365) as u32)
        .unwrap_or(day)
}

/// Audits planned visits and tells their assignees, in the caller's transaction.
pub async fn announce(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
    made: &[(i64, NewVisit)],
) -> AppResult<()> {
    let entries: Vec<store::audit::NewEntry<'_>> = made
        .iter()
        .map(|(id, v)| store::audit::NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action: "create",
            entity: KIND,
            entity_id: Some(*id),
            before: None,
            after: serde_json::to_value(v).ok(),
        })
        .collect();
    store::audit::record_all(&mut tx.c(), &entries).await?;
    let notices: Vec<store::notifications::Personal> = made
        .iter()
        .filter_map(|(id, v)| {
            Some(store::notifications::Personal {
                user_id: v.assignee_id?,
                ref_id: *id,
                args: assigned_args(&v.due_date),
            })
        })
        .collect();
    store::notifications::notify_each(&mut tx.c(), org, "visit_assigned", KIND, &notices, now)
        .await?;
    Ok(())
}

/// The arguments of a "visit assigned" notice.
fn assigned_args(due: &str) -> String {
    serde_json::json!({ "due_date": due }).to_string()
}

/// Notifies `user` that visit `id` (due `due`) is theirs.
pub async fn notify_assignee(
    tx: &mut Tx,
    org: i64,
    user: i64,
    id: i64,
    due: &str,
    now: i64,
) -> AppResult<()> {
    let who = store::notifications::Audience {
        users: vec![user],
        ..Default::default()
    };
    let args = assigned_args(due);
    store::notifications::notify(
        &mut tx.c(),
        org,
        &who,
        "visit_assigned",
        KIND,
        id,
        &args,
        now,
    )
    .await?;
    Ok(())
}

/// Plans the visits the rules ask for in every organization (the periodic job).
pub async fn generate(db: &Db, now: i64) -> AppResult<Generated> {
    let orgs = {
        let mut h = db.acquire().await?;
        repo::org_ids(&mut h.c()).await?
    };
    let mut total = Generated::default();
    for org in orgs {
        total.add(generate_org(db, org, now).await?);
    }
    Ok(total)
}

/// Plans the visits the rules ask for in one organization.
pub async fn generate_org(db: &Db, org: i64, now: i64) -> AppResult<Generated> {
    let actor = Actor::system(GENERATOR);
    let mut out = Generated::default();
    // Complaints waiting at their return visit.
    let mut tx = db.begin().await?;
    settings_row(&mut tx.c(), org, now).await?;
    repo::lock_generation(&mut tx.c(), org).await?;
    let s = rules_of(&settings_row(&mut tx.c(), org, now).await?);
    let cal = sla::calendar(&mut tx.c(), org).await?;
    let due = repo::complaints_due(&mut tx.c(), org).await?;
    let rows: Vec<NewVisit> = due
        .iter()
        .map(|d| NewVisit {
            source: Source::Complaint.as_str().into(),
            complaint_id: Some(d.id),
            customer_id: d.customer_id,
            equipment_id: d.equipment_id,
            assignee_id: d.recorded_by,
            due_date: due_after(&cal, d.entered_at, s.complaint_days),
            ..Default::default()
        })
        .collect();
    let made = insert(&mut tx, org, rows, now).await?;
    out.complaint_visits = made.len();
    announce(&mut tx, &actor, org, now, &made).await?;
    tx.commit().await?;
    // Completed service orders, a batch per transaction.
    let tiers = s.tiers();
    // Where the previous batch ended: an order completed meanwhile with an earlier completion
    // time is sampled by the next run.
    let mut after: Option<(i64, i64)> = None;
    loop {
        let mut tx = db.begin().await?;
        repo::lock_generation(&mut tx.c(), org).await?;
        let orders = repo::orders_unmarked(&mut tx.c(), org, after, BATCH).await?;
        after = orders.last().map(|o| (o.completed_at, o.id));
        if orders.is_empty() {
            tx.commit().await?;
            break;
        }
        let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut marks = Vec::with_capacity(orders.len());
        let mut picks = Vec::new();
        for o in &orders {
            let month: String = cal.local_date(o.completed_at).chars().take(7).collect();
            if !months.contains_key(&month) {
                let st = repo::sampling(&mut tx.c(), org, &month).await?;
                months.insert(month.clone(), st);
            }
            let Some(st) = months.get_mut(&month) else {
                return Err(AppError::Internal("sampling month vanished".into()));
            };
            st.0 += 1;
            let picked = tiers.picked(st.0.max(0) as u64);
            if picked {
                st.1 += 1;
                picks.push(NewVisit {
                    source: Source::ServiceOrder.as_str().into(),
                    service_order_id: Some(o.id),
                    customer_id: o.customer_id,
                    equipment_id: o.equipment_id,
                    engineer_id: o.engineer_id,
                    assignee_id: o.created_by,
                    due_date: due_after(&cal, o.completed_at, s.order_days),
                    ..Default::default()
                });
            }
            marks.push(repo::Mark {
                service_order_id: o.id,
                month,
                position: st.0,
                picked,
            });
        }
        repo::insert_marks(&mut tx.c(), org, &marks).await?;
        for (month, (seen, picked)) in &months {
            repo::put_sampling(&mut tx.c(), org, month, *seen, *picked).await?;
        }
        let made = insert(&mut tx, org, picks, now).await?;
        announce(&mut tx, &actor, org, now, &made).await?;
        tx.commit().await?;
        out.orders_considered += orders.len();
        out.order_visits += made.len();
        if (orders.len() as i64) < BATCH {
            break;
        }
    }
    if out != Generated::default() {
        tracing::info!(org, ?out, "return visits generated");
    }
    Ok(out)
}

/// Inserts planned visits; returns those inserted with their ids.
async fn insert(
    tx: &mut Tx,
    org: i64,
    rows: Vec<NewVisit>,
    now: i64,
) -> AppResult<Vec<(i64, NewVisit)>> {
    let ids = repo::insert_planned(&mut tx.c(), org, &rows, now).await?;
    Ok(ids
        .into_iter()
        .zip(rows)
        .filter_map(|(id, v)| id.map(|id| (id, v)))
        .collect())
}

/// The low-score trigger, called by the studies code inside the transaction that stores a
/// survey response: when the response's own score is at or below `low_score`, or its csat
/// answer is in the lowest two boxes, it plans a follow-up return visit (source survey, due
/// `order_days` working days from now, assigned to whoever entered the answers by phone or
/// else the study's owner) when the rule says "task", or registers a complaint for the
/// customer when it says "complaint". Both are audited under the system actor
/// `satisfaction.low_score`; the complaint has no recording user.
pub async fn after_response(tx: &mut Tx, org: i64, response_id: i64, now: i64) -> AppResult<()> {
    let s = rules_of(&settings_row(&mut tx.c(), org, now).await?);
    let r = repo::response(&mut tx.c(), org, response_id).await?;
    let csat = repo::csat_answer(&mut tx.c(), response_id).await?;
    if !s.low(r.score, csat) {
        return Ok(());
    }
    let actor = Actor::system(TRIGGER);
    match s.low_score_action {
        LowScoreAction::Task => {
            let cal = sla::calendar(&mut tx.c(), org).await?;
            let v = NewVisit {
                source: Source::Survey.as_str().into(),
                response_id: Some(r.id),
                customer_id: Some(r.customer_id),
                engineer_id: r.engineer_id,
                assignee_id: r.entered_by.or(r.study_owner),
                due_date: due_after(&cal, now, s.order_days),
                ..Default::default()
            };
            let made = insert(tx, org, vec![v], now).await?;
            announce(tx, &actor, org, now, &made).await?;
        }
        LowScoreAction::Complaint => {
            let mut description = match r.score {
                Some(score) => format!(
                    "满意度调查低分：得分 {score:.1}（调查 #{}，答卷 #{}）",
                    r.study_id, r.id
                ),
                None => format!("满意度调查低分（调查 #{}，答卷 #{}）", r.study_id, r.id),
            };
            for t in repo::text_answers(&mut tx.c(), r.id).await? {
                description.push('\n');
                description.push_str(&t);
            }
            let reg = Registration {
                channel: if r.channel == "phone" {
                    Channel::Phone
                } else {
                    Channel::Web
                },
                class: Class::Other,
                severity: "minor".into(),
                fault_category: None,
                customer_id: Some(r.customer_id),
                customer_name: String::new(),
                contact_name: None,
                contact_phone: None,
                address: None,
                order_id: None,
                order_no: None,
                product_id: r.product_id,
                part_no: None,
                equipment_id: None,
                serial: None,
                batch_no: None,
                ship_date: None,
                quantity: None,
                defective_quantity: None,
                days_in_service: None,
                description,
                demand: None,
            };
            let by = By {
                user_id: None,
                actor,
            };
            register_in(tx, &by, org, now, reg, None).await?;
        }
    }
    Ok(())
}
