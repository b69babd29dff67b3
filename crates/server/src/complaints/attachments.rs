//! Attachments of complaints and corrective actions: photos, inspection reports, signed
//! forms. Files live in the database (every instance serves them). A file's type is decided
//! from its first bytes AND its extension, never from what the client claims; names are
//! sanitised; size is capped per organization while the upload streams in. Uploads and
//! deletions are audited without the bytes, and an upload shows in the complaint's history.

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::{Permission, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::attachments::{self as repo, NewAttachment};
use store::complaints::steps;
use utoipa::{OpenApi, ToSchema};

pub use store::attachments::AttachmentMeta;

use crate::app::AppState;
use crate::auth::{Ctx, FormData, ct_eq};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::org::service::{Change, audit};

/// Largest file accepted whatever the organization's `attachment_max_bytes` (default
/// 10 MiB) says: a file is held in memory while it is checked and written.
pub const MAX_FILE_BYTES: i64 = 64 * 1024 * 1024;

/// Largest request body of an upload route (the largest file plus room for the multipart
/// framing). The organization's limit is checked while the file streams in; this only stops
/// absurd bodies before they are read at all.
pub const BODY_LIMIT: usize = MAX_FILE_BYTES as usize + 1024 * 1024;

/// Longest stored file name, in characters.
pub const NAME_MAX: usize = 200;

/// The audit entity of an attachment.
pub const ENTITY: &str = "attachment";

/// The extensions accepted (the upload form's `accept`).
pub const ACCEPT: &str = ".jpg,.jpeg,.png,.webp,.gif,.pdf,.txt,.csv,.xlsx,.xls,.docx,.doc";

/// Routes: pages, downloads and the API.
pub fn routes() -> Router<AppState> {
    let limit = || DefaultBodyLimit::max(BODY_LIMIT);
    Router::new()
        .route(
            "/complaints/{id}/attachments",
            post(upload_complaint_page).layer(limit()),
        )
        .route(
            "/capas/{id}/attachments",
            post(upload_capa_page).layer(limit()),
        )
        .route(
            "/service-orders/{id}/attachments",
            post(upload_order_page).layer(limit()),
        )
        .route("/attachments/{id}", get(download))
        .route("/attachments/{id}/delete", post(delete_page))
        .route(
            "/api/v1/complaints/{id}/attachments",
            get(list_complaint_attachments)
                .post(upload_complaint_attachment)
                .layer(limit()),
        )
        .route(
            "/api/v1/capas/{id}/attachments",
            get(list_capa_attachments)
                .post(upload_capa_attachment)
                .layer(limit()),
        )
        .route(
            "/api/v1/service-orders/{id}/attachments",
            get(list_order_attachments)
                .post(upload_order_attachment)
                .layer(limit()),
        )
        .route(
            "/api/v1/attachments/{id}",
            get(get_attachment).delete(delete_attachment),
        )
}

/// The OpenAPI paths of attachments.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_complaint_attachments,
        upload_complaint_attachment,
        list_capa_attachments,
        upload_capa_attachment,
        list_order_attachments,
        upload_order_attachment,
        get_attachment,
        delete_attachment,
    ),
    components(schemas(AttachmentMeta, UploadForm))
)]
pub struct Api;

// ---------------------------------------------------------------------------------------
// What a file is

/// The kinds of record that carry attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Complaint,
    Capa,
    ServiceOrder,
}

