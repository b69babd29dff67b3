//! What happens around a complaint's moves: the event history, department tasks, remedy
//! approvals, pauses of the SLA clock, the complaints it repeats, and SLA alerts.

use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::{on, run};

/// One move in the history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    /// JSON with the step's data.
    pub data: Option<String>,
}

/// A move to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub complaint_id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub note: Option<&'a str>,
    pub data: Option<String>,
}

/// Records a move.
pub async fn add_event(c: &mut Conn<'_>, org: i64, e: &NewEvent<'_>) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO complaint_events (org_id, complaint_id, at, user_id, action, from_status, to_status, note, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(org).bind(e.complaint_id).bind(e.at).bind(e.user_id).bind(e.action).bind(e.from_status)
        .bind(e.to_status).bind(e.note).bind(&e.data).execute(x).await)?;
    Ok(())
}

/// Records many moves in one statement.
pub async fn add_events(c: &mut Conn<'_>, org: i64, events: &[NewEvent<'_>]) -> StoreResult<()> {
    for chunk in events.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO complaint_events (org_id, complaint_id, at, user_id, action, from_status, to_status, note, data) ");
            q.push_values(chunk, |mut b, e| {
                b.push_bind(org).push_bind(e.complaint_id).push_bind(e.at).push_bind(e.user_id)
                    .push_bind(e.action.to_string()).push_bind(e.from_status.map(str::to_string))
                    .push_bind(e.to_status.map(str::to_string)).push_bind(e.note.map(str::to_string))
                    .push_bind(e.data.clone());
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

type EventRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The history of a complaint, oldest first.
pub async fn events(c: &mut Conn<'_>, org: i64, complaint: i64) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = on!(c, x => sqlx::query_as(
        "SELECT e.id, e.at, e.user_id, u.display_name, e.action, e.from_status, e.to_status, e.note, e.data
         FROM complaint_events e LEFT JOIN users u ON u.id = e.user_id
         WHERE e.org_id = $1 AND e.complaint_id = $2 ORDER BY e.at, e.id")
        .bind(org).bind(complaint).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            id: r.0,
            at: r.1,
            user_id: r.2,
            user_name: r.3,
            action: r.4,
            from_status: r.5,
            to_status: r.6,
            note: r.7,
            data: r.8,
        })
        .collect())
}

/// Who changed the complaint last, and when (for "changed by X at T").
pub async fn last_change(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
) -> StoreResult<Option<(String, i64)>> {
    let r: Option<(Option<String>, i64)> = on!(c, x => sqlx::query_as(
        "SELECT u.display_name, e.at FROM complaint_events e LEFT JOIN users u ON u.id = e.user_id
         WHERE e.org_id = $1 AND e.complaint_id = $2 ORDER BY e.at DESC, e.id DESC LIMIT 1")
        .bind(org).bind(complaint).fetch_optional(x).await)?;
    Ok(r.map(|(n, at)| (n.unwrap_or_default(), at)))
}

/// A department's task on a complaint.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub complaint_id: i64,
    pub complaint_number: String,
    pub step: String,
    pub department_id: i64,
    pub department: String,
    pub duty: String,
    /// open or done.
    pub status: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub done_by_name: Option<String>,
    pub note: Option<String>,
}

