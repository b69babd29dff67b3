//! Studies: permission checks and transactions. Drawing the sample writes every invitation
//! in one transaction with multi-row INSERTs and one set-based UPDATE for the breakdown
//! keys; every response (link, phone, demo) goes through [`save`], which makes the answer
//! count once however often or concurrently a link is submitted.

use domain::FieldErrors;
use domain::archives::equipment::{date_of_unix, days_of, unix_of_date};
use domain::auth::Permission;
use domain::satisfaction::sampling::{self, Population, StudyDraft, status};
use domain::satisfaction::stats::{ScaleAnswer, response_score};
use serde::Serialize;
use store::audit::{Actor, NewEntry};
use store::satisfaction::studies::{
    self as repo, Answer, Invitation, InvitationFilter, NewResponse, Study, StudyFilter,
    StudyValues,
};
use store::satisfaction::surveys::{self, Full, Item};
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// Audit entity of a study.
pub const ENTITY: &str = "study";
/// Audit entity of an invitation.
pub const INV_ENTITY: &str = "study_invitation";
/// Audit entity and timeline kind of a response.
pub const RESPONSE: &str = "survey_response";
/// Most invitations shown on one printed sheet.
pub const PRINT_MAX: i64 = 500;

/// A fresh answer-link token: 32 random bytes (256 bits) from the thread's CSPRNG,
/// base64url without padding (43 characters).
pub fn new_token() -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let bytes: Vec<u8> = (0..32).map(|_| rng.random::<u8>()).collect();
    base64url(&bytes)
}

/// base64url (RFC 4648 §5) without padding.
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let keep = ch.len() + 1;
        for i in 0..keep {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// True for a string shaped like a token we issue (checked before touching the database).
pub fn token_shaped(t: &str) -> bool {
    t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random seed to show in a new study's form (editable, so a draw can be reproduced).
pub fn new_seed() -> i64 {
    use rand::RngExt;
    rand::rng().random_range(1..1_000_000_000_i64)
}

/// The study's period as [from, to) Unix times (local midnights) when the population only
/// counts customers served in it.
fn served_range(st: &AppState, p: &Population, start: &str, end: &str) -> Option<(i64, i64)> {
    if !p.served {
        return None;
    }
    let off = st.settings.server.utc_offset_minutes;
    let from = unix_of_date(start, off)?;
    let to = unix_of_date(end, off)? + 86_400;
    Some((from, to))
}

/// The calculator's result for a design: population size N and the sample size n.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Calc {
    pub population: i64,
    pub computed: i64,
}

/// N and n for a design (no write).
pub async fn calculate(st: &AppState, ctx: &Ctx, d: &StudyDraft) -> AppResult<Calc> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    let served = served_range(st, &d.population, &d.period_start, &d.period_end);
    let n = repo::population_size(&mut h.c(), org, &d.population, served).await?;
    Ok(Calc {
        population: n,
        computed: d.computed_size(n),
    })
}

async fn check_design(
    st: &AppState,
    tx: &mut Tx,
    org: i64,
    d: &StudyDraft,
) -> AppResult<(i64, i64)> {
    let mut errs = FieldErrors::default();
    match surveys::load(&mut tx.c(), org, d.template_id).await? {
        Some(f) if f.template.status == "active" => {}
        _ => errs.add("template_id", "choice", None),
    }
    let served = served_range(st, &d.population, &d.period_start, &d.period_end);
    let n = repo::population_size(&mut tx.c(), org, &d.population, served).await?;
    let size = match d.sample_size {
        Some(k) if k > n => {
            errs.add("sample_size", "study_sample_too_big", Some(n.to_string()));
            k
        }
        Some(k) => k,
        None => d.computed_size(n),
    };
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    Ok((n, size))
}

