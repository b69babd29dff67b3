//! Changes to customers, their contacts and sites: permission check, one transaction with
//! the reference checks, the write, its audit row and the customer's search document, then
//! commit. `insert_customer` and `insert_contact` run inside a caller's transaction (import).

use domain::archives::customers::{ContactDraft, CustomerDraft, SiteDraft};
use domain::auth::Permission;
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::archives::customers::{
    self as repo, Contact, ContactValues, Customer, CustomerFilter, CustomerValues, Site,
    SiteValues,
};
use store::timeline::Event;
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The search-index kind of a customer.
pub const KIND: &str = "customer";

/// A customer with its contacts and sites.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub sites: Vec<Site>,
    /// Installed units of this customer.
    pub equipment_count: i64,
}

fn invalid(errs: FieldErrors) -> AppResult<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

fn values(d: &CustomerDraft) -> CustomerValues<'_> {
    CustomerValues {
        code: d.code.as_deref(),
        name: &d.name,
        kind: d.kind.as_str(),
        industry: d.industry.as_deref(),
        region: d.region.as_deref(),
        address: d.address.as_deref(),
        tags: &d.tags,
        notes: d.notes.as_deref(),
        owner_staff_id: d.owner_staff_id,
        consent_contact: d.consent_contact,
        consent_survey: d.consent_survey,
    }
}

fn contact_values(d: &ContactDraft) -> ContactValues<'_> {
    ContactValues {
        name: &d.name,
        role: d.role.as_deref(),
        mobile: d.mobile.as_deref(),
        phone: d.phone.as_deref(),
        email: d.email.as_deref(),
        wechat: d.wechat.as_deref(),
    }
}

fn site_values(d: &SiteDraft) -> SiteValues<'_> {
    SiteValues {
        name: &d.name,
        region: d.region.as_deref(),
        address: d.address.as_deref(),
    }
}

/// Checks the unique code and the owner; `before_owner` is kept even if since retired.
async fn check(
    tx: &mut Tx,
    org: i64,
    d: &CustomerDraft,
    id: Option<i64>,
    before_owner: Option<i64>,
) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if let Some(code) = &d.code
        && repo::code_taken(&mut tx.c(), org, code, id).await?
    {
        errs.add("code", "taken", None);
    }
    if let Some(owner) = d.owner_staff_id
        && Some(owner) != before_owner
        && !repo::staff_exists(&mut tx.c(), org, owner).await?
    {
        errs.add("owner_staff_id", "choice", None);
    }
    invalid(errs)
}

/// The searchable title of a customer: its name, and its code in brackets.
pub fn title(c: &Customer) -> String {
    match &c.code {
        Some(code) => format!("{} ({code})", c.name),
        None => c.name.clone(),
    }
}

/// The searchable text of a customer with its contacts and sites.
pub fn search_text(c: &Customer, contacts: &[Contact], sites: &[Site]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(c.code.as_deref());
    parts.push(&c.name);
    for v in [&c.region, &c.address, &c.industry] {
        parts.extend(v.as_deref());
    }
    parts.extend(c.tags.iter().map(String::as_str));
    for k in contacts {
        parts.push(&k.name);
        for v in [&k.mobile, &k.phone, &k.email, &k.wechat] {
            parts.extend(v.as_deref());
        }
    }
    for s in sites {
        parts.push(&s.name);
        for v in [&s.region, &s.address] {
            parts.extend(v.as_deref());
        }
    }
    let mut text = parts.join(" ");
    // "139 1234 5678" is also found by "12345678": index phones with their digits only too.
    for v in contacts
        .iter()
        .flat_map(|k| [&k.mobile, &k.phone])
        .flatten()
    {
        let digits: String = v.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != v.len() && !digits.is_empty() {
            text.push(' ');
            text.push_str(&digits);
        }
    }
    text
}

/// Rewrites the search document of a customer from what is stored now.
pub async fn reindex(tx: &mut Tx, org: i64, id: i64) -> AppResult<()> {
    let c = repo::get_customer(&mut tx.c(), org, id).await?;
    let contacts = repo::contacts(&mut tx.c(), org, id).await?;
    let sites = repo::sites(&mut tx.c(), org, id).await?;
    let text = search_text(&c, &contacts, &sites);
    store::search::upsert(&mut tx.c(), org, KIND, id, &title(&c), &text).await?;
    Ok(())
}

