//! Staff pages of studies: the list, the design form with the sample-size calculator (the
//! "Calculate" button re-renders the form with N and n, no script needed), the study page
//! with its counters and invitations (links, QR codes, revoke, extend, add by hand), the
//! printable invitation sheet, phone entry and a response.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::satisfaction::sampling::{Confidence, Population, StudyDraft, StudyRaw, status};
use serde::Deserialize;
use store::PageReq;
use store::satisfaction::studies::{Invitation, InvitationFilter, Study, StudyFilter};

use super::public::{Group, groups};
use super::{qr, service};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Query of the study list.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub status: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Study>,
    pager: Pager,
    status: String,
    q: String,
    statuses: [&'static str; 3],
    can_manage: bool,
}

impl ListPage {
    fn rate(&self, responses: &i64, invited: &i64) -> String {
        rate(*responses, *invited)
    }
}

/// Response rate in percent, one decimal ("—" before anyone was invited).
pub fn rate(responses: i64, invited: i64) -> String {
    if invited <= 0 {
        "—".into()
    } else {
        format!("{:.1}%", responses as f64 * 100.0 / invited as f64)
    }
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let f = StudyFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        q: q.q.clone(),
    };
    let page = service::list(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let s = Shell::load(&st, &ctx, &uri, "study.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        status: q.status.unwrap_or_default(),
        q: q.q.unwrap_or_default(),
        statuses: status::ALL,
        can_manage: ctx.can(Permission::ManageSurveys),
        s,
    })
}

/// The typed values of the study form.
#[derive(Default)]
struct StudyForm {
    id: i64,
    version: i64,
    name: String,
    template_id: String,
    period_start: String,
    period_end: String,
    region: String,
    product_id: String,
    contract_level: String,
    served: bool,
    confidence: String,
    margin: String,
    sample_size: String,
    seed: String,
    link_days: String,
}

impl StudyForm {
    fn of(f: &FormData, id: i64, version: i64) -> StudyForm {
        StudyForm {
            id,
            version,
            name: f.get("name").into(),
            template_id: f.get("template_id").into(),
            period_start: f.get("period_start").into(),
            period_end: f.get("period_end").into(),
            region: f.get("region").into(),
            product_id: f.get("product_id").into(),
            contract_level: f.get("contract_level").into(),
            served: f.checked("served"),
            confidence: f.get("confidence").into(),
            margin: f.get("margin").into(),
            sample_size: f.get("sample_size").into(),
            seed: f.get("seed").into(),
            link_days: f.get("link_days").into(),
        }
    }

    fn of_study(s: &Study) -> StudyForm {
        let p: Population = serde_json::from_str(&s.population).unwrap_or_default();
        StudyForm {
            id: s.id,
            version: s.version,
            name: s.name.clone(),
            template_id: s.template_id.to_string(),
            period_start: s.period_start.clone(),
            period_end: s.period_end.clone(),
            region: p.region.unwrap_or_default(),
            product_id: p.product_id.map(|v| v.to_string()).unwrap_or_default(),
            contract_level: p.contract_level.unwrap_or_default(),
            served: p.served,
            confidence: s.confidence_percent.to_string(),
            margin: fmt_num(s.margin_percent),
            sample_size: s.sample_size.to_string(),
            seed: s.seed.to_string(),
            link_days: s.link_days.to_string(),
        }
    }

