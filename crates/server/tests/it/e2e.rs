//! The browser test, in real headless Chromium (runs when `AFTERSALES_E2E=1`): sign in as
//! the demo administrator, switch language, create a department, find it in the list and in
//! the audit trail.

use crate::helpers::{Backend, PW, spawn_app};
use crate::webdriver::Browser;

#[tokio::test]
async fn admin_creates_a_department_in_the_browser() {
    if std::env::var("AFTERSALES_E2E").as_deref() != Ok("1") {
        eprintln!("AFTERSALES_E2E is not 1: browser test not run");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let demo = server::demo::load(&app.st, app.admin_id, 0)
        .await
        .unwrap()
        .unwrap();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let b = Browser::start_with_lang(Some("zh-CN")).await.unwrap();

    // Sign in (Chinese by default).
    b.goto(&app.url("/")).await.unwrap();
    assert!(b.current_url().await.unwrap().contains("/login"));
    assert!(b.source().await.unwrap().contains("lang=\"zh-CN\""));
    b.fill("#login", "admin").await.unwrap();
    b.fill("#password", PW).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.find("#logout").await.unwrap();

    // Work in the demo company: pick it in the organization switcher.
    b.click(&format!("#switch-org-id option[value=\"{}\"]", demo.org_id))
        .await
        .unwrap();
    b.click("form[action=\"/switch-org\"] button")
        .await
        .unwrap();
    b.find("#logout").await.unwrap();
    assert!(b.source().await.unwrap().contains("示例设备有限公司"));

    // Switch to English; the choice sticks on the next page.
    b.click("#lang-en").await.unwrap();
    b.goto(&app.url("/org/departments")).await.unwrap();
    let html = b.source().await.unwrap();
    assert!(html.contains("lang=\"en\""), "English after switching");
    assert!(html.contains("售后服务部"), "demo departments listed");

    // Create a department.
    b.click("#new").await.unwrap();
    b.fill("#code", "CS").await.unwrap();
    b.fill("#name", "客户服务中心").await.unwrap();
    b.fill("#description", "E2E").await.unwrap();
    b.click("#save").await.unwrap();
    b.find("#edit").await.unwrap();
    let url = b.current_url().await.unwrap();
    let id: i64 = url
        .split("/org/departments/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not on the department page: {url}"));
    b.screenshot(&shots.join("e2e-department.png"))
        .await
        .unwrap();

    // Listed.
    b.goto(&app.url("/org/departments?q=客户服务"))
        .await
        .unwrap();
    assert!(b.text("table.list").await.unwrap().contains("客户服务中心"));

    // Its audit entry, with the values after the change.
    b.goto(&app.url(&format!("/audit?entity=department&entity_id={id}")))
        .await
        .unwrap();
    b.click("#audit tbody a").await.unwrap();
    let entry = b.text("table.diff").await.unwrap();
    assert!(
        entry.contains("客户服务中心") && entry.contains("CS"),
        "{entry}"
    );
    b.screenshot(&shots.join("e2e-audit.png")).await.unwrap();

    // Back to Chinese, then sign out.
    b.click("#lang-zh").await.unwrap();
    assert!(b.source().await.unwrap().contains("lang=\"zh-CN\""));
    b.click("#logout").await.unwrap();
    b.find("#sign-in").await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn import_a_spreadsheet_fix_it_and_find_the_unit() {
    if std::env::var("AFTERSALES_E2E").as_deref() != Ok("1") {
        eprintln!("AFTERSALES_E2E is not 1: browser test not run");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.token(app.admin_id, app.org).await;
    let api = app.api(&token);
    let (st, c) = api
        .post(
            "/api/v1/customers",
            serde_json::json!({"name": "华东重工机械有限公司", "code": "C001", "region": "华东"}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (st, _) = api
        .post(
            "/api/v1/products",
            serde_json::json!({"part_no": "P-100", "model": "XK-200", "name": "数控加工中心", "warranty_months": 24}),
        )
        .await;
    assert_eq!(st, 201);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-import-{}", store::random_hex(4)));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("units.csv");
    // The second row names a part number that does not exist.
    std::fs::write(
        &file,
        "序列号,料号,客户,安装日期\nSN-2026-7788991,P-100,C001,2026-03-10\nSN-2026-7788992,P-999,C001,2026-03-11\n",
    )
    .unwrap();

    let b = Browser::start_with_lang(Some("zh-CN")).await.unwrap();
    b.goto(&app.url("/login")).await.unwrap();
    b.fill("#login", "admin").await.unwrap();
    b.fill("#password", PW).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.find("#logout").await.unwrap();

    // Import: the report names line 3 and nothing is written.
    b.goto(&app.url("/archives/equipment")).await.unwrap();
    b.click("#import-link").await.unwrap();
    b.click("#kind option[value=\"equipment\"]").await.unwrap();
    b.upload("#file", &file).await.unwrap();
    b.click("#import").await.unwrap();
    let report = b.text("#row-errors").await.unwrap();
    assert!(report.contains('3') && report.contains("料号"), "{report}");
    assert!(b.source().await.unwrap().contains("id=\"not-imported\""));
    b.screenshot(&shots().join("e2e-import-report.png"))
        .await
        .unwrap();

    // Fix the file, import again.
    std::fs::write(
        &file,
        "序列号,料号,客户,安装日期\nSN-2026-7788991,P-100,C001,2026-03-10\nSN-2026-7788992,P-100,C001,2026-03-11\n",
    )
    .unwrap();
    b.click("#kind option[value=\"equipment\"]").await.unwrap();
    b.upload("#file", &file).await.unwrap();
    b.click("#import").await.unwrap();
    b.find("#imported").await.unwrap();

    // Find the unit by a fragment of its serial and open its timeline.
    b.goto(&app.url("/archives/search")).await.unwrap();
    b.fill("#q", "788992").await.unwrap();
    b.click("#search").await.unwrap();
    b.click("#results tbody a").await.unwrap();
    let page = b.source().await.unwrap();
    assert!(page.contains("SN-2026-7788992"), "on the unit's page");
    let timeline = b.text("#timeline").await.unwrap();
    assert!(
        timeline.contains("SN-2026-7788992") && timeline.contains("2026-03-11"),
        "{timeline}"
    );
    b.screenshot(&shots().join("e2e-unit.png")).await.unwrap();
    b.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn shots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
}
