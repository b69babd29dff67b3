//! The default template (code `after_sales`, 售后服务满意度调查): five dimensions that follow
//! the after-sales stages of the seed (response, staff, quality of work, complaint handling,
//! parts and fees), three 1-5 items each with differing importance weights (summing to 1), then
//! overall satisfaction (CSAT 1-5), likelihood to recommend (NPS 0-10), ease (CES 1-7) and a
//! free-text question. The texts are data, in Chinese.

use domain::FieldErrors;
use domain::satisfaction::survey::{ItemRaw, TemplateDraft, TemplateRaw};
use store::Tx;
use store::audit::Actor;

use super::service;
use crate::error::{AppError, AppResult};

/// The code of the default template.
pub const CODE: &str = "after_sales";
/// Its name.
pub const NAME: &str = "售后服务满意度调查";
/// Its introduction, shown above the questions.
pub const INTRO: &str = "尊敬的客户：感谢您使用我们的售后服务。为了不断改进服务质量，请您花 3 分钟对本次服务进行评价（1 分表示非常不满意，5 分表示非常满意）。您的意见我们将认真对待并严格保密。";

/// The dimensions (service stages).
pub const DIMENSIONS: &[&str] = &["服务响应", "服务人员", "服务质量", "投诉处理", "配件与费用"];

/// Scale items: (dimension index, text, importance weight).
pub const SCALE_ITEMS: &[(usize, &str, f64)] = &[
    (0, "报修受理及时，沟通顺畅", 0.08),
    (0, "工程师按约定时间到达现场", 0.09),
    (0, "服务进度及时告知", 0.05),
    (1, "服务人员态度热情、礼貌", 0.07),
    (1, "工程师专业技能熟练，能准确判断问题", 0.08),
    (1, "服务人员着装规范，遵守现场规定", 0.05),
    (2, "问题一次修复，无需重复上门", 0.11),
    (2, "维修后设备运行稳定", 0.10),
    (2, "完工后现场清理整洁", 0.07),
    (3, "投诉与意见反映渠道方便", 0.04),
    (3, "投诉处理及时", 0.07),
    (3, "对投诉处理结果满意", 0.05),
    (4, "配件供应及时", 0.05),
    (4, "收费合理、透明", 0.06),
    (4, "更换的配件质量可靠", 0.03),
];

/// The closing items: (kind, text, required).
pub const CLOSING_ITEMS: &[(&str, &str, bool)] = &[
    ("csat", "总体满意度：您对本次售后服务总体是否满意？", true),
    (
        "nps",
        "推荐意愿：您有多大可能向同事或朋友推荐我们的售后服务？（0 表示完全不可能，10 表示非常可能）",
        true,
    ),
    (
        "ces",
        "办理便捷程度：您是否同意“这次服务让我办事很省力”？（1 表示非常不同意，7 表示非常同意）",
        true,
    ),
    ("text", "您对我们的售后服务还有哪些意见或建议？", false),
];

/// The default template as typed in (also what "create from default" puts in the editor).
pub fn raw() -> TemplateRaw<'static> {
    let mut items: Vec<ItemRaw<'static>> = SCALE_ITEMS
        .iter()
        .map(|(d, text, w)| ItemRaw {
            kind: "scale",
            text,
            dimension: Some(*d),
            scale_min: Some(1),
            scale_max: Some(5),
            weight: Some(*w),
            required: true,
        })
        .collect();
    items.extend(CLOSING_ITEMS.iter().map(|(kind, text, required)| ItemRaw {
        kind,
        text,
        required: *required,
        ..ItemRaw::default()
    }));
    TemplateRaw {
        code: CODE,
        name: NAME,
        intro: Some(INTRO),
        dimensions: DIMENSIONS.to_vec(),
        items,
    }
}

/// The default template, validated.
pub fn draft() -> AppResult<TemplateDraft> {
    Ok(TemplateDraft::parse(FieldErrors::default(), raw())?)
}

/// Creates the default template in `org` unless a template with code `after_sales` exists
/// (idempotent); returns its id (the newest active version when it exists). Audited as
/// `user`, or as the system without one.
pub async fn seed_default(tx: &mut Tx, org: i64, user: Option<i64>, now: i64) -> AppResult<i64> {
    if let Some(id) = store::satisfaction::surveys::id_by_code(&mut tx.c(), org, CODE).await? {
        return Ok(id);
    }
    let actor = match user {
        Some(u) => match store::users::get(&mut tx.c(), u).await {
            Ok(user) => Actor {
                user_id: Some(u),
                name: user.login,
            },
            Err(store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        },
        None => Actor::system("survey-default"),
    };
    let full = service::insert_new(tx, &actor, org, &draft()?, now).await?;
    Ok(full.template.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_is_valid_and_weighted() {
        let d = draft().expect("valid");
        assert_eq!(d.dimensions.len(), 5);
        assert_eq!(d.items.len(), 19);
        let w: f64 = SCALE_ITEMS.iter().map(|i| i.2).sum();
        assert!((w - 1.0).abs() < 1e-9);
        for dim in 0..DIMENSIONS.len() {
            let ws: Vec<f64> = SCALE_ITEMS
                .iter()
                .filter(|i| i.0 == dim)
                .map(|i| i.2)
                .collect();
            assert_eq!(ws.len(), 3);
            assert!(ws[0] != ws[1] && ws[1] != ws[2] && ws[0] != ws[2]);
        }
    }
}
