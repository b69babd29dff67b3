//! Tests: api. The OpenAPI document and the embedded API page, authentication (no token,
//! bad or revoked token), CSRF for cookie-authenticated writes, malformed bodies, `/me`,
//! creating users, and API tokens through the account pages.

use serde_json::{Value, json};

use crate::helpers::*;

/// Every `src="…"` and `href="…"` of a page.
fn asset_refs(html: &str) -> Vec<String> {
    let mut out = vec![];
    for key in ["src=\"", "href=\""] {
        for part in html.split(key).skip(1) {
            if let Some(end) = part.find('"') {
                out.push(part[..end].to_string());
            }
        }
    }
    out
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn openapi_document_and_api_page() {
    for b in backends() {
        let app = spawn_app(b).await;
        let http = reqwest::Client::new();

        let r = http
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let doc: Value = r.json().await.expect("valid JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/departments",
            "/api/v1/departments/{id}",
            "/api/v1/posts",
            "/api/v1/staff",
            "/api/v1/me",
            "/api/v1/users",
            "/api/v1/audit",
        ] {
            assert!(paths.contains_key(p), "{p} documented");
        }
        assert!(paths["/api/v1/departments"]["get"].is_object());
        assert!(paths["/api/v1/departments"]["post"].is_object());
        let scheme = &doc["components"]["securitySchemes"]["bearer"];
        assert_eq!(scheme["type"], "http");
        assert_eq!(
            scheme["scheme"].as_str().map(str::to_lowercase).as_deref(),
            Some("bearer")
        );
        assert_eq!(
            paths["/api/v1/departments"]["get"]["security"],
            json!([{"bearer": []}])
        );

        // the browsable API page is served from the binary, with its assets
        let r = http.get(app.url("/api/docs/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(html.to_lowercase().contains("swagger"));
        let refs: Vec<String> = asset_refs(&html)
            .into_iter()
            .filter(|u| !u.starts_with("http") && !u.starts_with("data:") && !u.starts_with('#'))
            .collect();
        assert!(refs.iter().any(|u| u.ends_with(".js")), "{refs:?}");
        assert!(refs.iter().any(|u| u.ends_with(".css")), "{refs:?}");
        let mut initializer = String::new();
        for u in &refs {
            let path = match u.strip_prefix("./") {
                Some(rest) => format!("/api/docs/{rest}"),
                None if u.starts_with('/') => u.clone(),
                None => format!("/api/docs/{u}"),
            };
            let r = http.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            let body = r.text().await.unwrap();
            assert!(!body.is_empty(), "{path} is empty");
            if path.ends_with(".js") {
                assert!(ct.contains("javascript"), "{path}: {ct}");
            }
            if path.ends_with(".css") {
                assert!(ct.starts_with("text/css"), "{path}: {ct}");
            }
            if path.contains("initializer") {
                initializer = body;
            }
        }
        assert!(
            initializer.contains("/api/v1/openapi.json"),
            "the page loads our document"
        );
    }
}

#[tokio::test]
async fn authentication_csrf_and_errors() {
    for b in backends() {
        let app = spawn_app(b).await;
        let http = reqwest::Client::new();

        // no token, a wrong token, a malformed header
        let (st, body) = json_of(
            http.get(app.url("/api/v1/departments"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, 401);
        assert_eq!(body["error"], "unauthenticated");
        let (st, body) = json_of(
            http.post(app.url("/api/v1/departments"))
                .json(&json!({"name": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((st, body["error"].as_str()), (401, Some("unauthenticated")));
        let (st, body) = json_of(
            http.get(app.url("/api/v1/me"))
                .bearer_auth("as_nope")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((st, body["error"].as_str()), (401, Some("unauthenticated")));
        let (st, _) = app.api("").get("/api/v1/me").await;
        assert_eq!(st, 401);

        // a revoked token stops working at once
        let (tid, secret) = server::admin::issue_token(
            &app.st,
            &store::audit::Actor::system("test"),
            app.admin_id,
            app.org,
            "old",
        )
        .await
        .unwrap();
        let api = app.api(&secret);
        let (st, _) = api.get("/api/v1/me").await;
        assert_eq!(st, 200);
        let main = app.api(&app.token(app.admin_id, app.org).await);
        let r = main
            .http
            .delete(app.url(&format!("/api/v1/tokens/{tid}")))
            .bearer_auth(&main.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (st, body) = api.get("/api/v1/me").await;
        assert_eq!((st, body["error"].as_str()), (401, Some("unauthenticated")));
        let (st, _) = api.post("/api/v1/departments", json!({"name": "x"})).await;
        assert_eq!(st, 401);
        let (_, list) = main.get("/api/v1/tokens").await;
        let t = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == tid)
            .unwrap()
            .clone();
        assert!(t["revoked_at"].is_i64());
        let (_, audit) = main
            .get(&format!("/api/v1/audit?entity=api_token&entity_id={tid}"))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, vec!["revoke", "create"]);

        // /me
        let (st, me) = main.get("/api/v1/me").await;
        assert_eq!(st, 200);
        assert_eq!(me["user_id"], app.admin_id);
        assert_eq!(me["login"], "admin");
        assert_eq!(me["display_name"], "Administrator");
        assert_eq!(me["organization_id"], app.org);
        assert_eq!(me["organization"], "Acme 设备");
        assert_eq!(me["role"], "admin");

        // malformed JSON, wrong shape, wrong content type: 400 in our JSON shape
        let r = http
            .post(app.url("/api/v1/departments"))
            .bearer_auth(&main.token)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        let (st, body) = json_of(r).await;
        assert_eq!(st, 400);
        assert_eq!(body["error"], "bad_request");
        assert!(body["detail"].is_string());
        let (st, body) = main.post("/api/v1/departments", json!({"name": 5})).await;
        assert_eq!(
            (st, body["error"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );
        let r = http
            .post(app.url("/api/v1/departments"))
            .bearer_auth(&main.token)
            .body("name=x")
            .send()
            .await
            .unwrap();
        let (st, body) = json_of(r).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("bad_request")));
        let (_, l) = main.get("/api/v1/departments").await;
        assert_eq!(l["total"], 0, "nothing was created");
        let (st, body) = main.get("/api/v1/nothing-here").await;
        assert_eq!((st, body["error"].as_str()), (404, Some("not_found")));

        // the session cookie works for reads; writes need the X-CSRF-Token header
        let s = app.login("admin").await;
        let (st, me) = json_of(s.get("/api/v1/me").await).await;
        assert_eq!((st, me["login"].as_str()), (200, Some("admin")));
        let r = s
            .http
            .post(app.url("/api/v1/departments"))
            .json(&json!({"name": "会话部门"}))
            .send()
            .await
            .unwrap();
        let (st, body) = json_of(r).await;
        assert_eq!((st, body["error"].as_str()), (403, Some("csrf")));
        let r = s
            .http
            .post(app.url("/api/v1/departments"))
            .header("x-csrf-token", "0123456789abcdef0123456789abcdef")
            .json(&json!({"name": "会话部门"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_of(r).await.1["error"],
            "csrf",
            "a wrong token is refused"
        );
        let csrf = s.csrf.lock().unwrap().clone();
        assert_eq!(csrf.len(), 32);
        let r = s
            .http
            .post(app.url("/api/v1/departments"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "会话部门"}))
            .send()
            .await
            .unwrap();
        let (st, d) = json_of(r).await;
        assert_eq!(st, 201, "{d}");
        let r = s
            .http
            .put(app.url(&format!("/api/v1/departments/{}", d["id"])))
            .json(&json!({"name": "会话部门2", "version": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_of(r).await,
            (403, json_of_csrf_body()),
            "PUT needs the header too"
        );
        let (_, l) = main.get("/api/v1/departments").await;
        assert_eq!(l["total"], 1, "only the write with the header went through");
        // HTML forms without the _csrf field are refused
        let r = s
            .post_no_csrf("/org/departments", &[("name", "无令牌")])
            .await;
        assert_eq!(r.status(), 403);
    }
}

const MEMBER_ALREADY: &str = "This user is already a member of this organization";

fn json_of_csrf_body() -> Value {
    json!({
        "error": "csrf",
        "message": "表单已过期或缺少安全令牌，请刷新页面后重试。",
        "fields": {}
    })
}

#[tokio::test]
async fn users_and_tokens() {
    for b in backends() {
        let app = spawn_app(b).await;
        let main = app.api(&app.token(app.admin_id, app.org).await);

        // POST /api/v1/users creates a user who can sign in
        let (st, body) = main
            .post("/api/v1/users", json!({"login": "wang", "display_name": "王工", "role": "engineer", "password": "short"}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"],
            json!({"password": "At least 10 characters."})
        );
        let (st, body) = main
            .post(
                "/api/v1/users",
                json!({"login": "W", "display_name": "", "role": "root", "password": PW}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"],
            json!({"login": "A login has 3 to 32 characters.", "display_name": "Required.", "role": "Choose a value from the list."})
        );
        let (st, u) = main
            .post("/api/v1/users", json!({"login": "Wang", "display_name": "王工", "role": "engineer", "password": PW}))
            .await;
        assert_eq!(st, 201, "{u}");
        assert_eq!(u["login"], "wang");
        assert_eq!(u["role"], "engineer");
        assert_eq!(u["active"], true);
        let (st, body) = main
            .post(
                "/api/v1/users",
                json!({"login": "wang", "display_name": "x", "role": "staff", "password": PW}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            vec!["login"]
        );
        // a login of another organization: taken when a password is given, added without one
        app.other_org("beta", "beta-admin").await;
        let (st, body) = main
            .post("/api/v1/users", json!({"login": "beta-admin", "display_name": "x", "role": "auditor", "password": PW}))
            .await;
        assert_eq!(
            (st, body["fields"].clone()),
            (422, json!({"login": "Already in use."}))
        );
        let (st, m) = main
            .post(
                "/api/v1/users",
                json!({"login": "beta-admin", "display_name": "x", "role": "auditor"}),
            )
            .await;
        assert_eq!(st, 201, "{m}");
        assert_eq!(m["role"], "auditor");
        let (st, body) = main
            .post(
                "/api/v1/users",
                json!({"login": "wang", "display_name": "x", "role": "staff"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(body["fields"], json!({"login": MEMBER_ALREADY}));
        let (_, l) = main.get("/api/v1/users").await;
        assert_eq!(l["total"], 3);
        let wang = app.login("wang").await;
        let (st, me) = json_of(wang.get("/api/v1/me").await).await;
        assert_eq!(st, 200);
        assert_eq!(
            (
                me["login"].as_str(),
                me["role"].as_str(),
                me["organization_id"].as_i64()
            ),
            (Some("wang"), Some("engineer"), Some(app.org))
        );
        let bad = Session::new(&app);
        assert_eq!(bad.sign_in("wang", "wrong-password!").await.status(), 401);

        // tokens through the account pages: the secret is shown once
        let (st, html) = wang.page("/account/tokens").await;
        assert_eq!(st, 200);
        assert!(list_rows(&html).is_empty());
        let r = wang.post("/account/tokens", &[("name", " ")]).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_errors(&html), vec!["必填。"]);
        assert!(!html.contains("id=\"token-secret\""));
        let r = wang.post("/account/tokens", &[("name", "ERP 对接")]).await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let key = "<code id=\"token-secret\">";
        let i = html.find(key).expect("secret shown") + key.len();
        let secret = html[i..i + html[i..].find('<').unwrap()].to_string();
        assert!(secret.starts_with("as_") && secret.len() > 20, "{secret}");
        assert!(html.contains("新令牌如下，只显示这一次"));
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("ERP 对接") && rows[0].contains(&secret[..10]));
        let api = app.api(&secret);
        let (st, me) = api.get("/api/v1/me").await;
        assert_eq!(
            (st, me["login"].as_str(), me["role"].as_str()),
            (200, Some("wang"), Some("engineer"))
        );
        let (st, _) = api.post("/api/v1/departments", json!({"name": "x"})).await;
        assert_eq!(st, 403, "the token has its user's role");
        // shown once: not on the next visit
        let (_, html) = wang.page("/account/tokens").await;
        assert!(!html.contains("id=\"token-secret\"") && !html.contains(&secret));
        assert_eq!(list_rows(&html).len(), 1);
        // another user's token list does not show it; the admin's overview does
        let (_, html) = app.login("admin").await.page("/account/tokens").await;
        assert!(
            list_rows(&html).iter().all(|r| !r.contains("ERP 对接")),
            "admin's own list"
        );
        let (_, l) = main.get("/api/v1/tokens").await;
        assert!(
            l.as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "ERP 对接" && t["login"] == "wang")
        );
        let (_, l) = api.get("/api/v1/tokens").await;
        assert_eq!(
            l.as_array().unwrap().len(),
            1,
            "a non-admin lists only their own tokens"
        );

        // one cannot revoke someone else's token
        let revoke_id = |html: &str| -> i64 {
            let key = "action=\"/tokens/";
            let i = html.find(key).expect("revoke form") + key.len();
            html[i..i + html[i..].find('/').unwrap()].parse().unwrap()
        };
        let admins = revoke_id(&html);
        let r = wang
            .post(&format!("/tokens/{admins}/revoke"), &[("back", "account")])
            .await;
        assert_eq!(r.status(), 404);
        let (st, _) = main.get("/api/v1/me").await;
        assert_eq!(st, 200);

        // revoke through the page
        let (_, html) = wang.page("/account/tokens").await;
        let tid = revoke_id(&html);
        let r = wang
            .post(&format!("/tokens/{tid}/revoke"), &[("back", "account")])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/account/tokens?ok=token_revoked");
        let (_, html) = wang.page("/account/tokens?ok=token_revoked").await;
        assert!(html.contains("令牌已吊销。"));
        let rows = list_rows(&html);
        assert!(rows[0].contains("已吊销") && !rows[0].contains("action=\"/tokens/"));
        let (st, _) = api.get("/api/v1/me").await;
        assert_eq!(st, 401);
        // revoking twice is harmless and writes one audit row
        let r = wang
            .post(&format!("/tokens/{tid}/revoke"), &[("back", "account")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, audit) = main
            .get(&format!("/api/v1/audit?entity=api_token&entity_id={tid}"))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, vec!["revoke", "create"]);
    }
}

#[tokio::test]
async fn member_list_pages_carry_each_members_departments() {
    use serde_json::json;
    for b in crate::helpers::backends() {
        let app = crate::helpers::spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (_, d1) = api
            .post("/api/v1/departments", json!({"name": "服务部"}))
            .await;
        let (_, d2) = api
            .post("/api/v1/departments", json!({"name": "业务部"}))
            .await;
        for (login, deps) in [
            ("aa.li", json!([d1["id"]])),
            ("bb.wang", json!([d1["id"], d2["id"]])),
        ] {
            let (st, v) = api
                .post(
                    "/api/v1/users",
                    json!({"login": login, "display_name": login, "role": "engineer",
                           "department_ids": deps, "password": "long-enough-pw"}),
                )
                .await;
            assert_eq!(st, 201, "{v}");
        }
        // Logins sort aa.li, admin, bb.wang: page 3 of size 1 is bb.wang alone.
        let (st, v) = api.get("/api/v1/users?per_page=1&page=3").await;
        assert_eq!(st, 200, "{b:?}");
        assert_eq!(v["items"][0]["login"], "bb.wang", "{v}");
        assert_eq!(
            v["items"][0]["departments"],
            json!([d1["id"], d2["id"]]),
            "{v}"
        );
        let (_, v) = api.get("/api/v1/users?per_page=1&page=1").await;
        assert_eq!(v["items"][0]["departments"], json!([d1["id"]]), "{v}");
    }
}

/// Many first requests of a token at once each note its use in a write; a request that kept
/// its read connection while waiting to write held the pool against the writer that had the
/// write gate (the benchmark saw 30 s time-outs). All must answer promptly.
#[tokio::test]
async fn concurrent_first_uses_of_a_token_do_not_starve_the_pool() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = std::sync::Arc::new(app.api(&app.token(app.admin_id, app.org).await));
        let t = std::time::Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let api = api.clone();
            tasks.push(tokio::spawn(async move {
                api.get("/api/v1/departments").await.0
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200, "{b:?}");
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{b:?}: {:?}",
            t.elapsed()
        );
    }
}
