//! Studies (满意度调查): the study record, its population query, the invitations (one answer
//! link per sampled customer, written in bulk with their breakdown keys filled by one
//! set-based UPDATE), and the responses with their answers. Every query carries `org_id`,
//! except the look-up of an answer link by its token (the token is the credential).

use domain::satisfaction::sampling::Population;
use sqlx::QueryBuilder;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::maintenance::orders::record;
use crate::{Page, PageReq, on, run};

record!(
    /// A study: its design, the calculator's inputs and result, and its counters.
    Study {
        id: i64 = "s.id",
        template_id: i64 = "s.template_id",
        template_name: Option<String> = "(SELECT t.name FROM survey_templates t WHERE t.id = s.template_id)",
        name: String = "s.name",
        /// YYYY-MM-DD.
        period_start: String = "s.period_start",
        /// YYYY-MM-DD, inclusive.
        period_end: String = "s.period_end",
        /// The population filter as JSON (region, product_id, contract_level, served).
        population: String = "s.population",
        /// Customers in the population when the study was last saved or drawn (N).
        population_size: i64 = "s.population_size",
        confidence_percent: i64 = "s.confidence_percent",
        margin_percent: f64 = "s.margin_percent",
        sample_size: i64 = "s.sample_size",
        /// The random seed of the draw: the same seed over the same population draws the
        /// same customers.
        seed: i64 = "s.seed",
        /// draft, open or closed.
        status: String = "s.status",
        /// Validity of a new answer link, days.
        link_days: i64 = "s.link_days",
        invited: i64 = "s.invited",
        responses: i64 = "s.responses",
        created_by: Option<i64> = "s.created_by",
        created_at: i64 = "s.created_at",
        updated_at: i64 = "s.updated_at",
        version: i64 = "s.version",
    }
);

record!(
    /// An invitation: one customer's answer link with the breakdown keys fixed when invited.
    Invitation {
        id: i64 = "i.id",
        org_id: i64 = "i.org_id",
        study_id: i64 = "i.study_id",
        customer_id: i64 = "i.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = i.customer_id)",
        contact_name: Option<String> = "i.contact_name",
        contact_phone: Option<String> = "i.contact_phone",
        /// The secret of the answer link /s/{token}.
        token: String = "i.token",
        expires_at: i64 = "i.expires_at",
        /// pending, answered or revoked.
        status: String = "i.status",
        answered_at: Option<i64> = "i.answered_at",
        product_id: Option<i64> = "i.product_id",
        product_name: Option<String> = "(SELECT p.name FROM products p WHERE p.id = i.product_id)",
        engineer_id: Option<i64> = "i.engineer_id",
        engineer_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = i.engineer_id)",
        region: Option<String> = "i.region",
        outlet_id: Option<i64> = "i.outlet_id",
        outlet_name: Option<String> = "(SELECT o.name FROM outlets o WHERE o.id = i.outlet_id)",
        service_order_id: Option<i64> = "i.service_order_id",
        response_id: Option<i64> = "(SELECT r.id FROM survey_responses r WHERE r.invitation_id = i.id)",
        created_at: i64 = "i.created_at",
    }
);

record!(
    /// A response (one customer's answers to a study).
    Response {
        id: i64 = "r.id",
        study_id: i64 = "r.study_id",
        study_name: Option<String> = "(SELECT s.name FROM studies s WHERE s.id = r.study_id)",
        invitation_id: Option<i64> = "r.invitation_id",
        template_id: i64 = "r.template_id",
        customer_id: i64 = "r.customer_id",
        customer_name: Option<String> = "(SELECT cu.name FROM customers cu WHERE cu.id = r.customer_id)",
        /// link or phone.
        channel: String = "r.channel",
        entered_by: Option<i64> = "r.entered_by",
        entered_by_name: Option<String> = "(SELECT u.display_name FROM users u WHERE u.id = r.entered_by)",
        submitted_at: i64 = "r.submitted_at",
        /// The response's weighted score on 0-100 (null without scale answers).
        score: Option<f64> = "r.score",
        product_id: Option<i64> = "r.product_id",
        engineer_id: Option<i64> = "r.engineer_id",
        region: Option<String> = "r.region",
        outlet_id: Option<i64> = "r.outlet_id",
    }
);

