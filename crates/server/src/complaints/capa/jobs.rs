//! The periodic CAPA runs the worker calls: the effectiveness check of every verifying CAPA
//! and the escalation of overdue actions. Each item is its own short transaction and every
//! write is conditional (version, `escalated_at IS NULL`), so two workers running at once
//! do each thing once.

use store::Db;
use store::audit::Actor;
use store::complaints::capa as repo;
use store::notifications::{Audience, notify};

use super::service::{self, ACTION_ENTITY, Checked};
use crate::complaints::sla;
use crate::error::{AppError, AppResult};

/// The audit actor of the runs.
const ACTOR: &str = "jobs";
/// Rows read per query.
const BATCH: i64 = 200;

/// Evaluates every verifying CAPA at `now`: passed → effective, failed → open (result
/// "failed", owner notified). Returns how many moved.
pub async fn run_effectiveness(db: &Db, now: i64) -> AppResult<u64> {
    let actor = Actor::system(ACTOR);
    let mut moved = 0;
    let mut after = 0;
    loop {
        let batch = {
            let mut h = db.acquire().await?;
            repo::verifying(&mut h.c(), after, BATCH).await?
        };
        let Some(&(_, last)) = batch.last() else {
            break;
        };
        for (org, id) in &batch {
            let mut tx = db.begin().await?;
            match service::check_in(&mut tx, &actor, *org, *id, now).await {
                Ok(Checked::Passed | Checked::Failed) => {
                    tx.commit().await?;
                    moved += 1;
                }
                Ok(Checked::Pending) => tx.commit().await?,
                // Another worker or a user moved it first: theirs stands.
                Ok(Checked::Skipped) | Err(AppError::Stale | AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        after = last;
        if (batch.len() as i64) < BATCH {
            break;
        }
    }
    Ok(moved)
}

/// Escalates each open action past its due date (on its organization's calendar) once:
/// `escalated_at` is set, the owner and the managers are notified, the audit records it.
/// Returns how many were escalated by this call.
pub async fn run_overdue(db: &Db, now: i64) -> AppResult<u64> {
    let actor = Actor::system(ACTOR);
    let orgs = {
        let mut h = db.acquire().await?;
        repo::orgs_with_open_actions(&mut h.c()).await?
    };
    let mut n = 0;
    for org in orgs {
        let today = {
            let mut h = db.acquire().await?;
            sla::calendar(&mut h.c(), org).await?.local_date(now)
        };
        loop {
            let due = {
                let mut h = db.acquire().await?;
                repo::overdue_unescalated(&mut h.c(), org, &today, BATCH).await?
            };
            for a in &due {
                let mut tx = db.begin().await?;
                let before = repo::get_action(&mut tx.c(), org, a.capa_id, a.id).await?;
                // Only the caller whose UPDATE changed the row notifies; the other finds
                // it escalated (PostgreSQL: after waiting on the row lock) and stops.
                if !repo::mark_escalated(&mut tx.c(), org, a.id, now).await? {
                    continue;
                }
                let who = Audience {
                    roles: vec!["manager".into()],
                    users: a.owner_id.into_iter().collect(),
                    departments: vec![],
                };
                let args = serde_json::json!({
                    "number": a.capa_number,
                    "action": a.description,
                    "due_date": a.due_date,
                })
                .to_string();
                notify(
                    &mut tx.c(),
                    org,
                    &who,
                    "capa_overdue",
                    service::ENTITY,
                    a.capa_id,
                    &args,
                    now,
                )
                .await?;
                let after = repo::get_action(&mut tx.c(), org, a.capa_id, a.id).await?;
                service::audit_as(
                    &mut tx,
                    &actor,
                    org,
                    now,
                    "capa_escalate",
                    ACTION_ENTITY,
                    a.id,
                    Some(&before),
                    Some(&after),
                )
                .await?;
                tx.commit().await?;
                n += 1;
            }
            if (due.len() as i64) < BATCH {
                break;
            }
        }
    }
    Ok(n)
}