type TaskRow = (
    i64,
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const TASK_SELECT: &str = "SELECT t.id, t.complaint_id, c.number, t.step, t.department_id, d.name, t.duty, t.status, t.created_at,
        t.done_at, u.display_name, t.note
     FROM complaint_tasks t JOIN complaints c ON c.id = t.complaint_id JOIN departments d ON d.id = t.department_id
     LEFT JOIN users u ON u.id = t.done_by";

fn task(r: TaskRow) -> Task {
    Task {
        id: r.0,
        complaint_id: r.1,
        complaint_number: r.2,
        step: r.3,
        department_id: r.4,
        department: r.5,
        duty: r.6,
        status: r.7,
        created_at: r.8,
        done_at: r.9,
        done_by_name: r.10,
        note: r.11,
    }
}

/// Creates the tasks the responsibility matrix assigns to `step` (one statement); returns
/// how many.
pub async fn create_tasks(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    step: &str,
    now: i64,
) -> StoreResult<u64> {
    Ok(run!(c, x => sqlx::query(
        "INSERT INTO complaint_tasks (org_id, complaint_id, step, department_id, duty, status, created_at)
         SELECT $1, $2, m.step, m.department_id, m.duty, 'open', $3 FROM responsibility_matrix m
         WHERE m.org_id = $1 AND m.step = $4 ORDER BY m.sort, m.id")
        .bind(org).bind(complaint).bind(now).bind(step).execute(x).await)?)
}

/// [`create_tasks`] for many complaints of `org` in one statement (each complaint's tasks in
/// the matrix order, complaints in id order).
pub async fn create_tasks_for(
    c: &mut Conn<'_>,
    org: i64,
    complaints: &[i64],
    step: &str,
    now: i64,
) -> StoreResult<u64> {
    if complaints.is_empty() {
        return Ok(0);
    }
    Ok(run!(c, x => {
        let mut q = QueryBuilder::new(
            "INSERT INTO complaint_tasks (org_id, complaint_id, step, department_id, duty, status, created_at)
             SELECT c.org_id, c.id, m.step, m.department_id, m.duty, 'open', ");
        q.push_bind(now)
            .push(" FROM complaints c JOIN responsibility_matrix m ON m.org_id = c.org_id AND m.step = ")
            .push_bind(step.to_string())
            .push(" WHERE c.org_id = ")
            .push_bind(org)
            .push(" AND c.id IN (");
        let mut sep = q.separated(", ");
        for id in complaints {
            sep.push_bind(*id);
        }
        q.push(") ORDER BY c.id, m.sort, m.id");
        q.build().execute(x).await
    })?)
}

/// The tasks of a complaint.
pub async fn tasks(c: &mut Conn<'_>, org: i64, complaint: i64) -> StoreResult<Vec<Task>> {
    let rows: Vec<TaskRow> = on!(c, x => {
        let mut q = QueryBuilder::new(TASK_SELECT);
        q.push(" WHERE t.org_id = ").push_bind(org).push(" AND t.complaint_id = ").push_bind(complaint)
            .push(" ORDER BY t.created_at, t.id");
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(task).collect())
}

/// Open tasks of some departments, oldest first ("my department's tasks").
pub async fn open_tasks_of(
    c: &mut Conn<'_>,
    org: i64,
    departments: &[i64],
    limit: i64,
) -> StoreResult<Vec<Task>> {
    if departments.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<TaskRow> = on!(c, x => {
        let mut q = QueryBuilder::new(TASK_SELECT);
        q.push(" WHERE t.org_id = ").push_bind(org).push(" AND t.status = 'open' AND t.department_id IN (");
        let mut s = q.separated(", ");
        for d in departments {
            s.push_bind(*d);
        }
        q.push(") ORDER BY t.created_at, t.id LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(task).collect())
}

/// One task.
pub async fn get_task(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Task> {
    let r: Option<TaskRow> = on!(c, x => {
        let mut q = QueryBuilder::new(TASK_SELECT);
        q.push(" WHERE t.org_id = ").push_bind(org).push(" AND t.id = ").push_bind(id);
        q.build_query_as().fetch_optional(x).await
    })?;
    r.map(task).ok_or(StoreError::NotFound)
}

/// Marks an open task done; false when it was already done.
pub async fn finish_task(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    user: i64,
    note: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE complaint_tasks SET status = 'done', done_at = $1, done_by = $2, note = $3
         WHERE org_id = $4 AND id = $5 AND status = 'open'")
        .bind(now).bind(user).bind(note).bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// A remedy approval.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub id: i64,
    pub round: i64,
    pub rule_id: Option<i64>,
    pub approver_role: Option<String>,
    pub approver_department_id: Option<i64>,
    pub approver_department: Option<String>,
    /// approved, rejected, or null while waiting.
    pub decision: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
}

type ApprovalRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Adds a required approval to a round.
#[allow(clippy::too_many_arguments)]
pub async fn add_approval(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    round: i64,
    rule_id: Option<i64>,
    role: Option<&str>,
    department: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO complaint_approvals (org_id, complaint_id, round, rule_id, approver_role, approver_department_id,
            created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(org).bind(complaint).bind(round).bind(rule_id).bind(role).bind(department).bind(now)
        .execute(x).await)?;
    Ok(())
}

/// Every approval of a complaint, by round.
pub async fn approvals(c: &mut Conn<'_>, org: i64, complaint: i64) -> StoreResult<Vec<Approval>> {
    let rows: Vec<ApprovalRow> = on!(c, x => sqlx::query_as(
        "SELECT a.id, a.round, a.rule_id, a.approver_role, a.approver_department_id, d.name, a.decision, u.display_name,
            a.decided_at, a.comment
         FROM complaint_approvals a LEFT JOIN departments d ON d.id = a.approver_department_id
         LEFT JOIN users u ON u.id = a.decided_by
         WHERE a.org_id = $1 AND a.complaint_id = $2 ORDER BY a.round, a.id")
        .bind(org).bind(complaint).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|r| Approval {
            id: r.0,
            round: r.1,
            rule_id: r.2,
            approver_role: r.3,
            approver_department_id: r.4,
            approver_department: r.5,
            decision: r.6,
            decided_by_name: r.7,
            decided_at: r.8,
            comment: r.9,
        })
        .collect())
}

/// Records a decision on a waiting approval; false when it was decided already.
pub async fn decide(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    approved: bool,
    user: i64,
    comment: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    let decision = if approved { "approved" } else { "rejected" };
    let n = run!(c, x => sqlx::query(
        "UPDATE complaint_approvals SET decision = $1, decided_by = $2, decided_at = $3, comment = $4
         WHERE org_id = $5 AND id = $6 AND decision IS NULL")
        .bind(decision).bind(user).bind(now).bind(comment).bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// Opens a pause of the SLA clock.
pub async fn pause(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    at: i64,
    reason: Option<&str>,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "INSERT INTO complaint_pauses (org_id, complaint_id, started_at, reason) VALUES ($1, $2, $3, $4)")
        .bind(org).bind(complaint).bind(at).bind(reason).execute(x).await)?;
    Ok(())
}

/// Ends the open pause.
pub async fn resume(c: &mut Conn<'_>, org: i64, complaint: i64, at: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE complaint_pauses SET ended_at = $1 WHERE org_id = $2 AND complaint_id = $3 AND ended_at IS NULL")
        .bind(at).bind(org).bind(complaint).execute(x).await)?;
    Ok(())
}

/// The pauses of a complaint as (start, end) pairs.
pub async fn pauses(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
) -> StoreResult<Vec<(i64, Option<i64>)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT started_at, ended_at FROM complaint_pauses WHERE org_id = $1 AND complaint_id = $2 ORDER BY started_at")
        .bind(org).bind(complaint).fetch_all(x).await)?)
}

/// Matches shown (and counted) per direction at most: the newest earlier ones, the first
/// later ones.
pub const MAX_REPEAT_LINKS: i64 = 50;

/// What a recurrence check compares: a complaint's customer (its archive id, else its name),
/// fault category and keys (part number, serial, batch).
#[derive(Debug, Clone, Copy)]
pub struct RepeatKeys<'a> {
    pub customer_id: Option<i64>,
    pub customer_name: &'a str,
    pub fault_category: &'a str,
    pub part_no: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub batch_no: Option<&'a str>,
}

impl RepeatKeys<'_> {
    fn any_key(&self) -> bool {
        self.part_no.is_some() || self.serial.is_some() || self.batch_no.is_some()
    }
}

/// Which side of a complaint a match is on: received before it (then by id), or after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Earlier,
    Later,
}

/// How a match is tied to the complaint's customer.
#[derive(Clone, Copy)]
enum Same<'a> {
    /// The same archive customer.
    Id(i64),
    /// The same name, whatever the match's customer id.
    Name(&'a str),
    /// The same name, on matches without a customer id (the partial index).
    NameOnly(&'a str),
}

/// One recurrence read: matches on `side` of complaint `id` (`i64::MAX` before it is
/// inserted) within `window`, tied to the customer as `same`, through the index `hint` names.
#[derive(Clone, Copy)]
struct Match<'a> {
    org: i64,
    id: i64,
    keys: &'a RepeatKeys<'a>,
    window: (i64, i64),
    side: Side,
    same: Same<'a>,
    hint: &'static str,
}

/// Pushes the table hint and the conditions of a match.
fn push_matches<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, m: &Match<'_>)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let Match {
        org,
        id,
        keys,
        window,
        side,
        same,
        hint,
    } = *m;
    let (since, until) = window;
    // The complaint's own receipt time is the window's edge on its side; a match received
    // in the same second is ordered by id.
    let (edge, cmp) = match side {
        Side::Earlier => (until, " < "),
        Side::Later => (since, " > "),
    };
    q.push(hint).push(" WHERE c.org_id = ");
    q.push_bind(org)
        .push(" AND c.received_at >= ")
        .push_bind(since)
        .push(" AND c.received_at <= ")
        .push_bind(until)
        .push(" AND (c.received_at")
        .push(cmp)
        .push_bind(edge)
        .push(" OR c.id")
        .push(cmp)
        .push_bind(id)
        .push(")")
        .push(" AND c.status <> 'withdrawn' AND c.fault_category = ")
        .push_bind(keys.fault_category.to_string());
    match same {
        Same::Id(customer) => q.push(" AND c.customer_id = ").push_bind(customer),
        Same::Name(n) => q.push(" AND c.customer_name = ").push_bind(n.to_string()),
        Same::NameOnly(n) => q
            .push(" AND c.customer_id IS NULL AND c.customer_name = ")
            .push_bind(n.to_string()),
    };
    q.push(" AND (1 = 0");
    if let Some(p) = keys.part_no {
        q.push(" OR c.part_no = ").push_bind(p.to_string());
    }
    if let Some(s) = keys.serial {
        q.push(" OR c.serial = ").push_bind(s.to_string());
    }
    if let Some(b) = keys.batch_no {
        q.push(" OR c.batch_no = ").push_bind(b.to_string());
    }
    q.push(")");
}