/// One answer of a response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub item_id: i64,
    pub value: Option<f64>,
    pub text: Option<String>,
}

/// The columns a study is written with.
#[derive(Debug, Clone)]
pub struct StudyValues<'a> {
    pub template_id: i64,
    pub name: &'a str,
    pub period_start: &'a str,
    pub period_end: &'a str,
    pub population: &'a Population,
    pub population_size: i64,
    pub confidence_percent: i64,
    pub margin_percent: f64,
    pub sample_size: i64,
    pub seed: i64,
    pub link_days: i64,
}

fn population_json(p: &Population) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| "{}".into())
}

/// Inserts a draft study; returns its id.
pub async fn insert(
    c: &mut Conn<'_>,
    org: i64,
    v: &StudyValues<'_>,
    created_by: Option<i64>,
    now: i64,
) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO studies (org_id, template_id, name, period_start, period_end, population, population_size,
            confidence_percent, margin_percent, sample_size, seed, status, link_days, invited, responses, created_by,
            created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', $12, 0, 0, $13, $14, $14, 1) RETURNING id")
        .bind(org).bind(v.template_id).bind(v.name).bind(v.period_start).bind(v.period_end)
        .bind(population_json(v.population)).bind(v.population_size).bind(v.confidence_percent)
        .bind(v.margin_percent).bind(v.sample_size).bind(v.seed).bind(v.link_days).bind(created_by).bind(now)
        .fetch_one(x).await)?;
    Ok(id)
}

fn stale(rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("stale version".into()))
    }
}

/// Rewrites a study's design read at `version`.
pub async fn update(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    v: &StudyValues<'_>,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE studies SET template_id = $4, name = $5, period_start = $6, period_end = $7, population = $8,
            population_size = $9, confidence_percent = $10, margin_percent = $11, sample_size = $12, seed = $13,
            link_days = $14, updated_at = $15, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(v.template_id).bind(v.name).bind(v.period_start).bind(v.period_end)
        .bind(population_json(v.population)).bind(v.population_size).bind(v.confidence_percent)
        .bind(v.margin_percent).bind(v.sample_size).bind(v.seed).bind(v.link_days).bind(now)
        .execute(x).await)?;
    stale(n)
}

/// Moves a study read at `version` to `status`.
pub async fn set_status(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    version: i64,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    let n = run!(c, x => sqlx::query(
        "UPDATE studies SET status = $4, updated_at = $5, version = version + 1
         WHERE org_id = $1 AND id = $2 AND version = $3")
        .bind(org).bind(id).bind(version).bind(status).bind(now).execute(x).await)?;
    stale(n)
}

/// Records the population size and sample size of a draw and the new invitation count,
/// bumping the version.
pub async fn set_drawn(
    c: &mut Conn<'_>,
    org: i64,
    id: i64,
    population_size: i64,
    sample_size: i64,
    now: i64,
) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE studies SET population_size = $3, sample_size = $4, updated_at = $5, version = version + 1,
            invited = (SELECT COUNT(*) FROM study_invitations i WHERE i.study_id = $2)
         WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(population_size).bind(sample_size).bind(now).execute(x).await)?;
    Ok(())
}

/// Recounts the invitations of a study (after one is added by hand).
pub async fn recount_invited(c: &mut Conn<'_>, org: i64, id: i64, now: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query(
        "UPDATE studies SET updated_at = $3, version = version + 1,
            invited = (SELECT COUNT(*) FROM study_invitations i WHERE i.study_id = $2)
         WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).bind(now).execute(x).await)?;
    Ok(())
}

/// Takes the study's row lock until the transaction ends (PostgreSQL; SQLite is already
/// serialised by BEGIN IMMEDIATE), so two draws of one study run one after the other.
pub async fn lock(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE studies SET updated_at = updated_at WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// One study.
pub async fn get(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Study> {
    let sql = format!(
        "SELECT {} FROM studies s WHERE s.org_id = $1 AND s.id = $2",
        Study::COLUMNS
    );
    let r: Option<Study> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.ok_or(StoreError::NotFound)
}

/// Filters of the study list.
#[derive(Debug, Clone, Default)]
pub struct StudyFilter {
    pub status: Option<String>,
    /// Substring of the name.
    pub q: Option<String>,
}

fn push_study_filter<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, org: i64, f: &StudyFilter)
where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE s.org_id = ").push_bind(org);
    if let Some(v) = &f.status {
        q.push(" AND s.status = ").push_bind(v.clone());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        q.push(" AND LOWER(s.name) LIKE ").push_bind(like);
    }
}

