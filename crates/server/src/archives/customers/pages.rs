//! HTML pages for customers: the filtered list, the form, and the customer's page with its
//! contacts, sites (added, edited and deleted there) and timeline. Forms re-render with the
//! messages beside the fields (422) or a stale-version banner (409), keeping what was typed.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use domain::archives::customers::{
    ContactDraft, ContactRaw, CustomerDraft, CustomerKind, CustomerRaw, SiteDraft, split_list,
};
use domain::auth::Permission;
use domain::org::parse_opt_id;
use domain::{DomainError, FieldErrors};
use serde::Deserialize;
use store::PageReq;
use store::archives::customers::{Contact, Customer, CustomerFilter, Site};

use super::service;
use crate::app::AppState;
use crate::archives::timeline::{Timeline, page_of};
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub region: Option<String>,
    pub kind: Option<String>,
    pub retired: Option<String>,
    pub page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "archives/customers.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Customer>,
    pager: Pager,
    q: String,
    region: String,
    kind: String,
    retired: bool,
    regions: Vec<String>,
    kinds: Vec<&'static str>,
    can_edit: bool,
}

fn kinds() -> Vec<&'static str> {
    CustomerKind::ALL.iter().map(|k| k.as_str()).collect()
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let retired = q.retired.as_deref() == Some("1");
    let f = CustomerFilter {
        q: q.q.clone(),
        region: q.region.clone(),
        kind: q.kind.clone(),
        include_retired: retired,
    };
    let page = service::list_customers(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let regions = service::regions(&st, &ctx).await?;
    let s = Shell::load(&st, &ctx, &uri, "customers.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.unwrap_or_default(),
        region: q.region.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        retired,
        regions,
        kinds: kinds(),
        can_edit: ctx.can(Permission::ManageArchives),
        s,
    })
}

// ---------- the customer form ----------

/// What the customer form shows: the typed values, not a parsed record.
#[derive(Default)]
struct CustomerForm {
    id: i64,
    version: i64,
    code: String,
    name: String,
    kind: String,
    industry: String,
    region: String,
    address: String,
    tags: String,
    notes: String,
    owner_staff_id: String,
    consent_contact: bool,
    consent_survey: bool,
}

#[derive(askama::Template)]
#[template(path = "archives/customer_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: CustomerForm,
    errs: Errs,
    banner: String,
    kinds: Vec<&'static str>,
    owners: Vec<(i64, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: CustomerForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let mut owners = service::owner_choices(st, ctx).await?;
    if v.id != 0 {
        // keep a retired owner selectable on the customer that still has them
        let c = service::get_customer(st, ctx, v.id).await?;
        if let (Some(o), Some(n)) = (c.owner_staff_id, c.owner_name)
            && !owners.iter().any(|(id, _)| *id == o)
        {
            owners.push((o, n));
        }
    }
    let title = if v.id == 0 {
        "customers.new"
    } else {
        "customers.edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            kinds: kinds(),
            owners,
        },
    )
}