fn values<'a>(d: &'a StudyDraft, n: i64, size: i64) -> StudyValues<'a> {
    StudyValues {
        template_id: d.template_id,
        name: &d.name,
        period_start: &d.period_start,
        period_end: &d.period_end,
        population: &d.population,
        population_size: n,
        confidence_percent: d.confidence.percent(),
        margin_percent: d.margin_percent,
        sample_size: size,
        seed: d.seed,
        link_days: d.link_days,
    }
}

async fn audit_study(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
    action: &str,
    before: Option<&Study>,
    after: &Study,
) -> AppResult<()> {
    let to = |v: Option<&Study>| v.and_then(|v| serde_json::to_value(v).ok());
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action,
            entity: ENTITY,
            entity_id: Some(after.id),
            before: to(before),
            after: to(Some(after)),
        },
    )
    .await?;
    Ok(())
}

async fn audit_invitation(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
    action: &str,
    before: Option<&Invitation>,
    after: &Invitation,
) -> AppResult<()> {
    // The token is the customer's credential: never copied into the audit trail.
    let to = |v: Option<&Invitation>| {
        v.and_then(|v| serde_json::to_value(v).ok()).map(|mut j| {
            if let Some(o) = j.as_object_mut() {
                o.remove("token");
            }
            j
        })
    };
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action,
            entity: INV_ENTITY,
            entity_id: Some(after.id),
            before: to(before),
            after: to(Some(after)),
        },
    )
    .await?;
    Ok(())
}

