//! Corrective and preventive actions (CAPA / 8D): the record with its 8D sections, its
//! actions, numbering per organization and year, the list with SQL filters, and the two
//! measures of the effectiveness check (recurrences and units shipped since the start).
//! Every query carries `org_id`; every write of the record carries the version read.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{Page, PageReq, on, run};

macro_rules! record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $t:ty = $col:literal),* $(,)? }
        $(extra { $($(#[$xm:meta])* $x:ident : $xt:ty),* $(,)? })?) => {
        $(#[$m])*
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            $($($(#[$xm])* pub $x: $xt,)*)?
        }

        impl $name {
            /// The SELECT list (aliases match the field names; extra columns are added by
            /// the query).
            pub const COLUMNS: &'static str = concat!($($col, " AS ", stringify!($f), ", ",)* "1 AS one_");
        }

        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(r: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name {
                    $($f: r.try_get(stringify!($f))?,)*
                    $($($x: r.try_get(stringify!($x))?,)*)?
                })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(r: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name {
                    $($f: r.try_get(stringify!($f))?,)*
                    $($($x: r.try_get(stringify!($x))?,)*)?
                })
            }
        }
    };
}

record!(
    /// A corrective action with its 8D report.
    Capa {
        id: i64 = "k.id",
        /// CA-2026-0001.
        number: String = "k.number",
        complaint_id: Option<i64> = "k.complaint_id",
        complaint_number: Option<String> = "(SELECT c.number FROM complaints c WHERE c.id = k.complaint_id)",
        title: String = "k.title",
        /// open, verifying, effective or closed.
        status: String = "k.status",
        owner_id: Option<i64> = "k.owner_id",
        owner_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = k.owner_id)",
        /// YYYY-MM-DD.
        due_date: Option<String> = "k.due_date",
        customer_id: Option<i64> = "k.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = k.customer_id)",
        product_id: Option<i64> = "k.product_id",
        product_name: Option<String> = "(SELECT p.name FROM products p WHERE p.id = k.product_id)",
        part_no: Option<String> = "k.part_no",
        fault_category: Option<String> = "k.fault_category",
        /// D1: the team.
        d1_team: Option<String> = "k.d1_team",
        /// D2: the problem described.
        d2_problem: Option<String> = "k.d2_problem",
        /// D3: containment.
        d3_containment: Option<String> = "k.d3_containment",
        /// D4: root cause of occurrence.
        d4_occurrence: Option<String> = "k.d4_occurrence",
        /// D4: root cause of escape (why it was not detected).
        d4_escape: Option<String> = "k.d4_escape",
        /// D5: permanent corrective action.
        d5_action: Option<String> = "k.d5_action",
        /// D6: implementation and validation.
        d6_validation: Option<String> = "k.d6_validation",
        /// D7: prevention of recurrence.
        d7_prevention: Option<String> = "k.d7_prevention",
        /// D8: closure and recognition.
        d8_closure: Option<String> = "k.d8_closure",
        /// Effective after this many days without recurrence (0 = not used).
        effect_days: i64 = "k.effect_days",
        /// … or after this many units shipped without recurrence (0 = not used).
        effect_units: i64 = "k.effect_units",
        /// When the running (or last) effectiveness check started.
        effect_started_at: Option<i64> = "k.effect_started_at",
        effect_checked_at: Option<i64> = "k.effect_checked_at",
        /// passed or failed (the last check's verdict).
        effect_result: Option<String> = "k.effect_result",
        closed_at: Option<i64> = "k.closed_at",
        created_by: Option<i64> = "k.created_by",
        created_by_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = k.created_by)",
        /// Actions not done yet.
        open_actions: i64 = "(SELECT COUNT(*) FROM capa_actions a WHERE a.capa_id = k.id AND a.done_at IS NULL)",
        created_at: i64 = "k.created_at",
        updated_at: i64 = "k.updated_at",
        version: i64 = "k.version",
    }
);

record!(
    /// A corrective action as listed.
    CapaRow {
        id: i64 = "k.id",
        number: String = "k.number",
        complaint_id: Option<i64> = "k.complaint_id",
        complaint_number: Option<String> = "(SELECT c.number FROM complaints c WHERE c.id = k.complaint_id)",
        title: String = "k.title",
        status: String = "k.status",
        owner_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = k.owner_id)",
        due_date: Option<String> = "k.due_date",
        part_no: Option<String> = "k.part_no",
        fault_category: Option<String> = "k.fault_category",
        effect_result: Option<String> = "k.effect_result",
        open_actions: i64 = "(SELECT COUNT(*) FROM capa_actions a WHERE a.capa_id = k.id AND a.done_at IS NULL)",
        created_at: i64 = "k.created_at",
        version: i64 = "k.version",
    }
    extra {
        /// Open actions past their due date on the list's day.
        overdue_actions: i64,
    }
);