    /// The draft; for the calculator a missing name or template does not matter.
    fn draft(&self, for_calc: bool) -> Result<StudyDraft, AppError> {
        let name = if for_calc && self.name.trim().is_empty() {
            "-"
        } else {
            &self.name
        };
        let template = if for_calc && self.template_id.trim().is_empty() {
            "1"
        } else {
            &self.template_id
        };
        let seed = if for_calc && self.seed.trim().is_empty() {
            "0"
        } else {
            &self.seed
        };
        Ok(StudyDraft::parse(
            FieldErrors::default(),
            StudyRaw {
                name,
                template_id: template,
                period_start: &self.period_start,
                period_end: &self.period_end,
                region: &self.region,
                product_id: &self.product_id,
                contract_level: &self.contract_level,
                served: self.served,
                confidence: &self.confidence,
                margin: &self.margin,
                sample_size: &self.sample_size,
                seed,
                link_days: &self.link_days,
            },
        )?)
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: StudyForm,
    errs: Errs,
    banner: String,
    templates: Vec<(i64, String, i64)>,
    products: Vec<(i64, String)>,
    regions: Vec<String>,
    levels: Vec<String>,
    confidences: Vec<i64>,
    /// The calculator's N and n ("" before a calculation).
    population: String,
    computed: String,
}

#[allow(clippy::too_many_arguments)]
async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: StudyForm,
    errs: Errs,
    banner: String,
    calc: Option<service::Calc>,
    status: StatusCode,
) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let title = if v.id == 0 { "study.new" } else { "study.edit" };
    let s = Shell::load(st, ctx, uri, title).await?;
    let c = service::choices(st, org).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            templates: c.templates,
            products: c.products,
            regions: c.regions,
            levels: c.levels,
            confidences: Confidence::ALL.iter().map(|c| c.percent()).collect(),
            population: calc.map(|c| c.population.to_string()).unwrap_or_default(),
            computed: calc.map(|c| c.computed.to_string()).unwrap_or_default(),
        },
    )
}

pub async fn new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let (start, end) = service::current_quarter(st.now(), st.settings.server.utc_offset_minutes);
    let c = service::choices(&st, org).await?;
    let v = StudyForm {
        template_id: c
            .templates
            .first()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        period_start: start,
        period_end: end,
        confidence: "95".into(),
        margin: "5".into(),
        seed: service::new_seed().to_string(),
        link_days: service::default_link_days(&st, org).await?.to_string(),
        ..Default::default()
    };
    let calc = match v.draft(true) {
        Ok(d) => Some(service::calculate(&st, &ctx, &d).await?),
        Err(_) => None,
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        calc,
        StatusCode::OK,
    )
    .await
}

pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = service::get(&st, &ctx, id).await?;
    let v = StudyForm::of_study(&s);
    let calc = match v.draft(true) {
        Ok(d) => Some(service::calculate(&st, &ctx, &d).await?),
        Err(_) => None,
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        calc,
        StatusCode::OK,
    )
    .await
}

