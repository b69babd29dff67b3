//! Checklist template transactions: templates (code, name, the level they include; a cycle
//! is refused), their items (add, edit, retire, restore, reorder), each change audited in its
//! transaction; and the effective checklist of a level (its items and those of the levels
//! below, in order, grouped), which service orders are worked against.

use std::collections::HashMap;

use domain::FieldErrors;
use domain::auth::Permission;
use domain::maintenance::checklist::{self as rules, ItemDraft, ItemKind, TemplateDraft};
use serde::Serialize;
use store::maintenance::checklists::{self as repo, Item, ItemValues, Template};
use store::{Conn, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// Audit entity of a template.
pub const TEMPLATE: &str = "checklist_template";
/// Audit entity of an item.
pub const ITEM: &str = "checklist_item";

/// The rules' view of a stored item.
pub fn rule_item(i: &Item) -> rules::Item {
    rules::Item {
        id: i.id,
        template_id: i.template_id,
        group_code: i.group_code.clone(),
        group_name: i.group_name.clone(),
        position: i.position,
        text: i.text.clone(),
        kind: ItemKind::parse(&i.kind).unwrap_or(ItemKind::PassFail),
        unit: i.unit.clone(),
        min_value: i.min_value,
        max_value: i.max_value,
        required: i.required,
    }
}

/// An item of an effective checklist, with the level it belongs to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveItem {
    pub id: i64,
    /// The level (template) the item belongs to.
    pub template_id: i64,
    pub level_name: String,
    pub group_code: String,
    pub group_name: String,
    pub position: i64,
    pub text: String,
    /// pass_fail, measure, text or photo.
    pub kind: String,
    pub unit: Option<String>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub required: bool,
    /// False for a retired item shown because an order has a result for it.
    pub active: bool,
}

impl EffectiveItem {
    /// The rules' view of the item.
    pub fn rule(&self) -> rules::Item {
        rules::Item {
            id: self.id,
            template_id: self.template_id,
            group_code: self.group_code.clone(),
            group_name: self.group_name.clone(),
            position: self.position,
            text: self.text.clone(),
            kind: ItemKind::parse(&self.kind).unwrap_or(ItemKind::PassFail),
            unit: self.unit.clone(),
            min_value: self.min_value,
            max_value: self.max_value,
            required: self.required,
        }
    }
    /// The limits of a measured item as shown ("≥ 0.5 MΩ", "1–5 V").
    pub fn limits(&self) -> String {
        limits_text(self.min_value, self.max_value, self.unit.as_deref())
    }
}

/// Limits as shown: "≥ 0.5 MΩ", "≤ 40 ℃", "1–5 V"; the unit alone without limits.
pub fn limits_text(min: Option<f64>, max: Option<f64>, unit: Option<&str>) -> String {
    let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}–{b}{unit}"),
        (Some(a), None) => format!("≥ {a}{unit}"),
        (None, Some(b)) => format!("≤ {b}{unit}"),
        (None, None) => unit.trim().to_string(),
    }
}

/// A group of an effective checklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveGroup {
    pub code: String,
    pub name: String,
    pub items: Vec<EffectiveItem>,
}

/// A level's effective checklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Effective {
    /// The levels it is made of, bottom first: (id, name).
    pub levels: Vec<Level>,
    pub groups: Vec<EffectiveGroup>,
}

/// One level of an effective checklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Level {
    pub id: i64,
    pub code: String,
    pub name: String,
}