/// Prefix of CAPA numbers.
pub const PREFIX: &str = "CA";

/// The next number of `year` (`CA-2026-0001`), to be used in the caller's write
/// transaction: the UNIQUE (org_id, number) constraint refuses a number taken concurrently,
/// and the caller retries.
pub async fn next_number(c: &mut Conn<'_>, org: i64, year: i32) -> StoreResult<String> {
    let prefix = format!("{PREFIX}-{year}-");
    let like = format!("{prefix}%");
    // The longest, then greatest, number is the last one even past 9999.
    let last: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT number FROM capas WHERE org_id = $1 AND number LIKE $2
         ORDER BY LENGTH(number) DESC, number DESC LIMIT 1")
        .bind(org).bind(&like).fetch_optional(x).await)?;
    let seq = last
        .and_then(|(n,)| n.strip_prefix(&prefix).and_then(|s| s.parse::<i64>().ok()))
        .unwrap_or(0)
        + 1;
    Ok(format!("{prefix}{seq:04}"))
}

/// Everything a new CAPA starts with.
#[derive(Debug, Clone)]
pub struct NewCapa<'a> {
    pub number: &'a str,
    pub complaint_id: Option<i64>,
    pub title: &'a str,
    pub owner_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
    pub part_no: Option<&'a str>,
    pub fault_category: Option<&'a str>,
    pub d2_problem: Option<&'a str>,
    pub effect_days: i64,
    pub effect_units: i64,
    pub created_by: Option<i64>,
}

/// Inserts an open CAPA; returns its id.
pub async fn insert(c: &mut Conn<'_>, org: i64, n: &NewCapa<'_>, now: i64) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO capas (org_id, number, complaint_id, title, status, owner_id, customer_id, product_id, part_no,
            fault_category, d2_problem, effect_days, effect_units, created_by, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1) RETURNING id")
        .bind(org).bind(n.number).bind(n.complaint_id).bind(n.title).bind(n.owner_id).bind(n.customer_id)
        .bind(n.product_id).bind(n.part_no).bind(n.fault_category).bind(n.d2_problem).bind(n.effect_days)
        .bind(n.effect_units).bind(n.created_by).bind(now).fetch_one(x).await)?;
    Ok(id)
}

/// One CAPA.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Capa> {
    let r: Option<Capa> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Capa::COLUMNS).push(" FROM capas k WHERE k.org_id = ").push_bind(org)
            .push(" AND k.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.ok_or(StoreError::NotFound)
}

/// The CAPA of a complaint that is not closed yet, if any.
pub async fn open_for_complaint(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM capas WHERE org_id = $1 AND complaint_id = $2 AND status <> 'closed' ORDER BY id LIMIT 1")
        .bind(org).bind(complaint).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// What a CAPA copies from the complaint it is opened from.
#[derive(Debug, Clone)]
pub struct Source {
    pub number: String,
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
    pub part_no: Option<String>,
    pub fault_category: Option<String>,
    pub description: String,
}

type SourceRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
);

