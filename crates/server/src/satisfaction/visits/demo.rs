//! Demo return visits: the rules run over the demo complaints and service orders, then a
//! manager records a few of the planned visits (one unsatisfied, which opens or reopens a
//! complaint) through the real service.

use domain::FieldErrors;
use domain::auth::Role;
use domain::satisfaction::visits::{Record, RecordRaw};
use store::PageReq;
use store::satisfaction::visits::{self as repo, Filter, Scope};

use super::{rules, service};
use crate::app::AppState;
use crate::auth::{Ctx, OrgCtx};
use crate::error::AppResult;
use crate::i18n::Tr;

/// What the demo visitor says: (rating, method, problem category, the customer's words, follow-up).
const ANSWERS: [(i64, &str, &str, &str, &str); 5] = [
    (5, "phone", "", "工程师很专业，设备运行正常。", ""),
    (
        4,
        "phone",
        "响应速度",
        "处理及时，就是预约等了两天。",
        "提醒调度缩短预约等待",
    ),
    (5, "online", "", "满意，谢谢。", ""),
    (
        2,
        "on_site",
        "维修质量",
        "修完一周又出现同样的报警，不满意。",
        "安排工程师复检",
    ),
    (4, "phone", "", "总体满意。", ""),
];

/// Generates the demo organization's visits and records a few of them.
pub async fn seed_demo(st: &AppState, org: i64) -> AppResult<()> {
    let now = st.now();
    rules::generate_org(&st.db, org, now).await?;
    let (manager, planned) = {
        let mut h = st.db.acquire().await?;
        let members = repo::assignable(&mut h.c(), org).await?;
        let manager = members
            .iter()
            .find(|m| m.2 == "manager")
            .or_else(|| members.iter().find(|m| m.2 == "admin"))
            .cloned();
        let f = Filter {
            statuses: vec!["planned".into()],
            ..Default::default()
        };
        let page = repo::list(
            &mut h.c(),
            org,
            Scope::All,
            &f,
            PageReq::new(Some(1), Some(5)),
        )
        .await?;
        (manager, page.items)
    };
    let Some((user_id, name, role)) = manager else {
        return Ok(());
    };
    let ctx = Ctx {
        user_id,
        login: name.clone(),
        name,
        system_admin: false,
        org: Some(OrgCtx {
            id: org,
            name: String::new(),
            role: Role::parse(&role).unwrap_or(Role::Manager),
        }),
        session_id: None,
        csrf: String::new(),
        tr: Tr::new(Default::default(), 480),
    };
    let low_rating = service::settings(st, &ctx).await?.low_rating;
    for (v, (rating, method, category, words, follow)) in planned.iter().zip(ANSWERS) {
        let rating = rating.to_string();
        let opt = |s: &'static str| Some(s).filter(|s| !s.is_empty());
        let r = Record::parse(
            FieldErrors::default(),
            RecordRaw {
                visited_at: Some(now - 3600),
                method: Some(method),
                rating: Some(&rating),
                problem_category: opt(category),
                customer_words: opt(words),
                follow_up: opt(follow),
                satisfied: None,
            },
            low_rating,
            now,
        )?;
        // A demo visit the rules refuse (its complaint moved on) is skipped, not fatal.
        if let Err(e) = service::record(st, &ctx, v.id, v.version, r).await {
            tracing::warn!(visit = v.id, error = ?e, "demo visit not recorded");
        }
    }
    Ok(())
}
