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
use crate::error::{AppError, AppResult};
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

const CUSTOMERS: &[Column] = &[
    col("code", &["code", "客户编号", "编号", "客户代码"], false),
    col(
        "name",
        &["name", "客户名称", "名称", "客户", "customer"],
        true,
    ),
    col("kind", &["kind", "type", "类型", "客户类型"], false),
    col("industry", &["industry", "行业"], false),
    col("region", &["region", "地区", "区域"], false),
    col("address", &["address", "地址"], false),
    col("tags", &["tags", "标签"], false),
    col("notes", &["notes", "备注"], false),
];

const CONTACTS: &[Column] = &[
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号", "customercode"],
        true,
    ),
    col("name", &["name", "contact", "联系人", "姓名"], true),
    col("role", &["role", "职务", "角色"], false),
    col("mobile", &["mobile", "手机", "手机号"], false),
    col("phone", &["phone", "电话", "座机"], false),
    col("email", &["email", "邮箱", "电子邮件"], false),
    col("wechat", &["wechat", "微信", "微信号"], false),
];

const PRODUCTS: &[Column] = &[
    col(
        "part_no",
        &["partno", "part", "料号", "物料号", "物料编码"],
        true,
    ),
    col("model", &["model", "型号"], true),
    col("name", &["name", "名称", "产品名称"], true),
    col("category", &["category", "类别", "分类"], false),
    col(
        "warranty_months",
        &[
            "warrantymonths",
            "warranty",
            "保修期",
            "保修期月",
            "三包期",
            "三包期月",
        ],
        false,
    ),
    col(
        "contract_levels",
        &["contractlevels", "服务合同等级", "合同等级"],
        false,
    ),
];

const ORDERS: &[Column] = &[
    col(
        "order_no",
        &["orderno", "order", "订单编号", "订单号"],
        true,
    ),
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号"],
        true,
    ),
    col(
        "delivery_no",
        &["deliveryno", "delivery", "交货单号", "送货单号"],
        false,
    ),
    col("ship_date", &["shipdate", "交运日期", "发货日期"], false),
    col("part_no", &["partno", "料号", "物料号"], true),
    col("quantity", &["quantity", "qty", "数量"], true),
    col(
        "unit_price",
        &["unitprice", "price", "单价", "单价元"],
        false,
    ),
    col("notes", &["notes", "备注"], false),
];

const EQUIPMENT: &[Column] = &[
    col(
        "serial",
        &["serial", "serialno", "sn", "序列号", "出厂编号"],
        true,
    ),
    col("part_no", &["partno", "料号", "物料号"], true),
    col(
        "customer",
        &["customer", "客户", "客户名称", "客户编号"],
        true,
    ),
    col("site", &["site", "现场", "安装地点", "站点"], false),
    col("order_no", &["orderno", "订单编号", "订单号"], false),
    col("install_date", &["installdate", "安装日期"], false),
    col(
        "warranty_end",
        &["warrantyend", "保修截止", "保修截止日期"],
        false,
    ),
    col(
        "contract_level",
        &["contractlevel", "服务合同等级", "合同等级"],
        false,
    ),
    col(
        "contract_start",
        &["contractstart", "合同开始", "合同开始日期"],
        false,
    ),
    col(
        "contract_end",
        &["contractend", "合同结束", "合同结束日期"],
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
            Err(fields) => report.errors.extend(row_errors(&tr, line, &fields)),
        }
    }
    if commit && report.errors.is_empty() {
        tx.commit().await?;
        report.committed = true;
    }
    // Otherwise the transaction is dropped: rolled back, nothing written.
    Ok(report)
}

fn row_errors(tr: &Tr, line: usize, f: &FieldErrors) -> Vec<RowError> {
    f.0.iter()
        .map(|e| RowError {
            line,
            field: e.field.clone(),
            message: tr.field(e),
        })
        .collect()
}

/// Turns a service error on a row into field errors (anything else aborts the import).
pub fn row_result(r: AppResult<i64>) -> AppResult<Result<(), FieldErrors>> {
    match r {
        Ok(_) => Ok(Ok(())),
        Err(AppError::Invalid(f)) => Ok(Err(f)),
        Err(AppError::Duplicate) => Ok(Err(FieldErrors::single("row", "taken"))),
        Err(AppError::Transition(t)) => Ok(Err(FieldErrors::single("row", t))),
        Err(e) => Err(e),
    }
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