/// Creates a draft study.
pub async fn create(st: &AppState, ctx: &Ctx, d: StudyDraft) -> AppResult<Study> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let (n, size) = check_design(st, &mut tx, org, &d).await?;
    let id = repo::insert(
        &mut tx.c(),
        org,
        &values(&d, n, size),
        Some(ctx.user_id),
        now,
    )
    .await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_study(&mut tx, &ctx.actor(), org, now, "create", None, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Rewrites the design of a draft study read at `version` (not once its sample is drawn).
pub async fn update(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: StudyDraft,
) -> AppResult<Study> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    if before.status != status::DRAFT || before.invited > 0 {
        return Err(AppError::Transition("study_not_draft"));
    }
    let (n, size) = check_design(st, &mut tx, org, &d).await?;
    repo::update(&mut tx.c(), org, id, version, &values(&d, n, size), now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_study(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "update",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Opens (draft → open) or closes (open → closed) a study read at `version`.
pub async fn set_status(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    to: &'static str,
) -> AppResult<Study> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    let (from, action, refusal) = match to {
        status::OPEN => (status::DRAFT, "study_open", "study_not_draft"),
        _ => (status::OPEN, "study_close", "study_not_open"),
    };
    if before.status != from {
        return Err(AppError::Transition(refusal));
    }
    repo::set_status(&mut tx.c(), org, id, version, to, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_study(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        action,
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Draws the sample of a study: the population as it is now, `sample_size` of it (at most
/// N) picked with the study's seed, one invitation each, in one transaction.
pub async fn draw(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Study> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    if !repo::lock(&mut tx.c(), org, id).await? {
        return Err(AppError::NotFound);
    }
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.status == status::CLOSED {
        return Err(AppError::Transition("study_closed"));
    }
    if before.invited > 0 {
        return Err(AppError::Transition("study_already_drawn"));
    }
    let pop: Population = serde_json::from_str(&before.population).unwrap_or_default();
    let served = served_range(st, &pop, &before.period_start, &before.period_end);
    let ids = repo::population(&mut tx.c(), org, &pop, served).await?;
    let n = ids.len() as i64;
    let k = before.sample_size.min(n);
    if k <= 0 {
        return Err(AppError::Transition("study_population_empty"));
    }
    let sample = sampling::draw(&ids, k as usize, before.seed as u64);
    let rows: Vec<(i64, String)> = sample.into_iter().map(|c| (c, new_token())).collect();
    let expires = now + before.link_days * 86_400;
    repo::insert_invitations(&mut tx.c(), org, id, &rows, expires, now).await?;
    repo::fill_keys(&mut tx.c(), org, id, None, pop.product_id).await?;
    repo::set_drawn(&mut tx.c(), org, id, n, k, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit_study(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "study_draw",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of studies.
pub async fn list(st: &AppState, ctx: &Ctx, f: &StudyFilter, p: PageReq) -> AppResult<Page<Study>> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f, p).await?)
}

/// One study.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Study> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get(&mut h.c(), org, id).await?)
}

/// A page of a study's invitations.
pub async fn invitations(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    f: &InvitationFilter,
    p: PageReq,
) -> AppResult<Page<Invitation>> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    repo::get(&mut h.c(), org, id).await?;
    Ok(repo::invitations(&mut h.c(), org, id, f, p).await?)
}

/// One invitation of a study.
pub async fn invitation(st: &AppState, ctx: &Ctx, study: i64, id: i64) -> AppResult<Invitation> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::invitation(&mut h.c(), org, study, id).await?)
}

/// Invites one more customer by hand (code or id): active and consenting, not yet invited.
pub async fn add_invitation(
    st: &AppState,
    ctx: &Ctx,
    study: i64,
    customer: &str,
) -> AppResult<Invitation> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let customer = customer.trim();
    if customer.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single(
            "customer", "required",
        )));
    }
    let mut tx = st.db.begin().await?;
    if !repo::lock(&mut tx.c(), org, study).await? {
        return Err(AppError::NotFound);
    }
    let s = repo::get(&mut tx.c(), org, study).await?;
    if s.status == status::CLOSED {
        return Err(AppError::Transition("study_closed"));
    }
    let cid = match repo::customer_by_ref(&mut tx.c(), org, customer).await? {
        None => {
            return Err(AppError::Invalid(FieldErrors::single(
                "customer",
                "customer_unknown",
            )));
        }
        Some((_, active, consent)) if !active || !consent => {
            return Err(AppError::Invalid(FieldErrors::single(
                "customer",
                "study_no_consent",
            )));
        }
        Some((id, ..)) => id,
    };
    if repo::invitation_of(&mut tx.c(), org, study, cid)
        .await?
        .is_some()
    {
        return Err(AppError::Invalid(FieldErrors::single(
            "customer",
            "study_invited",
        )));
    }
    let expires = now + s.link_days * 86_400;
    repo::insert_invitations(&mut tx.c(), org, study, &[(cid, new_token())], expires, now).await?;
    let inv_id = repo::invitation_of(&mut tx.c(), org, study, cid)
        .await?
        .ok_or(AppError::NotFound)?;
    let pop: Population = serde_json::from_str(&s.population).unwrap_or_default();
    repo::fill_keys(&mut tx.c(), org, study, Some(inv_id), pop.product_id).await?;
    repo::recount_invited(&mut tx.c(), org, study, now).await?;
    let after = repo::invitation(&mut tx.c(), org, study, inv_id).await?;
    audit_invitation(&mut tx, &ctx.actor(), org, now, "create", None, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Revokes a pending invitation (its link stops working).
pub async fn revoke(st: &AppState, ctx: &Ctx, study: i64, id: i64) -> AppResult<Invitation> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::invitation(&mut tx.c(), org, study, id).await?;
    if !repo::revoke(&mut tx.c(), org, id).await? {
        return Err(AppError::Transition("invitation_not_pending"));
    }
    let after = repo::invitation(&mut tx.c(), org, study, id).await?;
    audit_invitation(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "revoke",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Extends a pending invitation to `days` days from now (1 to 365).
pub async fn extend(
    st: &AppState,
    ctx: &Ctx,
    study: i64,
    id: i64,
    days: &str,
) -> AppResult<Invitation> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let days = match days.trim().parse::<i64>() {
        Ok(d) if (1..=365).contains(&d) => d,
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "days",
                "study_link_days",
            )));
        }
    };
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::invitation(&mut tx.c(), org, study, id).await?;
    let s = repo::get(&mut tx.c(), org, study).await?;
    if s.status == status::CLOSED {
        return Err(AppError::Transition("study_closed"));
    }
    if !repo::extend(&mut tx.c(), org, id, now + days * 86_400).await? {
        return Err(AppError::Transition("invitation_not_pending"));
    }
    let after = repo::invitation(&mut tx.c(), org, study, id).await?;
    audit_invitation(
        &mut tx,
        &ctx.actor(),
        org,
        now,
        "invitation_extend",
        Some(&before),
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- answers ----------

/// The scale of an item: its own bounds, else the kind's usual ones (NPS 0-10, CES 1-7,
/// others 1-5).
pub fn bounds(item: &Item) -> (i64, i64) {
    let (lo, hi) = match item.kind.as_str() {
        "nps" => (0, 10),
        "ces" => (1, 7),
        _ => (1, 5),
    };
    (item.scale_min.unwrap_or(lo), item.scale_max.unwrap_or(hi))
}

/// Longest free-text answer, characters.
pub const TEXT_MAX: usize = 2000;

/// Parses the answers to a template's items from raw values looked up by item id (form
/// field `item_<id>` or the JSON list); a required item left empty is `required`, a value
/// off its scale `choice`. Unanswered optional items are simply absent.
pub fn parse_answers(
    items: &[Item],
    raw: impl Fn(i64) -> Option<String>,
) -> Result<Vec<Answer>, FieldErrors> {
    let mut errs = FieldErrors::default();
    let mut out = vec![];
    for it in items {
        let field = format!("item_{}", it.id);
        let v = raw(it.id).unwrap_or_default();
        let v = v.trim();
        if v.is_empty() {
            if it.required {
                errs.add(&field, "required", None);
            }
            continue;
        }
        if it.kind == "text" {
            if v.chars().count() > TEXT_MAX {
                errs.add(&field, "too_long", Some(TEXT_MAX.to_string()));
            } else {
                out.push(Answer {
                    item_id: it.id,
                    value: None,
                    text: Some(v.to_string()),
                });
            }
            continue;
        }
        let (lo, hi) = bounds(it);
        match v.parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => out.push(Answer {
                item_id: it.id,
                value: Some(n as f64),
                text: None,
            }),
            _ => errs.add(&field, "choice", None),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// A response's own score: the weighted 0-100 score of its scale answers.
pub fn score(items: &[Item], answers: &[Answer]) -> Option<f64> {
    let scale: Vec<ScaleAnswer> = answers
        .iter()
        .filter_map(|a| {
            let it = items
                .iter()
                .find(|i| i.id == a.item_id && i.kind == "scale")?;
            let (lo, hi) = bounds(it);
            Some(ScaleAnswer {
                value: a.value?,
                scale_min: lo as f64,
                scale_max: hi as f64,
                weight: it.weight,
            })
        })
        .collect();
    response_score(&scale)
}

/// How a response came in.
pub struct Entry<'a> {
    /// link or phone.
    pub channel: &'static str,
    pub entered_by: Option<i64>,
    pub actor: &'a Actor,
}

/// Saves a response inside `tx`: the invitation turns answered (refused with
/// `invitation_answered` when it already was: the UPDATE only matches a pending one, so of
/// two concurrent submits exactly one gets through, and `invitation_id` is UNIQUE besides),
/// then the response with its score and breakdown keys, its answers in bulk, the study's
/// counter, the customer's timeline, the audit row and the low-score trigger.
pub async fn save(
    tx: &mut Tx,
    inv: &Invitation,
    study: &Study,
    full: &Full,
    answers: &[Answer],
    entry: &Entry<'_>,
    now: i64,
) -> AppResult<i64> {
    let org = inv.org_id;
    if !repo::mark_answered(&mut tx.c(), inv.id, now).await? {
        return Err(AppError::Transition("invitation_answered"));
    }
    let score = score(&full.items, answers);
    let id = repo::insert_response(
        &mut tx.c(),
        &NewResponse {
            org_id: org,
            study_id: study.id,
            invitation_id: inv.id,
            template_id: study.template_id,
            customer_id: inv.customer_id,
            channel: entry.channel,
            entered_by: entry.entered_by,
            submitted_at: now,
            score,
            product_id: inv.product_id,
            engineer_id: inv.engineer_id,
            region: inv.region.as_deref(),
            outlet_id: inv.outlet_id,
        },
    )
    .await
    .map_err(|e| match e {
        store::StoreError::Conflict(_) => AppError::Transition("invitation_answered"),
        e => e.into(),
    })?;
    repo::insert_answers(&mut tx.c(), id, study.id, answers).await?;
    repo::count_response(&mut tx.c(), study.id).await?;
    let summary = match score {
        Some(s) => format!("{} · {:.0}", study.name, s),
        None => study.name.clone(),
    };
    store::timeline::add(
        &mut tx.c(),
        &store::timeline::NewEvent {
            org_id: org,
            customer_id: Some(inv.customer_id),
            equipment_id: None,
            at: now,
            kind: RESPONSE,
            ref_id: id,
            summary: &summary,
        },
    )
    .await?;
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor: entry.actor,
            action: "survey_answer",
            entity: RESPONSE,
            entity_id: Some(id),
            before: None,
            after: Some(serde_json::json!({
                "study_id": study.id,
                "invitation_id": inv.id,
                "customer_id": inv.customer_id,
                "channel": entry.channel,
                "score": score,
                "answers": answers,
            })),
        },
    )
    .await?;
    // The low-score trigger (a follow-up visit or a complaint), in the same transaction.
    crate::satisfaction::visits::after_response(tx, org, id, now).await?;
    Ok(id)
}