impl Entity {
    /// Parses the stored name (`complaint` or `capa`).
    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "complaint" => Some(Entity::Complaint),
            "capa" => Some(Entity::Capa),
            "service_order" => Some(Entity::ServiceOrder),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Complaint => "complaint",
            Entity::Capa => "capa",
            Entity::ServiceOrder => "service_order",
        }
    }

    /// The record's page.
    pub fn page(self, id: i64) -> String {
        match self {
            Entity::Complaint => format!("/complaints/{id}"),
            Entity::Capa => format!("/capas/{id}"),
            Entity::ServiceOrder => format!("/service-orders/{id}"),
        }
    }

    /// What adding files to such a record takes.
    pub fn upload_permission(self) -> Permission {
        match self {
            Entity::Complaint => Permission::HandleComplaints,
            Entity::Capa => Permission::ManageCapa,
            Entity::ServiceOrder => Permission::WorkOrders,
        }
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// True for bytes that are plain text: no NUL bytes (UTF-16 with a byte-order mark aside)
/// and no known binary signature.
fn looks_like_text(d: &[u8]) -> bool {
    if d.starts_with(b"\xff\xfe") || d.starts_with(b"\xfe\xff") {
        return true;
    }
    let head = &d[..d.len().min(8192)];
    let binary = [
        PNG,
        ZIP,
        OLE,
        b"%PDF-",
        b"GIF8",
        b"\xff\xd8\xff",
        b"\x7fELF",
    ];
    !head.contains(&0) && !binary.iter().any(|m| d.starts_with(m))
}

/// The content type of a file, decided by its extension and confirmed by its first bytes.
/// Errors are field codes on `file`: `attachment_type` (extension not accepted) or
/// `attachment_mismatch` (the bytes are not what the extension says).
pub fn sniff(name: &str, d: &[u8]) -> Result<&'static str, &'static str> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (ok, mime) = match ext.as_str() {
        "jpg" | "jpeg" => (d.starts_with(b"\xff\xd8\xff"), "image/jpeg"),
        "png" => (d.starts_with(PNG), "image/png"),
        "gif" => (
            d.starts_with(b"GIF87a") || d.starts_with(b"GIF89a"),
            "image/gif",
        ),
        "webp" => (
            d.len() >= 12 && d.starts_with(b"RIFF") && &d[8..12] == b"WEBP",
            "image/webp",
        ),
        "pdf" => (d.starts_with(b"%PDF-"), "application/pdf"),
        "txt" => (looks_like_text(d), "text/plain"),
        "csv" => (looks_like_text(d), "text/csv"),
        // Office Open XML is a zip whose entry names (stored uncompressed) say what it is.
        "xlsx" => (
            d.starts_with(ZIP) && contains(d, b"xl/"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "docx" => (
            d.starts_with(ZIP) && contains(d, b"word/"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "xls" => (d.starts_with(OLE), "application/vnd.ms-excel"),
        "doc" => (d.starts_with(OLE), "application/msword"),
        _ => return Err("attachment_type"),
    };
    if ok {
        Ok(mime)
    } else {
        Err("attachment_mismatch")
    }
}

/// True for the types a browser may show inline (pictures).
pub fn is_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// A safe file name: no directories, no control or direction-changing characters, no
/// characters Windows refuses, no leading dots; Chinese and other letters are kept. At most
/// [`NAME_MAX`] characters, keeping the extension.
pub fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = cleaned.trim().trim_start_matches('.').trim();
    if name.chars().count() <= NAME_MAX {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !e.is_empty() && e.chars().count() <= 10 => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    let keep = NAME_MAX - ext.chars().count();
    let stem: String = stem.chars().take(keep).collect();
    format!("{}{ext}", stem.trim_end())
}

/// A size for people: "812 B", "45.3 KB", "10 MB".
pub fn human_size(n: i64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    let (v, unit) = if f < K {
        return format!("{n} B");
    } else if f < K * K {
        (f / K, "KB")
    } else {
        (f / (K * K), "MB")
    };
    let s = format!("{v:.1}");
    format!("{} {unit}", s.strip_suffix(".0").unwrap_or(&s))
}

/// `Content-Disposition` with an ASCII fallback and the RFC 5987 UTF-8 name.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{enc}")
}

// ---------------------------------------------------------------------------------------
// Service

/// The organization, if the user may see record `id` of kind `e` (404 otherwise).
async fn check_view(st: &AppState, ctx: &Ctx, e: Entity, id: i64) -> AppResult<i64> {
    match e {
        Entity::Complaint => {
            crate::complaints::service::get(st, ctx, id).await?;
            Ok(ctx.org()?.id)
        }
        Entity::Capa => {
            let org = ctx.require(Permission::ViewComplaints)?.id;
            let mut h = st.db.acquire().await?;
            if !repo::capa_exists(&mut h.c(), org, id).await? {
                return Err(AppError::NotFound);
            }
            Ok(org)
        }
        Entity::ServiceOrder => {
            let org = ctx.require(Permission::ViewService)?.id;
            let mut h = st.db.acquire().await?;
            store::maintenance::orders::get(&mut h.c(), org, id).await?;
            Ok(org)
        }
    }
}

/// The organization and its size limit, if the user may add files to record `id`.
async fn check_upload(st: &AppState, ctx: &Ctx, e: Entity, id: i64) -> AppResult<(i64, i64)> {
    ctx.require(e.upload_permission())?;
    let org = check_view(st, ctx, e, id).await?;
    Ok((org, size_limit(st, org).await?))
}

/// The organization's largest file, never above [`MAX_FILE_BYTES`].
async fn size_limit(st: &AppState, org: i64) -> AppResult<i64> {
    let mut h = st.db.acquire().await?;
    let s = store::complaints::settings::get(&mut h.c(), org).await?;
    Ok(s.attachment_max_bytes.clamp(0, MAX_FILE_BYTES))
}

/// Whether the user may delete this file: its uploader (while still allowed to add files)
/// or a manager or administrator; never a read-only role.
fn may_delete(ctx: &Ctx, m: &AttachmentMeta) -> bool {
    let Some(o) = &ctx.org else { return false };
    if o.role.read_only() {
        return false;
    }
    if matches!(o.role, Role::Admin | Role::Manager) {
        return true;
    }
    let perm = Entity::parse(&m.entity).map(Entity::upload_permission);
    m.created_by == Some(ctx.user_id) && perm.is_some_and(|p| o.role.allows(p))
}

/// The files of a record the user may see (`entity` is `complaint` or `capa`).
pub async fn list_for(
    st: &AppState,
    ctx: &Ctx,
    entity: &str,
    id: i64,
) -> AppResult<Vec<AttachmentMeta>> {
    let e = Entity::parse(entity).ok_or(AppError::NotFound)?;
    let org = check_view(st, ctx, e, id).await?;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, e.as_str(), id).await?)
}

/// A received file: the name the client gave and the bytes.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub name: String,
    pub data: Vec<u8>,
}