/// Locks a complaint for the opening of its CAPA and reads what the CAPA copies. The no-op
/// UPDATE takes the row lock on PostgreSQL, so two requests opening a CAPA for the same
/// complaint run one after the other and the second sees the first's CAPA (SQLite is
/// already serialised by BEGIN IMMEDIATE).
pub async fn lock_source(c: &mut Conn<'_>, org: i64, complaint: i64) -> StoreResult<Source> {
    let n = run!(c, x => sqlx::query("UPDATE complaints SET version = version WHERE org_id = $1 AND id = $2")
        .bind(org).bind(complaint).execute(x).await)?;
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    let r: SourceRow = on!(c, x => sqlx::query_as(
        "SELECT number, customer_id, product_id, part_no, fault_category, description
         FROM complaints WHERE org_id = $1 AND id = $2")
        .bind(org).bind(complaint).fetch_one(x).await)?;
    Ok(Source {
        number: r.0,
        customer_id: r.1,
        product_id: r.2,
        part_no: r.3,
        fault_category: r.4,
        description: r.5,
    })
}

/// The 8D sections and planning fields written by the form.
#[derive(Debug, Clone)]
pub struct EightDValues<'a> {
    pub title: &'a str,
    pub owner_id: Option<i64>,
    pub due_date: Option<&'a str>,
    pub d1_team: Option<&'a str>,
    pub d2_problem: Option<&'a str>,
    pub d3_containment: Option<&'a str>,
    pub d4_occurrence: Option<&'a str>,
    pub d4_escape: Option<&'a str>,
    pub d5_action: Option<&'a str>,
    pub d6_validation: Option<&'a str>,
    pub d7_prevention: Option<&'a str>,
    pub d8_closure: Option<&'a str>,
    pub effect_days: i64,
    pub effect_units: i64,
}

fn stale(n: u64) -> StoreResult<()> {
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Writes the 8D form of a CAPA read at `version`.
pub async fn update_8d(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &EightDValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE capas SET title = $1, owner_id = $2, due_date = $3, d1_team = $4, d2_problem = $5,
            d3_containment = $6, d4_occurrence = $7, d4_escape = $8, d5_action = $9, d6_validation = $10,
            d7_prevention = $11, d8_closure = $12, effect_days = $13, effect_units = $14, updated_at = $15,
            version = version + 1
         WHERE org_id = $16 AND id = $17 AND version = $18")
        .bind(v.title).bind(v.owner_id).bind(v.due_date).bind(v.d1_team).bind(v.d2_problem)
        .bind(v.d3_containment).bind(v.d4_occurrence).bind(v.d4_escape).bind(v.d5_action).bind(v.d6_validation)
        .bind(v.d7_prevention).bind(v.d8_closure).bind(v.effect_days).bind(v.effect_units).bind(now)
        .bind(org).bind(id).bind(version).execute(x).await)?;
    stale(n)
}

/// The status and check columns after a move.
#[derive(Debug, Clone)]
pub struct State<'a> {
    pub status: &'a str,
    pub effect_started_at: Option<i64>,
    pub effect_checked_at: Option<i64>,
    pub effect_result: Option<&'a str>,
    pub closed_at: Option<i64>,
}

/// Moves a CAPA read at `version` (a concurrent move or edit makes it stale).
pub async fn set_state(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    s: &State<'_>,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE capas SET status = $1, effect_started_at = $2, effect_checked_at = $3, effect_result = $4,
            closed_at = $5, updated_at = $6, version = version + 1
         WHERE org_id = $7 AND id = $8 AND version = $9")
        .bind(s.status).bind(s.effect_started_at).bind(s.effect_checked_at).bind(s.effect_result)
        .bind(s.closed_at).bind(now).bind(org).bind(id).bind(version).execute(x).await)?;
    stale(n)
}

/// Records when a still-running check was last evaluated. Not a change of the record, so
/// the version stays (forms open elsewhere remain valid).
pub async fn mark_checked(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE capas SET effect_checked_at = $1 WHERE org_id = $2 AND id = $3 AND status = 'verifying'")
        .bind(now).bind(org).bind(id).execute(x).await)?;
    Ok(())
}

