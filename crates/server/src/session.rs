//! Sign-in with database-backed throttling, sessions, and password changes.

use domain::FieldErrors;
use domain::org::check_password;

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// A new session: the cookie value (shown to the browser once) and the user's language.
pub struct SignedIn {
    pub token: String,
    pub locale: Option<String>,
}

/// Checks the password, throttled per login and per address across all instances, and
/// opens a session in the user's first organization.
pub async fn sign_in(st: &AppState, login: &str, password: &str, ip: &str) -> AppResult<SignedIn> {
    let now = st.now();
    let a = &st.settings.auth;
    let mut h = st.db.acquire().await?;
    let (by_login, by_ip) =
        store::sessions::recent_failures(&mut h.c(), login, ip, now - a.throttle_window_secs)
            .await?;
    if by_login >= a.max_failures_per_login || by_ip >= a.max_failures_per_ip {
        tracing::warn!(login, ip, "sign-in throttled");
        return Err(AppError::Throttled);
    }
    let user = store::users::by_login(&mut h.c(), login).await?;
    drop(h);
    let ok = match &user {
        Some((u, hash)) if u.active => st.hasher.verify(password, hash).await?,
        _ => {
            // Spend the same time as a real check so timing does not reveal which logins exist.
            let _ = st.hasher.hash(password).await?;
            false
        }
    };
    let mut tx = st.db.begin().await?;
    store::sessions::record_attempt(&mut tx.c(), login, ip, now, ok).await?;
    let (Some((u, _)), true) = (user, ok) else {
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    };
    let orgs = store::tenants::for_user(&mut tx.c(), u.id).await?;
    let token = store::random_hex(32);
    let csrf = store::random_hex(16);
    store::sessions::create(
        &mut tx.c(),
        &store::hash_token(&token),
        u.id,
        orgs.first().map(|o| o.id),
        &csrf,
        now,
        a.session_ttl_secs,
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn {
        token,
        locale: u.locale,
    })
}

/// Changes the signed-in user's password and ends their other sessions.
pub async fn change_password(
    st: &AppState,
    ctx: &Ctx,
    current: &str,
    new: &str,
    confirm: &str,
) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    check_password(&mut errs, "new", new);
    if new != confirm {
        errs.add("confirm", "mismatch", None);
    }
    let hash = {
        let mut h = st.db.acquire().await?;
        store::users::password_hash(&mut h.c(), ctx.user_id).await?
    };
    if !st.hasher.verify(current, &hash).await? {
        errs.0.insert(
            0,
            domain::FieldError {
                field: "current".into(),
                code: "password_wrong",
                arg: None,
            },
        );
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let new_hash = st.hasher.hash(new).await?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    store::users::set_password(&mut tx.c(), ctx.user_id, &new_hash, now).await?;
    store::sessions::delete_for_user(&mut tx.c(), ctx.user_id, ctx.session_id).await?;
    crate::web::audit_account(
        &mut tx,
        ctx.org.as_ref().map(|o| o.id),
        &ctx.actor(),
        "password_change",
        ctx.user_id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