/// One read of matching complaints on `side` of complaint `id` within `window`: same
/// organization, fault category and customer, any key in common, not withdrawn; at most
/// [`MAX_REPEAT_LINKS`], the nearest first on the earlier side, the oldest first on the later.
async fn read_matches(c: &mut Conn<'_>, m: &Match<'_>) -> StoreResult<Vec<Linked>> {
    let rows: Vec<(i64, String, i64, String)> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT c.id, c.number, c.received_at, c.status FROM complaints c");
        push_matches(&mut q, m);
        // Earlier: the newest matches, as the occurrence just before this one is the one a
        // handler needs. Later: the next occurrences.
        q.push(match m.side {
            Side::Earlier => " ORDER BY c.received_at DESC, c.id DESC LIMIT ",
            Side::Later => " ORDER BY c.received_at, c.id LIMIT ",
        })
        .push(MAX_REPEAT_LINKS);
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(linked).collect())
}

/// Earlier complaints a complaint with `keys` repeats: same customer (by id, else by name)
/// and fault category, and the same part number, serial or batch, received within the window
/// and not withdrawn; the newest [`MAX_REPEAT_LINKS`] of them, newest first. "Earlier" is by
/// receipt time, then by id: `id` is the complaint's own (`i64::MAX` before it is inserted),
/// so of two received in the same second only the later registered repeats the other.
pub async fn find_repeats(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    keys: &RepeatKeys<'_>,
    window: (i64, i64),
) -> StoreResult<Vec<Linked>> {
    if !keys.any_key() {
        return Ok(Vec::new());
    }
    let m = earlier(c, org, id, keys, window);
    read_matches(c, &m).await
}

