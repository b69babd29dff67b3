//! Customers (顾客档案) with their contacts and sites. Every query carries `org_id`; updates
//! carry the version read (a stale version is a `Conflict`).

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// A customer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: i64,
    pub code: Option<String>,
    pub name: String,
    /// company or person.
    pub kind: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub owner_staff_id: Option<i64>,
    pub owner_name: Option<String>,
    pub consent_contact: bool,
    pub consent_survey: bool,
    pub active: bool,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a customer.
#[derive(Debug, Clone)]
pub struct CustomerValues<'a> {
    pub code: Option<&'a str>,
    pub name: &'a str,
    pub kind: &'a str,
    pub industry: Option<&'a str>,
    pub region: Option<&'a str>,
    pub address: Option<&'a str>,
    pub tags: &'a [String],
    pub notes: Option<&'a str>,
    pub owner_staff_id: Option<i64>,
    pub consent_contact: bool,
    pub consent_survey: bool,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Substring of the name, code or region.
    pub q: Option<String>,
    /// Exact region.
    pub region: Option<String>,
    /// company or person.
    pub kind: Option<String>,
    pub include_retired: bool,
}

fn like(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace(['%', '_'], "")))
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

type CustRow = (
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    bool,
    bool,
    bool,
    i64,
    i64,
);

fn customer(r: CustRow) -> Customer {
    Customer {
        id: r.0,
        code: r.1,
        name: r.2,
        kind: r.3,
        industry: r.4,
        region: r.5,
        address: r.6,
        tags: serde_json::from_str(&r.7).unwrap_or_default(),
        notes: r.8,
        owner_staff_id: r.9,
        owner_name: r.10,
        consent_contact: r.11,
        consent_survey: r.12,
        active: r.13,
        updated_at: r.14,
        version: r.15,
    }
}

macro_rules! cust_select {
    () => {
        "SELECT c.id, c.code, c.name, c.kind, c.industry, c.region, c.address, c.tags, c.notes,
            c.owner_staff_id, s.name, c.consent_contact, c.consent_survey, c.active, c.updated_at, c.version
         FROM customers c LEFT JOIN staff s ON s.id = c.owner_staff_id "
    };
}

