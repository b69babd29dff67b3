//! The study report as a workbook: one sheet per section (summary, items, dimensions,
//! importance-performance matrix, the four breakdowns, free-text answers). Numbers are
//! written as numbers (full precision) so that they can be checked and recomputed.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use store::PageReq;
use store::satisfaction::stats::TextAnswer;

use super::pages::group_label;
use super::{Ci, StudyStats, service};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;

/// Most free-text answers written to the workbook.
pub const TEXTS_MAX: i64 = 20_000;

fn xe(e: XlsxError) -> AppError {
    AppError::Internal(e.to_string())
}

/// Writes a header row.
fn header_row(ws: &mut Worksheet, tr: &Tr, keys: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (i, k) in keys.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, tr.t(k), bold)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn opt(ws: &mut Worksheet, row: u32, col: u16, v: Option<f64>) -> Result<(), XlsxError> {
    if let Some(v) = v.filter(|v| v.is_finite()) {
        ws.write_number(row, col, v)?;
    }
    Ok(())
}

/// Writes n, value, low, high from column `col`.
fn ci(ws: &mut Worksheet, row: u32, col: u16, c: &Ci) -> Result<(), XlsxError> {
    ws.write_number(row, col, c.n as f64)?;
    opt(ws, row, col + 1, c.value)?;
    opt(ws, row, col + 2, c.low)?;
    opt(ws, row, col + 3, c.high)?;
    Ok(())
}

/// A sheet name: at most 31 characters, without the characters Excel refuses.
fn sheet_name(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect()
}