/// The read of the complaints a complaint repeats: earlier ones of the same archive customer,
/// else of the same name, through the index that serves it.
fn earlier<'a>(
    c: &Conn<'_>,
    org: i64,
    id: i64,
    keys: &'a RepeatKeys<'a>,
    window: (i64, i64),
) -> Match<'a> {
    // With a customer, its covering index (org_id, customer_id, received_at, fault, status,
    // keys, number) answers the check alone. SQLite's planner, from statistics taken before a
    // part number had thousands of complaints, preferred the part and serial indexes for the
    // OR and looked up every complaint of the part in the window (110 ms, cold, per group
    // commit).
    let (same, hint) = match (keys.customer_id, c.backend()) {
        (Some(customer), crate::Backend::Sqlite) => {
            (Same::Id(customer), " INDEXED BY complaints_org_customer")
        }
        (Some(customer), _) => (Same::Id(customer), ""),
        (None, _) => (Same::Name(keys.customer_name), ""),
    };
    Match {
        org,
        id,
        keys,
        window,
        side: Side::Earlier,
        same,
        hint,
    }
}

/// How many earlier complaints a complaint with `keys` repeats, up to [`MAX_REPEAT_LINKS`]:
/// the length of [`find_repeats`], counted in the database. Registration writes only the
/// count, and inside the single writer's turn: fetching the matches copied up to 50 rows of
/// four columns each through the driver, a quarter of the writer's time under the create load.
pub async fn count_repeats(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    keys: &RepeatKeys<'_>,
    window: (i64, i64),
) -> StoreResult<i64> {
    if !keys.any_key() {
        return Ok(0);
    }
    let m = earlier(c, org, id, keys, window);
    let (n,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM complaints c");
        push_matches(&mut q, &m);
        q.push(" LIMIT ").push(MAX_REPEAT_LINKS).push(") m");
        q.build_query_as().fetch_one(x).await
    })?;
    Ok(n)
}