/// Why an answer link does not take an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such link (or not shaped like one).
    Unknown,
    Expired,
    Revoked,
    Answered,
    /// The study is not open yet.
    NotOpen,
    Closed,
}

impl Refusal {
    /// The i18n key suffix (`answer.refused_<code>`) and API error code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unknown => "link_unknown",
            Refusal::Expired => "link_expired",
            Refusal::Revoked => "link_revoked",
            Refusal::Answered => "link_answered",
            Refusal::NotOpen => "link_not_open",
            Refusal::Closed => "link_closed",
        }
    }
    /// 404 when there is nothing to show, 410 when the link existed and no longer works.
    pub fn status(self) -> axum::http::StatusCode {
        match self {
            Refusal::Unknown | Refusal::NotOpen => axum::http::StatusCode::NOT_FOUND,
            _ => axum::http::StatusCode::GONE,
        }
    }
}

/// A working answer link: the invitation, its study and template, the organization's name.
pub struct Link {
    pub inv: Invitation,
    pub study: Study,
    pub full: Full,
    pub org_name: String,
}

fn refusal_of(inv: &Invitation, study: &Study, now: i64) -> Option<Refusal> {
    if inv.status == "revoked" {
        Some(Refusal::Revoked)
    } else if inv.status == "answered" {
        Some(Refusal::Answered)
    } else if study.status == status::DRAFT {
        Some(Refusal::NotOpen)
    } else if study.status != status::OPEN {
        Some(Refusal::Closed)
    } else if now >= inv.expires_at {
        Some(Refusal::Expired)
    } else {
        None
    }
}

