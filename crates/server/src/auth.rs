//! Who is asking: the request context (`Ctx`) from a bearer token or a session cookie, the
//! CSRF-checked form extractor, and password hashing with Argon2id off the async threads.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use domain::auth::{Permission, Role};
use store::audit::Actor;
use tokio::sync::Semaphore;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "as_session";
/// Name of the pre-sign-in CSRF cookie.
pub const CSRF_COOKIE: &str = "as_csrf";
/// Name of the language cookie.
pub const LANG_COOKIE: &str = "lang";

/// The organization a request works in, and the user's role there.
#[derive(Debug, Clone)]
pub struct OrgCtx {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user_id: i64,
    pub login: String,
    pub name: String,
    pub system_admin: bool,
    pub org: Option<OrgCtx>,
    pub session_id: Option<i64>,
    pub csrf: String,
    pub tr: Tr,
}

impl Ctx {
    /// The organization being worked in, or 403.
    pub fn org(&self) -> AppResult<&OrgCtx> {
        self.org.as_ref().ok_or(AppError::Forbidden)
    }

    /// The organization, if the role there grants `p`; else 403.
    pub fn require(&self, p: Permission) -> AppResult<&OrgCtx> {
        let o = self.org()?;
        if o.role.allows(p) {
            Ok(o)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether the role grants `p` (for showing links and buttons).
    pub fn can(&self, p: Permission) -> bool {
        self.org.as_ref().is_some_and(|o| o.role.allows(p))
    }

    /// The audit actor.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            name: self.login.clone(),
        }
    }
}

/// The request's language, put in the extensions by the `locale` middleware.
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

/// The translator for a request (also for anonymous pages).
pub fn tr_of(parts: &Parts, st: &AppState) -> Tr {
    let lang = parts
        .extensions
        .get::<ReqLang>()
        .map(|l| l.0)
        .unwrap_or_default();
    Tr::new(lang, st.settings.server.utc_offset_minutes)
}

/// The client address for throttling: the peer, or the first `X-Forwarded-For` hop when
/// `server.trust_proxy_headers` says a proxy we trust sets it (otherwise anyone could).
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(v) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
    {
        return v.split(',').next().unwrap_or("").trim().to_string();
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn resolve(parts: &mut Parts, st: &AppState) -> AppResult<Option<Ctx>> {
    let now = st.now();
    let tr = tr_of(parts, st);
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string());
    let mut h = st.db.acquire().await?;
    if let Some(token) = bearer {
        let Some((tid, p)) = store::tokens::lookup(&mut h.c(), &store::hash_token(&token)).await?
        else {
            return Err(AppError::Unauthenticated);
        };
        if now - p.last_seen_at > 60 {
            // Never wait to write while holding a read connection: 32 requests doing so
            // held the whole pool against the writer (a 30 s stall, tested).
            drop(h);
            let mut tx = st.db.begin().await?;
            store::tokens::touch(&mut tx.c(), tid, now).await?;
            tx.commit().await?;
        }
        return Ok(Some(to_ctx(p, String::new(), tr)));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(p) =
        store::sessions::lookup(&mut h.c(), &store::hash_token(cookie.value()), now).await?
    else {
        return Ok(None);
    };
    drop(h);
    // Extend the sliding expiry at most every five minutes, not on every request.
    if let Some(sid) = p.session_id
        && now - p.last_seen_at > 300
    {
        let mut tx = st.db.begin().await?;
        store::sessions::touch(&mut tx.c(), sid, now, st.settings.auth.session_ttl_secs).await?;
        tx.commit().await?;
    }
    let csrf = p.csrf.clone().unwrap_or_default();
    let ctx = to_ctx(p, csrf, tr);
    // The JSON API accepts the session cookie for reads; writes need a bearer token or the
    // session's CSRF token in a header, so a foreign page cannot post with our cookie.
    if parts.uri.path().starts_with("/api/") && !is_safe(&parts.method) {
        let hdr = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct_eq(hdr, &ctx.csrf) {
            return Err(AppError::Csrf);
        }
    }
    Ok(Some(ctx))
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn to_ctx(p: store::sessions::Principal, csrf: String, tr: Tr) -> Ctx {
    Ctx {
        user_id: p.user_id,
        login: p.login,
        name: p.display_name,
        system_admin: p.is_system_admin,
        org: p
            .org
            .and_then(|(id, name, role)| Role::parse(&role).map(|role| OrgCtx { id, name, role })),
        session_id: p.session_id,
        csrf,
        tr,
    }
}

/// Constant-time string comparison for secrets.
pub fn ct_eq(a: &str, b: &str) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The signed-in user, if any (cached per request).
#[derive(Debug, Clone)]
pub struct MaybeCtx(pub Option<Ctx>);

impl FromRequestParts<AppState> for MaybeCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<MaybeCtx>() {
            return Ok(c.clone());
        }
        let c = MaybeCtx(resolve(parts, st).await?);
        parts.extensions.insert(c.clone());
        Ok(c)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        MaybeCtx::from_request_parts(parts, st)
            .await?
            .0
            .ok_or(AppError::Unauthenticated)
    }
}

