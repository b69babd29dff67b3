//! Browser tests of complaint handling in real headless Chromium (when `AFTERSALES_E2E=1`),
//! on the demo company: the serious quality journey from registration through the
//! departments' approvals and the corrective action to closure, with the printed handling
//! form; and the not-ours journey.

use crate::helpers::{Backend, spawn_app};
use crate::webdriver::Browser;

fn enabled() -> bool {
    if std::env::var("AFTERSALES_E2E").as_deref() != Ok("1") {
        eprintln!("AFTERSALES_E2E is not 1: browser test not run");
        return false;
    }
    true
}

async fn sign_in(b: &Browser, app: &crate::helpers::TestApp, login: &str, pw: &str) {
    b.goto(&app.url("/login")).await.unwrap();
    b.fill("#login", login).await.unwrap();
    b.fill("#password", pw).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.find("#logout").await.unwrap();
}

async fn sign_out(b: &Browser) {
    b.click("#logout").await.unwrap();
    b.find("#login").await.unwrap();
}

/// Waits until the browser's URL contains `part` (a form posted and redirected).
async fn wait_url(b: &Browser, part: &str) {
    for _ in 0..100 {
        if b.current_url().await.unwrap().contains(part) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let html = b.source().await.unwrap_or_default();
    let errors: Vec<&str> = html
        .split("class=\"field-error\"")
        .skip(1)
        .map(|s| &s[..s.len().min(120)])
        .collect();
    let banner = html
        .split("role=\"alert\"")
        .nth(1)
        .map(|s| &s[..s.len().min(300)]);
    panic!(
        "no {part} in {}: errors {errors:?}, banner {banner:?}",
        b.current_url().await.unwrap()
    );
}

/// Submits a move's form and waits for the page after it.
async fn submit(b: &Browser, action: &str) {
    b.click(&format!("#do-{action}")).await.unwrap();
    wait_url(b, &format!("ok={action}")).await;
}

/// Opens a move's form on the complaint page.
async fn open_move(b: &Browser, action: &str) {
    b.click(&format!("#move-{action} summary")).await.unwrap();
}

async fn status(b: &Browser) -> String {
    b.text("#status").await.unwrap()
}

/// Registers a complaint through the form; returns its page URL.
async fn register(
    b: &Browser,
    app: &crate::helpers::TestApp,
    class: &str,
    severity: &str,
    quality: bool,
) -> String {
    b.goto(&app.url("/complaints/new")).await.unwrap();
    b.click(&format!("#class option[value=\"{class}\"]"))
        .await
        .unwrap();
    b.click(&format!("#severity option[value=\"{severity}\"]"))
        .await
        .unwrap();
    b.fill("#customer_name", "浏览器测试客户").await.unwrap();
    b.fill("#contact_name", "赵工").await.unwrap();
    b.fill("#fault_category", "变频器过热").await.unwrap();
    if quality {
        b.fill("#order_no", "SO-E2E-1").await.unwrap();
        b.fill("#part_no", "P-E2E").await.unwrap();
        b.set_value("#ship_date", "2026-03-02").await.unwrap();
        b.fill("#quantity", "4").await.unwrap();
        b.fill("#defective_quantity", "1").await.unwrap();
        b.fill("#demand", "更换变频器并退还部分货款").await.unwrap();
    }
    b.fill("#description", "变频器运行半小时后过热停机")
        .await
        .unwrap();
    b.click("#save").await.unwrap();
    wait_url(b, "ok=registered").await;
    b.current_url()
        .await
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn serious_quality_complaint_journey_in_the_browser() {
    if !enabled() {
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let demo = server::demo::load(&app.st, app.admin_id, 0)
        .await
        .unwrap()
        .unwrap();
    let pw = demo.password.clone();
    let prd = {
        let mut h = app.st.db.acquire().await.unwrap();
        store::org::department_id_by_code(&mut h.c(), demo.org_id, "PRD")
            .await
            .unwrap()
            .unwrap()
    };
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let b = Browser::start_with_lang(Some("zh-CN")).await.unwrap();

    // Business registers and confirms.
    sign_in(&b, &app, "business", &pw).await;
    let page = register(&b, &app, "quality", "serious", true).await;
    assert_eq!(status(&b).await, "已受理");
    open_move(&b, "confirm").await;
    submit(&b, "confirm").await;
    assert_eq!(status(&b).await, "已确认");
    sign_out(&b).await;

    // The engineer analyses: our quality problem, production responsible.
    sign_in(&b, &app, "engineer", &pw).await;
    b.goto(&page).await.unwrap();
    open_move(&b, "analyse").await;
    b.click("#an-class option[value=\"quality\"]")
        .await
        .unwrap();
    b.click("#an-responsibility option[value=\"ours\"]")
        .await
        .unwrap();
    b.click(&format!("#an-department option[value=\"{prd}\"]"))
        .await
        .unwrap();
    b.fill("#an-cause", "变频器散热风扇批次不良").await.unwrap();
    submit(&b, "analyse").await;
    b.find("#capa-required").await.unwrap();
    sign_out(&b).await;

    // Production proposes a refund of ¥6,000 and approves for its department.
    sign_in(&b, &app, "production", &pw).await;
    b.goto(&page).await.unwrap();
    open_move(&b, "propose").await;
    b.click("#pr-type option[value=\"refund\"]").await.unwrap();
    b.fill("#pr-amount", "6000").await.unwrap();
    b.fill("#pr-detail", "更换变频器并退款 6000 元")
        .await
        .unwrap();
    b.fill("#pr-proposed_by", "生产部、业务部").await.unwrap();
    submit(&b, "propose").await;
    assert_eq!(status(&b).await, "方案待审批");
    b.click("form.decide button[value=\"approve\"]")
        .await
        .unwrap();
    wait_url(&b, "ok=approved").await;
    sign_out(&b).await;

    // Business and the manager approve; business agrees it with the customer.
    for who in ["business", "manager"] {
        sign_in(&b, &app, who, &pw).await;
        b.goto(&page).await.unwrap();
        b.click("form.decide button[value=\"approve\"]")
            .await
            .unwrap();
        wait_url(&b, "ok=approved").await;
        if who == "business" {
            sign_out(&b).await;
        }
    }
    assert_eq!(status(&b).await, "方案已审批");
    open_move(&b, "agree").await;
    submit(&b, "agree").await;
    open_move(&b, "start").await;
    submit(&b, "start").await;
    assert_eq!(status(&b).await, "落实中");
    // Completing needs the corrective action first: the page says so and offers no completion.
    assert!(b.text("#capa-required").await.unwrap().contains("纠正措施"));
    assert!(!b.source().await.unwrap().contains("id=\"move-complete\""));
    b.click("#open-capa").await.unwrap();
    wait_url(&b, "/capas/").await;
    b.goto(&page).await.unwrap();
    b.find("#capa-link").await.unwrap();
    open_move(&b, "complete").await;
    b.fill("#complete-implementation", "已更换并退款")
        .await
        .unwrap();
    submit(&b, "complete").await;
    assert_eq!(status(&b).await, "待回访");
    open_move(&b, "visit").await;
    b.click("#visit-yes").await.unwrap();
    submit(&b, "visit").await;
    assert_eq!(status(&b).await, "已关闭");
    b.screenshot(&shots.join("e2e-complaint-closed.png"))
        .await
        .unwrap();

    // The handling form prints with the approvals and their names.
    b.goto(&format!("{page}/print/handling")).await.unwrap();
    let form = b.text("body").await.unwrap();
    assert!(form.contains("客户投诉处理表"), "{form}");
    assert!(form.contains("浏览器测试客户") && form.contains("SO-E2E-1"));
    assert!(
        form.contains("王建国"),
        "the manager's approval is printed: {form}"
    );
    b.screenshot(&shots.join("e2e-complaint-handling-form.png"))
        .await
        .unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn not_ours_complaint_journey_in_the_browser() {
    if !enabled() {
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let demo = server::demo::load(&app.st, app.admin_id, 0)
        .await
        .unwrap()
        .unwrap();
    let b = Browser::start_with_lang(Some("zh-CN")).await.unwrap();
    sign_in(&b, &app, "engineer", &demo.password).await;
    let page = register(&b, &app, "human", "minor", false).await;
    open_move(&b, "confirm").await;
    submit(&b, "confirm").await;
    // Not ours without the inspection result and its basis is refused beside the fields.
    open_move(&b, "analyse").await;
    b.click("#an-class option[value=\"human\"]").await.unwrap();
    b.click("#an-responsibility option[value=\"customer_use\"]")
        .await
        .unwrap();
    b.fill("#an-cause", "客户擅自改装散热风道").await.unwrap();
    b.click("#do-analyse").await.unwrap();
    wait_url(&b, "/act/analyse").await;
    b.find("#an-inspection_result-error").await.unwrap();
    b.fill("#an-inspection_result", "风道被异物堵塞")
        .await
        .unwrap();
    b.fill("#an-inspection_basis", "现场照片及使用说明书第 5 章")
        .await
        .unwrap();
    submit(&b, "analyse").await;
    open_move(&b, "explain").await;
    b.fill(
        "#explain-explanation",
        "经检验为风道堵塞所致，非产品质量问题",
    )
    .await
    .unwrap();
    submit(&b, "explain").await;
    assert_eq!(status(&b).await, "非我方责任（已说明）");
    open_move(&b, "respond").await;
    b.click("#respond-yes").await.unwrap();
    b.fill("#respond-response", "认可，已清理风道")
        .await
        .unwrap();
    submit(&b, "respond").await;
    open_move(&b, "visit").await;
    b.click("#visit-yes").await.unwrap();
    submit(&b, "visit").await;
    assert_eq!(status(&b).await, "已关闭");
    b.goto(&format!("{page}/print/registration")).await.unwrap();
    assert!(b.text("body").await.unwrap().contains("客户投诉登记表"));
    b.close().await.unwrap();
}
