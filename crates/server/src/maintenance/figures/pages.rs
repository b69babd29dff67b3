//! The figures page: the filter form (interval, product, engineer, customer), key figures,
//! the monthly PM-compliance chart and the overdue-backlog chart, the breakdown by
//! engineer, product or customer, and the repair tables per product and per unit.

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::FieldErrors;
use domain::auth::Permission;
use serde::Deserialize;

use super::{By, MaintFigures, MaintRate, RepairFigures, Request, chart, figures};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render_status};

/// Products offered in the filter.
const PRODUCT_CHOICES: i64 = 1000;

/// Query of the page (strings: an empty select is "all").
#[derive(Debug, Deserialize, Default)]
pub struct PageQ {
    pub from: Option<String>,
    pub to: Option<String>,
    pub product_id: Option<String>,
    pub engineer_id: Option<String>,
    pub customer_id: Option<String>,
    pub by: Option<String>,
}

/// A compliance row with display strings.
struct PmRow {
    label: String,
    /// The filter link of the row (empty: none).
    href: String,
    due: i64,
    on_time: i64,
    percent: String,
}

/// A repair row with display strings.
struct RepairRow {
    label: String,
    sub: String,
    repairs: i64,
    mttr: String,
    mtbf: String,
    ftf: String,
    repeat: String,
}

/// What the page shows once the figures are read.
struct View {
    pm: String,
    pm_of: String,
    backlog: i64,
    as_of: String,
    mttr: String,
    mtbf: String,
    ftf: String,
    ftf_of: String,
    repeat: String,
    repeat_of: String,
    repairs: i64,
    pm_svg: String,
    backlog_svg: String,
    months: Vec<PmRow>,
    groups: Vec<PmRow>,
    rest: Option<PmRow>,
    buckets: Vec<(String, i64)>,
    products: Vec<RepairRow>,
    units: Vec<RepairRow>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/figures.html")]
struct FiguresPage {
    s: Shell,
    tr: Tr,
    q: PageQ,
    /// The filters as a query string (without `by`), for the dimension links.
    base: String,
    by: &'static str,
    dims: Vec<&'static str>,
    products: Vec<(i64, String, String)>,
    engineers: Vec<(i64, String, String)>,
    /// The customer filtered on: (id, name).
    customer: Option<(i64, String)>,
    /// The page without the customer filter.
    without_customer: String,
    errs: Errs,
    v: Option<View>,
}

impl FiguresPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn pct_text(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_string(), |p| format!("{p:.1}%"))
}

fn num_text(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.1}"))
}

fn of_text(r: &MaintRate) -> String {
    format!("{} / {}", r.count, r.of)
}