/// Checks, inserts, audits and indexes a customer inside the caller's transaction (no
/// commit): import calls this for many rows in one transaction.
pub async fn insert_customer(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    d: &CustomerDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    check(tx, org, d, None, None).await?;
    let id = repo::insert_customer(&mut tx.c(), org, &values(d), now).await?;
    let after = repo::get_customer(&mut tx.c(), org, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "customer",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    reindex(tx, org, id).await?;
    Ok(id)
}

/// Inserts, audits and re-indexes a contact of a customer inside the caller's transaction.
pub async fn insert_contact(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    customer_id: i64,
    d: &ContactDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    repo::get_customer(&mut tx.c(), org, customer_id).await?;
    let id = repo::insert_contact(&mut tx.c(), org, customer_id, &contact_values(d), now).await?;
    let after = repo::get_contact(&mut tx.c(), org, customer_id, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "customer_contact",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    reindex(tx, org, customer_id).await?;
    Ok(id)
}

/// Creates a customer.
pub async fn create_customer(st: &AppState, ctx: &Ctx, d: CustomerDraft) -> AppResult<Customer> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_customer(&mut tx, ctx, org, &d, now).await?;
    let c = repo::get_customer(&mut tx.c(), org, id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Updates a customer read at `version`.
pub async fn update_customer(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: CustomerDraft,
) -> AppResult<Customer> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_customer(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check(&mut tx, org, &d, Some(id), before.owner_staff_id).await?;
    repo::update_customer(&mut tx.c(), org, id, version, &values(&d), now).await?;
    let after = repo::get_customer(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "customer",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    reindex(&mut tx, org, id).await?;
    if before.name != after.name {
        // Orders and units are found by their customer's name too.
        for o in store::archives::orders::ids_by_customer(&mut tx.c(), org, id).await? {
            crate::archives::orders::reindex(&mut tx, org, o).await?;
        }
        for e in store::archives::equipment::ids_by_customer(&mut tx.c(), org, id).await? {
            crate::archives::equipment::reindex(&mut tx, org, e).await?;
        }
    }
    tx.commit().await?;
    Ok(after)
}

/// Retires (`active = false`) or restores a customer read at `version`.
pub async fn set_customer_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Customer> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_customer(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_customer_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get_customer(&mut tx.c(), org, id).await?;
    let action = if active { "restore" } else { "retire" };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: "customer",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn detail_in(tx: &mut Tx, org: i64, id: i64) -> AppResult<CustomerDetail> {
    Ok(CustomerDetail {
        customer: repo::get_customer(&mut tx.c(), org, id).await?,
        contacts: repo::contacts(&mut tx.c(), org, id).await?,
        sites: repo::sites(&mut tx.c(), org, id).await?,
        equipment_count: repo::equipment_count(&mut tx.c(), org, id).await?,
    })
}

/// Deletes a customer that has no history (orders, equipment or timeline events), with its
/// contacts, sites and search document. A customer with history can only be retired.
pub async fn delete_customer(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<()> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = detail_in(&mut tx, org, id).await?;
    let (orders, units, events) = repo::history_counts(&mut tx.c(), org, id).await?;
    if orders + units + events > 0 {
        return Err(DomainError::InvalidTransition("customer_has_history").into());
    }
    repo::delete_customer(&mut tx.c(), org, id).await?;
    store::search::remove(&mut tx.c(), KIND, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: "customer",
            id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A page of customers.
pub async fn list_customers(
    st: &AppState,
    ctx: &Ctx,
    f: &CustomerFilter,
    p: PageReq,
) -> AppResult<Page<Customer>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list_customers(&mut h.c(), org, f, p).await?)
}

/// One customer.
pub async fn get_customer(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Customer> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_customer(&mut h.c(), org, id).await?)
}

/// One customer with its contacts, sites and number of units.
pub async fn get_detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<CustomerDetail> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    let mut c = h.c();
    Ok(CustomerDetail {
        customer: repo::get_customer(&mut c, org, id).await?,
        contacts: repo::contacts(&mut c, org, id).await?,
        sites: repo::sites(&mut c, org, id).await?,
        equipment_count: repo::equipment_count(&mut c, org, id).await?,
    })
}

/// A page of a customer's timeline, newest first.
pub async fn timeline(st: &AppState, ctx: &Ctx, id: i64, p: PageReq) -> AppResult<Page<Event>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    repo::get_customer(&mut h.c(), org, id).await?;
    Ok(store::timeline::for_customer(&mut h.c(), org, id, p).await?)
}

/// Regions in use and active staff, for the list filter and the form.
pub async fn regions(st: &AppState, ctx: &Ctx) -> AppResult<Vec<String>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::regions(&mut h.c(), org).await?)
}

