//! Spreadsheet import and export of the archives (XLSX and CSV, UTF-8 or GBK).

pub mod bulk;
pub mod export;
pub mod import;
pub mod kinds;
pub mod read;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use serde::Deserialize;
use utoipa::OpenApi;

use self::import::{Kind, Report};
use self::read::ReadError;
use crate::app::AppState;
use crate::auth::{Ctx, ct_eq};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Shell, render_status};

/// Largest file accepted (bytes).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/archives/import", get(page).post(upload))
        .route("/api/v1/import/{kind}", post(api_import))
        .route("/archives/export/{file}", get(export::download))
        .route("/api/v1/export/{kind}", get(api_export))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
}

#[derive(askama::Template)]
#[template(path = "archives/import.html")]
struct ImportPage {
    s: Shell,
    tr: Tr,
    kind: String,
    error: String,
    report: Option<Report>,
}

impl ImportPage {
    fn kinds(&self) -> Vec<&'static str> {
        Kind::ALL.iter().map(|k| k.as_str()).collect()
    }
    fn columns(&self) -> Vec<(String, Vec<String>)> {
        Kind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    import::columns(*k)
                        .iter()
                        .map(|c| {
                            let star = if c.required { "*" } else { "" };
                            format!("{}{star}", import::field_label(&self.tr, *k, c.field))
                        })
                        .collect(),
                )
            })
            .collect()
    }
}

async fn show(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    kind: String,
    error: String,
    report: Option<Report>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageArchives)?;
    let s = Shell::load(st, ctx, uri, "import.title").await?;
    render_status(
        status,
        &ImportPage {
            tr: ctx.tr,
            s,
            kind,
            error,
            report,
        },
    )
}

async fn page(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    show(
        &st,
        &ctx,
        &uri,
        "customers".into(),
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn upload(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    mut mp: Multipart,
) -> AppResult<Response> {
    let (mut csrf, mut kind, mut commit, mut file) = (String::new(), String::new(), false, None);
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        match field.name().unwrap_or("") {
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            "kind" => kind = field.text().await.unwrap_or_default(),
            "commit" => commit = field.text().await.unwrap_or_default() == "1",
            "file" => {
                let name = field.file_name().unwrap_or("").to_string();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                file = Some((name, data));
            }
            _ => {}
        }
    }
    if !ct_eq(&csrf, &ctx.csrf) {
        return Err(AppError::Csrf);
    }
    let tr = ctx.tr;
    let Some(k) = Kind::parse(&kind) else {
        return show(
            &st,
            &ctx,
            &uri,
            kind,
            tr.t("import.choose_kind").into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let Some((name, data)) = file.filter(|(n, d)| !n.is_empty() && !d.is_empty()) else {
        return show(
            &st,
            &ctx,
            &uri,
            kind,
            tr.t("import.choose_file").into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let sheet = match read::read(&name, &data) {
        Ok(s) => s,
        Err(e) => {
            return show(
                &st,
                &ctx,
                &uri,
                kind,
                read_error(&tr, &e),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let report = import::run(&st, &ctx, k, &sheet, commit, &|_| {}).await?;
    let status = if report.errors.is_empty() && report.missing_columns.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    show(&st, &ctx, &uri, kind, String::new(), Some(report), status).await
}

fn read_error(tr: &Tr, e: &ReadError) -> String {
    match e {
        ReadError::Format => tr.t("import.bad_format").into(),
        ReadError::Empty => tr.t("import.empty").into(),
        ReadError::Damaged(d) => tr.t1("import.damaged", d),
    }
}

/// Import options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQ {
    /// The file's name; its extension (.xlsx or .csv) picks the format.
    pub filename: String,
    /// Write the rows (all or nothing); otherwise only check them.
    #[serde(default)]
    pub commit: bool,
}

/// Import (or check) a spreadsheet; the body is the file itself.
#[utoipa::path(post, path = "/api/v1/import/{kind}", tag = "archives",
    params(("kind" = String, Path, description = "customers, contacts, products, orders or equipment"), ImportQ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Report), (status = 422, body = Report)), security(("bearer" = [])))]
pub async fn api_import(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(q): Query<ImportQ>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let k = Kind::parse(&kind).ok_or(AppError::NotFound)?;
    let sheet = read::read(&q.filename, &body).map_err(|e| {
        let code = match e {
            ReadError::Format => "file_format",
            ReadError::Empty => "file_empty",
            ReadError::Damaged(_) => "file_damaged",
        };
        AppError::Invalid(FieldErrors::single("file", code))
    })?;
    let report = import::run(&st, &ctx, k, &sheet, q.commit, &|_| {}).await?;
    let status = if report.errors.is_empty() && report.missing_columns.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, axum::Json(report)).into_response())
}

/// Export format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FormatQ {
    /// csv (UTF-8 with BOM) or xlsx.
    pub format: String,
}

/// Export a filtered list: customers, contacts, products, orders (one row per line),
/// equipment or outlets.
#[utoipa::path(get, path = "/api/v1/export/{kind}", tag = "archives",
    params(("kind" = String, Path), FormatQ, export::ExportQ),
    responses((status = 200, description = "the file", content_type = "application/octet-stream")), security(("bearer" = [])))]
pub async fn api_export(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(f): Query<FormatQ>,
    Query(p): Query<export::ExportQ>,
) -> AppResult<Response> {
    let what = export::What::parse(&kind).ok_or(AppError::NotFound)?;
    export::export(&st, &ctx, what, &f.format, &p).await
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(api_import, api_export),
    components(schemas(Report, import::RowError, Kind))
)]
pub struct Api;
