//! Spare parts (备件) and stock: the parts list, stock locations, stock per part and
//! location, receipts and corrections. `service` holds the transactions (and the
//! "not enough stock" message other features reuse), `pages` the HTML, `api` the JSON under
//! `/api/v1/parts` and `/api/v1/stock`. Parts used on a service order are taken with
//! `store::maintenance::parts::take` by the order's service.

pub mod api;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use store::audit::{Actor, NewEntry};
use store::maintenance::{dispatch, parts as repo};
use utoipa::OpenApi;

use crate::app::AppState;
use crate::error::AppResult;

/// HTML and API routes of parts.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/parts", get(list).post(create))
        .route("/parts/new", get(new))
        .route("/parts/locations", get(locations).post(create_location))
        .route("/parts/locations/{id}", post(rename_location))
        .route("/parts/locations/{id}/retire", post(retire_location))
        .route("/parts/locations/{id}/restore", post(restore_location))
        .route("/parts/{id}", get(view).post(update))
        .route("/parts/{id}/edit", get(edit))
        .route("/parts/{id}/retire", post(retire))
        .route("/parts/{id}/restore", post(restore))
        .route("/parts/{id}/receive", post(receive))
        .route("/parts/{id}/correct", post(correct))
        .merge(api::routes())
}

/// The OpenAPI paths of parts and stock.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_parts,
        api::create_part,
        api::get_part,
        api::update_part,
        api::retire_part,
        api::restore_part,
        api::part_moves,
        api::list_stock,
        api::list_locations,
        api::create_location,
        api::rename_location,
        api::retire_location,
        api::restore_location,
        api::create_receipt,
        api::create_correction,
    ),
    components(schemas(
        store::maintenance::parts::Part,
        store::maintenance::parts::Location,
        store::maintenance::parts::StockRow,
        store::maintenance::parts::Move,
        service::MoveRecord,
        api::PartInput,
        api::LocationInput,
        api::ReceiptInput,
        api::CorrectionInput,
    ))
)]
pub struct Api;

/// Demo parts: (code, name, unit, unit cost in fen, on hand at 总仓, at 华东备件库).
const DEMO_PARTS: &[(&str, &str, &str, i64, i64, i64)] = &[
    ("MB-100", "主控板", "块", 128_000, 6, 2),
    ("VF-220", "变频器", "台", 365_000, 3, 1),
    ("KM-032", "接触器", "个", 18_500, 40, 12),
    ("FAN-120", "散热风扇", "个", 9_650, 25, 8),
    ("TS-010", "温度传感器", "个", 12_000, 30, 10),
    ("PS-016", "压力传感器", "个", 26_000, 12, 4),
    ("PSU-24V", "开关电源", "个", 34_000, 10, 3),
    ("RL-024", "中间继电器", "个", 4_500, 60, 20),
    ("FU-010", "熔断器", "个", 1_200, 100, 30),
    ("FLT-300", "空气滤网", "片", 3_500, 50, 15),
    ("BLT-A42", "传动皮带", "条", 7_800, 16, 0),
    ("BRG-6205", "轴承", "个", 6_600, 24, 6),
    ("HMI-07", "触摸显示屏", "块", 52_000, 2, 0),
    ("CBL-485", "通讯线缆", "米", 850, 200, 50),
    ("SEAL-50", "密封圈", "个", 600, 80, 0),
    ("BAT-12V", "备用电池", "块", 15_000, 1, 1),
];

/// The demo's stock locations.
const DEMO_LOCATIONS: [&str; 2] = ["总仓", "华东备件库"];

async fn audit_row<T: serde::Serialize>(
    tx: &mut store::Tx,
    org: i64,
    now: i64,
    actor: &Actor,
    entity: &str,
    id: i64,
    after: &T,
) -> AppResult<()> {
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action: "create",
            entity,
            entity_id: Some(id),
            before: None,
            after: serde_json::to_value(after).ok(),
        },
    )
    .await?;
    Ok(())
}

/// Loads the demo's spare parts (sixteen, in Chinese), two stock locations (总仓, 华东备件库)
/// with stock received into them, and the profile of the demo engineer (login `engineer`:
/// regions 华东 and 华中, the categories of the demo products he knows, team 华东一组).
/// Everything is audited as written by `demo`. Does nothing when the organization already
/// has parts.
pub async fn seed_demo(st: &AppState, org: i64) -> AppResult<()> {
    let actor = Actor::system("demo");
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let existing = repo::list(
        &mut tx.c(),
        org,
        &repo::PartFilter {
            include_retired: true,
            ..Default::default()
        },
        store::PageReq::new(Some(1), Some(1)),
    )
    .await?;
    if existing.total > 0 {
        return Ok(());
    }
    let mut locs = vec![];
    for name in DEMO_LOCATIONS {
        let id = match repo::locations(&mut tx.c(), org, true)
            .await?
            .into_iter()
            .find(|l| l.name == name)
        {
            Some(l) => l.id,
            None => {
                let id = repo::insert_location(&mut tx.c(), org, name, now).await?;
                let l = repo::get_location(&mut tx.c(), org, id).await?;
                audit_row(&mut tx, org, now, &actor, "stock_location", id, &l).await?;
                id
            }
        };
        locs.push(id);
    }
    for (code, name, unit, cost, q0, q1) in DEMO_PARTS {
        let v = repo::PartValues {
            code,
            name,
            unit,
            unit_cost_fen: *cost,
        };
        let id = repo::insert(&mut tx.c(), org, &v, now).await?;
        let p = repo::get(&mut tx.c(), org, id).await?;
        audit_row(&mut tx, org, now, &actor, "part", id, &p).await?;
        for (loc, qty) in locs.iter().zip([*q0, *q1]) {
            if qty == 0 {
                continue;
            }
            let m = repo::give(&mut tx.c(), org, id, *loc, qty, "receipt", None, None, now).await?;
            let after = serde_json::json!({
                "part_id": id, "part_code": code, "location_id": loc, "delta": qty, "reason": "receipt",
            });
            audit_row(&mut tx, org, now, &actor, "stock_move", m, &after).await?;
        }
    }
    // The demo engineer, if that user is a member here.
    let user = store::users::by_login(&mut tx.c(), "engineer").await?;
    if let Some((u, _)) = user
        && let Ok(e) = dispatch::engineer_of(&mut tx.c(), org, u.id).await
        && !e.has_profile
    {
        let regions = ["华东".to_string(), "华中".to_string()];
        let skills = ["机床".to_string(), "电气".to_string(), "泵站".to_string()];
        dispatch::save_profile(
            &mut tx.c(),
            org,
            u.id,
            0,
            &regions,
            &skills,
            Some("华东一组"),
            now,
        )
        .await?;
        let after = dispatch::engineer_of(&mut tx.c(), org, u.id).await?;
        audit_row(&mut tx, org, now, &actor, "engineer_profile", u.id, &after).await?;
    }
    tx.commit().await?;
    Ok(())
}
