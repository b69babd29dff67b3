//! Departments, posts (岗位) and staff of an organization. Every query carries `org_id`;
//! updates carry the version read (optimistic concurrency: a stale version is a `Conflict`).

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

/// A department.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Department {
    pub id: i64,
    pub code: Option<String>,
    pub name: String,
    pub parent_id: Option<i64>,
    pub parent_name: Option<String>,
    pub description: Option<String>,
    pub active: bool,
    pub staff_count: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a department.
#[derive(Debug, Clone)]
pub struct DepartmentValues<'a> {
    pub code: Option<&'a str>,
    pub name: &'a str,
    pub parent_id: Option<i64>,
    pub description: Option<&'a str>,
}

/// List filters shared by departments, posts and staff.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub q: Option<String>,
    pub include_retired: bool,
    pub department_id: Option<i64>,
}

impl ListFilter {
    fn like(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| format!("%{}%", q.replace(['%', '_'], "")))
    }
}

type DeptRow = (
    i64,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    bool,
    i64,
    i64,
    i64,
);

fn dept(r: DeptRow) -> Department {
    Department {
        id: r.0,
        code: r.1,
        name: r.2,
        parent_id: r.3,
        parent_name: r.4,
        description: r.5,
        active: r.6,
        staff_count: r.7,
        updated_at: r.8,
        version: r.9,
    }
}

macro_rules! dept_select {
    () => {
        "SELECT d.id, d.code, d.name, d.parent_id, p.name, d.description, d.active,
            (SELECT COUNT(*) FROM staff s WHERE s.department_id = d.id AND s.active),
            d.updated_at, d.version
         FROM departments d LEFT JOIN departments p ON p.id = d.parent_id "
    };
}

