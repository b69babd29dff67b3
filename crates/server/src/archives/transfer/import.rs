//! Importing archives from a spreadsheet: columns found by header (Chinese or English),
//! every row checked with the same rules and services as the forms, all rows in one
//! transaction. A dry run does the same work and rolls back, so its report is exactly what
//! an import would do; an import with any bad row writes nothing.

use std::collections::HashMap;

use domain::FieldErrors;
use serde::Serialize;

use super::read::{Sheet, header_key};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Customers,
    Contacts,
    Products,
    Orders,
    Equipment,
}

impl Kind {
    /// Every kind, in the order they depend on each other.
    pub const ALL: [Kind; 5] = [
        Kind::Customers,
        Kind::Contacts,
        Kind::Products,
        Kind::Orders,
        Kind::Equipment,
    ];

    /// The stable name (CLI argument, API path, i18n key suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Contacts => "contacts",
            Kind::Products => "products",
            Kind::Orders => "orders",
            Kind::Equipment => "equipment",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One column a kind understands: the draft field it fills and the headers that name it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub field: &'static str,
    pub headers: &'static [&'static str],
    pub required: bool,
}

const fn col(field: &'static str, headers: &'static [&'static str], required: bool) -> Column {
    Column {
        field,
        headers,
        required,
    }
}

// The first header is the English field name, the second the usual Chinese header (both
// shown to users); the rest are other names people give the column.
const CUSTOMERS: &[Column] = &[
    col("code", &["code", "客户编号", "编号", "客户代码"], false),
    col(
        "name",
        &["name", "客户名称", "名称", "客户", "customer"],
        true,
    ),
    col("kind", &["kind", "类型", "type", "客户类型"], false),
    col("industry", &["industry", "行业"], false),
    col("region", &["region", "地区", "区域"], false),
    col("address", &["address", "地址"], false),
    col("tags", &["tags", "标签"], false),
    col("notes", &["notes", "备注"], false),
];

const CONTACTS: &[Column] = &[
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号", "customer_code"],
        true,
    ),
    col("name", &["name", "联系人", "contact", "姓名"], true),
    col("role", &["role", "职务", "角色"], false),
    col("mobile", &["mobile", "手机", "手机号"], false),
    col("phone", &["phone", "电话", "座机"], false),
    col("email", &["email", "邮箱", "电子邮件"], false),
    col("wechat", &["wechat", "微信", "微信号"], false),
];

const PRODUCTS: &[Column] = &[
    col(
        "part_no",
        &["part_no", "料号", "part", "物料号", "物料编码"],
        true,
    ),
    col("model", &["model", "型号"], true),
    col("name", &["name", "产品名称", "名称"], true),
    col("category", &["category", "类别", "分类"], false),
    col(
        "warranty_months",
        &[
            "warranty_months",
            "保修期",
            "warranty",
            "保修期月",
            "三包期",
            "三包期月",
        ],
        false,
    ),
    col(
        "contract_levels",
        &["contract_levels", "服务合同等级", "合同等级"],
        false,
    ),
];

const ORDERS: &[Column] = &[
    col(
        "order_no",
        &["order_no", "订单编号", "order", "订单号"],
        true,
    ),
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号"],
        true,
    ),
    col(
        "delivery_no",
        &["delivery_no", "交货单号", "delivery", "送货单号"],
        false,
    ),
    col("ship_date", &["ship_date", "交运日期", "发货日期"], false),
    col("part_no", &["part_no", "料号", "物料号"], true),
    col("quantity", &["quantity", "数量", "qty"], true),
    col(
        "unit_price",
        &["unit_price", "单价", "price", "单价元"],
        false,
    ),
    col("notes", &["notes", "备注"], false),
];

const EQUIPMENT: &[Column] = &[
    col(
        "serial",
        &["serial", "序列号", "serial_no", "sn", "出厂编号"],
        true,
    ),
    col("part_no", &["part_no", "料号", "物料号"], true),
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号"],
        true,
    ),
    col(
        "site",
        &["site", "安装地点", "现场", "站点", "服务地点"],
        false,
    ),
    col("order_no", &["order_no", "订单编号", "订单号"], false),
    col("install_date", &["install_date", "安装日期"], false),
    col(
        "warranty_end",
        &["warranty_end", "保修截止", "保修截止日期"],
        false,
    ),
    col(
        "contract_level",
        &["contract_level", "服务合同等级", "合同等级"],
        false,
    ),
    col(
        "contract_start",
        &["contract_start", "合同开始", "合同开始日期"],
        false,
    ),
    col(
        "contract_end",
        &["contract_end", "合同结束", "合同结束日期"],
        false,
    ),
];

/// The columns of a kind.
pub fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Customers => CUSTOMERS,
        Kind::Contacts => CONTACTS,
        Kind::Products => PRODUCTS,
        Kind::Orders => ORDERS,
        Kind::Equipment => EQUIPMENT,
    }
}