/// Later complaints that repeat a complaint with `keys`: exactly those whose own check
/// ([`find_repeats`]) finds it, i.e. a later complaint with a customer id matches on the id,
/// one without on the name; received within the window after it and not withdrawn; the first
/// [`MAX_REPEAT_LINKS`] of them, oldest first (later by receipt time, then by id).
pub async fn find_repeated_by(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    keys: &RepeatKeys<'_>,
    window: (i64, i64),
) -> StoreResult<Vec<Linked>> {
    if !keys.any_key() {
        return Ok(Vec::new());
    }
    let sqlite = c.backend() == crate::Backend::Sqlite;
    let later = |same, index: &'static str| Match {
        org,
        id,
        keys,
        window,
        side: Side::Later,
        same,
        hint: if sqlite { index } else { "" },
    };
    // Two reads, each on its own index: later complaints of the same archive customer, and
    // later complaints without one under the same name (partial index).
    let mut out = Vec::new();
    if let Some(customer) = keys.customer_id {
        let m = later(Same::Id(customer), " INDEXED BY complaints_org_customer");
        out = read_matches(c, &m).await?;
    }
    let m = later(
        Same::NameOnly(keys.customer_name),
        " INDEXED BY complaints_org_name",
    );
    out.extend(read_matches(c, &m).await?);
    out.sort_by_key(|l| (l.received_at, l.id));
    out.truncate(MAX_REPEAT_LINKS as usize);
    Ok(out)
}

/// A linked complaint.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Linked {
    pub id: i64,
    pub number: String,
    pub received_at: i64,
    pub status: String,
}

fn linked(r: (i64, String, i64, String)) -> Linked {
    Linked {
        id: r.0,
        number: r.1,
        received_at: r.2,
        status: r.3,
    }
}