/// What the audit trail keeps of a file: never its bytes.
#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    size: i64,
    content_type: &'a str,
    sha256: &'a str,
    entity: &'a str,
    entity_id: i64,
}

impl<'a> From<&'a AttachmentMeta> for Snapshot<'a> {
    fn from(m: &'a AttachmentMeta) -> Self {
        Snapshot {
            name: &m.name,
            size: m.size,
            content_type: &m.content_type,
            sha256: &m.sha256,
            entity: &m.entity,
            entity_id: m.entity_id,
        }
    }
}

/// Checks one file against the limit and the accepted types: (safe name, content type).
fn validate(f: &Incoming, limit: i64) -> Result<(String, &'static str), FieldErrors> {
    let mut errs = FieldErrors::default();
    let name = sanitize_name(&f.name);
    if name.is_empty() {
        errs.add("file", "required", None);
    } else if f.data.is_empty() {
        errs.add("file", "attachment_empty", Some(name.clone()));
    } else if f.data.len() as i64 > limit {
        errs.add("file", "attachment_too_big", Some(human_size(limit)));
    } else {
        match sniff(&name, &f.data) {
            Ok(mime) => return Ok((name, mime)),
            Err(code) => errs.add("file", code, Some(name.clone())),
        }
    }
    Err(errs)
}

/// Stores files on record `id` of kind `entity` in one transaction (all or none), each with
/// its audit row and, on a complaint, a history event.
pub async fn upload(
    st: &AppState,
    ctx: &Ctx,
    entity: &str,
    id: i64,
    files: Vec<Incoming>,
) -> AppResult<Vec<AttachmentMeta>> {
    let e = Entity::parse(entity).ok_or(AppError::NotFound)?;
    let (org, limit) = check_upload(st, ctx, e, id).await?;
    store_files(st, ctx, e, id, org, limit, files).await
}