/// The form posted with the "Calculate" button: N and n shown, nothing saved.
async fn recalc(st: &AppState, ctx: &Ctx, uri: &Uri, v: StudyForm) -> AppResult<Response> {
    match v.draft(true) {
        Ok(d) => {
            let calc = service::calculate(st, ctx, &d).await?;
            form(
                st,
                ctx,
                uri,
                v,
                Errs::default(),
                String::new(),
                Some(calc),
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                st,
                ctx,
                uri,
                v,
                errs,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let v = StudyForm::of(&f, 0, 0);
    if f.get("action") == "calc" {
        return recalc(&st, &ctx, &uri, v).await;
    }
    let r = match v.draft(false) {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(s) => Ok(see_other(&format!("/studies/{}?ok=study_created", s.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                &st,
                &ctx,
                &uri,
                v,
                errs,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let version = f.version()?;
    let v = StudyForm::of(&f, id, version);
    if f.get("action") == "calc" {
        return recalc(&st, &ctx, &uri, v).await;
    }
    let r = match v.draft(false) {
        Ok(d) => service::update(&st, &ctx, id, version, d).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(s) => Ok(see_other(&format!("/studies/{}?ok=study_saved", s.id))),
        Err(AppError::Invalid(e)) => {
            let errs = Errs::of(&ctx.tr, &e);
            form(
                &st,
                &ctx,
                &uri,
                v,
                errs,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get(&st, &ctx, id).await?;
            let v = StudyForm::of(&f, id, cur.version);
            form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Query of the study page (invitation filter and page).
#[derive(Debug, Deserialize, Default)]
pub struct ViewQ {
    pub status: Option<String>,
    pub page: Option<i64>,
}

/// One invitation row as shown.
pub struct InvRow {
    pub inv: Invitation,
    pub link: String,
    pub expired: bool,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_detail.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    study: Study,
    population: Population,
    rate: String,
    rows: Vec<InvRow>,
    pager: Pager,
    inv_status: String,
    inv_statuses: [&'static str; 3],
    can_manage: bool,
    can_phone: bool,
    can_audit: bool,
    add_customer: String,
    add_error: String,
}

#[allow(clippy::too_many_arguments)]
async fn view_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    headers: &HeaderMap,
    id: i64,
    q: &ViewQ,
    add_customer: String,
    add_error: String,
    status: StatusCode,
) -> AppResult<Response> {
    let study = service::get(st, ctx, id).await?;
    let f = InvitationFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
    };
    let page = service::invitations(st, ctx, id, &f, PageReq::new(q.page, Some(50))).await?;
    let base = qr::base_url(st, headers);
    let now = st.now();
    let s = Shell::load(st, ctx, uri, "study.study").await?;
    render_status(
        status,
        &ViewPage {
            tr: ctx.tr,
            s,
            population: serde_json::from_str(&study.population).unwrap_or_default(),
            rate: rate(study.responses, study.invited),
            pager: Pager::new(uri, &page),
            rows: page
                .items
                .into_iter()
                .map(|i| InvRow {
                    link: format!("{base}{}", qr::path(&i.token)),
                    expired: i.status == "pending" && now >= i.expires_at,
                    inv: i,
                })
                .collect(),
            study,
            inv_status: q.status.clone().unwrap_or_default(),
            inv_statuses: ["pending", "answered", "revoked"],
            can_manage: ctx.can(Permission::ManageSurveys),
            can_phone: ctx.can(Permission::HandleVisits),
            can_audit: ctx.can(Permission::ViewAudit),
            add_customer,
            add_error,
        },
    )
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ViewQ>,
) -> AppResult<Response> {
    view_page(
        &st,
        &ctx,
        &uri,
        &headers,
        id,
        &q,
        String::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn draw(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::draw(&st, &ctx, id).await?;
    Ok(see_other(&format!("/studies/{id}?ok=study_drawn")))
}

pub async fn open(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_status(&st, &ctx, id, f.version()?, status::OPEN).await?;
    Ok(see_other(&format!("/studies/{id}?ok=study_opened")))
}

pub async fn close(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_status(&st, &ctx, id, f.version()?, status::CLOSED).await?;
    Ok(see_other(&format!("/studies/{id}?ok=study_closed")))
}

pub async fn add_invitation(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    match service::add_invitation(&st, &ctx, id, f.get("customer")).await {
        Ok(_) => Ok(see_other(&format!("/studies/{id}?ok=invitation_added"))),
        Err(AppError::Invalid(e)) => {
            let msg = Errs::of(&ctx.tr, &e).msg("customer").to_string();
            view_page(
                &st,
                &ctx,
                &uri,
                &headers,
                id,
                &ViewQ::default(),
                f.get("customer").to_string(),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, inv)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    service::revoke(&st, &ctx, id, inv).await?;
    Ok(see_other(&format!("/studies/{id}?ok=invitation_revoked")))
}

pub async fn extend(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, inv)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    service::extend(&st, &ctx, id, inv, f.get("days")).await?;
    Ok(see_other(&format!("/studies/{id}?ok=invitation_extended")))
}

/// The QR code of an invitation's link (SVG).
pub async fn qr_svg(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((id, inv)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let i = service::invitation(&st, &ctx, id, inv).await?;
    let link = format!("{}{}", qr::base_url(&st, &headers), qr::path(&i.token));
    let svg = qr::svg(&link, 200)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        svg,
    )
        .into_response())
}

/// One invitation on the printed sheet.
pub struct PrintRow {
    pub inv: Invitation,
    pub link: String,
    pub svg: String,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_print.html")]
struct PrintPage {
    tr: Tr,
    org_name: String,
    study: Study,
    rows: Vec<PrintRow>,
    pager: Pager,
}

/// Query of the printed sheet.
#[derive(Debug, Deserialize, Default)]
pub struct PrintQ {
    pub page: Option<i64>,
}

/// The printable invitation sheet: every pending invitation with its link and QR code,
/// 200 to a page.
pub async fn print(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<PrintQ>,
) -> AppResult<Response> {
    let study = service::get(&st, &ctx, id).await?;
    let f = InvitationFilter {
        status: Some("pending".into()),
    };
    let page = service::invitations(&st, &ctx, id, &f, PageReq::new(q.page, Some(200))).await?;
    let base = qr::base_url(&st, &headers);
    let mut rows = vec![];
    for i in page.items.iter().cloned() {
        let link = format!("{base}{}", qr::path(&i.token));
        let svg = qr::inline(&link, 132)?;
        rows.push(PrintRow { inv: i, link, svg });
    }
    render(&PrintPage {
        tr: ctx.tr,
        org_name: ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        pager: Pager::new(&uri, &page),
        study,
        rows,
    })
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_phone.html")]
struct PhonePage {
    s: Shell,
    tr: Tr,
    study: Study,
    inv: Invitation,
    intro: String,
    groups: Vec<Group>,
    errs: Errs,
}

pub async fn phone_form(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, inv)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let f = service::phone_form(&st, &ctx, id, inv).await?;
    let s = Shell::load(&st, &ctx, &uri, "study.phone_entry").await?;
    let errs = Errs::default();
    render(&PhonePage {
        groups: groups(
            &f.full.dimensions,
            &f.full.items,
            |_| String::new(),
            &errs,
            ctx.tr.t("answer.overall"),
        ),
        intro: f.full.template.intro.clone().unwrap_or_default(),
        errs,
        study: f.study,
        inv: f.inv,
        tr: ctx.tr,
        s,
    })
}

pub async fn phone_save(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, inv)): Path<(i64, i64)>,
    form: FormData,
) -> AppResult<Response> {
    let raw = |item: i64| form.opt(&format!("item_{item}")).map(str::to_string);
    match service::answer_by_phone(&st, &ctx, id, inv, raw).await {
        Ok(rid) => Ok(see_other(&format!(
            "/survey-responses/{rid}?ok=response_saved"
        ))),
        Err(AppError::Invalid(e)) => {
            let f = service::phone_form(&st, &ctx, id, inv).await?;
            let s = Shell::load(&st, &ctx, &uri, "study.phone_entry").await?;
            let errs = Errs::of(&ctx.tr, &e);
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PhonePage {
                    groups: groups(
                        &f.full.dimensions,
                        &f.full.items,
                        |item| raw(item).unwrap_or_default(),
                        &errs,
                        ctx.tr.t("answer.overall"),
                    ),
                    intro: f.full.template.intro.clone().unwrap_or_default(),
                    errs,
                    study: f.study,
                    inv: f.inv,
                    tr: ctx.tr,
                    s,
                },
            )
        }
        Err(e) => Err(e),
    }
}

/// One answered question as shown.
pub struct AnswerRow {
    pub dimension: String,
    pub text: String,
    pub kind: String,
    pub answer: String,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/study_response.html")]
struct ResponsePage {
    s: Shell,
    tr: Tr,
    r: store::satisfaction::studies::Response,
    rows: Vec<AnswerRow>,
    can_audit: bool,
}

pub async fn response(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let v = service::response(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "study.response").await?;
    let mut rows = vec![];
    if let Some(full) = &v.full {
        for it in &full.items {
            let dim = it
                .dimension_id
                .and_then(|d| full.dimensions.iter().find(|x| x.id == d))
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let a = v.answers.iter().find(|a| a.item_id == it.id);
            let answer = match a {
                Some(a) => match (&a.value, &a.text) {
                    (Some(x), _) => {
                        let (lo, hi) = service::bounds(it);
                        format!("{} ({lo}–{hi})", fmt_num(*x))
                    }
                    (None, Some(t)) => t.clone(),
                    _ => String::new(),
                },
                None => String::new(),
            };
            rows.push(AnswerRow {
                dimension: dim,
                text: it.text.clone(),
                kind: it.kind.clone(),
                answer,
            });
        }
    }
    render(&ResponsePage {
        tr: ctx.tr,
        s,
        r: v.response,
        rows,
        can_audit: ctx.can(Permission::ViewAudit),
    })
}