/// A submitted HTML form whose `_csrf` field matched: the session's token when signed in,
/// else the pre-sign-in cookie. Fields are read by name; repeated names are kept.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Parses an urlencoded body (also used by tests).
    pub fn parse(body: &[u8]) -> FormData {
        FormData {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }
    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.opt(name).unwrap_or("")
    }
    /// The first value of a field.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// Every (name, value) pair, in order.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
    /// True for a ticked checkbox.
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.opt(name), Some("1" | "on" | "true"))
    }
    /// The `version` field (optimistic concurrency), or 400.
    pub fn version(&self) -> AppResult<i64> {
        self.get("version")
            .parse()
            .map_err(|_| AppError::BadRequest("version".into()))
    }
}

impl FromRequest<AppState> for FormData {
    type Rejection = AppError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let maybe = MaybeCtx::from_request_parts(&mut parts, st).await?;
        let expected = match &maybe.0 {
            Some(c) if !c.csrf.is_empty() => c.csrf.clone(),
            _ => CookieJar::from_headers(&parts.headers)
                .get(CSRF_COOKIE)
                .map(|c| c.value().to_string())
                .unwrap_or_default(),
        };
        let bytes = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| AppError::BadRequest("body".into()))?;
        let form = FormData::parse(&bytes);
        if !ct_eq(form.get("_csrf"), &expected) {
            return Err(AppError::Csrf);
        }
        Ok(form)
    }
}

/// Argon2id hashing with bounded concurrency, run on the blocking pool.
#[derive(Clone)]
pub struct Hasher {
    sem: Arc<Semaphore>,
    memory_kib: u32,
    iterations: u32,
}

impl Hasher {
    /// A hasher with the given cost; one hash at a time: each holds its memory cost (19 MiB)
    /// and a core, and a burst of log-ins must leave the other core to everything else.
    pub fn new(memory_kib: u32, iterations: u32) -> Hasher {
        Hasher {
            sem: Arc::new(Semaphore::new(1)),
            memory_kib,
            iterations,
        }
    }

    fn argon(&self) -> AppResult<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|e| AppError::Internal(format!("argon2 params: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a password (PHC string).
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let _permit = self
            .sem
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let a = self.argon()?;
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || {
            a.hash_password(pw.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(format!("argon2: {e}")))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// Checks a password against a stored hash; any malformed hash is a mismatch.
    pub async fn verify(&self, password: &str, hash: &str) -> AppResult<bool> {
        let _permit = self
            .sem
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let a = self.argon()?;
        let pw = password.to_string();
        let h = hash.to_string();
        tokio::task::spawn_blocking(move || a.verify_password(pw.as_bytes(), h.as_str()).is_ok())
            .await
            .map_err(|e| AppError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::Hasher;

    /// A hash keeps the cost it was made with: changing the configured cost (as the default
    /// did, from 19 MiB × 2 to 12 MiB × 3) never locks anyone out.
    #[tokio::test]
    async fn a_hash_made_with_another_cost_still_verifies() {
        let old = Hasher::new(64, 2).hash("s3cret-pw").await.expect("hash");
        let now = Hasher::new(32, 3);
        assert!(now.verify("s3cret-pw", &old).await.expect("verify"));
        assert!(!now.verify("wrong-pw", &old).await.expect("verify"));
    }
}