impl Effective {
    /// The rules' view of the groups.
    pub fn rule_groups(&self) -> Vec<rules::Group> {
        self.groups
            .iter()
            .map(|g| rules::Group {
                code: g.code.clone(),
                name: g.name.clone(),
                items: g.items.iter().map(EffectiveItem::rule).collect(),
            })
            .collect()
    }
    /// Every item, in order.
    pub fn items(&self) -> impl Iterator<Item = &EffectiveItem> {
        self.groups.iter().flat_map(|g| g.items.iter())
    }
    /// Number of items.
    pub fn len(&self) -> usize {
        self.items().count()
    }
    /// True without items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The effective checklist of template `id`: its items and those of the levels below it,
/// bottom level first, grouped by code. With `results_of`, retired items that order has a
/// result for are kept.
pub async fn effective(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    results_of: Option<i64>,
) -> AppResult<Effective> {
    let links = repo::links(c, org).await?;
    let levels = rules::levels(&links, id)?;
    let items = repo::items(c, org, &levels, false, results_of).await?;
    let all = repo::templates(c, org, true).await?;
    let names: HashMap<i64, &Template> = all.iter().map(|t| (t.id, t)).collect();
    let active: HashMap<i64, bool> = items.iter().map(|i| (i.id, i.active)).collect();
    let rule_items: Vec<rules::Item> = items.iter().map(rule_item).collect();
    let groups = rules::effective(&levels, &rule_items)
        .into_iter()
        .map(|g| EffectiveGroup {
            code: g.code,
            name: g.name,
            items: g
                .items
                .into_iter()
                .map(|i| EffectiveItem {
                    level_name: names
                        .get(&i.template_id)
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    active: active.get(&i.id).copied().unwrap_or(true),
                    id: i.id,
                    template_id: i.template_id,
                    group_code: i.group_code,
                    group_name: i.group_name,
                    position: i.position,
                    text: i.text,
                    kind: i.kind.as_str().to_string(),
                    unit: i.unit,
                    min_value: i.min_value,
                    max_value: i.max_value,
                    required: i.required,
                })
                .collect(),
        })
        .collect();
    Ok(Effective {
        levels: levels
            .iter()
            .filter_map(|l| names.get(l))
            .map(|t| Level {
                id: t.id,
                code: t.code.clone(),
                name: t.name.clone(),
            })
            .collect(),
        groups,
    })
}

/// The templates of the organization.
pub async fn list(st: &AppState, ctx: &Ctx, include_retired: bool) -> AppResult<Vec<Template>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::templates(&mut h.c(), org, include_retired).await?)
}

/// A template with its own items (retired ones too) and its effective checklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub template: Template,
    /// This level's own items, retired ones included, by position.
    pub items: Vec<Item>,
    pub effective: Effective,
}

/// One template.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Template> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_template(&mut h.c(), org, id).await?)
}

/// A template's detail.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    let template = repo::get_template(&mut h.c(), org, id).await?;
    let items = repo::items(&mut h.c(), org, &[id], true, None).await?;
    let effective = effective(&mut h.c(), org, id, None).await?;
    Ok(Detail {
        template,
        items,
        effective,
    })
}

/// The effective checklist of a template the user may see.
pub async fn checklist(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Effective> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    repo::get_template(&mut h.c(), org, id).await?;
    effective(&mut h.c(), org, id, None).await
}