/// Active staff as (id, name), for the owner choice.
pub async fn owner_choices(st: &AppState, ctx: &Ctx) -> AppResult<Vec<(i64, String)>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::staff_choices(&mut h.c(), org).await?)
}

// ---------- contacts ----------

/// Adds a contact to a customer.
pub async fn create_contact(
    st: &AppState,
    ctx: &Ctx,
    customer: i64,
    d: ContactDraft,
) -> AppResult<Contact> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_contact(&mut tx, ctx, org, customer, &d, now).await?;
    let c = repo::get_contact(&mut tx.c(), org, customer, id).await?;
    tx.commit().await?;
    Ok(c)
}

/// One contact of a customer.
pub async fn get_contact(st: &AppState, ctx: &Ctx, customer: i64, id: i64) -> AppResult<Contact> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_contact(&mut h.c(), org, customer, id).await?)
}

/// Updates a contact read at `version`.
pub async fn update_contact(
    st: &AppState,
    ctx: &Ctx,
    customer: i64,
    id: i64,
    version: i64,
    d: ContactDraft,
) -> AppResult<Contact> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_contact(&mut tx.c(), org, customer, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::update_contact(
        &mut tx.c(),
        org,
        customer,
        id,
        version,
        &contact_values(&d),
        now,
    )
    .await?;
    let after = repo::get_contact(&mut tx.c(), org, customer, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "customer_contact",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    reindex(&mut tx, org, customer).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a contact.
pub async fn delete_contact(st: &AppState, ctx: &Ctx, customer: i64, id: i64) -> AppResult<()> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_contact(&mut tx.c(), org, customer, id).await?;
    repo::delete_contact(&mut tx.c(), org, customer, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: "customer_contact",
            id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    reindex(&mut tx, org, customer).await?;
    tx.commit().await?;
    Ok(())
}

// ---------- sites ----------

async fn check_site(
    tx: &mut Tx,
    org: i64,
    customer: i64,
    d: &SiteDraft,
    id: Option<i64>,
) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if repo::site_name_taken(&mut tx.c(), org, customer, &d.name, id).await? {
        errs.add("name", "taken", None);
    }
    invalid(errs)
}

/// Adds a site to a customer inside the caller's transaction (no commit).
pub async fn insert_site(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    customer: i64,
    d: &SiteDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    repo::get_customer(&mut tx.c(), org, customer).await?;
    check_site(tx, org, customer, d, None).await?;
    let id = repo::insert_site(&mut tx.c(), org, customer, &site_values(d), now).await?;
    let after = repo::get_site(&mut tx.c(), org, customer, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "customer_site",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    reindex(tx, org, customer).await?;
    Ok(id)
}

/// Adds a site to a customer.
pub async fn create_site(st: &AppState, ctx: &Ctx, customer: i64, d: SiteDraft) -> AppResult<Site> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_site(&mut tx, ctx, org, customer, &d, now).await?;
    let s = repo::get_site(&mut tx.c(), org, customer, id).await?;
    tx.commit().await?;
    Ok(s)
}

/// One site of a customer.
pub async fn get_site(st: &AppState, ctx: &Ctx, customer: i64, id: i64) -> AppResult<Site> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_site(&mut h.c(), org, customer, id).await?)
}

/// Updates a site read at `version`.
pub async fn update_site(
    st: &AppState,
    ctx: &Ctx,
    customer: i64,
    id: i64,
    version: i64,
    d: SiteDraft,
) -> AppResult<Site> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_site(&mut tx.c(), org, customer, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check_site(&mut tx, org, customer, &d, Some(id)).await?;
    repo::update_site(
        &mut tx.c(),
        org,
        customer,
        id,
        version,
        &site_values(&d),
        now,
    )
    .await?;
    let after = repo::get_site(&mut tx.c(), org, customer, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "customer_site",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    reindex(&mut tx, org, customer).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a site that no installed unit refers to.
pub async fn delete_site(st: &AppState, ctx: &Ctx, customer: i64, id: i64) -> AppResult<()> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_site(&mut tx.c(), org, customer, id).await?;
    if repo::site_equipment_count(&mut tx.c(), org, id).await? > 0 {
        return Err(DomainError::InvalidTransition("site_has_equipment").into());
    }
    repo::delete_site(&mut tx.c(), org, customer, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: "customer_site",
            id,
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    reindex(&mut tx, org, customer).await?;
    tx.commit().await?;
    Ok(())
}
