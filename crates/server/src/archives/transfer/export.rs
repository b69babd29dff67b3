//! Exporting archive lists to CSV (UTF-8 with BOM, so Excel on Chinese Windows reads it;
//! streamed a batch at a time) and XLSX, with the lists' filters and the same permission.
//! Headers are the import's, so an exported file imports again.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::auth::Permission;
use futures_util::StreamExt;
use serde::Deserialize;
use store::Db;
use store::archives::export::{self as q, Filter, Row};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Customers,
    Contacts,
    Products,
    Orders,
    Equipment,
    Outlets,
}

impl What {
    /// Parses the name used in URLs.
    pub fn parse(s: &str) -> Option<What> {
        Some(match s {
            "customers" => What::Customers,
            "contacts" => What::Contacts,
            "products" => What::Products,
            "orders" => What::Orders,
            "equipment" => What::Equipment,
            "outlets" => What::Outlets,
            _ => return None,
        })
    }

    /// Column headers: (English field name, Chinese header).
    pub fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            What::Customers => &[
                ("code", "客户编号"),
                ("name", "客户名称"),
                ("kind", "类型"),
                ("industry", "行业"),
                ("region", "地区"),
                ("address", "地址"),
                ("tags", "标签"),
                ("notes", "备注"),
                ("active", "在用"),
            ],
            What::Contacts => &[
                ("customer", "客户"),
                ("name", "联系人"),
                ("role", "职务"),
                ("mobile", "手机"),
                ("phone", "电话"),
                ("email", "邮箱"),
                ("wechat", "微信"),
            ],
            What::Products => &[
                ("part_no", "料号"),
                ("model", "型号"),
                ("name", "产品名称"),
                ("category", "类别"),
                ("warranty_months", "保修期"),
                ("contract_levels", "服务合同等级"),
                ("active", "在用"),
            ],
            What::Orders => &[
                ("order_no", "订单编号"),
                ("customer", "客户"),
                ("delivery_no", "交货单号"),
                ("ship_date", "交运日期"),
                ("part_no", "料号"),
                ("quantity", "数量"),
                ("unit_price", "单价"),
                ("notes", "备注"),
            ],
            What::Equipment => &[
                ("serial", "序列号"),
                ("part_no", "料号"),
                ("customer", "客户"),
                ("site", "现场"),
                ("order_no", "订单编号"),
                ("install_date", "安装日期"),
                ("warranty_end", "保修截止"),
                ("contract_level", "服务合同等级"),
                ("contract_start", "合同开始"),
                ("contract_end", "合同结束"),
                ("status", "状态"),
            ],
            What::Outlets => &[
                ("name", "网点名称"),
                ("kind", "类型"),
                ("regions", "服务区域"),
                ("address", "地址"),
                ("contact_name", "联系人"),
                ("contact_phone", "联系电话"),
                ("contract_start", "合同开始"),
                ("contract_end", "合同结束"),
                ("active", "在用"),
            ],
        }
    }
}

/// Filters, as the list pages name them.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ExportQ {
    pub q: Option<String>,
    /// "1" includes retired records.
    pub retired: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub product_id: Option<String>,
}

impl ExportQ {
    fn filter(&self) -> Filter {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Filter {
            like: some(&self.q).map(|q| format!("%{}%", q.replace(['%', '_'], ""))),
            include_retired: self.retired.as_deref() == Some("1"),
            region: some(&self.region),
            status: some(&self.status),
            customer_id: some(&self.customer_id).and_then(|v| v.parse().ok()),
            product_id: some(&self.product_id).and_then(|v| v.parse().ok()),
        }
    }
}

