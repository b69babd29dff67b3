//! Changes to the organization structure: permission check, one transaction with the
//! reference checks, the write and its audit row, then commit.

use domain::auth::Permission;
use domain::org::{DepartmentDraft, PostDraft, StaffDraft};
use domain::{DomainError, FieldErrors};
use serde::Serialize;
use store::audit::NewEntry;
use store::org::{
    self as repo, Department, DepartmentValues, Post, PostValues, Staff, StaffValues,
};
use store::{Page, PageReq, Tx};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};

/// One change to a record, as the audit trail records it.
pub struct Change<'a, T> {
    pub action: &'a str,
    pub entity: &'a str,
    pub id: i64,
    pub before: Option<&'a T>,
    pub after: Option<&'a T>,
}

/// Writes the audit row of a change inside the change's transaction.
pub async fn audit<T: Serialize>(
    tx: &mut Tx,
    ctx: &Ctx,
    org: i64,
    now: i64,
    ch: Change<'_, T>,
) -> AppResult<()> {
    let to = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
    store::audit::record(
        &mut tx.c(),
        NewEntry {
            org_id: Some(org),
            at: now,
            actor: &ctx.actor(),
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

fn invalid(errs: FieldErrors) -> AppResult<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

async fn check_department(
    tx: &mut Tx,
    org: i64,
    d: &DepartmentDraft,
    id: Option<i64>,
) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    let (name_taken, code_taken) =
        repo::department_clash(&mut tx.c(), org, &d.name, d.code.as_deref(), id).await?;
    if name_taken {
        errs.add("name", "taken", None);
    }
    if code_taken {
        errs.add("code", "taken", None);
    }
    if let Some(p) = d.parent_id {
        if !repo::department_exists(&mut tx.c(), org, p).await? {
            errs.add("parent_id", "choice", None);
        } else if let Some(id) = id
            && repo::department_ancestors(&mut tx.c(), org, p)
                .await?
                .contains(&id)
        {
            errs.add("parent_id", "cycle", None);
        }
    }
    invalid(errs)
}

fn dept_values(d: &DepartmentDraft) -> DepartmentValues<'_> {
    DepartmentValues {
        code: d.code.as_deref(),
        name: &d.name,
        parent_id: d.parent_id,
        description: d.description.as_deref(),
    }
}

/// Creates a department.
pub async fn create_department(
    st: &AppState,
    ctx: &Ctx,
    d: DepartmentDraft,
) -> AppResult<Department> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check_department(&mut tx, org, &d, None).await?;
    let id = repo::insert_department(&mut tx.c(), org, &dept_values(&d), now).await?;
    let after = repo::get_department(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "department",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a department read at `version`.
pub async fn update_department(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: DepartmentDraft,
) -> AppResult<Department> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_department(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check_department(&mut tx, org, &d, Some(id)).await?;
    repo::update_department(&mut tx.c(), org, id, version, &dept_values(&d), now).await?;
    let after = repo::get_department(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "department",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires (`active = false`) or restores a department. A department with active staff
/// cannot be retired: move the staff first.
pub async fn set_department_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Department> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_department(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    if !active && before.staff_count > 0 {
        return Err(DomainError::InvalidTransition("department_has_staff").into());
    }
    repo::set_department_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get_department(&mut tx.c(), org, id).await?;
    let action = if active { "restore" } else { "retire" };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: "department",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of departments.
pub async fn list_departments(
    st: &AppState,
    ctx: &Ctx,
    f: &repo::ListFilter,
    p: PageReq,
) -> AppResult<Page<Department>> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list_departments(&mut h.c(), org, f, p).await?)
}

/// One department.
pub async fn get_department(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Department> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_department(&mut h.c(), org, id).await?)
}

async fn check_post(tx: &mut Tx, org: i64, d: &PostDraft, id: Option<i64>) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if repo::post_name_taken(&mut tx.c(), org, &d.name, id).await? {
        errs.add("name", "taken", None);
    }
    if let Some(dep) = d.department_id
        && !repo::department_exists(&mut tx.c(), org, dep).await?
    {
        errs.add("department_id", "choice", None);
    }
    invalid(errs)
}

fn post_values(d: &PostDraft) -> PostValues<'_> {
    PostValues {
        department_id: d.department_id,
        name: &d.name,
        duties: &d.duties,
        authority: &d.authority,
    }
}