/// A page of studies, newest period first.
pub async fn list(
    c: &mut Conn<'_>,
    org: i64,
    f: &StudyFilter,
    p: PageReq,
) -> StoreResult<Page<Study>> {
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM studies s");
        push_study_filter(&mut q, org, f);
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<Study> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Study::COLUMNS).push(" FROM studies s");
        push_study_filter(&mut q, org, f);
        q.push(" ORDER BY s.period_start DESC, s.id DESC LIMIT ").push_bind(p.per_page)
            .push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

// ---------- population ----------

fn push_population<DB: sqlx::Database>(
    q: &mut QueryBuilder<DB>,
    org: i64,
    p: &Population,
    served: Option<(i64, i64)>,
) where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" FROM customers c WHERE c.org_id = ")
        .push_bind(org)
        .push(" AND c.active = TRUE AND c.consent_survey = TRUE");
    if let Some(r) = &p.region {
        q.push(" AND c.region = ").push_bind(r.clone());
    }
    if let Some(pid) = p.product_id {
        q.push(" AND EXISTS (SELECT 1 FROM equipment e WHERE e.org_id = c.org_id AND e.customer_id = c.id AND e.product_id = ")
            .push_bind(pid)
            .push(")");
    }
    if let Some(l) = &p.contract_level {
        q.push(" AND EXISTS (SELECT 1 FROM equipment e WHERE e.org_id = c.org_id AND e.customer_id = c.id AND e.contract_level = ")
            .push_bind(l.clone())
            .push(")");
    }
    if let Some((from, to)) = served {
        q.push(" AND EXISTS (SELECT 1 FROM service_orders so WHERE so.org_id = c.org_id AND so.customer_id = c.id AND so.completed_at >= ")
            .push_bind(from)
            .push(" AND so.completed_at < ")
            .push_bind(to)
            .push(")");
    }
}

/// The ids of the customers in a population, ascending: active customers who consented to
/// surveys, narrowed by every filter set; `served` is the period as [from, to) Unix times
/// when only customers with a service order completed in it count.
pub async fn population(
    c: &mut Conn<'_>,
    org: i64,
    p: &Population,
    served: Option<(i64, i64)>,
) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT c.id");
        push_population(&mut q, org, p, served);
        q.push(" ORDER BY c.id");
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The size of a population (see [`population`]).
pub async fn population_size(
    c: &mut Conn<'_>,
    org: i64,
    p: &Population,
    served: Option<(i64, i64)>,
) -> StoreResult<i64> {
    let (n,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*)");
        push_population(&mut q, org, p, served);
        q.build_query_as().fetch_one(x).await
    })?;
    Ok(n)
}

// ---------- invitations ----------

/// Rows per multi-row INSERT (7 parameters each, far below either backend's limit).
const CHUNK: usize = 500;

/// Inserts pending invitations of `study` for (customer, token) pairs with multi-row
/// INSERTs; customers already invited are skipped. Returns how many were inserted.
pub async fn insert_invitations(
    c: &mut Conn<'_>,
    org: i64,
    study: i64,
    rows: &[(i64, String)],
    expires_at: i64,
    now: i64,
) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in rows.chunks(CHUNK) {
        n += run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO study_invitations (org_id, study_id, customer_id, token, expires_at, status, created_at) ");
            q.push_values(chunk, |mut b, (customer, token)| {
                b.push_bind(org).push_bind(study).push_bind(*customer).push_bind(token.clone())
                    .push_bind(expires_at).push_bind("pending").push_bind(now);
            });
            q.push(" ON CONFLICT (study_id, customer_id) DO NOTHING");
            q.build().execute(x).await
        })?;
    }
    Ok(n)
}

