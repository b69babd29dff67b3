//! Set lookups for bulk work (imports): one query per 500 keys instead of one per row.
//! Every query carries `org_id`.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::on;

const CHUNK: usize = 500;

macro_rules! lookup {
    ($c:expr, $org:expr, $keys:expr, $head:literal, $col:literal, $row:ty) => {{
        let mut out: Vec<$row> = Vec::new();
        for chunk in $keys.chunks(CHUNK) {
            let rows: Vec<$row> = on!($c, x => {
                let mut qb = QueryBuilder::new($head);
                qb.push(" WHERE org_id = ");
                qb.push_bind($org);
                qb.push(concat!(" AND ", $col, " IN ("));
                let mut sep = qb.separated(", ");
                for k in chunk {
                    sep.push_bind(k.clone());
                }
                qb.push(")");
                qb.build_query_as::<$row>().fetch_all(x).await
            })?;
            out.extend(rows);
        }
        StoreResult::Ok(out)
    }};
}

/// Products by part number: (part_no, id, warranty_months, contract_levels JSON, model).
pub async fn products_by_part_no(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(String, i64, i64, String, String)>> {
    lookup!(
        c,
        org,
        keys,
        "SELECT part_no, id, warranty_months, contract_levels, model FROM products",
        "part_no",
        (String, i64, i64, String, String)
    )
}

/// Customers by code: (code, id, name).
pub async fn customers_by_code(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(String, i64, String)>> {
    lookup!(
        c,
        org,
        keys,
        "SELECT code, id, name FROM customers",
        "code",
        (String, i64, String)
    )
}

/// Customers by exact name: (name, id), in id order (the oldest of a name first).
pub async fn customers_by_name(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(String, i64)>> {
    let mut v: Vec<(String, i64)> = lookup!(
        c,
        org,
        keys,
        "SELECT name, id FROM customers",
        "name",
        (String, i64)
    )?;
    v.sort_by_key(|r| r.1);
    Ok(v)
}

/// Sites by name: (customer_id, name, id).
pub async fn sites_by_name(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(i64, String, i64)>> {
    lookup!(
        c,
        org,
        keys,
        "SELECT customer_id, name, id FROM customer_sites",
        "name",
        (i64, String, i64)
    )
}

/// Orders by number: (order_no, id, customer_id).
pub async fn orders_by_no(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(String, i64, i64)>> {
    lookup!(
        c,
        org,
        keys,
        "SELECT order_no, id, customer_id FROM orders",
        "order_no",
        (String, i64, i64)
    )
}

/// Units by serial: (serial, id).
pub async fn equipment_by_serial(
    c: &mut Conn<'_>,
    org: i64,
    keys: &[String],
) -> StoreResult<Vec<(String, i64)>> {
    lookup!(
        c,
        org,
        keys,
        "SELECT serial, id FROM equipment",
        "serial",
        (String, i64)
    )
}
