//! Dispatch: engineer profiles (audited as `engineer_profile`), the week calendar per
//! engineer and team with overlapping appointments flagged, and the ranked candidates for
//! an order. Assigning itself is the service order's "dispatch" move.

use std::collections::{BTreeMap, BTreeSet};

use domain::FieldErrors;
use domain::archives::customers::clean_list;
use domain::auth::Permission;
use serde::Serialize;
use store::maintenance::dispatch::{self as repo, Engineer};

use super::week::{self, Week};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::error::{AppError, AppResult};
use crate::org::service::{Change, audit};

/// The engineers of the organization (role engineer, or anyone with a profile).
pub async fn engineers(st: &AppState, ctx: &Ctx) -> AppResult<Vec<Engineer>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::engineers(&mut h.c(), org).await?)
}

/// One member as an engineer (404 when not a member of the organization).
pub async fn engineer(st: &AppState, ctx: &Ctx, user_id: i64) -> AppResult<Engineer> {
    let org = ctx.require(Permission::ViewService)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::engineer_of(&mut h.c(), org, user_id).await?)
}

/// Members who could be given a profile: (user id, name, role).
pub async fn others(st: &AppState, ctx: &Ctx) -> AppResult<Vec<(i64, String, String)>> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let mut h = st.db.acquire().await?;
    Ok(repo::others(&mut h.c(), org).await?)
}

/// A validated engineer profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileDraft {
    pub regions: Vec<String>,
    pub skills: Vec<String>,
    pub team: Option<String>,
}

impl ProfileDraft {
    /// Cleans the lists (at most 50 items of 50 characters) and the team (50 characters).
    pub fn parse(regions: &[String], skills: &[String], team: Option<&str>) -> AppResult<Self> {
        let mut errs = FieldErrors::default();
        let regions = clean_list(&mut errs, "regions", regions, 50, 50);
        let skills = clean_list(&mut errs, "skills", skills, 50, 50);
        let team = domain::text::optional(&mut errs, "team", team, 50);
        if !errs.is_empty() {
            return Err(AppError::Invalid(errs));
        }
        Ok(ProfileDraft {
            regions,
            skills,
            team,
        })
    }
}

/// Saves the profile of a member read at `version` (0 when there was none).
pub async fn save_profile(
    st: &AppState,
    ctx: &Ctx,
    user_id: i64,
    version: i64,
    d: ProfileDraft,
) -> AppResult<Engineer> {
    let org = ctx.require(Permission::PlanMaintenance)?.id;
    let now = st.now();
    let mut tx = st.db.begin().await?;
    let before = repo::engineer_of(&mut tx.c(), org, user_id).await?;
    if before.version != version {
        return Err(AppError::Stale);
    }
    repo::save_profile(
        &mut tx.c(),
        org,
        user_id,
        version,
        &d.regions,
        &d.skills,
        d.team.as_deref(),
        now,
    )
    .await?;
    let after = repo::engineer_of(&mut tx.c(), org, user_id).await?;
    audit(
        &mut tx,
        ctx,
        org,
        now,
        Change {
            action: if before.has_profile {
                "update"
            } else {
                "create"
            },
            entity: "engineer_profile",
            id: user_id,
            before: before.has_profile.then_some(&before),
            after: Some(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------- the week calendar ----------

/// An order in the week calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekOrder {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub status: String,
    /// Scheduled start (Unix seconds).
    pub start: i64,
    /// Scheduled end (Unix seconds; start + 1 h when none was set).
    pub end: i64,
    pub customer_name: Option<String>,
    pub site: Option<String>,
    /// Overlaps another appointment of the same engineer.
    pub conflict: bool,
}

/// One engineer's row of the week.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EngineerWeek {
    pub user_id: i64,
    pub name: String,
    pub team: Option<String>,
    pub orders: Vec<WeekOrder>,
    /// How many of the orders overlap another.
    pub conflicts: i64,
}

/// The week calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekView {
    /// `YYYY-Www`.
    pub week: String,
    pub prev: String,
    pub next: String,
    /// The seven days, YYYY-MM-DD, Monday first.
    pub days: Vec<String>,
    /// Unix seconds of Monday 00:00 local time.
    pub start: i64,
    /// Unix seconds of the next Monday 00:00 local time.
    pub end: i64,
    pub engineers: Vec<EngineerWeek>,
    /// Every team named in a profile (for the filter).
    pub teams: Vec<String>,
}

/// The week calendar of `week` (default: this week), for one engineer, one team or all.
/// Anyone with an order in the week appears, even without a profile.
pub async fn week_view(
    st: &AppState,
    ctx: &Ctx,
    week: Option<&str>,
    engineer: Option<i64>,
    team: Option<&str>,
) -> AppResult<WeekView> {
    let org = ctx.require(Permission::ViewService)?.id;
    let off = ctx.tr.offset_min;
    let w = match week.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Week::parse(s)
            .ok_or_else(|| AppError::Invalid(FieldErrors::single("week", "week_format")))?,
        None => Week::at(st.now(), off),
    };
    let team = team.map(str::trim).filter(|t| !t.is_empty());
    let (start, end) = (w.start(off), w.end(off));
    let mut h = st.db.acquire().await?;
    let all = repo::engineers(&mut h.c(), org).await?;
    let slots = repo::scheduled(&mut h.c(), org, start, end, engineer).await?;
    let teams: BTreeSet<String> = all.iter().filter_map(|e| e.team.clone()).collect();
    let mut rows: Vec<EngineerWeek> = all
        .iter()
        .filter(|e| engineer.is_none_or(|id| e.user_id == id))
        .filter(|e| team.is_none_or(|t| e.team.as_deref() == Some(t)))
        .map(|e| EngineerWeek {
            user_id: e.user_id,
            name: e.name.clone(),
            team: e.team.clone(),
            orders: vec![],
            conflicts: 0,
        })
        .collect();
    let mut by_engineer: BTreeMap<i64, Vec<repo::Slot>> = BTreeMap::new();
    for s in slots {
        by_engineer.entry(s.engineer_id).or_default().push(s);
    }
    // Assigned to someone who is not an engineer by role or profile: still shown (not when
    // filtering by team, which they have none of).
    if team.is_none() {
        for id in by_engineer.keys() {
            if !rows.iter().any(|r| r.user_id == *id) {
                let name = match store::users::get(&mut h.c(), *id).await {
                    Ok(u) => u.display_name,
                    Err(_) => format!("#{id}"),
                };
                rows.push(EngineerWeek {
                    user_id: *id,
                    name,
                    team: None,
                    orders: vec![],
                    conflicts: 0,
                });
            }
        }
    }
    for r in &mut rows {
        let Some(slots) = by_engineer.remove(&r.user_id) else {
            continue;
        };
        let spans: Vec<(i64, i64, i64)> = slots.iter().map(|s| (s.id, s.start, s.end)).collect();
        let clash = week::overlapping(&spans);
        r.conflicts = clash.len() as i64;
        r.orders = slots
            .into_iter()
            .map(|s| WeekOrder {
                conflict: clash.contains(&s.id),
                id: s.id,
                number: s.number,
                kind: s.kind,
                status: s.status,
                start: s.start,
                end: s.end,
                customer_name: s.customer_name,
                site: s.site,
            })
            .collect();
    }
    Ok(WeekView {
        week: w.label(),
        prev: w.prev().label(),
        next: w.next().label(),
        days: w.days().into_iter().map(week::fmt_date).collect(),
        start,
        end,
        engineers: rows,
        teams: teams.into_iter().collect(),
    })
}