/// Fixes the contact and the breakdown keys of a study's invitations (all of them, or one)
/// in one set-based UPDATE: the customer's first contact; the product of the filter, else
/// of the customer's most recently installed unit; the engineer and the order of the
/// customer's most recently completed service order; the customer's region; the first
/// active outlet whose regions include it.
pub async fn fill_keys(
    c: &mut Conn<'_>,
    org: i64,
    study: i64,
    only: Option<i64>,
    product: Option<i64>,
) -> StoreResult<()> {
    const CONTACT: &str = "FROM customer_contacts cc WHERE cc.org_id = study_invitations.org_id
        AND cc.customer_id = study_invitations.customer_id ORDER BY cc.id LIMIT 1";
    const ORDER: &str = "FROM service_orders so WHERE so.org_id = study_invitations.org_id
        AND so.customer_id = study_invitations.customer_id AND so.completed_at IS NOT NULL
        ORDER BY so.completed_at DESC, so.id DESC LIMIT 1";
    let sql = format!(
        "UPDATE study_invitations SET
            contact_name = (SELECT cc.name {CONTACT}),
            contact_phone = (SELECT COALESCE(cc.mobile, cc.phone) {CONTACT}),
            product_id = COALESCE($3, (SELECT e.product_id FROM equipment e WHERE e.org_id = study_invitations.org_id
                AND e.customer_id = study_invitations.customer_id
                ORDER BY CASE WHEN e.install_date IS NULL THEN 1 ELSE 0 END, e.install_date DESC, e.id DESC LIMIT 1)),
            engineer_id = (SELECT so.engineer_id {ORDER}),
            service_order_id = (SELECT so.id {ORDER}),
            region = (SELECT cu.region FROM customers cu WHERE cu.id = study_invitations.customer_id),
            outlet_id = (SELECT o.id FROM outlets o, customers cu WHERE cu.id = study_invitations.customer_id
                AND cu.region IS NOT NULL AND o.org_id = study_invitations.org_id AND o.active = TRUE
                AND o.regions LIKE '%\"' || cu.region || '\"%' ORDER BY o.id LIMIT 1)
         WHERE org_id = $1 AND study_id = $2 AND ($4 = 0 OR id = $4)"
    );
    run!(c, x => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(study).bind(product).bind(only.unwrap_or(0)).execute(x).await)?;
    Ok(())
}

/// Filters of the invitation list.
#[derive(Debug, Clone, Default)]
pub struct InvitationFilter {
    pub status: Option<String>,
}

fn push_inv_filter<DB: sqlx::Database>(
    q: &mut QueryBuilder<DB>,
    org: i64,
    study: i64,
    f: &InvitationFilter,
) where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(" WHERE i.org_id = ")
        .push_bind(org)
        .push(" AND i.study_id = ")
        .push_bind(study);
    if let Some(s) = &f.status {
        q.push(" AND i.status = ").push_bind(s.clone());
    }
}

/// A page of a study's invitations, in invitation order.
pub async fn invitations(
    c: &mut Conn<'_>,
    org: i64,
    study: i64,
    f: &InvitationFilter,
    p: PageReq,
) -> StoreResult<Page<Invitation>> {
    let (total,): (i64,) = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT COUNT(*) FROM study_invitations i");
        push_inv_filter(&mut q, org, study, f);
        q.build_query_as().fetch_one(x).await
    })?;
    let items: Vec<Invitation> = on!(c, x => {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(Invitation::COLUMNS).push(" FROM study_invitations i");
        push_inv_filter(&mut q, org, study, f);
        q.push(" ORDER BY i.id LIMIT ").push_bind(p.per_page).push(" OFFSET ").push_bind(p.offset());
        q.build_query_as().fetch_all(x).await
    })?;
    Ok(Page {
        items,
        total,
        page: p.page,
        per_page: p.per_page,
    })
}

/// One invitation of a study.
pub async fn invitation(
    c: &mut Conn<'_>,
    org: i64,
    study: i64,
    id: i64,
) -> StoreResult<Invitation> {
    let sql = format!(
        "SELECT {} FROM study_invitations i WHERE i.org_id = $1 AND i.study_id = $2 AND i.id = $3",
        Invitation::COLUMNS
    );
    let r: Option<Invitation> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(study).bind(id).fetch_optional(x).await)?;
    r.ok_or(StoreError::NotFound)
}

