//! The bulk path of the equipment import: references are looked up a set at a time, each row
//! is checked with the same draft parser and reference rule (`EquipmentDraft::check_refs`) as
//! the form, and the good rows are written with multi-row INSERTs, their audit rows chained in
//! memory (`store::audit::record_many`). A row-at-a-time service call costs about fifteen
//! statements; this costs a few per thousand rows (measured in bench/README.md).

use std::collections::{HashMap, HashSet};

use domain::FieldErrors;
use domain::archives::equipment::{EquipmentDraft, EquipmentRaw, UnitRefs, unix_of_date};
use domain::archives::orders::{LineRaw, OrderDraft, OrderRaw, Price};
use domain::search::{index_tokens, normalize};
use store::Tx;
use store::archives::{bulk, lookup};
use store::audit::Item;

use super::import::Record;
use super::kinds::{
    Outcomes, contact_draft, customer_draft, product_draft, rename, spread, unit_field,
};
use crate::auth::Ctx;
use crate::error::AppResult;

fn keys<'a>(records: &'a [Record<'a>], field: &str) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| r.get(field).to_string())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Imports customers; returns each line's outcome. Writes only when every row is good.
pub async fn import_customers(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    ctx.require(domain::auth::Permission::ManageArchives)?;
    let taken: HashSet<String> =
        lookup::customers_by_code(&mut tx.c(), org, &keys(records, "code"))
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
    let mut out: Outcomes = Vec::with_capacity(records.len());
    let mut good = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for r in records {
        let res = customer_draft(r).and_then(|d| match &d.code {
            // The same rule as the form: a code is unique in the organization.
            Some(code) if taken.contains(code) || !seen.insert(code.clone()) => {
                Err(FieldErrors::single("code", "taken"))
            }
            _ => {
                good.push(d);
                Ok(())
            }
        });
        out.push((r.line, res));
    }
    progress(records.len() / 2);
    if out.iter().any(|o| o.1.is_err()) {
        return Ok(out);
    }
    for slice in good.chunks(5000) {
        let rows: Vec<bulk::ImportedCustomer> = slice
            .iter()
            .map(|d| bulk::ImportedCustomer {
                code: d.code.clone(),
                name: d.name.clone(),
                kind: d.kind.as_str().to_string(),
                industry: d.industry.clone(),
                region: d.region.clone(),
                address: d.address.clone(),
                tags: serde_json::to_string(&d.tags).unwrap_or_else(|_| "[]".into()),
                notes: d.notes.clone(),
            })
            .collect();
        let ids = bulk::customers_returning(&mut tx.c(), org, now, &rows).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut docs = Vec::with_capacity(rows.len());
        for (d, id) in slice.iter().zip(ids) {
            let c = store::archives::customers::Customer {
                id,
                code: d.code.clone(),
                name: d.name.clone(),
                kind: d.kind.as_str().to_string(),
                industry: d.industry.clone(),
                region: d.region.clone(),
                address: d.address.clone(),
                tags: d.tags.clone(),
                notes: d.notes.clone(),
                owner_staff_id: None,
                owner_name: None,
                consent_contact: false,
                consent_survey: false,
                active: true,
                updated_at: now,
                version: 1,
            };
            let text = crate::archives::customers::service::search_text(&c, &[], &[]);
            docs.push(bulk::DocRow {
                kind: "customer",
                ref_id: id,
                title: crate::archives::customers::service::title(&c),
                text: normalize(&text),
                tokens: index_tokens(&text),
            });
            items.push(Item {
                action: "create",
                entity: "customer",
                entity_id: Some(id),
                before: None,
                after: serde_json::to_value(&c).ok(),
            });
        }
        store::audit::record_many(&mut tx.c(), Some(org), &ctx.actor(), now, &items).await?;
        bulk::docs(&mut tx.c(), org, &docs).await?;
    }
    progress(records.len());
    Ok(out)
}

struct Product {
    id: i64,
    months: i64,
    levels: Vec<String>,
    model: String,
    part_no: String,
}

/// Imports units; returns each line's outcome. Writes only when every row is good.
pub async fn import_equipment(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    ctx.require(domain::auth::Permission::ManageArchives)?;
    let products: HashMap<String, Product> =
        lookup::products_by_part_no(&mut tx.c(), org, &keys(records, "part_no"))
            .await?
            .into_iter()
            .map(|(part_no, id, months, levels, model)| {
                let levels = serde_json::from_str(&levels).unwrap_or_default();
                (
                    part_no.clone(),
                    Product {
                        id,
                        months,
                        levels,
                        model,
                        part_no,
                    },
                )
            })
            .collect();
    let cust_keys = keys(records, "customer");
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut by_code: HashMap<String, i64> = HashMap::new();
    for (code, id, name) in lookup::customers_by_code(&mut tx.c(), org, &cust_keys).await? {
        by_code.insert(code, id);
        names.insert(id, name);
    }
    let mut by_name: HashMap<String, i64> = HashMap::new();
    for (name, id) in lookup::customers_by_name(&mut tx.c(), org, &cust_keys).await? {
        names.insert(id, name.clone());
        by_name.entry(name).or_insert(id);
    }
    let mut sites: HashMap<(i64, String), i64> = HashMap::new();
    let mut site_owner: HashMap<i64, i64> = HashMap::new();
    for (cust, name, id) in lookup::sites_by_name(&mut tx.c(), org, &keys(records, "site")).await? {
        sites.entry((cust, name)).or_insert(id);
        site_owner.insert(id, cust);
    }
    let orders: HashMap<String, (i64, i64)> =
        lookup::orders_by_no(&mut tx.c(), org, &keys(records, "order_no"))
            .await?
            .into_iter()
            .map(|(no, id, cust)| (no, (id, cust)))
            .collect();
    let order_owner: HashMap<i64, i64> = orders.values().copied().collect();
    let taken: HashSet<String> =
        lookup::equipment_by_serial(&mut tx.c(), org, &keys(records, "serial"))
            .await?
            .into_iter()
            .map(|(s, _)| s)
            .collect();

    let mut out: Outcomes = Vec::with_capacity(records.len());
    let mut good: Vec<(EquipmentDraft, &Product)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, r) in records.iter().enumerate() {
        let mut errs = FieldErrors::default();
        let product = products.get(r.get("part_no"));
        if product.is_none() && !r.get("part_no").is_empty() {
            errs.add("product_id", "part_no_unknown", None);
        }
        let c = r.get("customer");
        let cust = by_code.get(c).or_else(|| by_name.get(c)).copied();
        if cust.is_none() && !c.is_empty() {
            errs.add("customer_id", "customer_unknown", None);
        }
        let site = match (cust, r.opt("site")) {
            (Some(cu), Some(name)) => {
                let s = sites.get(&(cu, name.to_string())).copied();
                if s.is_none() {
                    errs.add("site_id", "site_unknown", None);
                }
                s
            }
            _ => None,
        };
        let order = match r.opt("order_no") {
            Some(no) => {
                let o = orders.get(no).map(|o| o.0);
                if o.is_none() {
                    errs.add("order_id", "order_unknown", None);
                }
                o
            }
            None => None,
        };
        let parsed = EquipmentDraft::parse(
            errs,
            EquipmentRaw {
                serial: r.get("serial"),
                product_id: product.map(|p| p.id),
                customer_id: cust,
                site_id: site,
                order_id: order,
                install_date: r.opt("install_date"),
                warranty_overridden: r.opt("warranty_end").is_some(),
                warranty_end: r.opt("warranty_end"),
                contract_level: r.opt("contract_level"),
                contract_start: r.opt("contract_start"),
                contract_end: r.opt("contract_end"),
                sla_profile: None,
            },
        );
        let res = match parsed {
            Err(domain::DomainError::Invalid(f)) => Err(f),
            Err(_) => Err(FieldErrors::single("row", "choice")),
            Ok(d) => {
                let mut errs = FieldErrors::default();
                d.check_refs(
                    &mut errs,
                    &UnitRefs {
                        serial_taken: taken.contains(&d.serial) || seen.contains(&d.serial),
                        product_levels: product.map(|p| p.levels.as_slice()),
                        customer_exists: names.contains_key(&d.customer_id),
                        site_customer: d.site_id.and_then(|s| site_owner.get(&s).copied()),
                        order_customer: d.order_id.and_then(|o| order_owner.get(&o).copied()),
                    },
                );
                seen.insert(d.serial.clone());
                match (errs.is_empty(), product) {
                    (true, Some(p)) => {
                        good.push((d, p));
                        Ok(())
                    }
                    _ => Err(errs),
                }
            }
        };
        out.push((
            r.line,
            res.map_err(|f| rename(f, |n| unit_field(n).to_string())),
        ));
        if i % 1000 == 0 {
            progress(i);
        }
    }
    if out.iter().any(|o| o.1.is_err()) {
        progress(records.len());
        return Ok(out);
    }

    // Every row is good: write them, a slice at a time so memory stays flat.
    for slice in good.chunks(5000) {
        write(tx, ctx, org, now, slice, &names).await?;
    }
    progress(records.len());
    Ok(out)
}

