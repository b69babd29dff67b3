//! The printed forms of a complaint (DOMAIN.md §3): the registration form (客户投诉登记表)
//! and the handling form (客户投诉处理表), laid out as bordered A4 portrait tables that people
//! sign. Whoever may see the complaint may print it (the same visibility as its page).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use domain::archives::orders::format_fen;
use domain::complaints::Channel;

use super::service::{self, Detail};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::web::{Shell, render};

/// Routes of the printed forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/complaints/{id}/print/registration", get(registration))
        .route("/complaints/{id}/print/handling", get(handling))
}

/// One choice of a printed check list (☑ / ☐).
struct Choice {
    label: String,
    checked: bool,
}

/// A decided or waiting approval, as printed.
struct ApprovalLine {
    round: i64,
    approver: String,
    decision: String,
    by: String,
    at: String,
    comment: String,
}

/// The complaint's values as printed: dates in the reader's time, names translated.
struct Form {
    id: i64,
    number: String,
    received_at: String,
    channels: Vec<Choice>,
    customer: String,
    contact_name: String,
    contact_phone: String,
    address: String,
    order_no: String,
    part_no: String,
    ship_date: String,
    quantity: String,
    defective_quantity: String,
    days_in_service: String,
    serial: String,
    batch_no: String,
    description: String,
    demand: String,
    repeat_count: i64,
    /// Numbers of the earlier complaints this one repeats.
    repeats_of: String,
    recorded_by: String,
    recorded_at: String,
    printed_at: String,
    class: String,
    severity: String,
    investigation: String,
    cause: String,
    responsibility: String,
    department: String,
    inspection_result: String,
    inspection_basis: String,
    remedy_type: String,
    amount: String,
    remedy_detail: String,
    proposed_by: String,
    agreed_reply_date: String,
    approvals: Vec<ApprovalLine>,
    implementation: String,
    visit_satisfied: bool,
    visit_unsatisfied: bool,
    /// Times an unsatisfied return visit reopened it.
    reopen_count: i64,
    visit_note: String,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn int(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn form(tr: &Tr, d: &Detail, now: i64) -> Form {
    let c = &d.complaint;
    let approvals = d
        .approvals
        .iter()
        .map(|a| ApprovalLine {
            round: a.round,
            approver: match (&a.approver_role, &a.approver_department) {
                (Some(r), _) => tr.role(r),
                (None, Some(dn)) => dn.clone(),
                _ => String::new(),
            },
            decision: match &a.decision {
                Some(v) => tr.tk("complaint.decision", v),
                None => tr.t("complaint_print.pending").to_string(),
            },
            by: text(&a.decided_by_name),
            at: tr.time_opt(a.decided_at),
            comment: text(&a.comment),
        })
        .collect();
    Form {
        id: c.id,
        number: c.number.clone(),
        received_at: tr.time(c.received_at),
        channels: Channel::ALL
            .iter()
            .map(|ch| Choice {
                label: tr.tk("complaint.channel", ch.as_str()),
                checked: c.channel == ch.as_str(),
            })
            .collect(),
        customer: c.customer_name.clone(),
        contact_name: text(&c.contact_name),
        contact_phone: text(&c.contact_phone),
        address: text(&c.address),
        order_no: text(&c.order_no),
        part_no: text(&c.part_no),
        ship_date: text(&c.ship_date),
        quantity: int(c.quantity),
        defective_quantity: int(c.defective_quantity),
        days_in_service: int(c.days_in_service),
        serial: text(&c.serial),
        batch_no: text(&c.batch_no),
        description: c.description.clone(),
        demand: text(&c.demand),
        repeat_count: c.repeat_count,
        repeats_of: d
            .repeats_of
            .iter()
            .map(|l| l.number.clone())
            .collect::<Vec<_>>()
            .join("、"),
        recorded_by: text(&c.recorded_by_name),
        recorded_at: tr.time(c.created_at),
        printed_at: tr.time(now),
        class: tr.tk("complaint.class", &c.class),
        severity: tr.tk("complaint.severity", &c.severity),
        investigation: text(&c.investigation),
        cause: text(&c.cause),
        responsibility: c
            .responsibility
            .as_deref()
            .map(|v| tr.tk("complaint.responsibility", v))
            .unwrap_or_default(),
        department: text(&c.responsible_department),
        inspection_result: text(&c.inspection_result),
        inspection_basis: text(&c.inspection_basis),
        remedy_type: c
            .remedy_type
            .as_deref()
            .map(|v| tr.tk("complaint.remedy_type", v))
            .unwrap_or_default(),
        amount: c.remedy_amount_fen.map(format_fen).unwrap_or_default(),
        remedy_detail: text(&c.remedy_detail),
        proposed_by: text(&c.remedy_proposed_by),
        agreed_reply_date: text(&c.agreed_reply_date),
        approvals,
        implementation: text(&c.implementation),
        visit_satisfied: c.visit_result.as_deref() == Some("satisfied"),
        visit_unsatisfied: c.visit_result.as_deref() == Some("unsatisfied"),
        reopen_count: c.reopen_count,
        visit_note: text(&c.visit_note),
    }
}

#[derive(askama::Template)]
#[template(path = "complaints/print_registration.html")]
struct RegistrationPage {
    s: Shell,
    tr: Tr,
    f: Form,
}

#[derive(askama::Template)]
#[template(path = "complaints/print_handling.html")]
struct HandlingPage {
    s: Shell,
    tr: Tr,
    f: Form,
}

/// 客户投诉登记表: the registration as recorded, with signature lines.
pub async fn registration(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaint_print.registration_title").await?;
    render(&RegistrationPage {
        f: form(&ctx.tr, &d, st.now()),
        tr: ctx.tr,
        s,
    })
}

/// 客户投诉处理表: the registration plus analysis, remedy, approvals, implementation,
/// spare parts, return visit and the manager's sign-off.
pub async fn handling(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "complaint_print.handling_title").await?;
    render(&HandlingPage {
        f: form(&ctx.tr, &d, st.now()),
        tr: ctx.tr,
        s,
    })
}