/// The invitation of an answer link (any organization: the token is the credential).
pub async fn by_token(c: &mut Conn<'_>, token: &str) -> StoreResult<Option<Invitation>> {
    let sql = format!(
        "SELECT {} FROM study_invitations i WHERE i.token = $1",
        Invitation::COLUMNS
    );
    Ok(
        on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(token).fetch_optional(x).await)?,
    )
}

/// The id of the invitation of `customer` in `study`, if invited.
pub async fn invitation_of(
    c: &mut Conn<'_>,
    org: i64,
    study: i64,
    customer: i64,
) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT id FROM study_invitations WHERE org_id = $1 AND study_id = $2 AND customer_id = $3")
        .bind(org).bind(study).bind(customer).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// Revokes a pending invitation; false when it was not pending.
pub async fn revoke(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE study_invitations SET status = 'revoked' WHERE org_id = $1 AND id = $2 AND status = 'pending'")
        .bind(org).bind(id).execute(x).await)?;
    Ok(n == 1)
}

/// Sets a pending invitation's expiry; false when it was not pending.
pub async fn extend(c: &mut Conn<'_>, org: i64, id: i64, expires_at: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE study_invitations SET expires_at = $3 WHERE org_id = $1 AND id = $2 AND status = 'pending'")
        .bind(org).bind(id).bind(expires_at).execute(x).await)?;
    Ok(n == 1)
}

/// Marks a pending invitation answered. False when it was not pending any more: on
/// PostgreSQL a concurrent answer holds the row until it commits, then this matches
/// nothing; SQLite runs the two one after the other.
pub async fn mark_answered(c: &mut Conn<'_>, id: i64, now: i64) -> StoreResult<bool> {
    let n = run!(c, x => sqlx::query(
        "UPDATE study_invitations SET status = 'answered', answered_at = $2 WHERE id = $1 AND status = 'pending'")
        .bind(id).bind(now).execute(x).await)?;
    Ok(n == 1)
}

// ---------- responses ----------

/// What a response is inserted with.
#[derive(Debug, Clone)]
pub struct NewResponse<'a> {
    pub org_id: i64,
    pub study_id: i64,
    pub invitation_id: i64,
    pub template_id: i64,
    pub customer_id: i64,
    pub channel: &'a str,
    pub entered_by: Option<i64>,
    pub submitted_at: i64,
    pub score: Option<f64>,
    pub product_id: Option<i64>,
    pub engineer_id: Option<i64>,
    pub region: Option<&'a str>,
    pub outlet_id: Option<i64>,
}

/// Inserts a response; a second response to one invitation is a `Conflict`.
pub async fn insert_response(c: &mut Conn<'_>, r: &NewResponse<'_>) -> StoreResult<i64> {
    let (id,): (i64,) = on!(c, x => sqlx::query_as(
        "INSERT INTO survey_responses (org_id, study_id, invitation_id, template_id, customer_id, channel, entered_by,
            submitted_at, score, product_id, engineer_id, region, outlet_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
        .bind(r.org_id).bind(r.study_id).bind(r.invitation_id).bind(r.template_id).bind(r.customer_id)
        .bind(r.channel).bind(r.entered_by).bind(r.submitted_at).bind(r.score).bind(r.product_id)
        .bind(r.engineer_id).bind(r.region).bind(r.outlet_id).fetch_one(x).await)?;
    Ok(id)
}

/// Inserts the answers of a response with multi-row INSERTs (study id copied for the
/// aggregates).
pub async fn insert_answers(
    c: &mut Conn<'_>,
    response: i64,
    study: i64,
    answers: &[Answer],
) -> StoreResult<()> {
    for chunk in answers.chunks(CHUNK) {
        run!(c, x => {
            let mut q = QueryBuilder::new(
                "INSERT INTO survey_answers (response_id, item_id, study_id, value, text) ");
            q.push_values(chunk, |mut b, a| {
                b.push_bind(response).push_bind(a.item_id).push_bind(study).push_bind(a.value)
                    .push_bind(a.text.clone());
            });
            q.build().execute(x).await
        })?;
    }
    Ok(())
}

/// Counts one more response of a study.
pub async fn count_response(c: &mut Conn<'_>, study: i64) -> StoreResult<()> {
    run!(c, x => sqlx::query("UPDATE studies SET responses = responses + 1 WHERE id = $1")
        .bind(study).execute(x).await)?;
    Ok(())
}

/// One response of the organization.
pub async fn response(c: &mut Conn<'_>, org: i64, id: i64) -> StoreResult<Response> {
    let sql = format!(
        "SELECT {} FROM survey_responses r WHERE r.org_id = $1 AND r.id = $2",
        Response::COLUMNS
    );
    let r: Option<Response> = on!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org).bind(id).fetch_optional(x).await)?;
    r.ok_or(StoreError::NotFound)
}