async fn check(tx: &mut Tx, org: i64, d: &TemplateDraft, id: Option<i64>) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if repo::code_taken(&mut tx.c(), org, &d.code, id).await? {
        errs.add("code", "taken", None);
    }
    if let Some(inc) = d.includes_id {
        match repo::get_template(&mut tx.c(), org, inc).await {
            Ok(_) => {
                let links = repo::links(&mut tx.c(), org).await?;
                if rules::creates_cycle(&links, id.unwrap_or(0), Some(inc)) || id == Some(inc) {
                    errs.add("includes_id", "checklist_cycle", None);
                }
            }
            Err(store::StoreError::NotFound) => errs.add("includes_id", "choice", None),
            Err(e) => return Err(e.into()),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// Creates a template (a level).
pub async fn create(st: &AppState, ctx: &Ctx, d: TemplateDraft) -> AppResult<Template> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check(&mut tx, org, &d, None).await?;
    let id = repo::insert_template(&mut tx.c(), org, &d.code, &d.name, d.includes_id, now).await?;
    let t = repo::get_template(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: TEMPLATE,
            id,
            before: None,
            after: Some(&t),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Updates a template read at `version`; a level that would include itself is refused.
pub async fn update(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: TemplateDraft,
) -> AppResult<Template> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_template(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check(&mut tx, org, &d, Some(id)).await?;
    repo::update_template(
        &mut tx.c(),
        org,
        id,
        version,
        &d.code,
        &d.name,
        d.includes_id,
        now,
    )
    .await?;
    let after = repo::get_template(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: TEMPLATE,
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires or restores a template (orders already made with it keep it).
pub async fn set_active(st: &AppState, ctx: &Ctx, id: i64, active: bool) -> AppResult<Template> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_template(&mut tx.c(), org, id).await?;
    repo::set_template_active(&mut tx.c(), org, id, active, now).await?;
    let after = repo::get_template(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if active { "restore" } else { "retire" },
            entity: TEMPLATE,
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

fn values(d: &ItemDraft) -> ItemValues<'_> {
    ItemValues {
        group_code: &d.group_code,
        group_name: &d.group_name,
        text: &d.text,
        kind: d.kind.as_str(),
        unit: d.unit.as_deref(),
        min_value: d.min_value,
        max_value: d.max_value,
        required: d.required,
    }
}

async fn item_change(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    now: i64,
    action: &str,
    before: Option<&Item>,
    after: &Item,
) -> AppResult<()> {
    repo::touch_template(&mut tx.c(), org, after.template_id, now).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: ITEM,
            id: after.id,
            before,
            after: Some(after),
        },
    )
    .await
}

/// Adds an item at the end of a template.
pub async fn add_item(st: &AppState, ctx: &Ctx, template: i64, d: ItemDraft) -> AppResult<Item> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    repo::get_template(&mut tx.c(), org, template).await?;
    let id = repo::insert_item(&mut tx.c(), org, template, &values(&d), now).await?;
    let after = repo::get_item(&mut tx.c(), org, template, id).await?;
    item_change(&mut tx, ctx, org, now, "create", None, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Rewrites an item of a template.
pub async fn update_item(
    st: &AppState,
    ctx: &Ctx,
    template: i64,
    id: i64,
    d: ItemDraft,
) -> AppResult<Item> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_item(&mut tx.c(), org, template, id).await?;
    repo::update_item(&mut tx.c(), org, id, &values(&d)).await?;
    let after = repo::get_item(&mut tx.c(), org, template, id).await?;
    item_change(&mut tx, ctx, org, now, "update", Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires or restores an item.
pub async fn set_item_active(
    st: &AppState,
    ctx: &Ctx,
    template: i64,
    id: i64,
    active: bool,
) -> AppResult<Item> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_item(&mut tx.c(), org, template, id).await?;
    repo::set_item_active(&mut tx.c(), org, id, active).await?;
    let after = repo::get_item(&mut tx.c(), org, template, id).await?;
    let action = if active { "restore" } else { "retire" };
    item_change(&mut tx, ctx, org, now, action, Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Where an item moves inside its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTo {
    Up,
    Down,
    /// 1-based position (clamped to the level's items).
    Position(i64),
}

/// Moves an item inside its level and numbers the level's items 1, 2, 3… again.
pub async fn move_item(
    st: &AppState,
    ctx: &Ctx,
    template: i64,
    id: i64,
    to: MoveTo,
) -> AppResult<Item> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_item(&mut tx.c(), org, template, id).await?;
    let mut ids: Vec<i64> = repo::items(&mut tx.c(), org, &[template], true, None)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let Some(at) = ids.iter().position(|x| *x == id) else {
        return Err(AppError::NotFound);
    };
    let last = ids.len() - 1;
    let target = match to {
        MoveTo::Up => at.saturating_sub(1),
        MoveTo::Down => (at + 1).min(last),
        MoveTo::Position(p) => (p.max(1) as usize - 1).min(last),
    };
    ids.remove(at);
    ids.insert(target, id);
    repo::renumber(&mut tx.c(), org, template, &ids).await?;
    let after = repo::get_item(&mut tx.c(), org, template, id).await?;
    if after.position != before.position {
        item_change(&mut tx, ctx, org, now, "update", Some(&before), &after).await?;
    }
    tx.commit().await?;
    Ok(after)
}