/// Inserts a department; returns its id.
pub async fn insert_department(
    c: &mut Conn<'_>,
    org: i64,
    v: &DepartmentValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO departments (org_id, code, name, parent_id, description, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6, 1) RETURNING id")
        .bind(org).bind(v.code).bind(v.name).bind(v.parent_id).bind(v.description).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

/// Updates a department if `version` is still current.
pub async fn update_department(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &DepartmentValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE departments SET code = $4, name = $5, parent_id = $6, description = $7, updated_at = $8,
            version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.code).bind(v.name).bind(v.parent_id).bind(v.description)
        .bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a department if `version` is still current.
pub async fn set_department_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE departments SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

fn stale_check(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// One department of an organization.
pub async fn get_department(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Department> {
    let r: DeptRow = on!(c, x => sqlx::query_as(concat!(dept_select!(), "WHERE d.org_id = $1 AND d.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(dept(r))
}

/// A page of departments, filtered in SQL.
pub async fn list_departments(
    c: &mut Conn<'_>,
    org: i64,
    f: &ListFilter,
    p: PageReq,
) -> StoreResult<Page<Department>> {
    macro_rules! w {
        () => {
            "WHERE d.org_id = $1 AND ($2 OR d.active)
               AND ($3 IS NULL OR LOWER(d.name) LIKE LOWER($3) OR LOWER(d.code) LIKE LOWER($3)) "
        };
    }
    let like = f.like();
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM departments d ", w!()))
        .bind(org).bind(f.include_retired).bind(&like).fetch_one(x).await)?;
    let rows: Vec<DeptRow> = on!(c, x => sqlx::query_as(concat!(dept_select!(), w!(),
        "ORDER BY d.active DESC, d.code, d.name LIMIT $4 OFFSET $5"))
        .bind(org).bind(f.include_retired).bind(&like).bind(p.per_page).bind(p.offset()).fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(dept).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Active departments as (id, name) for choice lists.
pub async fn department_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows = on!(c, x => sqlx::query_as(
        "SELECT id, name FROM departments WHERE org_id = $1 AND active ORDER BY code, name LIMIT 1000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}

/// True when the id is an active department of the organization.
pub async fn department_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM departments WHERE org_id = $1 AND id = $2 AND active")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.is_some())
}

/// The id of another department of the organization with this name or code, if any.
pub async fn department_clash(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
    code: Option<&str>,
    except: Option<i64>,
) -> StoreResult<(bool, bool)> {
    let (n, k): (i64, i64) = on!(c, x => sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM departments WHERE org_id = $1 AND name = $2 AND ($4 IS NULL OR id <> $4)),
           (SELECT COUNT(*) FROM departments WHERE org_id = $1 AND code = $3 AND ($4 IS NULL OR id <> $4))")
        .bind(org).bind(name).bind(code).bind(except).fetch_one(x).await)?;
    Ok((n > 0, k > 0))
}

/// The chain of parents above a department (to refuse cycles), nearest first.
pub async fn department_ancestors(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "WITH RECURSIVE up(id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM departments WHERE org_id = $1 AND id = $2
            UNION ALL
            SELECT d.id, d.parent_id, up.depth + 1 FROM departments d JOIN up ON d.id = up.parent_id
            WHERE up.depth < 100)
         SELECT id FROM up ORDER BY depth")
        .bind(org).bind(id).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A post with its duties and authority.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Post {
    pub id: i64,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub name: String,
    pub duties: Vec<String>,
    pub authority: Vec<String>,
    pub active: bool,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a post.
#[derive(Debug, Clone)]
pub struct PostValues<'a> {
    pub department_id: Option<i64>,
    pub name: &'a str,
    pub duties: &'a [String],
    pub authority: &'a [String],
}

type PostRow = (
    i64,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    bool,
    i64,
    i64,
);

fn post(r: PostRow) -> Post {
    Post {
        id: r.0,
        department_id: r.1,
        department_name: r.2,
        name: r.3,
        duties: serde_json::from_str(&r.4).unwrap_or_default(),
        authority: serde_json::from_str(&r.5).unwrap_or_default(),
        active: r.6,
        updated_at: r.7,
        version: r.8,
    }
}

macro_rules! post_select {
    () => {
        "SELECT p.id, p.department_id, d.name, p.name, p.duties, p.authority, p.active, p.updated_at, p.version
         FROM posts p LEFT JOIN departments d ON d.id = p.department_id "
    };
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Inserts a post; returns its id.
pub async fn insert_post(
    c: &mut Conn<'_>,
    org: i64,
    v: &PostValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO posts (org_id, department_id, name, duties, authority, active, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6, 1) RETURNING id")
        .bind(org).bind(v.department_id).bind(v.name).bind(json_list(v.duties)).bind(json_list(v.authority))
        .bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a post if `version` is still current.
pub async fn update_post(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &PostValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE posts SET department_id = $4, name = $5, duties = $6, authority = $7, updated_at = $8,
            version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.department_id).bind(v.name).bind(json_list(v.duties))
        .bind(json_list(v.authority)).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a post.
pub async fn set_post_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE posts SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One post of an organization.
pub async fn get_post(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Post> {
    let r: PostRow = on!(c, x => sqlx::query_as(concat!(post_select!(), "WHERE p.org_id = $1 AND p.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(post(r))
}

/// A page of posts.
pub async fn list_posts(
    c: &mut Conn<'_>,
    org: i64,
    f: &ListFilter,
    p: PageReq,
) -> StoreResult<Page<Post>> {
    macro_rules! w {
        () => {
            "WHERE p.org_id = $1 AND ($2 OR p.active) AND ($3 IS NULL OR LOWER(p.name) LIKE LOWER($3))
               AND ($4 IS NULL OR p.department_id = $4) "
        };
    }
    let like = f.like();
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM posts p ", w!()))
        .bind(org).bind(f.include_retired).bind(&like).bind(f.department_id).fetch_one(x).await)?;
    let rows: Vec<PostRow> = on!(c, x => sqlx::query_as(concat!(post_select!(), w!(),
        "ORDER BY p.active DESC, d.name, p.name LIMIT $5 OFFSET $6"))
        .bind(org).bind(f.include_retired).bind(&like).bind(f.department_id).bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(post).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// Active posts as (id, name) for choice lists.
pub async fn post_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows = on!(c, x => sqlx::query_as(
        "SELECT id, name FROM posts WHERE org_id = $1 AND active ORDER BY name LIMIT 1000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}

/// True when a post of this name exists in the organization (other than `except`).
pub async fn post_name_taken(
    c: &mut Conn<'_>,
    org: i64,
    name: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM posts WHERE org_id = $1 AND name = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(name).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// True when the id is an active post of the organization.
pub async fn post_exists(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM posts WHERE org_id = $1 AND id = $2 AND active")
        .bind(org).bind(id).fetch_optional(x).await)?;
    Ok(r.is_some())
}

/// A staff member.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub employee_no: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub post_id: Option<i64>,
    pub post_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub hired_on: Option<String>,
    pub active: bool,
    pub updated_at: i64,
    pub version: i64,
}

/// Values written for a staff member.
#[derive(Debug, Clone)]
pub struct StaffValues<'a> {
    pub name: &'a str,
    pub employee_no: Option<&'a str>,
    pub department_id: i64,
    pub post_id: Option<i64>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub hired_on: Option<&'a str>,
}

type StaffRow = (
    i64,
    String,
    Option<String>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    i64,
    i64,
);

fn staff(r: StaffRow) -> Staff {
    Staff {
        id: r.0,
        name: r.1,
        employee_no: r.2,
        department_id: r.3,
        department_name: r.4,
        post_id: r.5,
        post_name: r.6,
        phone: r.7,
        email: r.8,
        hired_on: r.9,
        active: r.10,
        updated_at: r.11,
        version: r.12,
    }
}

macro_rules! staff_select {
    () => {
        "SELECT s.id, s.name, s.employee_no, s.department_id, d.name, s.post_id, p.name, s.phone, s.email,
            s.hired_on, s.active, s.updated_at, s.version
         FROM staff s JOIN departments d ON d.id = s.department_id LEFT JOIN posts p ON p.id = s.post_id "
    };
}

/// Inserts a staff member; returns the id.
pub async fn insert_staff(
    c: &mut Conn<'_>,
    org: i64,
    v: &StaffValues<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO staff (org_id, department_id, post_id, name, employee_no, phone, email, hired_on, active,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, 1) RETURNING id")
        .bind(org).bind(v.department_id).bind(v.post_id).bind(v.name).bind(v.employee_no).bind(v.phone)
        .bind(v.email).bind(v.hired_on).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// Updates a staff member if `version` is still current.
pub async fn update_staff(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &StaffValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE staff SET department_id = $4, post_id = $5, name = $6, employee_no = $7, phone = $8, email = $9,
            hired_on = $10, updated_at = $11, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.department_id).bind(v.post_id).bind(v.name).bind(v.employee_no)
        .bind(v.phone).bind(v.email).bind(v.hired_on).bind(now).execute(x).await)?;
    stale_check(r)
}

/// Retires or restores a staff member.
pub async fn set_staff_active(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    active: bool,
    now: i64,
) -> StoreResult<()> {
    let r = run!(c, x => sqlx::query(
        "UPDATE staff SET active = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(active).bind(now).execute(x).await)?;
    stale_check(r)
}

/// One staff member of an organization.
pub async fn get_staff(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Staff> {
    let r: StaffRow = on!(c, x => sqlx::query_as(concat!(staff_select!(), "WHERE s.org_id = $1 AND s.id = $2"))
        .bind(org).bind(id).fetch_one(x).await)?;
    Ok(staff(r))
}

/// A page of staff.
pub async fn list_staff(
    c: &mut Conn<'_>,
    org: i64,
    f: &ListFilter,
    p: PageReq,
) -> StoreResult<Page<Staff>> {
    macro_rules! w {
        () => {
            "WHERE s.org_id = $1 AND ($2 OR s.active)
               AND ($3 IS NULL OR LOWER(s.name) LIKE LOWER($3) OR LOWER(s.employee_no) LIKE LOWER($3)
                    OR s.phone LIKE $3)
               AND ($4 IS NULL OR s.department_id = $4) "
        };
    }
    let like = f.like();
    let (total,): (i64,) = on!(c, x => sqlx::query_as(concat!("SELECT COUNT(*) FROM staff s ", w!()))
        .bind(org).bind(f.include_retired).bind(&like).bind(f.department_id).fetch_one(x).await)?;
    let rows: Vec<StaffRow> = on!(c, x => sqlx::query_as(concat!(staff_select!(), w!(),
        "ORDER BY s.active DESC, d.name, s.name LIMIT $5 OFFSET $6"))
        .bind(org).bind(f.include_retired).bind(&like).bind(f.department_id).bind(p.per_page).bind(p.offset())
        .fetch_all(x).await)?;
    Ok(Page {
        items: rows.into_iter().map(staff).collect(),
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// True when the employee number is used by another staff member of the organization.
pub async fn employee_no_taken(
    c: &mut Conn<'_>,
    org: i64,
    no: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT COUNT(*) FROM staff WHERE org_id = $1 AND employee_no = $2 AND ($3 IS NULL OR id <> $3)")
        .bind(org).bind(no).bind(except).fetch_one(x).await)?;
    Ok(n > 0)
}

/// Counts for the dashboard: active departments, posts, staff, members.
pub async fn counts(c: &mut Conn<'_>, org: i64) -> StoreResult<(i64, i64, i64, i64)> {
    let r = on!(c, x => sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM departments WHERE org_id = $1 AND active),
           (SELECT COUNT(*) FROM posts WHERE org_id = $1 AND active),
           (SELECT COUNT(*) FROM staff WHERE org_id = $1 AND active),
           (SELECT COUNT(*) FROM memberships WHERE org_id = $1)")
        .bind(org).fetch_one(x).await)?;
    Ok(r)
}

/// The id of the department with this code, if any.
pub async fn department_id_by_code(
    c: &mut Conn<'_>,
    org: i64,
    code: &str,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM departments WHERE org_id = $1 AND code = $2")
        .bind(org).bind(code).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}