/// The answers of a response, by item.
pub async fn answers(c: &mut Conn<'_>, response: i64) -> StoreResult<Vec<Answer>> {
    let rows: Vec<(i64, Option<f64>, Option<String>)> = on!(c, x => sqlx::query_as(
        "SELECT item_id, value, text FROM survey_answers WHERE response_id = $1 ORDER BY item_id")
        .bind(response).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(item_id, value, text)| Answer {
            item_id,
            value,
            text,
        })
        .collect())
}

// ---------- choices ----------

/// The active survey templates of the organization: (id, name, version).
pub async fn active_templates(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String, i64)>> {
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, name, version_no FROM survey_templates WHERE org_id = $1 AND status = 'active'
         ORDER BY name, id LIMIT 500")
        .bind(org).fetch_all(x).await)?)
}

/// Active products: (id, "part_no name").
pub async fn product_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, String, String)> = on!(c, x => sqlx::query_as(
        "SELECT id, part_no, name FROM products WHERE org_id = $1 AND active = TRUE ORDER BY part_no LIMIT 1000")
        .bind(org).fetch_all(x).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, no, name)| (id, format!("{no} {name}")))
        .collect())
}

/// The regions customers are in.
pub async fn region_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT region FROM customers WHERE org_id = $1 AND region IS NOT NULL AND region <> ''
         ORDER BY region LIMIT 500")
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The contract levels units are under.
pub async fn contract_level_choices(c: &mut Conn<'_>, org: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT DISTINCT contract_level FROM equipment WHERE org_id = $1 AND contract_level IS NOT NULL
            AND contract_level <> '' ORDER BY contract_level LIMIT 500")
        .bind(org).fetch_all(x).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A customer of the organization by code, or by id when `reference` is a number: (id,
/// active, consented to surveys).
pub async fn customer_by_ref(
    c: &mut Conn<'_>,
    org: i64,
    reference: &str,
) -> StoreResult<Option<(i64, bool, bool)>> {
    let by_code: Option<(i64, bool, bool)> = on!(c, x => sqlx::query_as(
        "SELECT id, active, consent_survey FROM customers WHERE org_id = $1 AND code = $2")
        .bind(org).bind(reference).fetch_optional(x).await)?;
    if by_code.is_some() {
        return Ok(by_code);
    }
    let Ok(id) = reference.parse::<i64>() else {
        return Ok(None);
    };
    Ok(on!(c, x => sqlx::query_as(
        "SELECT id, active, consent_survey FROM customers WHERE org_id = $1 AND id = $2")
        .bind(org).bind(id).fetch_optional(x).await)?)
}

/// The organization's default validity of an answer link (visit settings), if set.
pub async fn default_link_days(c: &mut Conn<'_>, org: i64) -> StoreResult<Option<i64>> {
    let r: Option<(i64,)> = on!(c, x => sqlx::query_as(
        "SELECT link_days FROM visit_settings WHERE org_id = $1")
        .bind(org).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0))
}

/// The organization's name (shown on the public answer page).
pub async fn org_name(c: &mut Conn<'_>, org: i64) -> StoreResult<String> {
    let r: Option<(String,)> = on!(c, x => sqlx::query_as(
        "SELECT name FROM organizations WHERE id = $1")
        .bind(org).fetch_optional(x).await)?;
    Ok(r.map(|r| r.0).unwrap_or_default())
}