/// Bumps the version of a CAPA that is not closed (an action was added or finished): the
/// row lock orders this against a concurrent start of the check. False when closed or
/// missing.
pub async fn touch(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE capas SET updated_at = $1, version = version + 1 WHERE org_id = $2 AND id = $3 AND status <> 'closed'")
        .bind(now).bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// Sort orders of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Number,
}

impl Sort {
    /// Parses the query-string name.
    pub fn parse(s: &str) -> Sort {
        match s {
            "oldest" => Sort::Oldest,
            "number" => Sort::Number,
            _ => Sort::Newest,
        }
    }
}

/// Filters of the list; each one set narrows it in SQL.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    /// Only CAPAs with an open action past due on `today`.
    pub overdue: bool,
    pub complaint_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// Substring of the number, title, part number, fault category or complaint number.
    pub q: Option<String>,
    /// The organization's local date (YYYY-MM-DD) that decides what is overdue.
    pub today: String,
    pub sort: Sort,
}

const OVERDUE: &str =
    "SELECT 1 FROM capa_actions a WHERE a.capa_id = k.id AND a.done_at IS NULL AND a.due_date < ";

fn push_filter<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, org: i64, f: &Filter)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE k.org_id = ").push_bind(org);
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND k.status = ").push_bind(s.to_string());
    }
    if f.overdue {
        q.push(" AND EXISTS (")
            .push(OVERDUE)
            .push_bind(f.today.clone())
            .push(")");
    }
    if let Some(v) = f.complaint_id {
        q.push(" AND k.complaint_id = ").push_bind(v);
    }
    if let Some(v) = f.owner_id {
        q.push(" AND k.owner_id = ").push_bind(v);
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // LIKE wildcards typed by the user are dropped rather than escaped: one SQL text
        // for both backends, and nobody searches for a literal % in a CAPA.
        let like = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        q.push(" AND (LOWER(k.number) LIKE ")
            .push_bind(like.clone());
        q.push(" OR LOWER(k.title) LIKE ").push_bind(like.clone());
        q.push(" OR LOWER(k.part_no) LIKE ").push_bind(like.clone());
        q.push(" OR LOWER(k.fault_category) LIKE ")
            .push_bind(like.clone());
        q.push(" OR EXISTS (SELECT 1 FROM complaints c WHERE c.id = k.complaint_id AND LOWER(c.number) LIKE ")
            .push_bind(like);
        q.push("))");
    }
}

/// A page of CAPAs matching `f`.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &Filter,
    p: PageReq,
) -> StoreResult<Page<CapaRow>> {
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM capas k");
        push_filter(&mut q, org, f);
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<CapaRow> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(CapaRow::COLUMNS)
            .push(", (SELECT COUNT(*) FROM capa_actions a WHERE a.capa_id = k.id AND a.done_at IS NULL AND a.due_date < ")
            .push_bind(f.today.clone())
            .push(") AS overdue_actions FROM capas k");
        push_filter(&mut q, org, f);
        q.push(match f.sort {
            Sort::Newest => " ORDER BY k.created_at DESC, k.id DESC",
            Sort::Oldest => " ORDER BY k.created_at, k.id",
            Sort::Number => " ORDER BY k.number",
        });
        q.push(" LIMIT ").push_bind(p.per_page).push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// One action of a CAPA.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Action {
    pub id: i64,
    pub capa_id: i64,
    /// d3, d5 or d7.
    pub discipline: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    /// YYYY-MM-DD.
    pub due_date: String,
    pub done_at: Option<i64>,
    pub result: Option<String>,
    /// When the overdue escalation was sent (once).
    pub escalated_at: Option<i64>,
    pub created_at: i64,
}

type ActionRow = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
);

const ACTION_SELECT: &str =
    "SELECT a.id, a.capa_id, a.discipline, a.description, a.owner_id, u.display_name,
        a.due_date, a.done_at, a.result, a.escalated_at, a.created_at
     FROM capa_actions a LEFT JOIN users u ON u.id = a.owner_id";

