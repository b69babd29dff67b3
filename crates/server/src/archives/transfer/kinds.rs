//! Row import per kind, through the same parsing and services as the forms (so the same
//! rules, audit rows, search words and timeline events). References are resolved by what a
//! spreadsheet holds: customers by code or name, products by part number, orders by number,
//! sites by name within the customer.

use domain::FieldErrors;
use domain::archives::customers::{
    ContactDraft, ContactRaw, CustomerDraft, CustomerRaw, split_list,
};
use domain::archives::products::{ProductDraft, ProductRaw};
use store::Tx;

use super::import::{Kind, Record, row_result};
use crate::archives::{customers, products};
use crate::auth::Ctx;
use crate::error::AppResult;

/// Each line's outcome: `Ok` or the field errors found on it.
pub type Outcomes = Vec<(usize, Result<(), FieldErrors>)>;

/// Imports every record of a kind inside `tx`.
pub async fn import(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    kind: Kind,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    match kind {
        Kind::Customers => {
            return super::bulk::import_customers(tx, ctx, org, records, now, progress).await;
        }
        Kind::Orders => {
            return super::bulk::import_orders(tx, ctx, org, records, now, progress).await;
        }
        Kind::Equipment => {
            return super::bulk::import_equipment(tx, ctx, org, records, now, progress).await;
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let res = match kind {
            Kind::Contacts => contact(tx, ctx, org, r, now).await?,
            Kind::Products => product(tx, ctx, org, r, now).await?,
            // Orders and equipment were handled above.
            Kind::Customers | Kind::Orders | Kind::Equipment => handled_elsewhere(),
        };
        out.push((r.line, res));
        progress(i + 1);
    }
    Ok(out)
}

fn handled_elsewhere() -> Result<(), FieldErrors> {
    Err(FieldErrors::single("row", "unsupported"))
}

/// A parse result into the row's outcome, or the draft.
fn parsed<T>(r: Result<T, domain::DomainError>) -> Result<T, FieldErrors> {
    match r {
        Ok(v) => Ok(v),
        Err(domain::DomainError::Invalid(f)) => Err(f),
        Err(_) => Err(FieldErrors::single("row", "choice")),
    }
}

fn kind_word(k: Option<&str>) -> Option<&str> {
    k.map(|k| match k.trim() {
        "公司" | "企业" | "单位" | "Company" | "COMPANY" => "company",
        "个人" | "Person" | "PERSON" => "person",
        other => other,
    })
}

/// A customer draft from a row, parsed exactly as the form parses its fields.
pub fn customer_draft(r: &Record<'_>) -> Result<CustomerDraft, FieldErrors> {
    parsed(CustomerDraft::parse(
        FieldErrors::default(),
        CustomerRaw {
            code: r.opt("code"),
            name: r.get("name"),
            kind: kind_word(r.opt("kind")),
            industry: r.opt("industry"),
            region: r.opt("region"),
            address: r.opt("address"),
            tags: split_list(r.get("tags")),
            notes: r.opt("notes"),
            owner_staff_id: None,
            consent_contact: false,
            consent_survey: false,
        },
    ))
}

/// A customer by code, else by exact name.
async fn customer_id(tx: &mut Tx, org: i64, v: &str) -> AppResult<Option<i64>> {
    if v.is_empty() {
        return Ok(None);
    }
    if let Some(id) = store::archives::customers::customer_id_by_code(&mut tx.c(), org, v).await? {
        return Ok(Some(id));
    }
    Ok(store::archives::customers::customer_id_by_name(&mut tx.c(), org, v).await?)
}

async fn contact(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    r: &Record<'_>,
    now: i64,
) -> AppResult<Result<(), FieldErrors>> {
    let mut errs = FieldErrors::default();
    let cust = customer_id(tx, org, r.get("customer")).await?;
    if cust.is_none() {
        errs.add("customer", "customer_unknown", None);
    }
    let d = parsed(ContactDraft::parse(
        errs,
        ContactRaw {
            name: r.get("name"),
            role: r.opt("role"),
            mobile: r.opt("mobile"),
            phone: r.opt("phone"),
            email: r.opt("email"),
            wechat: r.opt("wechat"),
        },
    ));
    match (d, cust) {
        (Ok(d), Some(c)) => {
            row_result(customers::service::insert_contact(tx, ctx, org, c, &d, now).await)
        }
        (Err(f), _) => Ok(Err(f)),
        (Ok(_), None) => Ok(Err(FieldErrors::single("customer", "customer_unknown"))),
    }
}

async fn product(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    r: &Record<'_>,
    now: i64,
) -> AppResult<Result<(), FieldErrors>> {
    let months = r.opt("warranty_months").unwrap_or("0");
    let d = parsed(ProductDraft::parse(
        FieldErrors::default(),
        ProductRaw {
            part_no: r.get("part_no"),
            model: r.get("model"),
            name: r.get("name"),
            category: r.opt("category"),
            warranty_months: months,
            contract_levels: split_list(r.get("contract_levels")),
        },
    ));
    match d {
        Ok(d) => row_result(products::insert_product(tx, ctx, org, &d, now).await),
        Err(f) => Ok(Err(f)),
    }
}

/// Field names of a unit's draft, as the spreadsheet calls them.
pub fn unit_field(f: &str) -> &str {
    match f {
        "product_id" => "part_no",
        "customer_id" => "customer",
        "site_id" => "site",
        "order_id" => "order_no",
        other => other,
    }
}

pub fn rename(f: FieldErrors, map: impl Fn(&str) -> String) -> FieldErrors {
    FieldErrors(
        f.0.into_iter()
            .map(|mut e| {
                e.field = map(&e.field);
                e
            })
            .collect(),
    )
}

/// Spreads an order's field errors over its rows: `lines.N.field` goes to the group's N-th
/// row, everything else to its first row.
pub fn spread(
    rows: &[usize],
    records: &[Record<'_>],
    f: FieldErrors,
) -> Vec<(usize, Result<(), FieldErrors>)> {
    let mut per: Vec<FieldErrors> = vec![FieldErrors::default(); rows.len()];
    for e in f.0 {
        let (idx, field) = match e
            .field
            .strip_prefix("lines.")
            .and_then(|r| r.split_once('.'))
        {
            Some((n, field)) => (n.parse::<usize>().unwrap_or(0), field.to_string()),
            None => (0, unit_field(&e.field).to_string()),
        };
        let idx = idx.min(rows.len().saturating_sub(1));
        per[idx].0.push(domain::FieldError { field, ..e });
    }
    rows.iter()
        .zip(per)
        .map(|(i, f)| (records[*i].line, Err(f)))
        .collect()
}