/// Builds the workbook of a study's figures and its free-text answers.
pub fn workbook(tr: &Tr, s: &StudyStats, texts: &[TextAnswer]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = |wb: &mut Workbook, key: &str| -> Result<(), XlsxError> {
        wb.add_worksheet().set_name(sheet_name(tr.t(key)))?;
        Ok(())
    };
    // Summary
    sheet(&mut wb, "sat_stats.sheet_summary")?;
    {
        let ws = wb.worksheet_from_index(0)?;
        ws.write_string_with_format(0, 0, &s.study.name, &bold)?;
        let info = [
            (
                "sat_stats.template",
                format!(
                    "{} ({} v{})",
                    s.study.template_name, s.study.template_code, s.study.version_no
                ),
            ),
            (
                "sat_stats.period",
                format!("{} — {}", s.study.period_start, s.study.period_end),
            ),
            ("sat_stats.computed_at", tr.time(s.computed_at)),
        ];
        for (i, (k, v)) in info.iter().enumerate() {
            ws.write_string(1 + i as u32, 0, tr.t(k))?;
            ws.write_string(1 + i as u32, 1, v)?;
        }
        let top = 5;
        for (i, k) in [
            "sat_stats.figure",
            "sat_stats.n",
            "sat_stats.value",
            "sat_stats.low",
            "sat_stats.high",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(top, i as u16, tr.t(k), &bold)?;
        }
        let rows = [
            ("sat_stats.csi", &s.csi),
            ("sat_stats.csat_percent", &s.csat),
            ("sat_stats.nps", &s.nps),
            ("sat_stats.ces", &s.ces),
            ("sat_stats.response_rate_percent", &s.response_rate),
            ("sat_stats.response_score", &s.response_score),
        ];
        for (i, (k, c)) in rows.iter().enumerate() {
            let r = top + 1 + i as u32;
            ws.write_string(r, 0, tr.t(k))?;
            ci(ws, r, 1, c)?;
        }
        let r = top + 2 + rows.len() as u32;
        ws.write_string(r, 0, tr.t("sat_stats.responses"))?;
        ws.write_number(r, 1, s.responses as f64)?;
        ws.write_string(r + 1, 0, tr.t("sat_stats.invited"))?;
        ws.write_number(r + 1, 1, s.invited as f64)?;
        ws.write_string(r + 2, 0, tr.t("sat_stats.answered"))?;
        ws.write_number(r + 2, 1, s.answered as f64)?;
        ws.write_string(r + 4, 0, tr.t("sat_stats.note_ci"))?;
        ws.set_column_width(0, 28)?;
    }
    // Items
    sheet(&mut wb, "sat_stats.sheet_items")?;
    {
        let ws = wb.worksheet_from_index(1)?;
        header_row(
            ws,
            tr,
            &[
                "sat_stats.dimension",
                "sat_stats.item",
                "sat_stats.kind_col",
                "sat_stats.scale_min",
                "sat_stats.scale_max",
                "sat_stats.n",
                "sat_stats.mean",
                "sat_stats.mean_low",
                "sat_stats.mean_high",
                "sat_stats.sd",
                "sat_stats.score",
                "sat_stats.low",
                "sat_stats.high",
                "sat_stats.weight",
                "sat_stats.importance",
            ],
            &bold,
        )?;
        for (i, it) in s.items.iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, it.dimension.as_deref().unwrap_or(""))?;
            ws.write_string(r, 1, &it.text)?;
            ws.write_string(r, 2, tr.tk("sat_stats.kind", &it.kind))?;
            ws.write_number(r, 3, it.scale_min as f64)?;
            ws.write_number(r, 4, it.scale_max as f64)?;
            ci(ws, r, 5, &it.mean)?;
            opt(ws, r, 9, it.sd)?;
            opt(ws, r, 10, it.score.value)?;
            opt(ws, r, 11, it.score.low)?;
            opt(ws, r, 12, it.score.high)?;
            opt(ws, r, 13, it.weight)?;
            opt(ws, r, 14, it.importance)?;
        }
        ws.set_column_width(1, 40)?;
    }
    // Dimensions
    sheet(&mut wb, "sat_stats.sheet_dimensions")?;
    {
        let ws = wb.worksheet_from_index(2)?;
        header_row(
            ws,
            tr,
            &[
                "sat_stats.dimension",
                "sat_stats.items_count",
                "sat_stats.score",
                "sat_stats.importance",
                "sat_stats.alpha",
                "sat_stats.complete_cases",
                "sat_stats.acceptable",
            ],
            &bold,
        )?;
        for (i, d) in s.dimensions.iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, &d.name)?;
            ws.write_number(r, 1, d.items as f64)?;
            opt(ws, r, 2, d.score)?;
            opt(ws, r, 3, d.importance)?;
            opt(ws, r, 4, d.alpha)?;
            ws.write_number(r, 5, d.complete_cases as f64)?;
            if let Some(a) = d.acceptable {
                ws.write_string(r, 6, tr.yes_no(a))?;
            }
        }
        ws.set_column_width(0, 24)?;
    }
    // Importance-performance matrix
    sheet(&mut wb, "sat_stats.sheet_ipa")?;
    {
        let ws = wb.worksheet_from_index(3)?;
        header_row(
            ws,
            tr,
            &[
                "sat_stats.item",
                "sat_stats.importance",
                "sat_stats.performance",
                "sat_stats.quadrant_col",
            ],
            &bold,
        )?;
        if let Some(m) = &s.ipa {
            for (i, p) in m.points.iter().enumerate() {
                let r = 1 + i as u32;
                ws.write_string(r, 0, &p.text)?;
                ws.write_number(r, 1, p.importance)?;
                ws.write_number(r, 2, p.performance)?;
                ws.write_string(r, 3, tr.tk("sat_stats.quadrant", &p.quadrant))?;
            }
            let r = 2 + m.points.len() as u32;
            ws.write_string(r, 0, tr.t("sat_stats.cuts"))?;
            ws.write_number(r, 1, m.importance_cut)?;
            ws.write_number(r, 2, m.performance_cut)?;
        }
        ws.set_column_width(0, 40)?;
    }
    // Breakdowns
    for (k, by) in ["product", "engineer", "region", "outlet"]
        .iter()
        .enumerate()
    {
        wb.add_worksheet()
            .set_name(sheet_name(&tr.tk("sat_stats.by", by)))?;
        let ws = wb.worksheet_from_index(4 + k)?;
        header_row(
            ws,
            tr,
            &[
                "sat_stats.group",
                "sat_stats.responses",
                "sat_stats.score_n",
                "sat_stats.score",
                "sat_stats.low",
                "sat_stats.high",
                "sat_stats.csat_n",
                "sat_stats.csat_percent",
                "sat_stats.low",
                "sat_stats.high",
                "sat_stats.nps_n",
                "sat_stats.nps",
                "sat_stats.low",
                "sat_stats.high",
            ],
            &bold,
        )?;
        for (i, g) in s.breakdowns.of(by).iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, group_label(tr, g))?;
            ws.write_number(r, 1, g.responses as f64)?;
            ci(ws, r, 2, &g.score)?;
            ci(ws, r, 6, &g.csat)?;
            ci(ws, r, 10, &g.nps)?;
        }
        ws.set_column_width(0, 28)?;
    }
    // Free-text answers
    sheet(&mut wb, "sat_stats.sheet_texts")?;
    {
        let ws = wb.worksheet_from_index(8)?;
        header_row(
            ws,
            tr,
            &[
                "sat_stats.submitted_at",
                "sat_stats.customer",
                "sat_stats.channel_col",
                "sat_stats.response_score",
                "sat_stats.text",
            ],
            &bold,
        )?;
        for (i, t) in texts.iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, tr.time(t.submitted_at))?;
            ws.write_string(r, 1, t.customer_name.as_deref().unwrap_or(""))?;
            ws.write_string(r, 2, tr.tk("sat_stats.channel", &t.channel))?;
            opt(ws, r, 3, t.score)?;
            ws.write_string(r, 4, &t.text)?;
        }
        ws.set_column_width(0, 17)?;
        ws.set_column_width(4, 60)?;
    }
    wb.save_to_buffer()
}

/// The workbook of study `id`.
pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = service::stats(&st, &ctx, id).await?;
    let mut texts = Vec::new();
    let mut page = 1;
    while (texts.len() as i64) < TEXTS_MAX.min(s.texts_total) {
        let (_, p) = service::texts(&st, &ctx, id, PageReq::new(Some(page), Some(200))).await?;
        if p.items.is_empty() {
            break;
        }
        texts.extend(p.items);
        page += 1;
    }
    texts.truncate(TEXTS_MAX as usize);
    let bytes = workbook(&ctx.tr, &s, &texts).map_err(xe)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"study-{id}-report.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