/// The answer link of `token`, or why it does not work.
pub async fn open_link(st: &AppState, token: &str) -> AppResult<Result<Link, Refusal>> {
    if !token_shaped(token) {
        return Ok(Err(Refusal::Unknown));
    }
    let mut h = st.db.acquire().await?;
    let Some(inv) = repo::by_token(&mut h.c(), token).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    // Compare the secret in constant time as well (the index look-up already matched it).
    if !crate::auth::ct_eq(&inv.token, token) {
        return Ok(Err(Refusal::Unknown));
    }
    let study = repo::get(&mut h.c(), inv.org_id, inv.study_id).await?;
    if let Some(r) = refusal_of(&inv, &study, st.now()) {
        return Ok(Err(r));
    }
    let full = surveys::load(&mut h.c(), inv.org_id, study.template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let org_name = repo::org_name(&mut h.c(), inv.org_id).await?;
    Ok(Ok(Link {
        inv,
        study,
        full,
        org_name,
    }))
}

/// Saves the customer's answers through a link: `Invalid` with field errors, or the link's
/// refusal (checked again inside the transaction), or the response id.
pub async fn answer_by_link(
    st: &AppState,
    token: &str,
    raw: impl Fn(i64) -> Option<String>,
) -> AppResult<Result<i64, Refusal>> {
    let link = match open_link(st, token).await? {
        Ok(l) => l,
        Err(r) => return Ok(Err(r)),
    };
    let answers = parse_answers(&link.full.items, raw).map_err(AppError::Invalid)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let Some(inv) = repo::by_token(&mut tx.c(), token).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    let study = repo::get(&mut tx.c(), inv.org_id, inv.study_id).await?;
    if let Some(r) = refusal_of(&inv, &study, now) {
        return Ok(Err(r));
    }
    let actor = Actor::system("link");
    let entry = Entry {
        channel: "link",
        entered_by: None,
        actor: &actor,
    };
    match save(&mut tx, &inv, &study, &link.full, &answers, &entry, now).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(Ok(id))
        }
        Err(AppError::Transition("invitation_answered")) => Ok(Err(Refusal::Answered)),
        Err(e) => Err(e),
    }
}