/// Creates a post.
pub async fn create_post(st: &AppState, ctx: &Ctx, d: PostDraft) -> AppResult<Post> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check_post(&mut tx, org, &d, None).await?;
    let id = repo::insert_post(&mut tx.c(), org, &post_values(&d), now).await?;
    let after = repo::get_post(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "post",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a post read at `version`.
pub async fn update_post(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: PostDraft,
) -> AppResult<Post> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_post(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check_post(&mut tx, org, &d, Some(id)).await?;
    repo::update_post(&mut tx.c(), org, id, version, &post_values(&d), now).await?;
    let after = repo::get_post(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "post",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires or restores a post.
pub async fn set_post_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Post> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_post(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::set_post_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get_post(&mut tx.c(), org, id).await?;
    let action = if active { "restore" } else { "retire" };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: "post",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of posts.
pub async fn list_posts(
    st: &AppState,
    ctx: &Ctx,
    f: &repo::ListFilter,
    p: PageReq,
) -> AppResult<Page<Post>> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list_posts(&mut h.c(), org, f, p).await?)
}

/// One post.
pub async fn get_post(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Post> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_post(&mut h.c(), org, id).await?)
}

async fn check_staff(tx: &mut Tx, org: i64, d: &StaffDraft, id: Option<i64>) -> AppResult<()> {
    let mut errs = FieldErrors::default();
    if let Some(dep) = d.department_id
        && !repo::department_exists(&mut tx.c(), org, dep).await?
    {
        errs.add("department_id", "choice", None);
    }
    if let Some(p) = d.post_id
        && !repo::post_exists(&mut tx.c(), org, p).await?
    {
        errs.add("post_id", "choice", None);
    }
    if let Some(no) = &d.employee_no
        && repo::employee_no_taken(&mut tx.c(), org, no, id).await?
    {
        errs.add("employee_no", "taken", None);
    }
    invalid(errs)
}

fn staff_values(d: &StaffDraft) -> AppResult<StaffValues<'_>> {
    Ok(StaffValues {
        name: &d.name,
        employee_no: d.employee_no.as_deref(),
        department_id: d
            .department_id
            .ok_or_else(|| AppError::Invalid(FieldErrors::single("department_id", "required")))?,
        post_id: d.post_id,
        phone: d.phone.as_deref(),
        email: d.email.as_deref(),
        hired_on: d.hired_on.as_deref(),
    })
}

/// Creates a staff member.
pub async fn create_staff(st: &AppState, ctx: &Ctx, d: StaffDraft) -> AppResult<Staff> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    check_staff(&mut tx, org, &d, None).await?;
    let id = repo::insert_staff(&mut tx.c(), org, &staff_values(&d)?, now).await?;
    let after = repo::get_staff(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "create",
            entity: "staff",
            id,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates a staff member read at `version`.
pub async fn update_staff(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    d: StaffDraft,
) -> AppResult<Staff> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_staff(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    check_staff(&mut tx, org, &d, Some(id)).await?;
    repo::update_staff(&mut tx.c(), org, id, version, &staff_values(&d)?, now).await?;
    let after = repo::get_staff(&mut tx.c(), org, id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: "update",
            entity: "staff",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Retires or restores a staff member.
pub async fn set_staff_active(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
) -> AppResult<Staff> {
    let org = ctx.require(Permission::ManageOrg)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::get_staff(&mut tx.c(), org, id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    // A retired department keeps no active staff (see set_department_active).
    if active && !repo::department_exists(&mut tx.c(), org, before.department_id).await? {
        return Err(DomainError::InvalidTransition("department_retired").into());
    }
    repo::set_staff_active(&mut tx.c(), org, id, version, active, now).await?;
    let after = repo::get_staff(&mut tx.c(), org, id).await?;
    let action = if active { "restore" } else { "retire" };
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action,
            entity: "staff",
            id,
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A page of staff.
pub async fn list_staff(
    st: &AppState,
    ctx: &Ctx,
    f: &repo::ListFilter,
    p: PageReq,
) -> AppResult<Page<Staff>> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::list_staff(&mut h.c(), org, f, p).await?)
}

/// One staff member.
pub async fn get_staff(st: &AppState, ctx: &Ctx, id: i64) -> AppResult<Staff> {
    let org = ctx.require(Permission::ViewOrg)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::get_staff(&mut h.c(), org, id).await?)
}