// ---------- candidates ----------

/// An appointment that overlaps the order's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConflictRef {
    pub id: i64,
    pub number: String,
    pub start: i64,
    pub end: i64,
}

/// An engineer who could take an order, with why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub user_id: i64,
    pub name: String,
    pub team: Option<String>,
    /// The order's region (the unit's site, else the customer) is one of the engineer's.
    pub region_match: bool,
    /// The product's category is one of the engineer's skills.
    pub skill_match: bool,
    /// Open orders assigned to the engineer in the order's week.
    pub load: i64,
    /// The engineer's appointments that overlap the order's (empty when it is unscheduled).
    pub conflicts: Vec<ConflictRef>,
    /// The engineer the order is assigned to now.
    pub current: bool,
}

/// The candidates for an order, best first: region match, then skill match, then load (and
/// fewer conflicts). Training records do not exist yet; once they do, a qualification for
/// the product belongs in this ranking too.
pub async fn candidates(st: &AppState, ctx: &Ctx, order_id: i64) -> AppResult<Vec<Candidate>> {
    let org = ctx.require(Permission::ViewService)?.id;
    let off = ctx.tr.offset_min;
    let mut h = st.db.acquire().await?;
    let o = repo::order_needs(&mut h.c(), org, order_id).await?;
    // The order's week: of its appointment, else its due date, else when it was reported.
    let w = match (
        o.scheduled_start,
        o.due_date.as_deref().and_then(week::parse_date),
    ) {
        (Some(s), _) => Week::at(s, off),
        (None, Some(d)) => Week::of(d),
        (None, None) => Week::at(o.reported_at, off),
    };
    let days = w.days();
    let (from_d, to_d) = (week::fmt_date(days[0]), week::fmt_date(days[6]));
    let load: BTreeMap<i64, i64> =
        repo::load(&mut h.c(), org, w.start(off), w.end(off), &from_d, &to_d)
            .await?
            .into_iter()
            .collect();
    let mut out = vec![];
    for e in repo::engineers(&mut h.c(), org).await? {
        let conflicts = match o.scheduled_start {
            Some(s) => {
                let end = o.scheduled_end.unwrap_or(s + repo::DEFAULT_DURATION);
                repo::conflicts_for(&mut h.c(), org, e.user_id, s, end, Some(o.id))
                    .await?
                    .into_iter()
                    .map(|(id, number, start, end)| ConflictRef {
                        id,
                        number,
                        start,
                        end,
                    })
                    .collect()
            }
            None => vec![],
        };
        out.push(Candidate {
            region_match: week::matches(o.region.as_deref(), &e.regions),
            skill_match: week::matches(o.category.as_deref(), &e.skills),
            load: load.get(&e.user_id).copied().unwrap_or(0),
            current: o.engineer_id == Some(e.user_id),
            conflicts,
            user_id: e.user_id,
            name: e.name,
            team: e.team,
        });
    }
    out.sort_by_cached_key(|c| {
        week::rank_key(
            c.region_match,
            c.skill_match,
            c.load,
            c.conflicts.len(),
            &c.name,
        )
    });
    Ok(out)
}