/// What the phone-entry form needs: the study, the invitation, the template.
pub struct PhoneForm {
    pub study: Study,
    pub inv: Invitation,
    pub full: Full,
}

/// Loads the phone-entry form of a pending invitation of an open study.
pub async fn phone_form(st: &AppState, ctx: &Ctx, study: i64, inv: i64) -> AppResult<PhoneForm> {
    let org = ctx.require(Permission::HandleVisits)?.id;
    let mut h = st.db.acquire().await?;
    let s = repo::get(&mut h.c(), org, study).await?;
    let i = repo::invitation(&mut h.c(), org, study, inv).await?;
    let full = surveys::load(&mut h.c(), org, s.template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_phone(&s, &i)?;
    Ok(PhoneForm {
        study: s,
        inv: i,
        full,
    })
}

fn check_phone(s: &Study, i: &Invitation) -> AppResult<()> {
    if s.status != status::OPEN {
        return Err(AppError::Transition("study_not_open"));
    }
    match i.status.as_str() {
        "pending" => Ok(()),
        "answered" => Err(AppError::Transition("invitation_answered")),
        _ => Err(AppError::Transition("invitation_not_pending")),
    }
}

/// Saves answers taken by phone (channel phone, entered by the user). The link's expiry
/// does not apply: staff may still record an answer given on the phone.
pub async fn answer_by_phone(
    st: &AppState,
    ctx: &Ctx,
    study: i64,
    inv: i64,
    raw: impl Fn(i64) -> Option<String>,
) -> AppResult<i64> {
    let org = ctx.require(Permission::HandleVisits)?.id;
    let f = phone_form(st, ctx, study, inv).await?;
    let answers = parse_answers(&f.full.items, raw).map_err(AppError::Invalid)?;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let s = repo::get(&mut tx.c(), org, study).await?;
    let i = repo::invitation(&mut tx.c(), org, study, inv).await?;
    check_phone(&s, &i)?;
    let actor = ctx.actor();
    let entry = Entry {
        channel: "phone",
        entered_by: Some(ctx.user_id),
        actor: &actor,
    };
    let id = save(&mut tx, &i, &s, &f.full, &answers, &entry, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// A response with its answers and the template they answer.
pub struct ResponseView {
    pub response: store::satisfaction::studies::Response,
    pub answers: Vec<Answer>,
    pub full: Option<Full>,
}

/// One response of the organization.
pub async fn response(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<ResponseView> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    let response = repo::response(&mut h.c(), org, id).await?;
    let answers = repo::answers(&mut h.c(), id).await?;
    let full = surveys::load(&mut h.c(), org, response.template_id).await?;
    Ok(ResponseView {
        response,
        answers,
        full,
    })
}

/// Choices of the study form: active templates, products, regions, contract levels.
pub struct Choices {
    pub templates: Vec<(i64, String, i64)>,
    pub products: Vec<(i64, String)>,
    pub regions: Vec<String>,
    pub levels: Vec<String>,
}

/// Loads the choices of the study form.
pub async fn choices(st: &AppState, org: i64) -> AppResult<Choices> {
    let mut h = st.db.acquire().await?;
    Ok(Choices {
        templates: repo::active_templates(&mut h.c(), org).await?,
        products: repo::product_choices(&mut h.c(), org).await?,
        regions: repo::region_choices(&mut h.c(), org).await?,
        levels: repo::contract_level_choices(&mut h.c(), org).await?,
    })
}

/// The organization's default link validity in days (visit settings, else 30).
pub async fn default_link_days(st: &AppState, org: i64) -> AppResult<i64> {
    let mut h = st.db.acquire().await?;
    Ok(repo::default_link_days(&mut h.c(), org)
        .await?
        .unwrap_or(30))
}

/// The current quarter's first and last day at the configured offset.
pub fn current_quarter(now: i64, offset_min: i32) -> (String, String) {
    let today = date_of_unix(now, offset_min);
    let y: i64 = today[0..4].parse().unwrap_or(1970);
    let m: i64 = today[5..7].parse().unwrap_or(1);
    let q0 = (m - 1) / 3 * 3 + 1;
    let start = format!("{y:04}-{q0:02}-01");
    let (ny, nm) = if q0 + 3 > 12 { (y + 1, 1) } else { (y, q0 + 3) };
    let next = format!("{ny:04}-{nm:02}-01");
    let end = days_of(&next)
        .map(|d| domain::archives::equipment::date_of_days(d - 1))
        .unwrap_or_else(|| start.clone());
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, kind: &str, required: bool) -> Item {
        Item {
            id,
            template_id: 1,
            dimension_id: None,
            position: id,
            kind: kind.into(),
            text: format!("Q{id}"),
            scale_min: None,
            scale_max: None,
            weight: 1.0,
            required,
        }
    }

    #[test]
    fn tokens_are_43_url_safe_characters() {
        let t = new_token();
        assert!(token_shaped(&t), "{t}");
        assert_ne!(t, new_token());
        // RFC 4648 test vectors (base64url, no padding)
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert!(!token_shaped("../../etc/passwd"));
    }

    #[test]
    fn answers_are_checked_against_their_scale() {
        let items = [
            item(1, "scale", true),
            item(2, "nps", true),
            item(3, "text", false),
            item(4, "ces", false),
        ];
        let raw = |v: &'static [(i64, &'static str)]| {
            move |id: i64| v.iter().find(|(i, _)| *i == id).map(|(_, s)| s.to_string())
        };
        let e = parse_answers(&items, raw(&[(2, "11"), (4, "7")])).unwrap_err();
        let f: Vec<(&str, &str)> = e.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(f, [("item_1", "required"), ("item_2", "choice")]);
        let a = parse_answers(&items, raw(&[(1, "4"), (2, "0"), (3, " 很好 ")])).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[2].text.as_deref(), Some("很好"));
        // only the scale item counts in the score: 4 on 1-5 = 75
        assert_eq!(score(&items, &a), Some(75.0));
    }

    #[test]
    fn quarters() {
        // 2026-05-10 12:00 UTC
        assert_eq!(
            current_quarter(1_778_414_400, 480),
            ("2026-04-01".to_string(), "2026-06-30".to_string())
        );
        // 2026-12-31 20:00 UTC is 2027-01-01 04:00 at +08:00
        assert_eq!(
            current_quarter(1_798_747_200, 480).0,
            "2027-01-01".to_string()
        );
    }
}