/// Writes a slice of good rows: units, their audit rows, search documents and install events.
async fn write(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    now: i64,
    slice: &[(EquipmentDraft, &Product)],
    names: &HashMap<i64, String>,
) -> AppResult<()> {
    let rows: Vec<bulk::EquipmentRow> = slice
        .iter()
        .map(|(d, p)| bulk::EquipmentRow {
            serial: d.serial.clone(),
            product_id: p.id,
            customer_id: d.customer_id,
            site_id: d.site_id,
            order_id: d.order_id,
            install_date: d.install_date.clone(),
            warranty_end: d.warranty_end_for(p.months),
            warranty_overridden: d.warranty_overridden,
            contract_level: d.contract_level.clone(),
            contract_start: d.contract_start.clone(),
            contract_end: d.contract_end.clone(),
            sla_profile: d.sla_profile.clone(),
        })
        .collect();
    let ids: HashMap<String, i64> = bulk::equipment(&mut tx.c(), org, now, &rows)
        .await?
        .into_iter()
        .collect();
    let mut items = Vec::with_capacity(rows.len());
    let mut docs = Vec::with_capacity(rows.len());
    let mut events = Vec::with_capacity(rows.len());
    for (r, (_, p)) in rows.iter().zip(slice) {
        let id = ids.get(&r.serial).copied().unwrap_or(0);
        items.push(Item {
            action: "create",
            entity: "equipment",
            entity_id: Some(id),
            before: None,
            after: Some(serde_json::json!({
                "id": id,
                "serial": r.serial,
                "product_id": r.product_id,
                "customer_id": r.customer_id,
                "site_id": r.site_id,
                "order_id": r.order_id,
                "install_date": r.install_date,
                "warranty_end": r.warranty_end,
                "warranty_overridden": r.warranty_overridden,
                "contract_level": r.contract_level,
                "contract_start": r.contract_start,
                "contract_end": r.contract_end,
                "status": "in_service",
                "imported": true,
            })),
        });
        let customer = names.get(&r.customer_id).cloned().unwrap_or_default();
        let text = format!("{} {} {} {}", r.serial, p.part_no, p.model, customer);
        docs.push(bulk::DocRow {
            kind: "equipment",
            ref_id: id,
            title: format!("{} · {}", r.serial, p.model),
            text: normalize(&text),
            tokens: index_tokens(&text),
        });
        events.push(bulk::EventRow {
            customer_id: Some(r.customer_id),
            equipment_id: Some(id),
            at: r
                .install_date
                .as_deref()
                .and_then(|d| unix_of_date(d, ctx.tr.offset_min))
                .unwrap_or(now),
            kind: "install",
            ref_id: id,
            summary: format!("{} {}", r.serial, p.model),
        });
    }
    store::audit::record_many(&mut tx.c(), Some(org), &ctx.actor(), now, &items).await?;
    bulk::docs(&mut tx.c(), org, &docs).await?;
    bulk::events(&mut tx.c(), org, &events).await?;
    Ok(())
}

