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

use super::import::{Kind, Record};
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
    use super::bulk;
    match kind {
        Kind::Customers => bulk::import_customers(tx, ctx, org, records, now, progress).await,
        Kind::Contacts => bulk::import_contacts(tx, ctx, org, records, now, progress).await,
        Kind::Products => bulk::import_products(tx, ctx, org, records, now, progress).await,
        Kind::Orders => bulk::import_orders(tx, ctx, org, records, now, progress).await,
        Kind::Equipment => bulk::import_equipment(tx, ctx, org, records, now, progress).await,
    }
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

/// A contact draft from a row, parsed as the form parses it (the customer is resolved by the
/// caller).
pub fn contact_draft(r: &Record<'_>, errs: FieldErrors) -> Result<ContactDraft, FieldErrors> {
    parsed(ContactDraft::parse(
        errs,
        ContactRaw {
            name: r.get("name"),
            role: r.opt("role"),
            mobile: r.opt("mobile"),
            phone: r.opt("phone"),
            email: r.opt("email"),
            wechat: r.opt("wechat"),
        },
    ))
}

/// A product draft from a row, parsed as the form parses it.
pub fn product_draft(r: &Record<'_>) -> Result<ProductDraft, FieldErrors> {
    parsed(ProductDraft::parse(
        FieldErrors::default(),
        ProductRaw {
            part_no: r.get("part_no"),
            model: r.get("model"),
            name: r.get("name"),
            category: r.opt("category"),
            warranty_months: r.opt("warranty_months").unwrap_or("0"),
            contract_levels: split_list(r.get("contract_levels")),
        },
    ))
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