async fn store_files(
    st: &AppState,
    ctx: &Ctx,
    e: Entity,
    id: i64,
    org: i64,
    limit: i64,
    files: Vec<Incoming>,
) -> AppResult<Vec<AttachmentMeta>> {
    if files.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("file", "required")));
    }
    let mut checked = Vec::with_capacity(files.len());
    for f in &files {
        let (name, mime) = validate(f, limit).map_err(AppError::Invalid)?;
        checked.push((name, mime, &f.data));
    }
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let mut out = Vec::with_capacity(checked.len());
    for (name, mime, data) in checked {
        let sha = hex::encode(Sha256::digest(data));
        let aid = repo::insert(
            &mut tx.c(),
            org,
            &NewAttachment {
                entity: e.as_str(),
                entity_id: id,
                name: &name,
                content_type: mime,
                sha256: &sha,
                data,
                created_by: Some(ctx.user_id),
                created_at: now,
            },
        )
        .await?;
        let m = repo::get(&mut tx.c(), org, aid).await?;
        audit(
            &mut tx,
            ctx,
            org,
            now,
            Change {
                action: "create",
                entity: ENTITY,
                id: aid,
                before: None,
                after: Some(&Snapshot::from(&m)),
            },
        )
        .await?;
        if e == Entity::Complaint {
            steps::add_event(
                &mut tx.c(),
                org,
                &steps::NewEvent {
                    complaint_id: id,
                    at: now,
                    user_id: Some(ctx.user_id),
                    action: "attachment",
                    from_status: None,
                    to_status: None,
                    note: Some(&m.name),
                    data: Some(serde_json::json!({ "attachment_id": aid }).to_string()),
                },
            )
            .await?;
        }
        out.push(m);
    }
    tx.commit().await?;
    Ok(out)
}