/// The complaints one repeats (oldest first) and those that repeat it, under the current
/// recurrence window of `window_secs`: found when asked, from the same indexes the
/// registration's check reads, so they always follow the records as they are now (a link
/// table once cost each registration about 50 scattered index entries, 70 % of the pages a
/// group of registrations wrote).
pub async fn related(
    c: &mut Conn<'_>,
    org: i64,
    complaint: &super::Complaint,
    window_secs: i64,
) -> StoreResult<(Vec<Linked>, Vec<Linked>)> {
    let Some(fault) = complaint.fault_category.as_deref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let keys = RepeatKeys {
        customer_id: complaint.customer_id,
        customer_name: &complaint.customer_name,
        fault_category: fault,
        part_no: complaint.part_no.as_deref(),
        serial: complaint.serial.as_deref(),
        batch_no: complaint.batch_no.as_deref(),
    };
    let at = complaint.received_at;
    let mut earlier = find_repeats(c, org, complaint.id, &keys, (at - window_secs, at)).await?;
    earlier.reverse();
    let later = find_repeated_by(c, org, complaint.id, &keys, (at, at + window_secs)).await?;
    Ok((earlier, later))
}

/// Records an SLA alert; true only for the first caller (several workers: one alert).
pub async fn claim_alert(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    target: &str,
    level: &str,
    round: i64,
    now: i64,
) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "INSERT INTO complaint_alerts (complaint_id, target, level, round, org_id, at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING")
        .bind(complaint).bind(target).bind(level).bind(round).bind(org).bind(now).execute(x).await)?;
    Ok(n == 1)
}

/// Open complaints whose warning or due time has come, oldest first: (org, id).
pub async fn due_for_alert(c: &mut Conn<'_>, now: i64, limit: i64) -> StoreResult<Vec<(i64, i64)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT org_id, id FROM complaints WHERE warn_at <= $1 AND paused_at IS NULL ORDER BY warn_at LIMIT $2")
        .bind(now).bind(limit).fetch_all(x).await)?)
}

/// Alerts already sent for a complaint in a round: (target, level).
pub async fn alerts(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    round: i64,
) -> StoreResult<Vec<(String, String)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT target, level FROM complaint_alerts WHERE org_id = $1 AND complaint_id = $2 AND round = $3")
        .bind(org).bind(complaint).bind(round).fetch_all(x).await)?)
}

/// Writes the SLA clock columns without touching the version: the clock is derived data,
/// and a background refresh must not make a user's open form stale.
pub async fn set_clock(
    c: &mut Conn<'_>,
    org: i64,
    complaint: i64,
    fields: &[(&'static str, super::Val)],
) -> StoreResult<()> {
    const CLOCK: &[&str] = &[
        "ack_due",
        "response_due",
        "remedy_due",
        "close_due",
        "ack_met",
        "response_met",
        "remedy_met",
        "close_met",
        "next_due",
        "warn_at",
    ];
    if let Some((col, _)) = fields.iter().find(|(c, _)| !CLOCK.contains(c)) {
        return Err(StoreError::Config(format!("{col} is not a clock column")));
    }
    if fields.is_empty() {
        return Ok(());
    }
    // Only clock columns in the SET list: naming a key column (`org_id = org_id` was once the
    // list's head) makes PostgreSQL lock the row against the foreign-key checks of repeat
    // links to it, and two confirmations linking each other's complaints deadlocked.
    run!(c, x => {
        let mut q = QueryBuilder::new("UPDATE complaints SET ");
        for (i, (col, v)) in fields.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(*col).push(" = ");
            match v {
                super::Val::I(v) => q.push_bind(*v),
                super::Val::S(v) => q.push_bind(v.clone()),
                super::Val::B(v) => q.push_bind(*v),
            };
        }
        q.push(" WHERE org_id = ").push_bind(org).push(" AND id = ").push_bind(complaint);
        q.build().execute(x).await
    })?;
    Ok(())
}
