//! Products (产品档案): part number, model, name, category, warranty months and the
//! service-contract levels offered. Service (permission, one transaction, audit, search
//! index), HTML pages and the JSON API.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::archives::products::{ProductDraft, ProductRaw, split_levels};
use domain::auth::Permission;
use serde::Deserialize;
use store::archives::products::{self as repo, Product, ProductFilter, ProductValues};
use store::{Page, PageReq, Tx};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::api::{ApiJson, ListResponse, VersionBody};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::pages::Pager;
use crate::org::service::{Change, audit};
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Routes of this module (pages and API).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/archives/products", get(list_page).post(create_page))
        .route("/archives/products/new", get(new_page))
        .route("/archives/products/{id}", get(view_page).post(update_page))
        .route("/archives/products/{id}/edit", get(edit_page))
        .route("/archives/products/{id}/retire", post(retire_page))
        .route("/archives/products/{id}/restore", post(restore_page))
        .route("/api/v1/products", get(api_list).post(api_create))
        .route("/api/v1/products/{id}", get(api_get).put(api_update))
        .route("/api/v1/products/{id}/retire", post(api_retire))
        .route("/api/v1/products/{id}/restore", post(api_restore))
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_create, api_get, api_update, api_retire, api_restore),
    components(schemas(Product, ProductInput))
)]
pub struct Api;

// ---------- service ----------

fn invalid(errs: FieldErrors) -> AppResult<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

fn values(d: &ProductDraft) -> ProductValues<'_> {
    ProductValues {
        part_no: &d.part_no,
        model: &d.model,
        name: &d.name,
        category: d.category.as_deref(),
        warranty_months: d.warranty_months,
        contract_levels: &d.contract_levels,
    }
}

async fn check(tx: &mut Tx, org: i64, d: &ProductDraft, id: Option<i64>) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if repo::part_no_taken(&mut tx.c(), org, &d.part_no, id).await? {
        errs.add("part_no", "taken", None);
    }
    invalid(errs)
}

/// Writes the search document of a product.
pub async fn index(tx: &mut Tx, org: i64, p: &Product) -> AppResult<()> {
    let title = format!("{} {}", p.part_no, p.model);
    let text = [
        p.part_no.as_str(),
        p.model.as_str(),
        p.name.as_str(),
        p.category.as_deref().unwrap_or(""),
    ]
    .join(" ");
    store::search::upsert(&mut tx.c(), org, "product", p.id, &title, &text).await?;
    Ok(())
}