/// Inserts a customer; returns its id.
pub async fn insert_customer(
    c: &mut Conn<'_>,
    org: i64,
    v: &CustomerValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO customers (org_id, code, name, kind, industry, region, address, tags, notes, owner_staff_id,
            consent_contact, consent_survey, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, TRUE, $13, $13, 1) RETURNING id")
        .bind(org).bind(v.code).bind(v.name).bind(v.kind).bind(v.industry).bind(v.region).bind(v.address)
        .bind(json_list(v.tags)).bind(v.notes).bind(v.owner_staff_id).bind(v.consent_contact)
        .bind(v.consent_survey).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a customer if `version` is still current.
pub async fn update_customer(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &CustomerValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE customers SET code = $4, name = $5, kind = $6, industry = $7, region = $8, address = $9,
            tags = $10, notes = $11, owner_staff_id = $12, consent_contact = $13, consent_survey = $14,
            updated_at = $15, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.code).bind(v.name).bind(v.kind).bind(v.industry)
        .bind(v.region).bind(v.address).bind(json_list(v.tags)).bind(v.notes).bind(v.owner_staff_id)
        .bind(v.consent_contact).bind(v.consent_survey).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a customer if `version` is still current.
pub async fn set_customer_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE customers SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One customer of an organization.
pub async fn get_customer(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Customer> {
    let r: CustRow = on!(c, x => sqlx::query_as(concat!(cust_select!(), "WHERE c.org_id = $1 AND c.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(customer(r))
}

/// A page of customers, filtered in SQL.
pub async fn list_customers(
    c: &mut Conn<'_>,
    org: i64,
    f: &CustomerFilter,
    p: PageReq,
) -> StoreResult<Page<Customer>> {
    macro_rules! w {
        () => {
            "WHERE c.org_id = $1 AND ($2 OR c.active)
               AND ($3 IS NULL OR LOWER(c.name) LIKE LOWER($3) OR LOWER(c.code) LIKE LOWER($3)
                    OR c.region LIKE $3)
               AND ($4 IS NULL OR c.region = $4) AND ($5 IS NULL OR c.kind = $5) "
        };
    }
    let like = like(f.q.as_deref());
    let region = non_empty(f.region.as_deref());
    let kind = non_empty(f.kind.as_deref());
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM customers c ", w!()))
        .bind(org).bind(f.include_retired).bind(&like).bind(&region).bind(&kind).fetch_one(x).await)?;
    let rows: Vec<CustRow> = on!(c, x => sqlx::query_as(concat!(cust_select!(), w!(),
        "ORDER BY c.active DESC, c.name, c.id LIMIT $6 OFFSET $7"))
        .bind(org).bind(f.include_retired).bind(&like).bind(&region).bind(&kind).bind(p.per_page)
        .bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(customer).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// The regions customers of the organization are in, for the list filter.
pub async fn regions(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT region FROM customers WHERE org_id = $1 AND region IS NOT NULL ORDER BY region LIMIT 500")
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// True when another customer of the organization has this code.
pub async fn code_taken(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM customers WHERE org_id = $1 AND code = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(code).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// The customer with this code (import matches rows by code).
pub async fn customer_id_by_code(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM customers WHERE org_id = $1 AND code = $2")
        .bind(org).bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// The customer with this exact name (the oldest one when several share it).
pub async fn customer_id_by_name(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM customers WHERE org_id = $1 AND name = $2 ORDER BY id LIMIT 1")
        .bind(org).bind(name).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Orders, installed units and timeline events of a customer (complaint receipts included,
/// which are read from the complaints: `store::timeline`): any of them is history that
/// forbids deleting it.
pub async fn history_counts(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<(i64, i64, i64)> {
    let r = on!(c, x => sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM orders WHERE org_id = $1 AND customer_id = $2),
           (SELECT COUNT(*) FROM equipment WHERE org_id = $1 AND customer_id = $2),
           (SELECT COUNT(*) FROM timeline WHERE org_id = $1 AND customer_id = $2)
             + (SELECT COUNT(*) FROM complaints WHERE org_id = $1 AND customer_id = $2)")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(r)
}

/// Installed units of a customer.
pub async fn equipment_count(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM equipment WHERE org_id = $1 AND customer_id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(n)
}

/// Deletes a customer with its contacts and sites (the caller checked it has no history).
pub async fn delete_customer(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("DELETE FROM customer_contacts WHERE org_id = $1 AND customer_id = $2")
        .bind(org).bind(id).execute(x).await)?;
    run!(c, x => sqlx::query("DELETE FROM customer_sites WHERE org_id = $1 AND customer_id = $2")
        .bind(org).bind(id).execute(x).await)?;
    let n = run!(c, x => sqlx::query("DELETE FROM customers WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Active staff as (id, name) for the owner choice.
pub async fn staff_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows = on!(c, x => sqlx::query_as(
        "SELECT id, name FROM staff WHERE org_id = $1 AND active ORDER BY name, id LIMIT 2000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}

/// True when the id is an active staff member of the organization.
pub async fn staff_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM staff WHERE org_id = $1 AND id = $2 AND active")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.is_some())
}

// ---------- contacts ----------

/// A contact person of a customer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub role: Option<String>,
    pub mobile: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub wechat: Option<String>,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a contact.
#[derive(Debug, Clone)]
pub struct ContactValues<'a> {
    pub name: &'a str,
    pub role: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub wechat: Option<&'a str>,
}

type ContactRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

fn contact(r: ContactRow) -> Contact {
    Contact {
        id: r.0,
        customer_id: r.1,
        name: r.2,
        role: r.3,
        mobile: r.4,
        phone: r.5,
        email: r.6,
        wechat: r.7,
        updated_at: r.8,
        version: r.9,
    }
}

macro_rules! contact_select {
    () => {
        "SELECT id, customer_id, name, role, mobile, phone, email, wechat, updated_at, version
         FROM customer_contacts "
    };
}

/// The contacts of a customer, in the order they were added.
pub async fn contacts(c: &mut Conn<'_>, org: i64, customer: i64) -> StoreResult<Vec<Contact>> {
    let rows: Vec<ContactRow> = on!(c, x => sqlx::query_as(concat!(contact_select!(),
        "WHERE org_id = $1 AND customer_id = $2 ORDER BY id LIMIT 1000"))
        .bind(org).bind(customer).fetch_all(x).await)?;
    Ok(rows.into_iter().map(contact).collect())
}

/// One contact of a customer.
pub async fn get_contact(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    id: i64,
) -> StoreResult<Contact> {
    let r: ContactRow = on!(c, x => sqlx::query_as(concat!(contact_select!(),
        "WHERE org_id = $1 AND customer_id = $2 AND id = $3"))
        .bind(org).bind(customer).bind(id).fetch_one(x).await)?;
    Ok(contact(r))
}

/// Inserts a contact; returns its id.
pub async fn insert_contact(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    v: &ContactValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO customer_contacts (org_id, customer_id, name, role, mobile, phone, email, wechat,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1) RETURNING id")
        .bind(org).bind(customer).bind(v.name).bind(v.role).bind(v.mobile).bind(v.phone).bind(v.email)
        .bind(v.wechat).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a contact if `version` is still current.
pub async fn update_contact(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    id: i64,
    version: i64,
    v: &ContactValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE customer_contacts SET name = $5, role = $6, mobile = $7, phone = $8, email = $9, wechat = $10,
            updated_at = $11, version = version + 1
         WHERE org_id = $1 AND customer_id = $2 AND id = $3 AND version = $4")
        .bind(org).bind(customer).bind(id).bind(version).bind(v.name).bind(v.role).bind(v.mobile)
        .bind(v.phone).bind(v.email).bind(v.wechat).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Deletes a contact.
pub async fn delete_contact(c: &mut Conn<'_>, org: i64, customer: i64, id: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "DELETE FROM customer_contacts WHERE org_id = $1 AND customer_id = $2 AND id = $3")
        .bind(org).bind(customer).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

// ---------- sites ----------

/// A site (installation address) of a customer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub region: Option<String>,
    pub address: Option<String>,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a site.
#[derive(Debug, Clone)]
pub struct SiteValues<'a> {
    pub name: &'a str,
    pub region: Option<&'a str>,
    pub address: Option<&'a str>,
}

type SiteRow = (i64, i64, String, Option<String>, Option<String>, i64, i64);

fn site(r: SiteRow) -> Site {
    Site {
        id: r.0,
        customer_id: r.1,
        name: r.2,
        region: r.3,
        address: r.4,
        updated_at: r.5,
        version: r.6,
    }
}

macro_rules! site_select {
    () => {
        "SELECT id, customer_id, name, region, address, updated_at, version FROM customer_sites "
    };
}

/// The sites of a customer, in the order they were added.
pub async fn sites(c: &mut Conn<'_>, org: i64, customer: i64) -> StoreResult<Vec<Site>> {
    let rows: Vec<SiteRow> = on!(c, x => sqlx::query_as(concat!(site_select!(),
        "WHERE org_id = $1 AND customer_id = $2 ORDER BY id LIMIT 1000"))
        .bind(org).bind(customer).fetch_all(x).await)?;
    Ok(rows.into_iter().map(site).collect())
}

/// One site of a customer.
pub async fn get_site(c: &mut Conn<'_>, org: i64, customer: i64, id: i64) -> StoreResult<Site> {
    let r: SiteRow = on!(c, x => sqlx::query_as(concat!(site_select!(),
        "WHERE org_id = $1 AND customer_id = $2 AND id = $3"))
        .bind(org).bind(customer).bind(id).fetch_one(x).await)?;
    Ok(site(r))
}

/// The site of a customer with this exact name (import matches rows by name).
pub async fn site_id_by_name(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    name: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM customer_sites WHERE org_id = $1 AND customer_id = $2 AND name = $3 ORDER BY id LIMIT 1")
        .bind(org).bind(customer).bind(name).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// True when another site of the customer has this name.
pub async fn site_name_taken(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    name: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM customer_sites
         WHERE org_id = $1 AND customer_id = $2 AND name = $3 AND ($4 IS NULL OR id <> $4)")
        .bind(org).bind(customer).bind(name).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// Installed units at a site (a site with units cannot be deleted).
pub async fn site_equipment_count(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM equipment WHERE org_id = $1 AND site_id = $2")
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(n)
}

/// Inserts a site; returns its id.
pub async fn insert_site(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    v: &SiteValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO customer_sites (org_id, customer_id, name, region, address, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1) RETURNING id")
        .bind(org).bind(customer).bind(v.name).bind(v.region).bind(v.address).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

/// Updates a site if `version` is still current.
pub async fn update_site(
    c: &mut Conn<'_>,
    org: i64,
    customer: i64,
    id: i64,
    version: i64,
    v: &SiteValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE customer_sites SET name = $5, region = $6, address = $7, updated_at = $8, version = version + 1
         WHERE org_id = $1 AND customer_id = $2 AND id = $3 AND version = $4")
        .bind(org).bind(customer).bind(id).bind(version).bind(v.name).bind(v.region).bind(v.address)
        .bind(now).execute(x).await)?;
    stale_check(r)
}

/// Deletes a site.
pub async fn delete_site(c: &mut Conn<'_>, org: i64, customer: i64, id: i64) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "DELETE FROM customer_sites WHERE org_id = $1 AND customer_id = $2 AND id = $3")
        .bind(org).bind(customer).bind(id).execute(x).await)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}