fn action(r: ActionRow) -> Action {
    Action {
        id: r.0,
        capa_id: r.1,
        discipline: r.2,
        description: r.3,
        owner_id: r.4,
        owner_name: r.5,
        due_date: r.6,
        done_at: r.7,
        result: r.8,
        escalated_at: r.9,
        created_at: r.10,
    }
}

/// The actions of a CAPA, by discipline then due date.
pub async fn actions(c: &mut Conn<'_>, org: i64, capa: i64) -> StoreResult<Vec<Action>> {
    let rows: Vec<ActionRow> = on!(c, x => {
        let mut q = QueryBuilder::new(ACTION_SELECT);
        q.push(" WHERE a.org_id = ").push_bind(org).push(" AND a.capa_id = ").push_bind(capa)
            .push(" ORDER BY a.discipline, a.due_date, a.id");
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(action).collect())
}

/// One action of a CAPA.
pub async fn get_action(c: &mut Conn<'_>, org: i64, capa: i64, id: i64) -> StoreResult<Action> {
    let r: Option<ActionRow> = on!(c, x => {
        let mut q = QueryBuilder::new(ACTION_SELECT);
        q.push(" WHERE a.org_id = ").push_bind(org).push(" AND a.capa_id = ").push_bind(capa)
            .push(" AND a.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.map(action).ok_or(StoreError::NotFound)
}

/// An action to add.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub discipline: &'a str,
    pub description: &'a str,
    pub owner_id: i64,
    pub due_date: &'a str,
}

/// Adds an action; returns its id.
pub async fn add_action(
    c: &mut Conn<'_>,
    org: i64,
    capa: i64,
    a: &NewAction<'_>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO capa_actions (org_id, capa_id, discipline, description, owner_id, due_date, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(org).bind(capa).bind(a.discipline).bind(a.description).bind(a.owner_id).bind(a.due_date).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

/// Marks an open action done; false when it was done already.
pub async fn finish_action(
    c: &mut Conn<'_>,
    org: i64,
    capa: i64,
    id: i64,
    result: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE capa_actions SET done_at = $1, result = $2 WHERE org_id = $3 AND capa_id = $4 AND id = $5
            AND done_at IS NULL")
        .bind(now).bind(result).bind(org).bind(capa).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// An overdue action not escalated yet.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub id: i64,
    pub capa_id: i64,
    pub capa_number: String,
    pub owner_id: Option<i64>,
    pub description: String,
    pub due_date: String,
}

/// Organizations with open actions not escalated yet (candidates of the overdue job; each
/// decides "overdue" on its own calendar's date).
pub async fn orgs_with_open_actions(c: &mut Conn<'_>) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT org_id FROM capa_actions WHERE done_at IS NULL AND escalated_at IS NULL ORDER BY org_id")
        .fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Up to `limit` open actions of an organization due before `today` and not escalated yet.
pub async fn overdue_unescalated(
    c: &mut Conn<'_>,
    org: i64,
    today: &str,
    limit: i64,
) -> StoreResult<Vec<Overdue>> {
    let rows: Vec<(i64, i64, String, Option<i64>, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT a.id, a.capa_id, k.number, a.owner_id, a.description, a.due_date
         FROM capa_actions a JOIN capas k ON k.id = a.capa_id
         WHERE a.org_id = $1 AND a.done_at IS NULL AND a.escalated_at IS NULL AND a.due_date < $2
         ORDER BY a.due_date, a.id LIMIT $3")
        .bind(org).bind(today).bind(limit).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Overdue {
            id: r.0,
            capa_id: r.1,
            capa_number: r.2,
            owner_id: r.3,
            description: r.4,
            due_date: r.5,
        })
        .collect())
}

/// Marks an action escalated, once: true only for the caller whose UPDATE changed the row
/// (a second worker finds `escalated_at` set, or waits on the row lock and then does).
pub async fn mark_escalated(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE capa_actions SET escalated_at = $1 WHERE org_id = $2 AND id = $3 AND escalated_at IS NULL
            AND done_at IS NULL")
        .bind(now).bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// CAPAs waiting for their effectiveness check, across organizations: (org, id), after
/// `after_id`, at most `limit` (the job pages through them).
pub async fn verifying(
    c: &mut Conn<'_>,
    after_id: i64,
    limit: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = on!(c, x => sqlx::query_as(
        "SELECT org_id, id FROM capas WHERE status = 'verifying' AND id > $1 ORDER BY id LIMIT $2")
        .bind(after_id).bind(limit).fetch_all(x).await)?;
    Ok(rows)
}

/// A complaint that repeats the CAPA's problem.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Recurrence {
    pub id: i64,
    pub number: String,
    pub received_at: i64,
}

/// Pushes the recurrence condition: received after `since`, same part number or product,
/// same fault category (any category when the CAPA has none), not the CAPA's own complaint,
/// not withdrawn. False when the CAPA names neither part nor product (nothing can match).
fn push_recurrence<DB: sqlx::Database>(
    q: &mut QueryBuilder<DB>,
    org: i64,
    capa: &Capa,
    since: i64,
) -> bool
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if capa.part_no.is_none() && capa.product_id.is_none() {
        return false;
    }
    q.push(" WHERE c.org_id = ").push_bind(org);
    q.push(" AND c.received_at > ").push_bind(since);
    q.push(" AND c.status <> 'withdrawn'");
    if let Some(own) = capa.complaint_id {
        q.push(" AND c.id <> ").push_bind(own);
    }
    q.push(" AND (");
    let mut or = "";
    if let Some(p) = &capa.part_no {
        q.push("c.part_no = ").push_bind(p.clone());
        or = " OR ";
    }
    if let Some(p) = capa.product_id {
        q.push(or).push("c.product_id = ").push_bind(p);
    }
    q.push(")");
    if let Some(f) = &capa.fault_category {
        q.push(" AND c.fault_category = ").push_bind(f.clone());
    }
    true
}

/// How many complaints repeat the CAPA's problem since `since`.
pub async fn recurrences_since(
    c: &mut Conn<'_>,
    org: i64,
    capa: &Capa,
    since: i64,
) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM complaints c");
        if !push_recurrence(&mut q, org, capa, since) {
            return Ok(0);
        }
        q.build_query_as().fetch_one(x).await
    })?;
    Ok(n)
}