/// How the file's columns map to fields.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// field → column index.
    pub fields: HashMap<&'static str, usize>,
    /// Headers no field uses (reported, ignored).
    pub unknown: Vec<String>,
    /// Required fields without a column.
    pub missing: Vec<&'static str>,
}

/// Maps the sheet's headers to a kind's fields.
pub fn map(kind: Kind, headers: &[String]) -> Mapping {
    let mut m = Mapping::default();
    for (i, h) in headers.iter().enumerate() {
        let key = header_key(h);
        if key.is_empty() {
            continue;
        }
        match columns(kind)
            .iter()
            .find(|c| c.headers.iter().any(|a| header_key(a) == key))
        {
            Some(c) if !m.fields.contains_key(c.field) => {
                m.fields.insert(c.field, i);
            }
            _ => m.unknown.push(h.clone()),
        }
    }
    m.missing = columns(kind)
        .iter()
        .filter(|c| c.required && !m.fields.contains_key(c.field))
        .map(|c| c.field)
        .collect();
    m
}

/// One data row with its fields by name.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub line: usize,
    cells: &'a [String],
    mapping: &'a Mapping,
}

impl Record<'_> {
    /// The trimmed value of a field ("" when absent).
    pub fn get(&self, field: &str) -> &str {
        self.mapping
            .fields
            .get(field)
            .and_then(|i| self.cells.get(*i))
            .map(|s| s.as_str())
            .unwrap_or("")
    }
    /// The value, or `None` when empty.
    pub fn opt(&self, field: &str) -> Option<&str> {
        Some(self.get(field)).filter(|s| !s.is_empty())
    }
}

/// One problem with one row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What an import did or would do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub kind: Kind,
    pub rows: usize,
    pub ok: usize,
    pub errors: Vec<RowError>,
    pub unknown_columns: Vec<String>,
    pub missing_columns: Vec<String>,
    /// True when the rows were written.
    pub committed: bool,
}

/// Imports (or, with `commit = false`, checks) a sheet in the caller's organization.
/// `progress` is told the number of rows done so far.
pub async fn run(
    st: &AppState,
    ctx: &Ctx,
    kind: Kind,
    sheet: &Sheet,
    commit: bool,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<Report> {
    let org = ctx.require(domain::auth::Permission::ManageArchives)?.id;
    let tr = ctx.tr;
    let mapping = map(kind, &sheet.headers);
    let mut report = Report {
        kind,
        rows: sheet.rows.len(),
        ok: 0,
        errors: Vec::new(),
        unknown_columns: mapping.unknown.clone(),
        missing_columns: mapping.missing.iter().map(|f| f.to_string()).collect(),
        committed: false,
    };
    if !mapping.missing.is_empty() {
        return Ok(report);
    }
    let records: Vec<Record<'_>> = sheet
        .rows
        .iter()
        .map(|(line, cells)| Record {
            line: *line,
            cells,
            mapping: &mapping,
        })
        .collect();
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let outcomes = super::kinds::import(&mut tx, ctx, org, kind, &records, now, progress).await?;
    for (line, r) in outcomes {
        match r {
            Ok(()) => report.ok += 1,
            Err(fields) => report.errors.extend(row_errors(&tr, kind, line, &fields)),
        }
    }
    if commit && report.errors.is_empty() {
        tx.commit().await?;
        report.committed = true;
        if report.rows >= 10_000 {
            // A large import shifts the statistics the planner relies on.
            st.db.optimize().await?;
        }
    }
    // Otherwise the transaction is dropped: rolled back, nothing written.
    Ok(report)
}

/// The column header a field is known by in the user's language (Chinese header or the
/// English field name), so the report points at a column the user recognises.
pub fn field_label(tr: &Tr, kind: Kind, field: &str) -> String {
    match columns(kind).iter().find(|c| c.field == field) {
        Some(c) if tr.lang == crate::i18n::Lang::ZhCn => c.headers[1].to_string(),
        Some(c) => c.field.to_string(),
        None if field == "row" => "—".to_string(),
        None => field.to_string(),
    }
}

fn row_errors(tr: &Tr, kind: Kind, line: usize, f: &FieldErrors) -> Vec<RowError> {
    f.0.iter()
        .map(|e| RowError {
            line,
            field: field_label(tr, kind, &e.field),
            message: tr.field(e),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_chinese_or_english() {
        let h: Vec<String> = ["序列号", "Part No", "客户名称", "颜色", "安装日期"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = map(Kind::Equipment, &h);
        assert_eq!(m.fields["serial"], 0);
        assert_eq!(m.fields["part_no"], 1);
        assert_eq!(m.fields["customer"], 2);
        assert_eq!(m.fields["install_date"], 4);
        assert_eq!(m.unknown, vec!["颜色"]);
        assert!(m.missing.is_empty());
        let m = map(Kind::Equipment, &["序列号".to_string()]);
        assert_eq!(m.missing, vec!["part_no", "customer"]);
    }

    #[test]
    fn every_kind_has_a_required_column() {
        for k in Kind::ALL {
            assert!(columns(k).iter().any(|c| c.required), "{k:?}");
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }
}
