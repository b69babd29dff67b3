//! Changes to survey templates: permission check, one transaction with the write and its
//! audit row, then commit. Saving a template that has answers writes a new version and marks
//! the old one superseded, so studies that used it keep their questions.

use domain::FieldErrors;
use domain::auth::Permission;
use domain::satisfaction::survey::{TemplateDraft, TemplateStatus};
use store::Tx;
use store::audit::Actor;
use store::satisfaction::surveys::load;
use store::satisfaction::surveys::{
    self as repo, Full, ListFilter, NewItem, NewTemplate, Template, TemplateRow,
};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The audit entity of a template.
pub const ENTITY: &str = "survey_template";

/// A template with its history and whether it has answers (its view page).
pub struct Detail {
    pub full: Full,
    /// Every version of its code, newest first (with item and response counts).
    pub versions: Vec<TemplateRow>,
    pub has_answers: bool,
}

/// The result of saving a template.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Saved {
    /// The template now holding the questions: the same id, or the new version's.
    pub id: i64,
    /// True when the template had answers and a new version was written.
    pub new_version: bool,
    pub template: Full,
}

/// The rows to insert for a draft.
fn rows(d: &TemplateDraft) -> (Vec<&str>, Vec<NewItem<'_>>) {
    let dims = d.dimensions.iter().map(String::as_str).collect();
    let items = d
        .items
        .iter()
        .map(|i| NewItem {
            dimension: i.dimension,
            kind: i.kind.as_str(),
            text: &i.text,
            scale_min: i.scale_min,
            scale_max: i.scale_max,
            weight: i.weight,
            required: i.required,
        })
        .collect();
    (dims, items)
}

async fn full(tx: &mut Tx, org: i64, id: i64) -> AppResult<Full> {
    load(&mut tx.c(), org, id).await?.ok_or(AppError::NotFound)
}

/// Writes the audit row of a change (with a given actor: the seed may run without a user).
pub(super) async fn record<T: serde::Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    now: i64,
    ch: Change<'_, T>,
) -> AppResult<()> {
    let to = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
    store::audit::record(
        &mut tx.c(),
        store::audit::NewEntry {
            org_id: Some(org),
            at: now,
            actor,
            action: ch.action,
            entity: ch.entity,
            entity_id: Some(ch.id),
            before: to(ch.before),
            after: to(ch.after),
        },
    )
    .await?;
    Ok(())
}

/// Inserts a draft as version 1 of its code (in `tx`), audited as `actor`.
pub(super) async fn insert_new(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    d: &TemplateDraft,
    now: i64,
) -> AppResult<Full> {
    if repo::code_taken(&mut tx.c(), org, &d.code).await? {
        return Err(AppError::Invalid(FieldErrors::single("code", "taken")));
    }
    let (dims, items) = rows(d);
    let id = repo::insert(
        &mut tx.c(),
        org,
        &NewTemplate {
            code: &d.code,
            version_no: 1,
            name: &d.name,
            intro: d.intro.as_deref(),
            status: TemplateStatus::Active.as_str(),
            previous_id: None,
            created_by: actor.user_id,
        },
        &dims,
        &items,
        now,
    )
    .await?;
    let after = full(tx, org, id).await?;
    record(
        tx,
        actor,
        org,
        now,
        Change {
            action: "create",
            entity: ENTITY,
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Creates a template (version 1 of a new code).
pub async fn create(st: &AppState, ctx: &Ctx, d: TemplateDraft) -> AppResult<Full> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let after = insert_new(&mut tx, &ctx.actor(), org, &d, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// Saves a template read at `version`: in place when nobody answered it, else as a new
/// version (the code cannot change: `d.code` is ignored). A superseded version cannot be
/// edited (edit the newest).
pub async fn save(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: TemplateDraft,
) -> AppResult<Saved> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = full(&mut tx, org, id).await?;
    if before.template.version != version {
        return Err(AppError::Stale);
    }
    if before.template.status == TemplateStatus::Superseded.as_str() {
        return Err(AppError::Transition("survey_superseded"));
    }
    let (dims, items) = rows(&d);
    let answered = repo::has_answers(&mut tx.c(), id).await?;
    let saved = if answered {
        let new_id = repo::new_version(
            &mut tx.c(),
            org,
            &before.template,
            version,
            &d.name,
            d.intro.as_deref(),
            &dims,
            &items,
            Some(ctx.user_id),
            now,
        )
        .await?;
        let old_after = repo::get(&mut tx.c(), org, id).await?;
        audit(
            &mut tx,
            ctx,
            org,
            now,
            Change {
                action: "update",
                entity: ENTITY,
                id,
                before: Some(&before.template),
                after: Some(&old_after),
            },
        )
        .await?;
        let after = full(&mut tx, org, new_id).await?;
        audit(
            &mut tx,
            ctx,
            org,
            now,
            Change {
                action: "create",
                entity: ENTITY,
                id: new_id,
                before: None,
                after: Some(&after),
            },
        )
        .await?;
        Saved {
            id: new_id,
            new_version: true,
            template: after,
        }
    } else {
        repo::replace(
            &mut tx.c(),
            org,
            id,
            version,
            &d.name,
            d.intro.as_deref(),
            &dims,
            &items,
            now,
        )
        .await?;
        let after = full(&mut tx, org, id).await?;
        audit(
            &mut tx,
            ctx,
            org,
            now,
            Change {
                action: "update",
                entity: ENTITY,
                id,
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        Saved {
            id,
            new_version: false,
            template: after,
        }
    };
    tx.commit().await?;
    Ok(saved)
}

/// Retires (no longer offered for new studies) or restores a template read at `version`.
pub async fn set_retired(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    retired: bool,
) -> AppResult<Template> {
    let org = ctx.require(Permission::ManageSurveys)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    if before.status == TemplateStatus::Superseded.as_str() {
        return Err(AppError::Transition("survey_superseded"));
    }
    repo::set_retired(&mut tx.c(), org, id, version, retired, now).await?;
    let after = repo::get(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if retired { "retire" } else { "restore" },
            entity: ENTITY,
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The templates (latest version of each code unless `f.all_versions`).
pub async fn list(st: &AppState, ctx: &Ctx, f: ListFilter) -> AppResult<Vec<TemplateRow>> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list(&mut h.c(), org, f).await?)
}

/// One template with its dimensions and items.
pub async fn get(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Full> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    load(&mut h.c(), org, id).await?.ok_or(AppError::NotFound)
}

/// One template with its versions and whether it has answers.
pub async fn detail(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Detail> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    let full = load(&mut h.c(), org, id).await?.ok_or(AppError::NotFound)?;
    let versions = repo::versions(&mut h.c(), org, &full.template.code).await?;
    let has_answers = repo::has_answers(&mut h.c(), id).await?;
    Ok(Detail {
        full,
        versions,
        has_answers,
    })
}

/// True when the organization has a template with this code.
pub async fn code_exists(st: &AppState, ctx: &Ctx, code: &str) -> AppResult<bool> {
    let org = ctx.require(Permission::ViewSatisfaction)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::code_taken(&mut h.c(), org, code).await?)
}