/// A file's description, if the user may see its record.
pub async fn meta(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<AttachmentMeta> {
    let org = ctx.require(Permission::ViewComplaints)?.id;
    let m = {
        let mut h = st.db.acquire().await?;
        repo::get(&mut h.c(), org, id).await?
    };
    let e = Entity::parse(&m.entity).ok_or(AppError::NotFound)?;
    check_view(st, ctx, e, m.entity_id).await?;
    Ok(m)
}

/// A file's description and bytes, if the user may see its record.
pub async fn open(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<(AttachmentMeta, Vec<u8>)> {
    let m = meta(st, ctx, id).await?;
    let mut h = st.db.acquire().await?;
    let data = repo::data(&mut h.c(), ctx.org()?.id, id).await?;
    Ok((m, data))
}

/// Deletes a file (its uploader, a manager or an administrator); returns what it was.
pub async fn delete(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<AttachmentMeta> {
    let m = meta(st, ctx, id).await?;
    if !may_delete(ctx, &m) {
        return Err(AppError::Forbidden);
    }
    let org = ctx.org()?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    repo::delete(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "delete",
            entity: ENTITY,
            id,
            before: Some(&Snapshot::from(&m)),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

// ---------------------------------------------------------------------------------------
// Reading a multipart upload

/// What a multipart body held: the CSRF field and the files (each within the limit), or
/// the first field error met.
struct Received {
    csrf: String,
    files: Vec<Incoming>,
    error: Option<FieldErrors>,
}

/// Reads the body field by field, keeping at most `limit` bytes of any one file: a larger
/// file is dropped as it streams in (the rest is read and thrown away, so the browser gets
/// the answer instead of a reset connection).
async fn receive(mp: Result<Multipart, MultipartRejection>, limit: i64) -> AppResult<Received> {
    let mut mp = mp.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
    let too_big = || {
        let mut e = FieldErrors::default();
        e.add("file", "attachment_too_big", Some(human_size(limit as i64)));
        e
    };
    let mut r = Received {
        csrf: String::new(),
        files: vec![],
        error: None,
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                r.error.get_or_insert_with(too_big);
                break;
            }
            Err(e) => return Err(AppError::BadRequest(e.body_text())),
        };
        let mut field = field;
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let keep_max = match name.as_str() {
            "_csrf" | "csrf" => 256,
            "file" => limit,
            _ => 0,
        };
        let mut buf: Vec<u8> = Vec::new();
        let mut over = false;
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    if !over && buf.len() + c.len() <= keep_max {
                        buf.extend_from_slice(&c);
                    } else {
                        over = true;
                        buf = Vec::new();
                    }
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    r.error.get_or_insert_with(too_big);
                    return Ok(r);
                }
                Err(e) => return Err(AppError::BadRequest(e.body_text())),
            }
        }
        match name.as_str() {
            "_csrf" | "csrf" if r.csrf.is_empty() => {
                r.csrf = String::from_utf8(buf).unwrap_or_default();
            }
            "file" => {
                let file_name = file_name.unwrap_or_default();
                // A form posted with no file chosen sends an empty, nameless part.
                if file_name.is_empty() && buf.is_empty() && !over {
                    continue;
                }
                if over {
                    r.error.get_or_insert_with(too_big);
                } else {
                    r.files.push(Incoming {
                        name: file_name,
                        data: buf,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------
// Pages

/// What the `complaints/_attachments.html` partial shows. Build it with
/// [`AttachmentsBlock::load`] and put it in the page struct as `att`.
pub struct AttachmentsBlock {
    /// complaint or capa.
    pub entity: String,
    pub entity_id: i64,
    pub items: Vec<AttachmentItem>,
    pub can_upload: bool,
    pub csrf: String,
    /// Where the upload form posts.
    pub action: String,
    /// The size limit, for the hint ("10 MB").
    pub max_size: String,
    /// The message of a refused upload (from the redirect), shown beside the file input.
    pub error: String,
}

/// One file in the partial's list.
pub struct AttachmentItem {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub content_type: String,
    pub uploader: String,
    pub at: i64,
    pub image: bool,
    pub can_delete: bool,
}

/// The field codes a redirect may carry back to the page (anything else is ignored).
fn error_code(s: &str) -> Option<&'static str> {
    [
        "required",
        "attachment_empty",
        "attachment_type",
        "attachment_mismatch",
        "attachment_too_big",
    ]
    .into_iter()
    .find(|c| *c == s)
}

impl AttachmentsBlock {
    /// The files of record `id` of kind `entity` (`complaint` or `capa`) and the upload
    /// form, for a user who may see the record; `uri` carries a refused upload's message.
    pub async fn load(
        st: &AppState,
        ctx: &Ctx,
        uri: &Uri,
        entity: &str,
        id: i64,
    ) -> AppResult<AttachmentsBlock> {
        let e = Entity::parse(entity).ok_or(AppError::NotFound)?;
        check_view(st, ctx, e, id).await?;
        Self::load_seen(st, ctx, uri, entity, id).await
    }

    /// [`AttachmentsBlock::load`] for a record the caller has just shown to be visible to
    /// this user (the complaint page: its own read checked it; checking again cost three
    /// statements a page).
    pub async fn load_seen(
        st: &AppState,
        ctx: &Ctx,
        uri: &Uri,
        entity: &str,
        id: i64,
    ) -> AppResult<AttachmentsBlock> {
        let e = Entity::parse(entity).ok_or(AppError::NotFound)?;
        let org = ctx.org()?.id;
        let (list, limit) = {
            let mut h = st.db.acquire().await?;
            let list = repo::list(&mut h.c(), org, e.as_str(), id).await?;
            let s = store::complaints::settings::get(&mut h.c(), org).await?;
            (list, s.attachment_max_bytes.clamp(0, MAX_FILE_BYTES))
        };
        let max_size = human_size(limit);
        let q: Vec<(String, String)> = uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let qv = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let error = match error_code(qv("att_error")) {
            Some(code) => {
                let arg: String = if code == "attachment_too_big" {
                    max_size.clone()
                } else {
                    qv("att_arg").chars().take(NAME_MAX).collect()
                };
                ctx.tr.field(&domain::FieldError {
                    field: "file".into(),
                    code,
                    arg: Some(arg),
                })
            }
            None => String::new(),
        };
        let items = list
            .into_iter()
            .map(|m| AttachmentItem {
                can_delete: may_delete(ctx, &m),
                id: m.id,
                size: human_size(m.size),
                image: is_image(&m.content_type),
                uploader: m.created_by_name.unwrap_or_default(),
                at: m.created_at,
                name: m.name,
                content_type: m.content_type,
            })
            .collect();
        Ok(AttachmentsBlock {
            entity: e.as_str().into(),
            entity_id: id,
            items,
            can_upload: ctx.can(e.upload_permission()),
            csrf: ctx.csrf.clone(),
            action: format!("{}/attachments", e.page(id)),
            max_size,
            error,
        })
    }

    /// The extensions the file input accepts.
    pub fn accept(&self) -> &'static str {
        ACCEPT
    }
}

#[derive(askama::Template)]
#[template(path = "complaints/_attachments.html")]
struct Partial<'a> {
    tr: Tr,
    att: &'a AttachmentsBlock,
}

/// Renders the partial alone (an HTML fragment), as a page including it would.
pub fn render_block(tr: Tr, att: &AttachmentsBlock) -> AppResult<String> {
    askama::Template::render(&Partial { tr, att })
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// Back to the record's list of files after a refused upload, with the message's code and
/// argument for [`AttachmentsBlock::load`].
fn refused(e: Entity, id: i64, f: &FieldErrors) -> Response {
    let (code, arg) =
        f.0.first()
            .map(|x| (x.code, x.arg.clone().unwrap_or_default()))
            .unwrap_or(("required", String::new()));
    let q = serde_urlencoded::to_string([("att_error", code), ("att_arg", arg.as_str())])
        .unwrap_or_default();
    crate::web::see_other(&format!("{}?{q}#attachments", e.page(id)))
}

async fn upload_page(
    st: AppState,
    ctx: Ctx,
    e: Entity,
    id: i64,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let (org, limit) = check_upload(&st, &ctx, e, id).await?;
    let r = receive(mp, limit).await?;
    // Multipart bodies skip the FormData extractor, so the token is compared here.
    if !ct_eq(&r.csrf, &ctx.csrf) {
        return Err(AppError::Csrf);
    }
    if let Some(f) = r.error {
        return Ok(refused(e, id, &f));
    }
    match store_files(&st, &ctx, e, id, org, limit, r.files).await {
        Ok(_) => Ok(crate::web::see_other(&format!(
            "{}?ok=attachment_added#attachments",
            e.page(id)
        ))),
        Err(AppError::Invalid(f)) => Ok(refused(e, id, &f)),
        Err(x) => Err(x),
    }
}

async fn upload_complaint_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_page(st, ctx, Entity::Complaint, id, mp).await
}

async fn upload_capa_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_page(st, ctx, Entity::Capa, id, mp).await
}

async fn upload_order_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_page(st, ctx, Entity::ServiceOrder, id, mp).await
}

async fn delete_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    let m = delete(&st, &ctx, id).await?;
    let e = Entity::parse(&m.entity).ok_or(AppError::NotFound)?;
    Ok(crate::web::see_other(&format!(
        "{}?ok=attachment_deleted#attachments",
        e.page(m.entity_id)
    )))
}

/// The file as a download: the stored (sniffed) type, `nosniff`, pictures inline and
/// everything else as an attachment, revalidated by its SHA-256.
async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let m = meta(&st, &ctx, id).await?;
    let etag = format!("\"{}\"", m.sha256);
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "private, no-cache".to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let data = {
        let mut h = st.db.acquire().await?;
        repo::data(&mut h.c(), ctx.org()?.id, id).await?
    };
    let disposition = content_disposition(is_image(&m.content_type), &m.name);
    let mut resp = (cache, data).into_response();
    let h = resp.headers_mut();
    let val =
        |s: &str| HeaderValue::from_str(s).map_err(|e| AppError::Internal(format!("header: {e}")));
    h.insert(header::CONTENT_TYPE, val(&m.content_type)?);
    h.insert(header::CONTENT_DISPOSITION, val(&disposition)?);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A stored file never runs script, even if opened directly.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
        ),
    );
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// API