fn nonblank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The query string of the filters, with `key` replaced by `value` (empty: left out).
fn query_with(q: &PageQ, by: By, key: &str, value: &str) -> String {
    let pairs = [
        ("from", nonblank(&q.from)),
        ("to", nonblank(&q.to)),
        ("product_id", nonblank(&q.product_id)),
        ("engineer_id", nonblank(&q.engineer_id)),
        ("customer_id", nonblank(&q.customer_id)),
        ("by", Some(by.as_str().to_string())),
    ];
    let kept: Vec<(&str, String)> = pairs
        .into_iter()
        .filter_map(|(k, v)| {
            if k == key {
                (!value.is_empty()).then(|| (k, value.to_string()))
            } else {
                v.map(|v| (k, v))
            }
        })
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

fn repair_row(label: String, sub: String, f: &RepairFigures) -> RepairRow {
    RepairRow {
        label,
        sub,
        repairs: f.repairs,
        mttr: num_text(f.mttr_hours),
        mtbf: num_text(f.mtbf_days),
        ftf: pct_text(f.first_time_fix.percent),
        repeat: pct_text(f.repeat_30d.percent),
    }
}

fn view(tr: &Tr, q: &PageQ, by: By, fig: MaintFigures) -> View {
    let t = |k: &str| tr.t(k).to_string();
    let months: Vec<chart::MonthBar> = fig
        .pm_by_month
        .iter()
        .map(|m| chart::MonthBar {
            label: m.month.clone(),
            due: m.due,
            on_time: m.on_time,
            percent: m.percent,
        })
        .collect();
    let pm_svg = chart::compliance(
        &months,
        &chart::Texts {
            title: t("maint_figures.pm_by_month"),
            count: t("maint_figures.axis_orders"),
            percent: t("maint_figures.axis_compliance"),
            legend: [
                t("maint_figures.due"),
                t("maint_figures.on_time"),
                t("maint_figures.compliance"),
            ],
        },
    );
    let buckets: Vec<(String, i64)> = fig
        .overdue
        .buckets
        .iter()
        .map(|b| (tr.tk("maint_figures.age", &b.bucket), b.n))
        .collect();
    let backlog_svg = chart::columns(
        &buckets
            .iter()
            .map(|(l, n)| chart::Bar {
                label: l.clone(),
                n: *n,
            })
            .collect::<Vec<_>>(),
        &chart::Texts {
            title: t("maint_figures.backlog"),
            count: t("maint_figures.axis_orders"),
            percent: String::new(),
            legend: Default::default(),
        },
        "backlog-chart",
    );
    let key = match by {
        By::Engineer => "engineer_id",
        By::Product => "product_id",
        By::Customer => "customer_id",
    };
    let groups = fig
        .pm_by
        .groups
        .iter()
        .map(|g| {
            let name = g.name.clone().unwrap_or_else(|| match g.id {
                Some(id) => format!("#{id}"),
                None => t("maint_figures.not_set"),
            });
            PmRow {
                label: match &g.part_no {
                    Some(p) => format!("{p} {name}"),
                    None => name,
                },
                href: g
                    .id
                    .map(|id| {
                        format!(
                            "/maintenance/figures?{}",
                            query_with(q, by, key, &id.to_string())
                        )
                    })
                    .unwrap_or_default(),
                due: g.due,
                on_time: g.on_time,
                percent: pct_text(g.percent),
            }
        })
        .collect();
    let rest = fig.pm_by.rest;
    View {
        pm: pct_text(fig.pm.percent),
        pm_of: format!("{} / {}", fig.pm.on_time, fig.pm.due),
        backlog: fig.overdue.total,
        as_of: fig.overdue.as_of.clone(),
        mttr: num_text(fig.repairs.mttr_hours),
        mtbf: num_text(fig.repairs.mtbf_days),
        ftf: pct_text(fig.repairs.first_time_fix.percent),
        ftf_of: of_text(&fig.repairs.first_time_fix),
        repeat: pct_text(fig.repairs.repeat_30d.percent),
        repeat_of: of_text(&fig.repairs.repeat_30d),
        repairs: fig.repairs.repairs,
        pm_svg,
        backlog_svg,
        months: fig
            .pm_by_month
            .iter()
            .map(|m| PmRow {
                label: m.month.clone(),
                href: String::new(),
                due: m.due,
                on_time: m.on_time,
                percent: pct_text(m.percent),
            })
            .collect(),
        groups,
        rest: (rest.due > 0).then(|| PmRow {
            label: t("maint_figures.rest"),
            href: String::new(),
            due: rest.due,
            on_time: rest.on_time,
            percent: pct_text(rest.percent),
        }),
        buckets,
        products: fig
            .repairs_by_product
            .iter()
            .map(|p| {
                repair_row(
                    p.part_no
                        .clone()
                        .unwrap_or_else(|| t("maint_figures.no_product")),
                    p.name.clone().unwrap_or_default(),
                    &p.figures,
                )
            })
            .collect(),
        units: fig
            .repairs_by_unit
            .iter()
            .map(|u| {
                repair_row(
                    u.serial
                        .clone()
                        .unwrap_or_else(|| format!("#{}", u.equipment_id)),
                    u.part_no.clone().unwrap_or_default(),
                    &u.figures,
                )
            })
            .collect(),
    }
}

/// The figures page.
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(mut q): Query<PageQ>,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ViewService)?.id;
    let by = By::parse(q.by.as_deref());
    let mut errs = FieldErrors::default();
    let mut id = |field: &str, v: &Option<String>| match nonblank(v).map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            errs.add(field, "choice", None);
            None
        }
    };
    let product_id = id("product_id", &q.product_id);
    let engineer_id = id("engineer_id", &q.engineer_id);
    let customer_id = id("customer_id", &q.customer_id);
    let r = Request {
        from: nonblank(&q.from),
        to: nonblank(&q.to),
        product_id,
        engineer_id,
        customer_id,
        by,
    };
    let (v, status) = if errs.is_empty() {
        match figures(&st, &ctx, &r).await {
            Ok(fig) => {
                // Show the interval actually counted (defaults filled in).
                q.from = Some(fig.from.clone());
                q.to = Some(fig.to.clone());
                (Some(view(&ctx.tr, &q, by, fig)), StatusCode::OK)
            }
            Err(AppError::Invalid(e)) => {
                errs = e;
                (None, StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(e) => return Err(e),
        }
    } else {
        (None, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let (products, engineers, customer) = {
        let mut h = st.db.acquire().await?;
        let products =
            store::maintenance::figures::product_choices(&mut h.c(), org, PRODUCT_CHOICES).await?;
        let engineers = store::maintenance::orders::engineer_choices(&mut h.c(), org).await?;
        let customer = match customer_id {
            Some(c) => store::maintenance::figures::customer_name(&mut h.c(), org, c)
                .await?
                .map(|n| (c, n)),
            None => None,
        };
        (products, engineers, customer)
    };
    let s = Shell::load(&st, &ctx, &uri, "maint_figures.title").await?;
    render_status(
        status,
        &FiguresPage {
            tr: ctx.tr,
            s,
            base: query_with(&q, by, "by", ""),
            without_customer: format!(
                "/maintenance/figures?{}",
                query_with(&q, by, "customer_id", "")
            ),
            by: by.as_str(),
            dims: By::ALL.iter().map(|d| d.as_str()).collect(),
            products,
            engineers,
            customer,
            errs: Errs::of(&ctx.tr, &errs),
            v,
            q,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_replace_one_filter() {
        let q = PageQ {
            from: Some("2026-01-01".into()),
            to: Some("2026-03-31".into()),
            product_id: Some(" ".into()),
            engineer_id: Some("7".into()),
            customer_id: None,
            by: None,
        };
        assert_eq!(
            query_with(&q, By::Customer, "customer_id", "12"),
            "from=2026-01-01&to=2026-03-31&engineer_id=7&customer_id=12&by=customer"
        );
        assert_eq!(
            query_with(&q, By::Engineer, "by", ""),
            "from=2026-01-01&to=2026-03-31&engineer_id=7"
        );
        assert_eq!(
            query_with(&q, By::Engineer, "engineer_id", ""),
            "from=2026-01-01&to=2026-03-31&by=engineer"
        );
    }
}
