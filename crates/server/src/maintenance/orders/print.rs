//! The printed service order form (维修 / 保养服务单, DOMAIN.md §3): number; customer, site,
//! equipment model and serial; type; reported, appointment, arrival and completion times;
//! symptom, diagnosis, cause, actions, parts, fees; checklist results; the customer's
//! acceptance with the drawn signature; rating. A bordered A4 portrait sheet to sign.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use domain::archives::orders::format_fen;
use domain::maintenance::orders::Kind;

use super::service::{self, Detail};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::maintenance::checklists::service::EffectiveItem;
use crate::web::{Shell, render};

/// Route of the printed form.
pub fn routes() -> Router<AppState> {
    Router::new().route("/service-orders/{id}/print", get(print))
}

#[derive(askama::Template)]
#[template(path = "maintenance/order_print.html")]
struct PrintPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    printed_at: String,
    /// Each order type, ticked when it is this order's.
    kinds: Vec<(String, bool)>,
}

impl PrintPage {
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn when(&self, v: &Option<i64>) -> String {
        self.tr.time_opt(*v)
    }
    fn money(&self, fen: &i64) -> String {
        format_fen(*fen)
    }
    fn appointment(&self) -> String {
        let o = &self.d.order;
        match (o.scheduled_start, o.scheduled_end) {
            (Some(a), Some(b)) => {
                let (sa, sb) = (self.tr.time(a), self.tr.time(b));
                // The same day is written once: "2026-03-02 09:00–11:00".
                if sa.get(..10) == sb.get(..10) {
                    format!("{sa}–{}", sb.get(11..).unwrap_or(""))
                } else {
                    format!("{sa} – {sb}")
                }
            }
            (Some(a), None) => self.tr.time(a),
            _ => String::new(),
        }
    }
    fn outcome(&self, i: &EffectiveItem) -> String {
        self.d
            .result(i.id)
            .and_then(|r| r.outcome.as_deref())
            .map(|o| self.tr.tk("checklist.outcome", o))
            .unwrap_or_default()
    }
    fn detail(&self, i: &EffectiveItem) -> String {
        let Some(r) = self.d.result(i.id) else {
            return String::new();
        };
        let mut parts = Vec::new();
        if let Some(v) = r.value {
            parts.push(format!(
                "{v}{}",
                i.unit
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(n) = &r.note {
            parts.push(n.clone());
        }
        parts.join(" · ")
    }
    fn line_total(&self, qty: &i64, unit: &i64) -> String {
        format_fen(qty * unit)
    }
    fn total(&self) -> String {
        format_fen(self.d.order.fee_fen + self.d.order.parts_cost_fen)
    }
    fn rated(&self, n: &i64) -> bool {
        self.d.order.rating == Some(*n)
    }
}

/// 维修 / 保养服务单 of an order.
pub async fn print(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let kinds = Kind::ALL
        .iter()
        .map(|k| {
            (
                ctx.tr.tk("service_order.kind", k.as_str()),
                d.order.kind == k.as_str(),
            )
        })
        .collect();
    let s = Shell::load(&st, &ctx, &uri, "service_orders.print_title").await?;
    render(&PrintPage {
        printed_at: ctx.tr.time(st.now()),
        tr: ctx.tr,
        s,
        d,
        kinds,
    })
}