/// Checks and inserts a product with its audit row and search document inside `tx` (no
/// commit): the import calls this for many rows in one transaction.
pub async fn insert_product(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    d: &ProductDraft,
    now: i64,
) -> AppResult<i64> {
    ctx.require(Permission::ManageArchives)?;
    check(tx, org, d, None).await?;
    let id = repo::insert(&mut tx.c(), org, &values(d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "product",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    index(tx, org, &after).await?;
    Ok(id)
}

/// Creates a product.
pub async fn create_product(st: &AppState, ctx: &Ctx, d: ProductDraft) -> AppResult<Product> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let id = insert_product(&mut tx, ctx, org, &d, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a product read at `version`. When the part number or model changes, the
/// orders and units that show them are re-indexed in the same transaction.
pub async fn update_product(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: ProductDraft,
) -> AppResult<Product> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check(&mut tx, org, &d, Some(id)).await?;
    repo::update(&mut tx.c(), org, id, version, &values(&d), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "product",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    index(&mut tx, org, &after).await?;
    if before.part_no != after.part_no || before.model != after.model {
        for o in store::archives::orders::ids_by_product(&mut tx.c(), org, id).await? {
            super::orders::reindex(&mut tx, org, o).await?;
        }
        for e in store::archives::equipment::ids_by_product(&mut tx.c(), org, id).await? {
            super::equipment::reindex(&mut tx, org, e).await?;
        }
    }
    tx.commit().await?;
    Ok(after)
}

/// Retires (hidden from choice lists) or restores a product.
pub async fn set_product_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Product> {
    let org = ctx.require(Permission::ManageArchives)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if active { "restore" } else { "retire" },
            entity: "product",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of products.
pub async fn list_products(
    st: &AppState,
    ctx: &Ctx,
    f: &ProductFilter,
    p: PageReq,
) -> AppResult<Page<Product>> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One product.
pub async fn get_product(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Product> {
    let org = ctx.require(Permission::ViewArchives)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

// ---------- pages ----------

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub q: Option<String>,
    pub category: Option<String>,
    pub retired: Option<String>,
    pub page: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "archives/products.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<Product>,
    pager: Pager,
    q: String,
    category: String,
    categories: Vec<String>,
    retired: bool,
    can_edit: bool,
}

async fn list_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let retired = q.retired.as_deref() == Some("1");
    let f = ProductFilter {
        q: q.q.clone(),
        category: q.category.clone(),
        include_retired: retired,
    };
    let page = list_products(&st, &ctx, &f, PageReq::new(q.page, None)).await?;
    let categories = {
        let mut h = st.db.acquire().await?;
        repo::categories(&mut h.c(), ctx.org()?.id).await?
    };
    let s = Shell::load(&st, &ctx, &uri, "products.title").await?;
    render(&ListPage {
        tr: ctx.tr,
        pager: Pager::new(&uri, &page),
        items: page.items,
        q: q.q.unwrap_or_default(),
        category: q.category.unwrap_or_default(),
        categories,
        retired,
        can_edit: ctx.can(Permission::ManageArchives),
        s,
    })
}

/// What the product form shows: the typed values.
#[derive(Default)]
struct Form {
    id: i64,
    version: i64,
    part_no: String,
    model: String,
    name: String,
    category: String,
    warranty_months: String,
    contract_levels: String,
}

#[derive(askama::Template)]
#[template(path = "archives/product_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: Form,
    errs: Errs,
    banner: String,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: Form,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let title = if v.id == 0 {
        "products.new"
    } else {
        "products.edit"
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
        },
    )
}

async fn new_page(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    let v = Form {
        warranty_months: "12".into(),
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

async fn edit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = get_product(&st, &ctx, id).await?;
    let v = Form {
        id: p.id,
        version: p.version,
        part_no: p.part_no,
        model: p.model,
        name: p.name,
        category: p.category.unwrap_or_default(),
        warranty_months: p.warranty_months.to_string(),
        contract_levels: p.contract_levels.join("，"),
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

fn draft(f: &FormData) -> Result<ProductDraft, domain::DomainError> {
    ProductDraft::parse(
        FieldErrors::default(),
        ProductRaw {
            part_no: f.get("part_no"),
            model: f.get("model"),
            name: f.get("name"),
            category: f.opt("category"),
            warranty_months: f.get("warranty_months"),
            contract_levels: split_levels(f.get("contract_levels")),
        },
    )
}

fn typed(f: &FormData, id: i64, version: i64) -> Form {
    Form {
        id,
        version,
        part_no: f.get("part_no").into(),
        model: f.get("model").into(),
        name: f.get("name").into(),
        category: f.get("category").into(),
        warranty_months: f.get("warranty_months").into(),
        contract_levels: f.get("contract_levels").into(),
    }
}

async fn create_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    let r = match draft(&f) {
        Ok(d) => create_product(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!(
            "/archives/products/{}?ok=created",
            p.id
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

async fn update_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    let version = f.version()?;
    let r = match draft(&f) {
        Ok(d) => update_product(&st, &ctx, id, version, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(p) => Ok(see_other(&format!("/archives/products/{}?ok=saved", p.id))),
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
            let cur = get_product(&st, &ctx, id).await?;
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

#[derive(askama::Template)]
#[template(path = "archives/product.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    p: Product,
    can_edit: bool,
    can_audit: bool,
}

async fn view_page(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = get_product(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "products.product").await?;
    render(&ViewPage {
        tr: ctx.tr,
        s,
        p,
        can_edit: ctx.can(Permission::ManageArchives),
        can_audit: ctx.can(Permission::ViewAudit),
    })
}

async fn retire_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    set_product_active(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/archives/products/{id}?ok=retired")))
}

async fn restore_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    set_product_active(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/archives/products/{id}?ok=restored")))
}

// ---------- API ----------

/// Filters and paging of the product list.
#[derive(Debug, Deserialize, Default, IntoParams)]
pub struct ApiListQ {
    /// Substring of part number, model or name.
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Include retired products.
    pub include_retired: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Page size, at most 200.
    pub per_page: Option<i64>,
}

/// A product as written.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductInput {
    /// Part number (料号): letters, digits, `-`, `_`, `.`; unique in the organization.
    pub part_no: String,
    pub model: String,
    pub name: String,
    pub category: Option<String>,
    /// Warranty period in months, 0..=120.
    pub warranty_months: i64,
    /// Service-contract levels offered.
    #[serde(default)]
    pub contract_levels: Vec<String>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl ProductInput {
    fn draft(&self) -> AppResult<ProductDraft> {
        let months = self.warranty_months.to_string();
        Ok(ProductDraft::parse(
            FieldErrors::default(),
            ProductRaw {
                part_no: &self.part_no,
                model: &self.model,
                name: &self.name,
                category: self.category.as_deref(),
                warranty_months: &months,
                contract_levels: self.contract_levels.clone(),
            },
        )?)
    }
}

fn version(v: Option<i64>) -> AppResult<i64> {
    v.ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))
}

/// List products.
#[utoipa::path(get, path = "/api/v1/products", tag = "archives", params(ApiListQ),
    responses((status = 200, body = ListResponse<Product>)), security(("bearer" = [])))]
pub async fn api_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ApiListQ>,
) -> AppResult<Response> {
    let f = ProductFilter {
        q: q.q.clone(),
        category: q.category.clone(),
        include_retired: q.include_retired.unwrap_or(false),
    };
    let p = list_products(&st, &ctx, &f, PageReq::new(q.page, q.per_page)).await?;
    Ok(ListResponse::from(p).into_response())
}

/// Create a product (422 with `part_no: taken` for a duplicate part number).
#[utoipa::path(post, path = "/api/v1/products", tag = "archives", request_body = ProductInput,
    responses((status = 201, body = Product), (status = 422, description = "invalid fields")), security(("bearer" = [])))]
pub async fn api_create(
    State(st): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<ProductInput>,
) -> AppResult<Response> {
    let p = create_product(&st, &ctx, b.draft()?).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "archives", params(("id" = i64, Path)),
    responses((status = 200, body = Product), (status = 404)), security(("bearer" = [])))]
pub async fn api_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(get_product(&st, &ctx, id).await?).into_response())
}

/// Update a product (409 when `version` is stale).
#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "archives", params(("id" = i64, Path)), request_body = ProductInput,
    responses((status = 200, body = Product), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn api_update(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ProductInput>,
) -> AppResult<Response> {
    let p = update_product(&st, &ctx, id, version(b.version)?, b.draft()?).await?;
    Ok(axum::Json(p).into_response())
}

/// Retire a product (it leaves the choice lists; its units and orders stay).
#[utoipa::path(post, path = "/api/v1/products/{id}/retire", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Product), (status = 409)), security(("bearer" = [])))]
pub async fn api_retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(set_product_active(&st, &ctx, id, b.version, false).await?).into_response())
}

/// Restore a retired product.
#[utoipa::path(post, path = "/api/v1/products/{id}/restore", tag = "archives", params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = Product), (status = 409)), security(("bearer" = [])))]
pub async fn api_restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Response> {
    Ok(axum::Json(set_product_active(&st, &ctx, id, b.version, true).await?).into_response())
}