/// Customers of the file by code or name: (by code, by name, names by id).
async fn customers_of(
    tx: &mut Tx,
    org: i64,
    records: &[Record<'_>],
) -> AppResult<(
    HashMap<String, i64>,
    HashMap<String, i64>,
    HashMap<i64, String>,
)> {
    let cust_keys = keys(records, "customer");
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut by_code: HashMap<String, i64> = HashMap::new();
    for (code, id, name) in lookup::customers_by_code(&mut tx.c(), org, &cust_keys).await? {
        by_code.insert(code, id);
        names.insert(id, name);
    }
    let mut by_name: HashMap<String, i64> = HashMap::new();
    for (name, id) in lookup::customers_by_name(&mut tx.c(), org, &cust_keys).await? {
        names.insert(id, name.clone());
        by_name.entry(name).or_insert(id);
    }
    Ok((by_code, by_name, names))
}

/// Imports orders: rows with the same order number are the lines of one order, whose other
/// columns come from its first row. The order number must be new, the customer and every
/// part number known (the form's rules); errors on a line go to that line's row.
pub async fn import_orders(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    ctx.require(domain::auth::Permission::ManageArchives)?;
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let no = r.get("order_no").to_string();
        match at.get(&no) {
            Some(g) => groups[*g].1.push(i),
            None => {
                at.insert(no.clone(), groups.len());
                groups.push((no, vec![i]));
            }
        }
    }
    let (by_code, by_name, names) = customers_of(tx, org, records).await?;
    let products: HashMap<String, i64> =
        lookup::products_by_part_no(&mut tx.c(), org, &keys(records, "part_no"))
            .await?
            .into_iter()
            .map(|p| (p.0, p.1))
            .collect();
    let taken: HashSet<String> = lookup::orders_by_no(&mut tx.c(), org, &keys(records, "order_no"))
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let mut out: Outcomes = Vec::with_capacity(records.len());
    let mut good: Vec<(OrderDraft, Vec<i64>)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (_, rows) in &groups {
        let first = &records[rows[0]];
        let mut errs = FieldErrors::default();
        let c = first.get("customer");
        let cust = by_code.get(c).or_else(|| by_name.get(c)).copied();
        if cust.is_none() && !c.is_empty() {
            errs.add("customer_id", "customer_unknown", None);
        }
        let lines: Vec<LineRaw<'_>> = rows
            .iter()
            .map(|i| LineRaw {
                part_no: records[*i].get("part_no"),
                quantity: records[*i].get("quantity"),
                unit_price: Price::Yuan(records[*i].opt("unit_price").unwrap_or("0")),
            })
            .collect();
        let parsed = OrderDraft::parse(
            errs,
            OrderRaw {
                order_no: first.get("order_no"),
                customer_id: cust,
                delivery_no: first.opt("delivery_no"),
                ship_date: first.opt("ship_date"),
                notes: first.opt("notes"),
                lines,
            },
        );
        let checked = match parsed {
            Err(domain::DomainError::Invalid(f)) => Err(f),
            Err(_) => Err(FieldErrors::single("row", "choice")),
            Ok(d) => {
                let mut errs = FieldErrors::default();
                if taken.contains(&d.order_no) || !seen.insert(d.order_no.clone()) {
                    errs.add("order_no", "taken", None);
                }
                let mut ids = Vec::with_capacity(d.lines.len());
                for l in &d.lines {
                    match products.get(&l.part_no) {
                        Some(id) => ids.push(*id),
                        None => errs.add(
                            &format!("lines.{}.part_no", l.index),
                            "part_no_unknown",
                            None,
                        ),
                    }
                }
                if errs.is_empty() {
                    good.push((d, ids));
                    Ok(())
                } else {
                    Err(errs)
                }
            }
        };
        match checked {
            Ok(()) => out.extend(rows.iter().map(|i| (records[*i].line, Ok(())))),
            Err(f) => out.extend(spread(rows, records, f)),
        }
    }
    out.sort_by_key(|o| o.0);
    progress(records.len() / 2);
    if out.iter().any(|o| o.1.is_err()) {
        return Ok(out);
    }
    for slice in good.chunks(2000) {
        let rows: Vec<bulk::OrderRow> = slice
            .iter()
            .map(|(d, _)| bulk::OrderRow {
                order_no: d.order_no.clone(),
                customer_id: d.customer_id,
                delivery_no: d.delivery_no.clone(),
                ship_date: d.ship_date.clone(),
                notes: d.notes.clone(),
            })
            .collect();
        let ids: HashMap<String, i64> = bulk::orders(&mut tx.c(), org, now, &rows)
            .await?
            .into_iter()
            .collect();
        let mut lines = Vec::new();
        let mut items = Vec::with_capacity(slice.len());
        let mut docs = Vec::with_capacity(slice.len());
        let mut events = Vec::with_capacity(slice.len());
        for (d, product_ids) in slice {
            let id = ids.get(&d.order_no).copied().unwrap_or(0);
            for (l, p) in d.lines.iter().zip(product_ids) {
                lines.push(bulk::LineRow {
                    order_id: id,
                    product_id: *p,
                    quantity: l.quantity,
                    unit_price_fen: l.unit_price_fen,
                });
            }
            let customer = names.get(&d.customer_id).cloned().unwrap_or_default();
            items.push(Item {
                action: "create",
                entity: "order",
                entity_id: Some(id),
                before: None,
                after: Some(serde_json::json!({
                    "id": id,
                    "order_no": d.order_no,
                    "customer_id": d.customer_id,
                    "customer_name": customer,
                    "delivery_no": d.delivery_no,
                    "ship_date": d.ship_date,
                    "notes": d.notes,
                    "lines": d.lines.iter().map(|l| serde_json::json!({
                        "part_no": l.part_no, "quantity": l.quantity, "unit_price_fen": l.unit_price_fen,
                    })).collect::<Vec<_>>(),
                    "total_fen": d.total_fen(),
                    "imported": true,
                })),
            });
            let mut text = vec![
                d.order_no.as_str(),
                d.delivery_no.as_deref().unwrap_or(""),
                customer.as_str(),
            ];
            text.extend(d.lines.iter().map(|l| l.part_no.as_str()));
            let text = text.join(" ");
            docs.push(bulk::DocRow {
                kind: "order",
                ref_id: id,
                title: format!("{} · {}", d.order_no, customer),
                text: normalize(&text),
                tokens: index_tokens(&text),
            });
            events.push(bulk::EventRow {
                customer_id: Some(d.customer_id),
                equipment_id: None,
                at: d
                    .ship_date
                    .as_deref()
                    .and_then(|s| unix_of_date(s, ctx.tr.offset_min))
                    .unwrap_or(now),
                kind: "order",
                ref_id: id,
                summary: d.order_no.clone(),
            });
        }
        bulk::lines(&mut tx.c(), org, &lines).await?;
        store::audit::record_many(&mut tx.c(), Some(org), &ctx.actor(), now, &items).await?;
        bulk::docs(&mut tx.c(), org, &docs).await?;
        bulk::events(&mut tx.c(), org, &events).await?;
    }
    progress(records.len());
    Ok(out)
}

