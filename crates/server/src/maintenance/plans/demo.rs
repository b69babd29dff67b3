//! Demo plans on the demo archives: routine maintenance every month for every unit of the
//! busiest product, quarterly visits on some units of the second, annual visits on some
//! units of the third, and a floating plan with a meter basis on one unit. They use the
//! checklist levels `routine`, `quarterly` and `annual` (written by the checklists seed,
//! which runs first); the orders inside each plan's window are created at once.

use domain::archives::equipment::add_months;
use store::audit::{Actor, NewEntry};
use store::maintenance::plans::{self as repo, PlanValues};

use super::scheduler;
use super::service::ENTITY;
use crate::app::AppState;
use crate::complaints::sla;
use crate::error::AppResult;

/// Creates the demo plans of `org` and schedules them; does nothing without the three
/// checklist levels or without units.
pub async fn seed_demo(st: &AppState, org: i64) -> AppResult<()> {
    let now = st.now();
    let actor = Actor::system("demo");
    let mut tx = st.db.begin().await?;
    let today = sla::calendar(&mut tx.c(), org).await?.local_date(now);
    let mut tpl = Vec::new();
    for code in ["routine", "quarterly", "annual"] {
        match repo::template_by_code(&mut tx.c(), org, code).await? {
            Some(id) => tpl.push(id),
            None => {
                tracing::warn!(
                    code,
                    "demo plans skipped: no checklist level with this code"
                );
                return Ok(());
            }
        }
    }
    let products = repo::busiest_products(&mut tx.c(), org, 3).await?;
    let Some(&(first, _)) = products.first() else {
        return Ok(());
    };
    let second = products.get(1).map_or(first, |p| p.0);
    let third = products.get(2).map_or(second, |p| p.0);
    // Starts in the past, so the grids are already running.
    let start = |months: i64| add_months(&today, -months).unwrap_or_else(|| today.clone());
    let (s1, s3, s12) = (start(1), start(2), start(7));
    let mut plans: Vec<(String, PlanValues<'_>)> = vec![(
        "月度例行保养".into(),
        PlanValues {
            name: "",
            equipment_id: None,
            product_id: Some(first),
            template_id: tpl[0],
            interval_days: 30,
            mode: "fixed",
            meter_interval: None,
            meter_unit: None,
            start_date: &s1,
            lead_days: 14,
            horizon_days: 90,
        },
    )];
    let quarterly = repo::some_units(&mut tx.c(), org, second, 3).await?;
    let annual = repo::some_units(&mut tx.c(), org, third, 3).await?;
    for (i, eq) in quarterly.iter().enumerate() {
        plans.push((
            format!("季度保养 {}", i + 1),
            PlanValues {
                name: "",
                equipment_id: Some(*eq),
                product_id: None,
                template_id: tpl[1],
                interval_days: 91,
                mode: "fixed",
                meter_interval: None,
                meter_unit: None,
                start_date: &s3,
                lead_days: 14,
                horizon_days: 180,
            },
        ));
    }
    for (i, eq) in annual.iter().enumerate() {
        plans.push((
            format!("年度保养 {}", i + 1),
            PlanValues {
                name: "",
                equipment_id: Some(*eq),
                product_id: None,
                template_id: tpl[2],
                interval_days: 365,
                mode: "fixed",
                meter_interval: None,
                meter_unit: None,
                start_date: &s12,
                lead_days: 30,
                horizon_days: 365,
            },
        ));
    }
    if let Some(eq) = repo::some_units(&mut tx.c(), org, first, 1).await?.first() {
        plans.push((
            "运行小时保养（浮动）".into(),
            PlanValues {
                name: "",
                equipment_id: Some(*eq),
                product_id: None,
                template_id: tpl[0],
                interval_days: 60,
                mode: "floating",
                meter_interval: Some(500),
                meter_unit: Some("h"),
                start_date: &today,
                lead_days: 14,
                horizon_days: 60,
            },
        ));
    }
    let mut ids = Vec::new();
    for (name, v) in &plans {
        let v = PlanValues { name, ..v.clone() };
        let id = repo::insert(&mut tx.c(), org, &v, now).await?;
        let after = repo::get(&mut tx.c(), org, id).await?;
        store::audit::record(
            &mut tx.c(),
            NewEntry {
                org_id: Some(org),
                at: now,
                actor: &actor,
                action: "create",
                entity: ENTITY,
                entity_id: Some(id),
                before: None,
                after: serde_json::to_value(&after).ok(),
            },
        )
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    for id in ids {
        scheduler::run_plan(&st.db, org, id, now).await?;
    }
    Ok(())
}
