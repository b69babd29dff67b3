//! Changes to service outlets: permission check, one transaction with the unique-name
//! check, the write, its audit row and the outlet's search document, then commit.

use domain::FieldErrors;
use domain::archives::outlets::OutletDraft;
use domain::auth::Permission;
use store::archives::outlets::{self as repo, Outlet, OutletFilter, OutletValues};
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The search-index kind of an outlet.
pub const KIND: &str = "outlet";

fn values(d: &OutletDraft) -> OutletValues<'_> {
    OutletValues {
        name: &d.name,
        kind: d.kind.as_str(),
        regions: &d.regions,
        address: d.address.as_deref(),
        contact_name: d.contact_name.as_deref(),
        contact_phone: d.contact_phone.as_deref(),
        contract_start: d.contract_start.as_deref(),
        contract_end: d.contract_end.as_deref(),
    }
}

async fn check(tx: &mut Tx, org: i64, d: &OutletDraft, id: Option<i64>) -> AppResult<()> {
    if repo::name_taken(&mut tx.c(), org, &d.name, id).await? {
        return Err(AppError::Invalid(FieldErrors::single("name", "taken")));
    }
    Ok(())
}

/// The searchable text of an outlet: name, regions, address and contact.
pub fn search_text(o: &Outlet) -> String {
    let mut parts: Vec<&str> = vec![&o.name];
    parts.extend(o.regions.iter().map(String::as_str));
    for v in [&o.address, &o.contact_name, &o.contact_phone] {
        parts.extend(v.as_deref());
    }
    parts.join(" ")
}

async fn reindex(tx: &mut Tx, org: i64, o: &Outlet) -> AppResult<()> {
    store::search::upsert(&mut tx.c(), org, KIND, o.id, &o.name, &search_text(o)).await?;
    Ok(())
}

/// Creates an outlet.
pub async fn create(st: &AppState, ctx: &Ctx, d: OutletDraft) -> AppResult<Outlet> {
    let org = ctx.require(Permission::ManageArchives)?.id;
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
            entity: "outlet",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    reindex(&mut tx, org, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates an outlet read at `version`.
pub async fn update(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: OutletDraft,
) -> AppResult<Outlet> {
    let org = ctx.require(Permission::ManageArchives)?.id;
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
            entity: "outlet",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    reindex(&mut tx, org, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires (`active = false`) or restores an outlet read at `version`.
pub async fn set_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Outlet> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    let action = if active { "restore" } else { "retire" };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: "outlet",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of outlets.
pub async fn list(
    st: &AppState,
    ctx: &Ctx,
    f: &OutletFilter,
    p: PageReq,
) -> AppResult<Page<Outlet>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One outlet.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Outlet> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}
