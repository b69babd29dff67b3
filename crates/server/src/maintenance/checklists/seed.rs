//! The seed's three maintenance levels (DOMAIN.md §1.4), exactly: routine (例行保养) with
//! groups A basic check, B operation check and C upkeep; quarterly (季度保养) = routine + the
//! quarter's operation summary and a database backup; annual (年度保养) = quarterly + the
//! year's operation summary, a database backup, a full inspection of the main equipment and a
//! function test. Written for the demo company, audited as the system.

use domain::maintenance::checklist::ItemKind;
use store::Tx;
use store::audit::{Actor, NewEntry};
use store::maintenance::checklists::{self as repo, ItemValues};

use super::service::{ITEM, TEMPLATE};
use crate::error::AppResult;

/// One seeded item: (group code, group name, text, kind, unit, minimum).
type SeedItem = (
    &'static str,
    &'static str,
    &'static str,
    ItemKind,
    Option<&'static str>,
    Option<f64>,
);

const PF: ItemKind = ItemKind::PassFail;

/// Routine maintenance (例行保养): the seed's groups A, B and C.
const ROUTINE: &[SeedItem] = &[
    ("A", "基本检查", "供电电源测试", PF, None, None),
    ("A", "基本检查", "硬件保养与检查", PF, None, None),
    (
        "A",
        "基本检查",
        "电气元件检查及软件诊断测试",
        PF,
        None,
        None,
    ),
    (
        "A",
        "基本检查",
        "操作平台反馈测试及综合功能检查",
        PF,
        None,
        None,
    ),
    ("A", "基本检查", "线路检查及电缆接头紧固", PF, None, None),
    (
        "B",
        "运行检查",
        "报警联动程序、数据库及存档记录检查",
        PF,
        None,
        None,
    ),
    ("B", "运行检查", "切换操作检查", PF, None, None),
    (
        "B",
        "运行检查",
        "与客户设备管理员复核设备运行情况",
        PF,
        None,
        None,
    ),
    ("C", "保养", "控制柜元件清洁除尘", PF, None, None),
    ("C", "保养", "设备擦拭", PF, None, None),
    (
        "C",
        "保养",
        "电机测试（绝缘电阻）",
        ItemKind::Measure,
        Some("MΩ"),
        Some(0.5),
    ),
    ("C", "保养", "性能测试", PF, None, None),
    ("C", "保养", "线路测试", PF, None, None),
];

/// Quarterly maintenance (季度保养): routine plus these.
const QUARTERLY: &[SeedItem] = &[
    (
        "D",
        "季度保养",
        "本季度运行情况总结",
        ItemKind::Text,
        None,
        None,
    ),
    ("D", "季度保养", "数据库备份", PF, None, None),
];

/// Annual maintenance (年度保养): quarterly (and so routine) plus these.
const ANNUAL: &[SeedItem] = &[
    (
        "E",
        "年度保养",
        "本年度运行情况总结",
        ItemKind::Text,
        None,
        None,
    ),
    ("E", "年度保养", "数据库备份", PF, None, None),
    ("E", "年度保养", "主要设备全面检查", PF, None, None),
    ("E", "年度保养", "功能测试", PF, None, None),
];

/// The levels: (code, name, items), each including the one before it.
const LEVELS: &[(&str, &str, &[SeedItem])] = &[
    ("routine", "例行保养", ROUTINE),
    ("quarterly", "季度保养", QUARTERLY),
    ("annual", "年度保养", ANNUAL),
];

/// Creates the seed's three checklist levels in `org` unless a `routine` level exists.
pub async fn seed_demo(tx: &mut Tx, org: i64, now: i64) -> AppResult<()> {
    if repo::template_id_by_code(&mut tx.c(), org, "routine")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let actor = Actor::system("demo");
    let mut below = None;
    for (code, name, items) in LEVELS {
        let id = repo::insert_template(&mut tx.c(), org, code, name, below, now).await?;
        let t = repo::get_template(&mut tx.c(), org, id).await?;
        record(tx, &actor, org, now, TEMPLATE, id, &t).await?;
        for (gc, gn, text, kind, unit, min) in items.iter() {
            let v = ItemValues {
                group_code: gc,
                group_name: gn,
                text,
                kind: kind.as_str(),
                unit: *unit,
                min_value: *min,
                max_value: None,
                required: true,
            };
            let item = repo::insert_item(&mut tx.c(), org, id, &v, now).await?;
            let after = repo::get_item(&mut tx.c(), org, id, item).await?;
            record(tx, &actor, org, now, ITEM, item, &after).await?;
        }
        below = Some(id);
    }
    Ok(())
}

async fn record<T: serde::Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
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