/// The first `limit` complaints that repeat the CAPA's problem since `since`.
pub async fn recurrences(
    c: &mut Conn<'_>,
    org: i64,
    capa: &Capa,
    since: i64,
    limit: i64,
) -> StoreResult<Vec<Recurrence>> {
    let rows: Vec<(i64, String, i64)> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT c.id, c.number, c.received_at FROM complaints c");
        if !push_recurrence(&mut q, org, capa, since) {
            return Ok(vec![]);
        }
        q.push(" ORDER BY c.received_at, c.id LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Recurrence {
            id: r.0,
            number: r.1,
            received_at: r.2,
        })
        .collect())
}

/// Units of a product shipped on or after `since_date` (YYYY-MM-DD), from order lines of
/// orders with a ship date.
pub async fn units_shipped_since(
    c: &mut Conn<'_>,
    org: i64,
    product_id: i64,
    since_date: &str,
) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.org_id = $1 AND l.product_id = $2 AND o.ship_date >= $3")
        .bind(org).bind(product_id).bind(since_date).fetch_one(x).await)?;
    Ok(n)
}

/// Whether a user is a member of the organization (owners must be).
pub async fn is_member(c: &mut Conn<'_>, org: i64, user: i64) -> StoreResult<bool> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.user_id = $2 AND u.active")
        .bind(org).bind(user).fetch_optional(x).await)?;
    Ok(r.is_some())
}

/// Active members who can own an action: (user id, display name), by name.
pub async fn owners(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String)> = on!(c, x => sqlx::query_as(
        "SELECT u.id, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND u.active AND m.role <> 'auditor' ORDER BY u.display_name, u.id LIMIT 1000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows)
}