async fn batch(db: &Db, what: What, org: i64, f: &Filter, after: i64) -> AppResult<Vec<Row>> {
    let mut h = db.acquire().await?;
    let mut c = h.c();
    Ok(match what {
        What::Customers => q::customers(&mut c, org, f, after).await?,
        What::Contacts => q::contacts(&mut c, org, f, after).await?,
        What::Products => q::products(&mut c, org, f, after).await?,
        What::Orders => q::order_lines(&mut c, org, f, after).await?,
        What::Equipment => q::equipment(&mut c, org, f, after).await?,
        What::Outlets => q::outlets(&mut c, org, f, after).await?,
    })
}

fn header_row(what: What, lang: Lang) -> Vec<&'static str> {
    what.headers()
        .iter()
        .map(|(en, zh)| if lang == Lang::ZhCn { *zh } else { *en })
        .collect()
}

fn csv_bytes(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for r in rows {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

/// `GET /archives/export/{file}` where file is `<what>.csv` or `<what>.xlsx`.
pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    Query(p): Query<ExportQ>,
) -> AppResult<Response> {
    let (name, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let what = What::parse(name).ok_or(AppError::NotFound)?;
    export(&st, &ctx, what, ext, &p).await
}

/// Builds the export response.
pub async fn export(
    st: &AppState,
    ctx: &Ctx,
    what: What,
    ext: &str,
    p: &ExportQ,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let filter = p.filter();
    let lang = ctx.tr.lang;
    let stamp = crate::now();
    match ext {
        "csv" => {
            let db = st.db.clone();
            let head: Vec<String> = header_row(what, lang)
                .into_iter()
                .map(str::to_string)
                .collect();
            // State: (next id, done); the first chunk carries the BOM and the header.
            let first = {
                let mut b = b"\xEF\xBB\xBF".to_vec();
                b.extend(csv_bytes(&[head]));
                Bytes::from(b)
            };
            let rest = futures_util::stream::unfold((0i64, false), move |(after, done)| {
                let db = db.clone();
                let filter = filter.clone();
                async move {
                    if done {
                        return None;
                    }
                    match batch(&db, what, org, &filter, after).await {
                        Ok(rows) if rows.is_empty() => None,
                        Ok(rows) => {
                            let last = rows.last().map(|r| r.0).unwrap_or(after);
                            let full = rows.len() as i64 == q::BATCH;
                            let cells: Vec<Vec<String>> = rows.into_iter().map(|r| r.1).collect();
                            Some((
                                Ok::<Bytes, std::io::Error>(Bytes::from(csv_bytes(&cells))),
                                (last, !full),
                            ))
                        }
                        Err(e) => {
                            tracing::error!(error = ?e, "export failed mid-stream");
                            Some((Err(std::io::Error::other("export failed")), (after, true)))
                        }
                    }
                }
            });
            let body =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(first) })
                    .chain(rest);
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"{name}-{stamp}.csv\"",
                            name = file_name(what)
                        ),
                    ),
                ],
                Body::from_stream(body),
            )
                .into_response())
        }
        "xlsx" => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (i, h) in header_row(what, lang).iter().enumerate() {
                ws.write_string_with_format(0, i as u16, *h, &bold)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
            }
            let mut row = 1u32;
            let mut after = 0i64;
            loop {
                let rows = batch(&st.db, what, org, &filter, after).await?;
                let Some(last) = rows.last().map(|r| r.0) else {
                    break;
                };
                let full = rows.len() as i64 == q::BATCH;
                for r in rows {
                    for (i, v) in r.1.iter().enumerate() {
                        ws.write_string(row, i as u16, v)
                            .map_err(|e| AppError::Internal(e.to_string()))?;
                    }
                    row += 1;
                }
                after = last;
                if !full {
                    break;
                }
            }
            let bytes = wb
                .save_to_buffer()
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}-{stamp}.xlsx\"", file_name(what)),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        _ => Err(AppError::NotFound),
    }
}

fn file_name(what: What) -> &'static str {
    match what {
        What::Customers => "customers",
        What::Contacts => "contacts",
        What::Products => "products",
        What::Orders => "orders",
        What::Equipment => "equipment",
        What::Outlets => "outlets",
    }
}
