//! Tests: isolation. Nothing crosses organizations — lists, records by id (HTML and API),
//! references, the audit trail, tokens and users — switching organizations shows only the
//! chosen one, and each role reaches exactly what it may.

use domain::FieldErrors;
use domain::auth::Role;
use domain::org::UserDraft;
use serde_json::{Value, json};
use store::audit::Actor;

use crate::helpers::*;

async fn user_id(app: &TestApp, login: &str) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    store::users::by_login(&mut h.c(), login)
        .await
        .unwrap()
        .expect("user")
        .0
        .id
}

/// Creates a department, a post and a staff member through the API; returns their ids.
async fn seed(api: &Api, tag: &str) -> (i64, i64, i64) {
    let (st, d) = api
        .post(
            "/api/v1/departments",
            json!({"code": tag, "name": format!("{tag} 服务部")}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let dep = d["id"].as_i64().unwrap();
    let (st, p) = api
        .post(
            "/api/v1/posts",
            json!({"name": format!("{tag} 工程师"), "department_id": dep, "duties": ["维修"]}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let post = p["id"].as_i64().unwrap();
    let (st, s) = api
        .post(
            "/api/v1/staff",
            json!({"name": format!("{tag} 员工"), "department_id": dep, "post_id": post}),
        )
        .await;
    assert_eq!(st, 201, "{s}");
    (dep, post, s["id"].as_i64().unwrap())
}

/// GET through a browser session (cookie auth), as JSON.
async fn session_json(s: &Session, path: &str) -> (u16, Value) {
    let r = s.get(path).await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["name"]
                .as_str()
                .or(x["login"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

/// The body PUT needs for each kind of record.
fn put_body(kind: &str, dep: i64) -> Value {
    match kind {
        "departments" => json!({"name": "被篡改", "version": 1}),
        "posts" => json!({"name": "被篡改", "duties": ["x"], "version": 1}),
        _ => json!({"name": "被篡改", "department_id": dep, "version": 1}),
    }
}

fn form_body(kind: &str, dep: &str) -> Vec<(&'static str, String)> {
    let mut f = vec![("version", "1".to_string()), ("name", "被篡改".to_string())];
    match kind {
        "posts" => f.push(("duties", "x".into())),
        "staff" => f.push(("department_id", dep.to_string())),
        _ => {}
    }
    f
}

#[tokio::test]
async fn organizations_never_see_each_other() {
    for b in backends() {
        let app = spawn_app(b).await;
        let beta = app.other_org("beta", "beta-admin").await;
        let beta_admin = user_id(&app, "beta-admin").await;
        let (ta_id, ta) = server::admin::issue_token(
            &app.st,
            &Actor::system("test"),
            app.admin_id,
            app.org,
            "acme-ci",
        )
        .await
        .unwrap();
        let (tb_id, tb) = server::admin::issue_token(
            &app.st,
            &Actor::system("test"),
            beta_admin,
            beta,
            "beta-ci",
        )
        .await
        .unwrap();
        let (api_a, api_b) = (app.api(&ta), app.api(&tb));
        let (a_dep, a_post, a_staff) = seed(&api_a, "ACME").await;
        let (b_dep, b_post, b_staff) = seed(&api_b, "BETA").await;
        // names are unique per organization only
        let (st, _) = api_a
            .post("/api/v1/departments", json!({"name": "共同"}))
            .await;
        assert_eq!(st, 201);
        let (st, _) = api_b
            .post("/api/v1/departments", json!({"name": "共同"}))
            .await;
        assert_eq!(st, 201, "the same name in another organization is fine");

        // --- API lists ---
        for (api, tag, other) in [(&api_a, "ACME", "BETA"), (&api_b, "BETA", "ACME")] {
            let (st, l) = api.get("/api/v1/departments?include_retired=true").await;
            assert_eq!(st, 200);
            assert_eq!(names(&l), vec![format!("{tag} 服务部"), "共同".to_string()]);
            assert_eq!(l["total"], 2);
            let (_, l) = api.get("/api/v1/posts?include_retired=true").await;
            assert_eq!(names(&l), vec![format!("{tag} 工程师")]);
            let (_, l) = api.get("/api/v1/staff?include_retired=true").await;
            assert_eq!(names(&l), vec![format!("{tag} 员工")]);
            let (_, l) = api.get(&format!("/api/v1/staff?q={other}")).await;
            assert_eq!(l["total"], 0);
        }

        // --- HTML lists ---
        let sa = app.login("admin").await;
        let sb = app.login("beta-admin").await;
        for (s, mine, theirs) in [(&sa, "ACME", "BETA"), (&sb, "BETA", "ACME")] {
            for path in [
                "/org/departments?retired=1",
                "/org/posts?retired=1",
                "/org/staff?retired=1",
                "/",
            ] {
                let (st, html) = s.page(path).await;
                assert_eq!(st, 200, "{path}");
                assert!(!html.contains(theirs), "{mine} sees {theirs} on {path}");
                if path != "/" {
                    assert!(html.contains(mine), "{mine} on {path}");
                }
            }
            let (_, html) = s.page("/").await;
            assert!(html.contains("<span class=\"tile-num\" id=\"count-departments\">2</span>"));
            assert!(html.contains("<span class=\"tile-num\" id=\"count-staff\">1</span>"));
            // choice lists in forms
            let (_, html) = s.page("/org/staff/new").await;
            assert!(html.contains(mine) && !html.contains(theirs));
        }

        // --- records of the other organization by id: 404 everywhere, nothing changes ---
        for (kind, id) in [
            ("departments", b_dep),
            ("posts", b_post),
            ("staff", b_staff),
        ] {
            let (st, body) = api_a.get(&format!("/api/v1/{kind}/{id}")).await;
            assert_eq!(
                (st, body["error"].as_str()),
                (404, Some("not_found")),
                "GET {kind}"
            );
            let (st, _) = api_a
                .put(&format!("/api/v1/{kind}/{id}"), put_body(kind, a_dep))
                .await;
            assert_eq!(st, 404, "PUT {kind}");
            for action in ["retire", "restore"] {
                let (st, _) = api_a
                    .post(
                        &format!("/api/v1/{kind}/{id}/{action}"),
                        json!({"version": 1}),
                    )
                    .await;
                assert_eq!(st, 404, "{action} {kind}");
            }
            for path in [
                format!("/org/{kind}/{id}"),
                format!("/org/{kind}/{id}/edit"),
            ] {
                let (st, html) = sa.page(&path).await;
                assert_eq!(st, 404, "{path}");
                assert!(!html.contains("BETA"));
            }
            let a_dep_s = a_dep.to_string();
            let f = form_body(kind, &a_dep_s);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = sa.post(&format!("/org/{kind}/{id}"), &f).await;
            assert_eq!(r.status(), 404, "HTML update {kind}");
            for action in ["retire", "restore"] {
                let r = sa
                    .post(&format!("/org/{kind}/{id}/{action}"), &[("version", "1")])
                    .await;
                assert_eq!(r.status(), 404, "HTML {action} {kind}");
            }
            let (st, rec) = api_b.get(&format!("/api/v1/{kind}/{id}")).await;
            assert_eq!(st, 200);
            assert_eq!(
                (rec["version"].as_i64(), rec["active"].as_bool()),
                (Some(1), Some(true)),
                "{kind} untouched"
            );
            assert!(rec["name"].as_str().unwrap().starts_with("BETA"));
        }
        // and the other way round, once
        let (st, _) = api_b.get(&format!("/api/v1/staff/{a_staff}")).await;
        assert_eq!(st, 404);
        let (st, _) = sb.page(&format!("/org/posts/{a_post}")).await;
        assert_eq!(st, 404);

        // --- references to the other organization's records are refused ---
        let (st, body) = api_a
            .post(
                "/api/v1/staff",
                json!({"name": "X", "department_id": b_dep}),
            )
            .await;
        assert_eq!(
            (st, body["fields"].clone()),
            (
                422,
                json!({"department_id": "Choose a value from the list."})
            )
        );
        let (st, body) = api_a
            .post(
                "/api/v1/staff",
                json!({"name": "X", "department_id": a_dep, "post_id": b_post}),
            )
            .await;
        assert_eq!(
            (st, body["fields"].clone()),
            (422, json!({"post_id": "Choose a value from the list."}))
        );
        let (st, body) = api_a
            .post(
                "/api/v1/departments",
                json!({"name": "X", "parent_id": b_dep}),
            )
            .await;
        assert_eq!(
            (st, body["fields"].clone()),
            (422, json!({"parent_id": "Choose a value from the list."}))
        );
        let (st, body) = api_a
            .post(
                "/api/v1/posts",
                json!({"name": "X", "department_id": b_dep, "duties": ["x"]}),
            )
            .await;
        assert_eq!(
            (st, body["fields"].clone()),
            (
                422,
                json!({"department_id": "Choose a value from the list."})
            )
        );
        let r = sa
            .post(
                "/org/staff",
                &[("name", "X"), ("department_id", &b_dep.to_string())],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_error(&r.text().await.unwrap(), "department_id").as_deref(),
            Some("请从列表中选择。")
        );

        // --- audit trail ---
        let (st, la) = api_a.get("/api/v1/audit?per_page=200").await;
        assert_eq!(st, 200);
        let items = la["items"].as_array().unwrap();
        assert!(!items.is_empty());
        assert!(
            items.iter().all(|e| e["org_id"] == app.org),
            "only acme rows"
        );
        assert!(!la.to_string().contains("BETA"), "no beta snapshot leaks");
        let (_, lb) = api_b.get("/api/v1/audit?per_page=200").await;
        let b_items = lb["items"].as_array().unwrap();
        assert!(b_items.iter().all(|e| e["org_id"] == beta));
        assert!(!lb.to_string().contains("ACME"));
        let (_, l) = api_a
            .get(&format!(
                "/api/v1/audit?entity=department&entity_id={b_dep}"
            ))
            .await;
        assert_eq!(l["total"], 0);
        let (_, html) = sa
            .page(&format!("/audit?entity=department&entity_id={b_dep}"))
            .await;
        assert!(list_rows(&html).is_empty());
        let (_, html) = sa.page("/audit").await;
        assert!(!list_rows(&html).is_empty() && !html.contains("BETA"));
        let beta_entry = b_items
            .iter()
            .find(|e| e["entity"] == "department" && e["entity_id"] == b_dep)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (st, _) = sb.page(&format!("/audit/{beta_entry}")).await;
        assert_eq!(st, 200);
        let (st, html) = sa.page(&format!("/audit/{beta_entry}")).await;
        assert_eq!(st, 404);
        assert!(!html.contains("BETA"));

        // --- tokens are bound to their organization ---
        let (_, me) = api_b.get("/api/v1/me").await;
        assert_eq!(
            (me["organization_id"].as_i64(), me["login"].as_str()),
            (Some(beta), Some("beta-admin"))
        );
        let (st, l) = api_a.get("/api/v1/tokens").await;
        assert_eq!(st, 200);
        let ids: Vec<i64> = l
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&ta_id) && !ids.contains(&tb_id), "{ids:?}");
        let (_, l) = api_b.get("/api/v1/tokens").await;
        let ids: Vec<i64> = l
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![tb_id]);
        let (_, html) = sa.page("/admin/tokens").await;
        assert!(
            html.contains("acme-ci") && !html.contains("beta-ci") && !html.contains("beta-admin")
        );
        let r = api_a
            .http
            .delete(app.url(&format!("/api/v1/tokens/{tb_id}")))
            .bearer_auth(&ta)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "revoking another organization's token");
        let r = sa
            .post(&format!("/tokens/{tb_id}/revoke"), &[("back", "admin")])
            .await;
        assert_eq!(r.status(), 404);
        let (st, _) = api_b.get("/api/v1/me").await;
        assert_eq!(st, 200, "beta's token still works");
        let e =
            server::admin::issue_token(&app.st, &Actor::system("test"), beta_admin, app.org, "x")
                .await;
        assert!(
            matches!(e, Err(server::error::AppError::NotFound)),
            "no token for an organization one is not in"
        );

        // --- users ---
        let (st, l) = api_a.get("/api/v1/users").await;
        assert_eq!(st, 200);
        assert_eq!(names(&l), vec!["admin"]);
        let (_, l) = api_b.get("/api/v1/users").await;
        assert_eq!(names(&l), vec!["beta-admin"]);
        let (st, html) = sa.page("/admin/users").await;
        assert_eq!(st, 200);
        assert!(!html.contains("beta-admin"));
        let (st, _) = sa.page(&format!("/admin/users/{beta_admin}")).await;
        assert_eq!(st, 404, "editing a member of another organization");
        let r = sa
            .post(
                &format!("/admin/users/{beta_admin}"),
                &[("display_name", "hijacked"), ("role", "auditor")],
            )
            .await;
        assert_eq!(r.status(), 404);
        let r = sa
            .post(&format!("/admin/users/{beta_admin}/password"), &[])
            .await;
        assert_eq!(
            r.status(),
            404,
            "resetting the password of another organization's member"
        );
        let again = Session::new(&app);
        assert_eq!(
            again.sign_in("beta-admin", PW).await.status(),
            303,
            "their password still works"
        );
        let (_, me) = api_b.get("/api/v1/users").await;
        assert_eq!(me["items"][0]["role"], "admin");
        assert_ne!(me["items"][0]["display_name"], "hijacked");
        let (st, html) = sb.page("/admin/users").await;
        assert_eq!(st, 200);
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("beta-admin"));
    }
}

#[tokio::test]
async fn switching_organizations() {
    for b in backends() {
        let app = spawn_app(b).await;
        let beta = app.other_org("beta", "beta-admin").await;
        let gamma =
            server::admin::create_org(&app.st, &Actor::system("test"), "gamma", "gamma", None)
                .await
                .unwrap();
        let beta_admin = user_id(&app, "beta-admin").await;
        let api_a = app.api(&app.token(app.admin_id, app.org).await);
        let api_b = app.api(&app.token(beta_admin, beta).await);
        let (a_dep, _, _) = seed(&api_a, "ACME").await;
        let (b_dep, _, _) = seed(&api_b, "BETA").await;
        // admin joins beta as a manager (existing login, empty password)
        let d = UserDraft::parse(
            FieldErrors::default(),
            "admin",
            "Administrator",
            "manager",
            vec![],
        )
        .unwrap();
        let id = server::admin::create_member(&app.st, &Actor::system("test"), beta, d, "")
            .await
            .unwrap();
        assert_eq!(id, app.admin_id);

        let s = app.login("admin").await;
        let (_, html) = s.page("/").await;
        assert!(html.contains("<span class=\"org-name\">Acme 设备</span>"));
        assert!(
            html.contains("id=\"switch-org-id\""),
            "the switcher is shown to members of two organizations"
        );
        assert_eq!(
            selected_value(&html, "switch-org-id").as_deref(),
            Some(app.org.to_string().as_str())
        );

        let r = s
            .post("/switch-org", &[("org_id", &beta.to_string())])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/");
        let (_, html) = s.page("/").await;
        assert!(html.contains("<span class=\"org-name\">beta</span>"));
        assert!(
            html.contains("售后经理"),
            "role badge of the new organization"
        );
        for path in ["/org/departments", "/org/posts", "/org/staff"] {
            let (st, html) = s.page(path).await;
            assert_eq!(st, 200);
            assert!(html.contains("BETA") && !html.contains("ACME"), "{path}");
        }
        let (st, me) = session_json(&s, "/api/v1/me").await;
        assert_eq!(st, 200);
        assert_eq!(
            (me["organization_id"].as_i64(), me["role"].as_str()),
            (Some(beta), Some("manager"))
        );
        let (_, l) = session_json(&s, "/api/v1/departments").await;
        assert_eq!(names(&l), vec!["BETA 服务部"]);
        let (st, _) = s.page(&format!("/org/departments/{a_dep}")).await;
        assert_eq!(
            st, 404,
            "acme's record is out of reach while working in beta"
        );
        let (st, _) = s.page(&format!("/org/departments/{b_dep}")).await;
        assert_eq!(st, 200);
        let (st, _) = s.page("/admin/users").await;
        assert_eq!(st, 403, "a manager in beta cannot manage users there");
        let (_, audit) = api_b
            .get("/api/v1/audit?action=create&entity=membership")
            .await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["entity_id"] == app.admin_id)
        );
        // the token still works in the organization it was issued for
        let (_, l) = api_a.get("/api/v1/departments").await;
        assert_eq!(names(&l), vec!["ACME 服务部"]);

        // not a member: refused, and the session stays where it was
        for org in [gamma.to_string(), "999999".to_string()] {
            let r = s.post("/switch-org", &[("org_id", &org)]).await;
            assert_eq!(r.status(), 403, "switch to {org}");
        }
        let r = s.post("/switch-org", &[("org_id", "abc")]).await;
        assert_eq!(r.status(), 400);
        let (_, html) = s.page("/org/departments").await;
        assert!(html.contains("BETA"));
        // a non-member switching to beta is refused too
        let other = app.login("beta-admin").await;
        let r = other
            .post("/switch-org", &[("org_id", &app.org.to_string())])
            .await;
        assert_eq!(r.status(), 403);

        // back to acme
        let r = s
            .post("/switch-org", &[("org_id", &app.org.to_string())])
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page("/org/departments").await;
        assert!(html.contains("ACME") && !html.contains("BETA"));
        let (st, _) = s.page("/admin/users").await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn roles_reach_only_what_they_may() {
    for b in backends() {
        let app = spawn_app(b).await;
        let admin_api = app.api(&app.token(app.admin_id, app.org).await);
        let (dep, post, staff) = seed(&admin_api, "ACME").await;
        let roles = [
            ("mgr", Role::Manager),
            ("eng", Role::Engineer),
            ("stf", Role::Staff),
            ("sup", Role::Supervisor),
            ("aud", Role::Auditor),
        ];
        for (login, role) in roles {
            let uid = app.user(app.org, login, role).await;
            let api = app.api(&app.token(uid, app.org).await);
            let s = app.login(login).await;
            let manage_org = role == Role::Manager;
            let view_audit = matches!(role, Role::Manager | Role::Supervisor | Role::Auditor);

            // everyone reads the organization
            let paths = [
                "/org/departments".to_string(),
                "/org/posts".into(),
                "/org/staff".into(),
                format!("/org/departments/{dep}"),
                format!("/org/staff/{staff}"),
            ];
            for path in &paths {
                let (st, _) = s.page(path).await;
                assert_eq!(st, 200, "{login} GET {path}");
            }
            let (st, _) = api.get(&format!("/api/v1/posts/{post}")).await;
            assert_eq!(st, 200);
            let (_, html) = s.page("/org/departments").await;
            assert_eq!(
                html.contains("id=\"new\""),
                manage_org,
                "{login}: new button"
            );
            let (_, html) = s.page("/").await;
            assert_eq!(
                html.contains("<span class=\"badge\">只读</span>"),
                role == Role::Auditor,
                "{login}: read-only badge"
            );
            assert_eq!(
                html.contains("href=\"/audit\""),
                view_audit,
                "{login}: audit nav"
            );
            assert!(
                !html.contains("href=\"/admin/users\""),
                "{login}: users nav"
            );

            // writes
            let want = if manage_org { 200 } else { 403 };
            let (st, _) = s.page("/org/departments/new").await;
            assert_eq!(st, want, "{login} new form");
            let (st, _) = s.page(&format!("/org/posts/{post}/edit")).await;
            assert_eq!(st, want, "{login} edit form");
            let r = s
                .post("/org/departments", &[("name", &format!("{login} 部"))])
                .await;
            assert_eq!(
                r.status(),
                if manage_org { 303 } else { 403 },
                "{login} HTML create"
            );
            let (st, body) = api
                .post(
                    "/api/v1/departments",
                    json!({"name": format!("{login} API 部")}),
                )
                .await;
            assert_eq!(st, if manage_org { 201 } else { 403 }, "{login} API create");
            if !manage_org {
                assert_eq!(body["error"], "forbidden");
                let (_, d) = api.get(&format!("/api/v1/departments/{dep}")).await;
                let v = d["version"].as_i64().unwrap();
                let (st, _) = api
                    .put(
                        &format!("/api/v1/departments/{dep}"),
                        json!({"name": "x", "version": v}),
                    )
                    .await;
                assert_eq!(st, 403, "{login} PUT");
                let (st, _) = api
                    .post(
                        &format!("/api/v1/staff/{staff}/retire"),
                        json!({"version": 1}),
                    )
                    .await;
                assert_eq!(st, 403, "{login} retire staff");
                let (st, _) = api
                    .post("/api/v1/posts", json!({"name": "x", "duties": ["y"]}))
                    .await;
                assert_eq!(st, 403, "{login} create post");
                let (st, _) = api
                    .post("/api/v1/staff", json!({"name": "x", "department_id": dep}))
                    .await;
                assert_eq!(st, 403, "{login} create staff");
                let r = s
                    .post(&format!("/org/staff/{staff}/retire"), &[("version", "1")])
                    .await;
                assert_eq!(r.status(), 403, "{login} HTML retire");
                let r = s
                    .post(
                        &format!("/org/departments/{dep}"),
                        &[("version", &v.to_string()), ("name", "x")],
                    )
                    .await;
                assert_eq!(r.status(), 403, "{login} HTML update");
            } else {
                let (_, d) = api.get(&format!("/api/v1/departments/{dep}")).await;
                let (st, _) = api
                    .put(
                        &format!("/api/v1/departments/{dep}"),
                        json!({"code": "ACME", "name": "ACME 服务部", "version": d["version"]}),
                    )
                    .await;
                assert_eq!(st, 200, "manager edits");
            }

            // users: administrators only
            let (st, _) = s.page("/admin/users").await;
            assert_eq!(st, 403, "{login} /admin/users");
            let (st, _) = s.page("/admin/users/new").await;
            assert_eq!(st, 403);
            let (st, body) = api.get("/api/v1/users").await;
            assert_eq!(
                (st, body["error"].as_str()),
                (403, Some("forbidden")),
                "{login} /api/v1/users"
            );
            let (st, _) = api
                .post("/api/v1/users", json!({"login": format!("{login}-x"), "display_name": "x", "role": "admin", "password": PW}))
                .await;
            assert_eq!(st, 403, "{login} creates a user");
            let r = s
                .post(
                    "/admin/users",
                    &[
                        ("login", "sneaky"),
                        ("display_name", "x"),
                        ("role", "admin"),
                        ("password", PW),
                    ],
                )
                .await;
            assert_eq!(r.status(), 403);

            // audit trail
            let (st, _) = s.page("/audit").await;
            assert_eq!(st, if view_audit { 200 } else { 403 }, "{login} /audit");
            let (st, _) = api.get("/api/v1/audit").await;
            assert_eq!(
                st,
                if view_audit { 200 } else { 403 },
                "{login} /api/v1/audit"
            );
            let (_, html) = s.page(&format!("/org/departments/{dep}")).await;
            assert_eq!(html.contains("id=\"history\""), view_audit);
        }
        // refused writes changed nothing: only the manager's edit and departments exist
        let (_, l) = admin_api.get("/api/v1/departments").await;
        assert_eq!(names(&l), vec!["ACME 服务部", "mgr API 部", "mgr 部"]);
        let (_, d) = admin_api.get(&format!("/api/v1/departments/{dep}")).await;
        assert_eq!(d["version"], 2);
        let (_, s) = admin_api.get(&format!("/api/v1/staff/{staff}")).await;
        assert_eq!(
            (s["active"].as_bool(), s["version"].as_i64()),
            (Some(true), Some(1))
        );
        let (_, u) = admin_api.get("/api/v1/users").await;
        assert_eq!(u["total"], 6);
        // the administrator reaches everything
        let s = app.login("admin").await;
        for path in [
            "/admin/users",
            "/admin/users/new",
            "/admin/tokens",
            "/audit",
            "/org/departments/new",
        ] {
            let (st, _) = s.page(path).await;
            assert_eq!(st, 200, "admin {path}");
        }
    }
}
