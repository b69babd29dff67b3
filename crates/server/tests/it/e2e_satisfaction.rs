//! Browser test of a satisfaction study (when `AFTERSALES_E2E=1`), on the demo company: the
//! manager creates a study with the calculator, draws the sample and opens it; the report has
//! no answers yet; a customer opens their link on a 390 × 844 phone window without signing
//! in and answers; the manager sees the response counted, the scores and the
//! importance-performance matrix drawn; a second visit to the link is refused.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::webdriver::Browser;

fn enabled() -> bool {
    if std::env::var("AFTERSALES_E2E").as_deref() != Ok("1") {
        eprintln!("AFTERSALES_E2E is not 1: browser test not run");
        return false;
    }
    true
}

async fn sign_in(b: &Browser, app: &TestApp, login: &str, pw: &str) {
    b.goto(&app.url("/login")).await.unwrap();
    b.fill("#login", login).await.unwrap();
    b.fill("#password", pw).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.find("#logout").await.unwrap();
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
        .map(|s| &s[..s.len().min(160)])
        .collect();
    panic!(
        "no {part} in {}: errors {errors:?}",
        b.current_url().await.unwrap()
    );
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    store::users::by_login(&mut h.c(), login)
        .await
        .unwrap()
        .unwrap()
        .0
        .id
}

#[tokio::test]
async fn a_study_answered_on_a_phone_updates_the_report_and_the_matrix() {
    if !enabled() {
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let demo = server::demo::load(&app.st, app.admin_id, 0)
        .await
        .unwrap()
        .unwrap();
    let org = demo.org_id;
    let template = {
        let mut h = app.st.db.acquire().await.unwrap();
        let id = store::satisfaction::surveys::id_by_code(&mut h.c(), org, "after_sales")
            .await
            .unwrap()
            .expect("the demo's default template");
        store::satisfaction::surveys::load(&mut h.c(), org, id)
            .await
            .unwrap()
            .unwrap()
    };
    let manager = app.api(&app.token(user_id(&app, "manager").await, org).await);

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let b = Browser::start_with_lang(Some("zh-CN")).await.unwrap();
    b.set_window(1280, 900).await.unwrap();
    sign_in(&b, &app, "manager", &demo.password).await;

    // A new study: the calculator gives the sample size for the population; we take 5.
    b.goto(&app.url("/studies/new")).await.unwrap();
    b.fill("#name", "E2E 第四季度售后服务满意度调查")
        .await
        .unwrap();
    b.set_value("#template_id", &template.template.id.to_string())
        .await
        .unwrap();
    b.set_value("#period_start", "2026-10-01").await.unwrap();
    b.set_value("#period_end", "2026-12-31").await.unwrap();
    b.click("#calc").await.unwrap();
    // The form comes back with the figures (and everything typed kept).
    let number = |t: String| t.trim().replace(',', "").parse::<i64>().unwrap_or(0);
    let mut population = 0;
    for _ in 0..100 {
        population = number(b.text("#population-size").await.unwrap_or_default());
        if population > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let computed = number(b.text("#computed-size").await.unwrap());
    assert!(population > 0 && computed > 0 && computed <= population);
    b.set_value("#sample_size", "5").await.unwrap();
    b.click("#save").await.unwrap();
    wait_url(&b, "ok=study_created").await;
    let url = b.current_url().await.unwrap();
    let study: i64 = url
        .split("/studies/")
        .nth(1)
        .and_then(|s| s.split(['?', '/']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a study page, not {url}"));
    b.click("#draw").await.unwrap();
    wait_url(&b, "ok=study_drawn").await;
    b.click("#open").await.unwrap();
    wait_url(&b, "ok=study_opened").await;
    assert_eq!(b.text("#count-invited").await.unwrap().trim(), "5");

    // The report before any answer: nothing to draw yet.
    b.goto(&app.url(&format!("/studies/{study}/report")))
        .await
        .unwrap();
    assert_eq!(b.text("#report-responses").await.unwrap().trim(), "0");
    assert!(b.find("#ipa").await.is_err(), "no matrix without answers");

    // The first invitation's link and QR code.
    let (st, inv) = manager
        .get(&format!("/api/v1/studies/{study}/invitations"))
        .await;
    assert_eq!(st, 200, "{inv}");
    let first = &inv["items"][0];
    let inv_id = first["id"].as_i64().unwrap();
    let link = first["link"].as_str().unwrap();
    let path = &link[link.find("/s/").expect("an answer link")..];
    b.goto(&app.url(&format!("/studies/{study}")))
        .await
        .unwrap();
    b.find(&format!("#qr-{inv_id}")).await.unwrap();

    // The customer, on a phone, without signing in (a fresh browser has no session).
    let phone = Browser::start_with_lang(Some("zh-CN")).await.unwrap();
    phone.set_window(390, 844).await.unwrap();
    phone.goto(&app.url(path)).await.unwrap();
    for item in &template.items {
        let id = item.id;
        match item.kind.as_str() {
            "text" => phone
                .fill(&format!("#item_{id}"), "工程师很专业，响应再快一点就更好了")
                .await
                .unwrap(),
            "nps" => phone.click(&format!("#item_{id}_9")).await.unwrap(),
            "ces" => phone.click(&format!("#item_{id}_6")).await.unwrap(),
            _ => {
                // Alternate 4 and 5 so the items differ.
                let point = if id % 2 == 0 { 5 } else { 4 };
                phone.click(&format!("#item_{id}_{point}")).await.unwrap()
            }
        }
    }
    phone
        .screenshot(&shots.join("e2e-satisfaction-phone.png"))
        .await
        .unwrap();
    phone.click("#submit").await.unwrap();
    phone.find("#thanks").await.unwrap();
    // The same link again is refused, kindly.
    phone.goto(&app.url(path)).await.unwrap();
    phone.find("#refusal").await.unwrap();
    phone.close().await.unwrap();

    // The manager sees the answer counted, the scores and the matrix.
    b.goto(&app.url(&format!("/studies/{study}")))
        .await
        .unwrap();
    assert_eq!(b.text("#count-responses").await.unwrap().trim(), "1");
    b.click("#report-link").await.unwrap();
    wait_url(&b, "/report").await;
    assert_eq!(b.text("#report-responses").await.unwrap().trim(), "1");
    let ipa = b.text("#ipa").await.unwrap();
    let scale_items = template.items.iter().filter(|i| i.kind == "scale").count();
    assert!(scale_items > 0);
    for item in template.items.iter().filter(|i| i.kind == "scale").take(3) {
        assert!(ipa.contains(&item.text), "{} in the matrix", item.text);
    }
    let html = b.source().await.unwrap();
    assert!(html.contains("<svg"), "the matrix is drawn");
    let (_, stats) = manager.get(&format!("/api/v1/studies/{study}/stats")).await;
    assert_eq!(stats["responses"], Value::from(1), "{stats}");
    b.screenshot(&shots.join("e2e-satisfaction-report.png"))
        .await
        .unwrap();
    b.close().await.unwrap();
}
