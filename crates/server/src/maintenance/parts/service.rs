//! Changes to spare parts, stock locations and stock: permission check, one transaction
//! with the uniqueness and reference checks, the write and its audit row, then commit.
//! Stock never goes below zero: decrements are one guarded UPDATE in the store.

use domain::FieldErrors;
use domain::auth::Permission;
use domain::maintenance::parts::{MoveDraft, PartDraft};
use serde::Serialize;
use store::maintenance::parts::{
    self as repo, Location, Move, Part, PartFilter, PartValues, StockRow,
};
use store::{Conn, Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::service::{Change, audit};

fn values(d: &PartDraft) -> PartValues<'_> {
    PartValues {
        code: &d.code,
        name: &d.name,
        unit: &d.unit,
        unit_cost_fen: d.unit_cost_fen,
    }
}

async fn check(tx: &mut Tx, org: i64, d: &PartDraft, id: Option<i64>) -> AppResult<()> {
    if repo::code_taken(&mut tx.c(), org, &d.code, id).await? {
        return Err(AppError::Invalid(FieldErrors::single("code", "taken")));
    }
    Ok(())
}

/// A page of parts with their totals on hand.
pub async fn list(st: &AppState, ctx: &Ctx, f: &PartFilter, p: PageReq) -> AppResult<Page<Part>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One part.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Part> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// Creates a part.
pub async fn create(st: &AppState, ctx: &Ctx, d: PartDraft) -> AppResult<Part> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check(&mut tx, org, &d, None).await?;
    let id = repo::insert(&mut tx.c(), org, &values(&d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "part",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a part read at `version`.
pub async fn update(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: PartDraft,
) -> AppResult<Part> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check(&mut tx, org, &d, Some(id)).await?;
    repo::update(&mut tx.c(), org, id, version, &values(&d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "part",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires (`active = false`) or restores a part read at `version`.
pub async fn set_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Part> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if active { "restore" } else { "retire" },
            entity: "part",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- locations ----------

/// The stock locations (active first).
pub async fn locations(
    st: &AppState,
    ctx: &Ctx,
    include_retired: bool,
) -> AppResult<Vec<Location>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::locations(&mut h.c(), org, include_retired).await?)
}

/// One stock location.
pub async fn location(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Location> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_location(&mut h.c(), org, id).await?)
}

async fn location_name_free(tx: &mut Tx, org: i64, name: &str, id: Option<i64>) -> AppResult<()> {
    if repo::location_name_taken(&mut tx.c(), org, name, id).await? {
        return Err(AppError::Invalid(FieldErrors::single("name", "taken")));
    }
    Ok(())
}

/// Creates a stock location (`name` parsed by `domain::maintenance::parts::parse_location`).
pub async fn create_location(st: &AppState, ctx: &Ctx, name: &str) -> AppResult<Location> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    location_name_free(&mut tx, org, name, None).await?;
    let id = repo::insert_location(&mut tx.c(), org, name, now).await?;
    let after = repo::get_location(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "stock_location",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Renames a stock location.
pub async fn rename_location(st: &AppState, ctx: &Ctx, id: i64, name: &str) -> AppResult<Location> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_location(&mut tx.c(), org, id).await?;
    location_name_free(&mut tx, org, name, Some(id)).await?;
    repo::rename_location(&mut tx.c(), org, id, name).await?;
    let after = repo::get_location(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "stock_location",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires or restores a stock location (its stock stays; a retired location takes no
/// receipts).
pub async fn set_location_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    active: bool,
) -> AppResult<Location> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_location(&mut tx.c(), org, id).await?;
    repo::set_location_active(&mut tx.c(), org, id, active).await?;
    let after = repo::get_location(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if active { "restore" } else { "retire" },
            entity: "stock_location",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- stock ----------

/// Stock rows (part × location), optionally of one part and/or one location.
pub async fn stock(
    st: &AppState,
    ctx: &Ctx,
    part_id: Option<i64>,
    location_id: Option<i64>,
    p: PageReq,
) -> AppResult<Page<StockRow>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::stock(&mut h.c(), org, part_id, location_id, p).await?)
}

/// The moves of a part, newest first (404 for a part of another organization).
pub async fn moves(st: &AppState, ctx: &Ctx, part_id: i64, p: PageReq) -> AppResult<Page<Move>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    repo::get(&mut h.c(), org, part_id).await?;
    Ok(repo::moves(&mut h.c(), org, part_id, p).await?)
}

/// A stock move as audited and returned by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MoveRecord {
    /// The stock move's id.
    pub id: i64,
    pub part_id: i64,
    pub part_code: String,
    pub location_id: i64,
    pub location_name: String,
    pub delta: i64,
    /// receipt or correction.
    pub reason: String,
    /// Why a correction was made.
    pub note: Option<String>,
    /// On hand at the location after the move.
    pub on_hand: i64,
}

/// The "not enough stock" error of taking `requested` of a part from a location, on
/// `field`: names the part, the location and what is on hand there, in the request's
/// language. For every caller that takes stock (corrections here, parts used on orders).
pub async fn shortage(
    c: &mut Conn<'_>,
    tr: &Tr,
    org: i64,
    part_id: i64,
    location_id: i64,
    field: &str,
) -> AppResult<AppError> {
    let part = repo::get(c, org, part_id).await?;
    let loc = repo::get_location(c, org, location_id).await?;
    let on_hand = repo::on_hand(c, org, part_id, location_id).await?;
    let detail = tr
        .t("parts.short_detail")
        .replace("{part}", &format!("{} {}", part.code, part.name))
        .replace("{location}", &loc.name)
        .replace("{qty}", &format!("{on_hand} {}", part.unit));
    let mut e = FieldErrors::default();
    e.add(field, "stock_short", Some(detail));
    Ok(AppError::Invalid(e))
}

/// Records a receipt (adds) or a correction (adds or takes; never below zero) of a part at
/// a location, audited as a `stock_move`.
pub async fn record_move(
    st: &AppState,
    ctx: &Ctx,
    part_id: i64,
    d: MoveDraft,
) -> AppResult<MoveRecord> {
    let org = ctx.require(Permission::ManageParts)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let part = repo::get(&mut tx.c(), org, part_id).await?;
    let loc = match repo::get_location(&mut tx.c(), org, d.location_id).await {
        Ok(l) if l.active => l,
        Ok(_) | Err(store::StoreError::NotFound) => {
            return Err(AppError::Invalid(FieldErrors::single(
                "location_id",
                "choice",
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let reason = d.reason.as_str();
    let user = Some(ctx.user_id);
    let id = if d.delta > 0 {
        repo::give(
            &mut tx.c(),
            org,
            part_id,
            loc.id,
            d.delta,
            reason,
            None,
            user,
            now,
        )
        .await?
    } else {
        match repo::take_for(
            &mut tx.c(),
            org,
            part_id,
            loc.id,
            -d.delta,
            reason,
            None,
            user,
            now,
        )
        .await?
        {
            Some(id) => id,
            None => {
                let field = "delta";
                return Err(shortage(&mut tx.c(), &ctx.tr, org, part_id, loc.id, field).await?);
            }
        }
    };
    let rec = MoveRecord {
        id,
        part_id,
        part_code: part.code,
        location_id: loc.id,
        location_name: loc.name,
        delta: d.delta,
        reason: reason.to_string(),
        note: d.note,
        on_hand: repo::on_hand(&mut tx.c(), org, part_id, d.location_id).await?,
    };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "stock_move",
            id,
            before: None,
            after: Some(&rec),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(rec)
}