pub async fn new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = CustomerForm {
        kind: "company".into(),
        ..Default::default()
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
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
    let c = service::get_customer(&st, &ctx, id).await?;
    let v = CustomerForm {
        id: c.id,
        version: c.version,
        code: c.code.unwrap_or_default(),
        name: c.name,
        kind: c.kind,
        industry: c.industry.unwrap_or_default(),
        region: c.region.unwrap_or_default(),
        address: c.address.unwrap_or_default(),
        tags: c.tags.join("、"),
        notes: c.notes.unwrap_or_default(),
        owner_staff_id: c.owner_staff_id.map(|o| o.to_string()).unwrap_or_default(),
        consent_contact: c.consent_contact,
        consent_survey: c.consent_survey,
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

fn draft(f: &FormData) -> Result<CustomerDraft, DomainError> {
    let mut errs = FieldErrors::default();
    let owner = parse_opt_id(&mut errs, "owner_staff_id", f.opt("owner_staff_id"));
    CustomerDraft::parse(
        errs,
        CustomerRaw {
            code: f.opt("code"),
            name: f.get("name"),
            kind: f.opt("kind"),
            industry: f.opt("industry"),
            region: f.opt("region"),
            address: f.opt("address"),
            tags: split_list(f.get("tags")),
            notes: f.opt("notes"),
            owner_staff_id: owner,
            consent_contact: f.checked("consent_contact"),
            consent_survey: f.checked("consent_survey"),
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> CustomerForm {
    CustomerForm {
        id,
        version,
        code: f.get("code").into(),
        name: f.get("name").into(),
        kind: f.get("kind").into(),
        industry: f.get("industry").into(),
        region: f.get("region").into(),
        address: f.get("address").into(),
        tags: f.get("tags").into(),
        notes: f.get("notes").into(),
        owner_staff_id: f.get("owner_staff_id").into(),
        consent_contact: f.checked("consent_contact"),
        consent_survey: f.checked("consent_survey"),
    }
}

pub async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&f) {
        Ok(d) => service::create_customer(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(c) => Ok(see_other(&format!(
            "/archives/customers/{}?ok=created",
            c.id
        ))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                String::new(),
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
    let version = f.version()?;
    let r = match draft(&f) {
        Ok(d) => service::update_customer(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(c) => Ok(see_other(&format!("/archives/customers/{}?ok=saved", c.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            // Keep what the user typed; take the current version so a second save is deliberate.
            let cur = service::get_customer(&st, &ctx, id).await?;
            form(
                &st,
                &ctx,
                &uri,
                typed(&f, id, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------- the customer's page ----------

/// What a contact form shows.
#[derive(Default)]
struct ContactForm {
    id: i64,
    version: i64,
    name: String,
    role: String,
    mobile: String,
    phone: String,
    email: String,
    wechat: String,
}

/// What a site form shows.
#[derive(Default)]
struct SiteForm {
    id: i64,
    version: i64,
    name: String,
    region: String,
    address: String,
}

#[derive(askama::Template)]
#[template(path = "archives/customer.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    c: Customer,
    contacts: Vec<Contact>,
    sites: Vec<Site>,
    equipment_count: i64,
    timeline: Timeline,
    can_edit: bool,
    can_audit: bool,
    /// The add-contact form (typed values and errors after a refused add).
    cf: ContactForm,
    cerrs: Errs,
    /// The add-site form.
    sf: SiteForm,
    serrs: Errs,
}

/// The customer page's own address (a refused add re-renders it under the POST path, and
/// the timeline's page links must point at the page).
fn view_uri(uri: &Uri, id: i64) -> Uri {
    let path = format!("/archives/customers/{id}");
    if uri.path() == path {
        return uri.clone();
    }
    path.parse().unwrap_or_else(|_| uri.clone())
}

#[allow(clippy::too_many_arguments)]
async fn view_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    cf: ContactForm,
    cerrs: Errs,
    sf: SiteForm,
    serrs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    let d = service::get_detail(st, ctx, id).await?;
    let events = service::timeline(st, ctx, id, page_of(uri)).await?;
    let s = Shell::load(st, ctx, uri, "customers.customer").await?;
    render_status(
        status,
        &ViewPage {
            tr: ctx.tr,
            timeline: Timeline::new(&ctx.tr, &view_uri(uri, id), events),
            s,
            c: d.customer,
            contacts: d.contacts,
            sites: d.sites,
            equipment_count: d.equipment_count,
            can_edit: ctx.can(Permission::ManageArchives),
            can_audit: ctx.can(Permission::ViewAudit),
            cf,
            cerrs,
            sf,
            serrs,
        },
    )
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    view_page(
        &st,
        &ctx,
        &uri,
        id,
        ContactForm::default(),
        Errs::default(),
        SiteForm::default(),
        Errs::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_customer_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/archives/customers/{id}?ok=retired")))
}

pub async fn restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_customer_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/archives/customers/{id}?ok=restored")))
}

pub async fn delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::delete_customer(&st, &ctx, id).await?;
    Ok(see_other("/archives/customers?ok=customer_deleted"))
}

// ---------- contacts ----------

fn contact_draft(f: &FormData) -> Result<ContactDraft, DomainError> {
    ContactDraft::parse(
        FieldErrors::default(),
        ContactRaw {
            name: f.get("name"),
            role: f.opt("role"),
            mobile: f.opt("mobile"),
            phone: f.opt("phone"),
            email: f.opt("email"),
            wechat: f.opt("wechat"),
        },
    )
}

fn contact_typed(f: &FormData, id: i64, version: i64) -> ContactForm {
    ContactForm {
        id,
        version,
        name: f.get("name").into(),
        role: f.get("role").into(),
        mobile: f.get("mobile").into(),
        phone: f.get("phone").into(),
        email: f.get("email").into(),
        wechat: f.get("wechat").into(),
    }
}

pub async fn contact_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = match contact_draft(&f) {
        Ok(d) => service::create_contact(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/archives/customers/{id}?ok=contact_added#contacts"
        ))),
        Err(AppError::Invalid(e)) => {
            view_page(
                &st,
                &ctx,
                &uri,
                id,
                contact_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                SiteForm::default(),
                Errs::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "archives/customer_contact_form.html")]
struct ContactFormPage {
    s: Shell,
    tr: Tr,
    c: Customer,
    v: ContactForm,
    errs: Errs,
    banner: String,
}

#[allow(clippy::too_many_arguments)]
async fn contact_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    customer: i64,
    v: ContactForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let c = service::get_customer(st, ctx, customer).await?;
    let s = Shell::load(st, ctx, uri, "customers.contact_edit").await?;
    render_status(
        status,
        &ContactFormPage {
            tr: ctx.tr,
            s,
            c,
            v,
            errs,
            banner,
        },
    )
}

pub async fn contact_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, cid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let k = service::get_contact(&st, &ctx, id, cid).await?;
    let v = ContactForm {
        id: k.id,
        version: k.version,
        name: k.name,
        role: k.role.unwrap_or_default(),
        mobile: k.mobile.unwrap_or_default(),
        phone: k.phone.unwrap_or_default(),
        email: k.email.unwrap_or_default(),
        wechat: k.wechat.unwrap_or_default(),
    };
    contact_form(
        &st,
        &ctx,
        &uri,
        id,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn contact_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, cid)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match contact_draft(&f) {
        Ok(d) => service::update_contact(&st, &ctx, id, cid, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/archives/customers/{id}?ok=contact_saved#contacts"
        ))),
        Err(AppError::Invalid(e)) => {
            contact_form(
                &st,
                &ctx,
                &uri,
                id,
                contact_typed(&f, cid, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_contact(&st, &ctx, id, cid).await?;
            contact_form(
                &st,
                &ctx,
                &uri,
                id,
                contact_typed(&f, cid, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn contact_delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    service::delete_contact(&st, &ctx, id, cid).await?;
    Ok(see_other(&format!(
        "/archives/customers/{id}?ok=contact_deleted#contacts"
    )))
}

// ---------- sites ----------

fn site_draft(f: &FormData) -> Result<SiteDraft, DomainError> {
    SiteDraft::parse(
        FieldErrors::default(),
        f.get("name"),
        f.opt("region"),
        f.opt("address"),
    )
}

fn site_typed(f: &FormData, id: i64, version: i64) -> SiteForm {
    SiteForm {
        id,
        version,
        name: f.get("name").into(),
        region: f.get("region").into(),
        address: f.get("address").into(),
    }
}

pub async fn site_create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let r = match site_draft(&f) {
        Ok(d) => service::create_site(&st, &ctx, id, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/archives/customers/{id}?ok=site_added#sites"
        ))),
        Err(AppError::Invalid(e)) => {
            view_page(
                &st,
                &ctx,
                &uri,
                id,
                ContactForm::default(),
                Errs::default(),
                site_typed(&f, 0, 0),
                Errs::of(&ctx.tr, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "archives/customer_site_form.html")]
struct SiteFormPage {
    s: Shell,
    tr: Tr,
    c: Customer,
    v: SiteForm,
    errs: Errs,
    banner: String,
}

#[allow(clippy::too_many_arguments)]
async fn site_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    customer: i64,
    v: SiteForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let c = service::get_customer(st, ctx, customer).await?;
    let s = Shell::load(st, ctx, uri, "customers.site_edit").await?;
    render_status(
        status,
        &SiteFormPage {
            tr: ctx.tr,
            s,
            c,
            v,
            errs,
            banner,
        },
    )
}

pub async fn site_edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, sid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let x = service::get_site(&st, &ctx, id, sid).await?;
    let v = SiteForm {
        id: x.id,
        version: x.version,
        name: x.name,
        region: x.region.unwrap_or_default(),
        address: x.address.unwrap_or_default(),
    };
    site_form(
        &st,
        &ctx,
        &uri,
        id,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn site_update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, sid)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match site_draft(&f) {
        Ok(d) => service::update_site(&st, &ctx, id, sid, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/archives/customers/{id}?ok=site_saved#sites"
        ))),
        Err(AppError::Invalid(e)) => {
            site_form(
                &st,
                &ctx,
                &uri,
                id,
                site_typed(&f, sid, version),
                Errs::of(&ctx.tr, &e),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get_site(&st, &ctx, id, sid).await?;
            site_form(
                &st,
                &ctx,
                &uri,
                id,
                site_typed(&f, sid, cur.version),
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn site_delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, sid)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    service::delete_site(&st, &ctx, id, sid).await?;
    Ok(see_other(&format!(
        "/archives/customers/{id}?ok=site_deleted#sites"
    )))
}