/// A multipart upload.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadForm {
    /// The file: JPEG, PNG, WebP or GIF image, PDF, plain text, CSV, XLSX, XLS, DOCX or DOC,
    /// at most the organization's `attachment_max_bytes`. Its type is decided from its
    /// first bytes and its extension; a mismatch is refused (422 on `file`).
    #[schema(value_type = String, format = Binary)]
    pub file: String,
}

async fn upload_api(
    st: AppState,
    ctx: Ctx,
    e: Entity,
    id: i64,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let (org, limit) = check_upload(&st, &ctx, e, id).await?;
    let r = receive(mp, limit).await?;
    if let Some(f) = r.error {
        return Err(AppError::Invalid(f));
    }
    if r.files.len() > 1 {
        return Err(AppError::BadRequest("one file per request".into()));
    }
    let mut out = store_files(&st, &ctx, e, id, org, limit, r.files).await?;
    let m = out
        .pop()
        .ok_or(AppError::Internal("no file stored".into()))?;
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}

/// Attachments of a complaint (metadata only).
#[utoipa::path(get, path = "/api/v1/complaints/{id}/attachments", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AttachmentMeta>), (status = 404)), security(("bearer" = [])))]
pub async fn list_complaint_attachments(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(list_for(&st, &ctx, "complaint", id).await?).into_response())
}