/// Imports products: the form's parser, part numbers new in the organization and the file.
pub async fn import_products(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    ctx.require(domain::auth::Permission::ManageArchives)?;
    let taken: HashSet<String> =
        lookup::products_by_part_no(&mut tx.c(), org, &keys(records, "part_no"))
            .await?
            .into_iter()
            .map(|p| p.0)
            .collect();
    let mut out: Outcomes = Vec::with_capacity(records.len());
    let mut good = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for r in records {
        let res = product_draft(r).and_then(|d| {
            if taken.contains(&d.part_no) || !seen.insert(d.part_no.clone()) {
                Err(FieldErrors::single("part_no", "taken"))
            } else {
                good.push(d);
                Ok(())
            }
        });
        out.push((r.line, res));
    }
    progress(records.len() / 2);
    if out.iter().any(|o| o.1.is_err()) {
        return Ok(out);
    }
    for slice in good.chunks(5000) {
        let rows: Vec<bulk::ProductRow> = slice
            .iter()
            .map(|d| bulk::ProductRow {
                part_no: d.part_no.clone(),
                model: d.model.clone(),
                name: d.name.clone(),
                category: d.category.clone(),
                warranty_months: d.warranty_months,
                contract_levels: serde_json::to_string(&d.contract_levels)
                    .unwrap_or_else(|_| "[]".into()),
            })
            .collect();
        let ids: HashMap<String, i64> = bulk::products(&mut tx.c(), org, now, &rows)
            .await?
            .into_iter()
            .collect();
        let mut items = Vec::with_capacity(slice.len());
        let mut docs = Vec::with_capacity(slice.len());
        for d in slice {
            let id = ids.get(&d.part_no).copied().unwrap_or(0);
            let p = store::archives::products::Product {
                id,
                part_no: d.part_no.clone(),
                model: d.model.clone(),
                name: d.name.clone(),
                category: d.category.clone(),
                warranty_months: d.warranty_months,
                contract_levels: d.contract_levels.clone(),
                active: true,
                equipment_count: 0,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let text = format!(
                "{} {} {} {}",
                p.part_no,
                p.model,
                p.name,
                p.category.as_deref().unwrap_or("")
            );
            docs.push(bulk::DocRow {
                kind: "product",
                ref_id: id,
                title: format!("{} {}", p.part_no, p.model),
                text: normalize(&text),
                tokens: index_tokens(&text),
            });
            items.push(Item {
                action: "create",
                entity: "product",
                entity_id: Some(id),
                before: None,
                after: serde_json::to_value(&p).ok(),
            });
        }
        store::audit::record_many(&mut tx.c(), Some(org), &ctx.actor(), now, &items).await?;
        bulk::docs(&mut tx.c(), org, &docs).await?;
    }
    progress(records.len());
    Ok(out)
}

/// Imports contacts of known customers (by code or name); each affected customer's search
/// document is rebuilt once at the end, as a contact change in the form does.
pub async fn import_contacts(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    records: &[Record<'_>],
    now: i64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Outcomes> {
    ctx.require(domain::auth::Permission::ManageArchives)?;
    let (by_code, by_name, _) = customers_of(tx, org, records).await?;
    let mut out: Outcomes = Vec::with_capacity(records.len());
    let mut good = Vec::new();
    for r in records {
        let c = r.get("customer");
        let cust = by_code.get(c).or_else(|| by_name.get(c)).copied();
        let mut errs = FieldErrors::default();
        if cust.is_none() {
            errs.add("customer", "customer_unknown", None);
        }
        let res = contact_draft(r, errs).map(|d| {
            if let Some(c) = cust {
                good.push((c, d));
            }
        });
        out.push((r.line, res));
    }
    progress(records.len() / 2);
    if out.iter().any(|o| o.1.is_err()) {
        return Ok(out);
    }
    let mut affected: Vec<i64> = good.iter().map(|g| g.0).collect();
    affected.sort_unstable();
    affected.dedup();
    for slice in good.chunks(5000) {
        let rows: Vec<bulk::ContactRow> = slice
            .iter()
            .map(|(c, d)| bulk::ContactRow {
                customer_id: *c,
                name: d.name.clone(),
                role: d.role.clone(),
                mobile: d.mobile.clone(),
                phone: d.phone.clone(),
                email: d.email.clone(),
                wechat: d.wechat.clone(),
            })
            .collect();
        bulk::contacts(&mut tx.c(), org, now, &rows).await?;
        let items: Vec<Item> = slice
            .iter()
            .map(|(c, d)| Item {
                action: "create",
                entity: "customer_contact",
                entity_id: None,
                before: None,
                after: Some(serde_json::json!({
                    "customer_id": c, "name": d.name, "role": d.role, "mobile": d.mobile,
                    "phone": d.phone, "email": d.email, "wechat": d.wechat, "imported": true,
                })),
            })
            .collect();
        store::audit::record_many(&mut tx.c(), Some(org), &ctx.actor(), now, &items).await?;
    }
    for id in affected {
        crate::archives::customers::service::reindex(tx, org, id).await?;
    }
    progress(records.len());
    Ok(out)
}