/// Attach a file to a complaint (multipart field `file`).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/attachments", tag = "complaints", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentMeta), (status = 403), (status = 404),
        (status = 422, description = "on `file`: required, attachment_empty, attachment_type, attachment_mismatch or attachment_too_big")),
    security(("bearer" = [])))]
pub async fn upload_complaint_attachment(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_api(st, ctx, Entity::Complaint, id, mp).await
}

/// Attachments of a corrective action (metadata only).
#[utoipa::path(get, path = "/api/v1/capas/{id}/attachments", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AttachmentMeta>), (status = 404)), security(("bearer" = [])))]
pub async fn list_capa_attachments(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(list_for(&st, &ctx, "capa", id).await?).into_response())
}

/// Attach a file to a corrective action (multipart field `file`).
#[utoipa::path(post, path = "/api/v1/capas/{id}/attachments", tag = "complaints", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentMeta), (status = 403), (status = 404),
        (status = 422, description = "on `file`: required, attachment_empty, attachment_type, attachment_mismatch or attachment_too_big")),
    security(("bearer" = [])))]
pub async fn upload_capa_attachment(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_api(st, ctx, Entity::Capa, id, mp).await
}

/// Attachments of a service order (metadata only).
#[utoipa::path(get, path = "/api/v1/service-orders/{id}/attachments", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AttachmentMeta>), (status = 404)), security(("bearer" = [])))]
pub async fn list_order_attachments(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(axum::Json(list_for(&st, &ctx, "service_order", id).await?).into_response())
}

/// Attach a file (a photo of a checklist item, a signed form) to a service order.
#[utoipa::path(post, path = "/api/v1/service-orders/{id}/attachments", tag = "maintenance", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentMeta), (status = 403), (status = 404),
        (status = 422, description = "on `file`: required, attachment_empty, attachment_type, attachment_mismatch or attachment_too_big")),
    security(("bearer" = [])))]
pub async fn upload_order_attachment(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    upload_api(st, ctx, Entity::ServiceOrder, id, mp).await
}

/// Download an attachment's bytes (type as stored; `Content-Disposition` with the name).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, description = "the file's bytes", content_type = "application/octet-stream"), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_attachment(
    st: State<AppState>,
    ctx: Ctx,
    id: Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    download(st, ctx, id, headers).await
}

/// Delete an attachment (its uploader, a manager or an administrator).
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_attachment(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    delete(&st, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
