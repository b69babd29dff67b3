//! Tests: org. Departments, posts and staff end to end through the HTML pages and the JSON
//! API: create, list, view, edit, retire/restore, filters and paging, validation (localized
//! field messages, typed input kept), duplicates, parent cycles, optimistic concurrency and
//! the audit rows every change writes.

use serde_json::{Value, json};

use crate::helpers::*;

/// The hidden `version` field of a form.
fn version_field(html: &str) -> String {
    let key = "name=\"version\" value=\"";
    let i = html.find(key).expect("version field") + key.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

/// The audit rows of one record, newest first: (action, before, after).
async fn audit_of(api: &Api, entity: &str, id: i64) -> Vec<(String, Value, Value)> {
    let (st, body) = api
        .get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"))
        .await;
    assert_eq!(st, 200, "{body}");
    let parse = |v: &Value| match v.as_str() {
        Some(s) => serde_json::from_str(s).expect("audit snapshot is JSON"),
        None => Value::Null,
    };
    let items = body["items"].as_array().unwrap();
    assert_eq!(body["total"].as_i64().unwrap(), items.len() as i64);
    items
        .iter()
        .map(|e| {
            assert_eq!(e["entity"], entity);
            assert_eq!(e["entity_id"], id);
            (
                e["action"].as_str().unwrap().to_string(),
                parse(&e["before"]),
                parse(&e["after"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn departments_end_to_end() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let api = app.api(&app.token(app.admin_id, app.org).await);

        // --- create through the form ---
        let (st, html) = s.page("/org/departments/new").await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"save\""));
        let r = s
            .post(
                "/org/departments",
                &[
                    ("code", "SVC"),
                    ("name", "售后服务部"),
                    ("parent_id", ""),
                    ("description", "负责安装与维修"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{b:?}");
        let loc = location(&r);
        let svc = id_in(&loc, "/org/departments/");
        assert!(loc.ends_with("?ok=created"), "{loc}");
        let (st, html) = s.page(&loc).await;
        assert_eq!(st, 200);
        assert!(
            html.contains("售后服务部") && html.contains("负责安装与维修") && html.contains("SVC")
        );
        assert!(html.contains("已创建。"), "flash shown");

        // a sub-department
        let r = s
            .post(
                "/org/departments",
                &[
                    ("code", "PARTS"),
                    ("name", "备件组"),
                    ("parent_id", &svc.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let parts = id_in(&location(&r), "/org/departments/");
        let (_, html) = s.page(&format!("/org/departments/{parts}")).await;
        assert!(
            html.contains(&format!(
                "<a href=\"/org/departments/{svc}\">售后服务部</a>"
            )),
            "parent link"
        );

        // --- listed ---
        let (st, html) = s.page("/org/departments").await;
        assert_eq!(st, 200);
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows.iter()
                .any(|r| r.contains("售后服务部") && r.contains("SVC"))
        );
        assert!(
            rows.iter()
                .any(|r| r.contains("备件组") && r.contains("<td>售后服务部</td>"))
        );
        let (_, html) = s.page("/org/departments?q=parts").await;
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 1, "search by code is case-insensitive");
        assert!(rows[0].contains("备件组"));

        // --- edit ---
        let (st, html) = s.page(&format!("/org/departments/{svc}/edit")).await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "name").as_deref(), Some("售后服务部"));
        assert_eq!(input_value(&html, "code").as_deref(), Some("SVC"));
        assert_eq!(
            input_value(&html, "description").as_deref(),
            Some("负责安装与维修")
        );
        assert_eq!(version_field(&html), "1");
        assert!(
            !html.contains(&format!("<option value=\"{svc}\"")),
            "a department is not offered as its own parent"
        );
        let r = s
            .post(
                &format!("/org/departments/{svc}"),
                &[
                    ("version", "1"),
                    ("code", "SVC"),
                    ("name", "客户服务部"),
                    ("description", "负责安装与维修"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/org/departments/{svc}?ok=saved"));
        let (_, html) = s.page(&location(&r)).await;
        assert!(html.contains("客户服务部") && !html.contains("售后服务部"));
        assert!(html.contains("已保存。"));

        // --- validation: 422, localized message next to the field, typed input kept ---
        let r = s
            .post(
                "/org/departments",
                &[("code", "A B"), ("name", "  "), ("description", "保留我")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "name").as_deref(), Some("必填。"));
        assert_eq!(
            field_error(&html, "code").as_deref(),
            Some("只能包含字母、数字、短横线（-）和下划线（_）。")
        );
        assert_eq!(input_value(&html, "code").as_deref(), Some("A B"));
        assert_eq!(input_value(&html, "description").as_deref(), Some("保留我"));
        assert!(html.contains("提交的内容有误，请按提示修改后再保存。"));

        // duplicate name and code
        let r = s
            .post(
                "/org/departments",
                &[("code", "svc2"), ("name", "客户服务部")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "name").as_deref(), Some("已被使用。"));
        assert_eq!(field_error(&html, "code"), None);
        assert_eq!(input_value(&html, "name").as_deref(), Some("客户服务部"));
        let r = s
            .post("/org/departments", &[("code", "SVC"), ("name", "新部门")])
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_error(&r.text().await.unwrap(), "code").as_deref(),
            Some("已被使用。")
        );

        // API validation: English messages
        let (st, body) = api.post("/api/v1/departments", json!({"name": ""})).await;
        assert_eq!(st, 422);
        assert_eq!(body["error"], "invalid");
        assert_eq!(body["fields"], json!({"name": "Required."}));
        let (st, body) = api
            .post("/api/v1/departments", json!({"name": "客户服务部"}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(body["fields"], json!({"name": "Already in use."}));
        let (st, body) = api
            .post(
                "/api/v1/departments",
                json!({"name": "X", "parent_id": 999_999}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"],
            json!({"parent_id": "Choose a value from the list."})
        );

        // --- parent cycle refused (itself, and its own child) ---
        let r = s
            .post(
                &format!("/org/departments/{svc}"),
                &[
                    ("version", "2"),
                    ("code", "SVC"),
                    ("name", "客户服务部"),
                    ("parent_id", &parts.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "parent_id").as_deref(),
            Some("部门不能以自身或其下级部门作为上级部门。")
        );
        assert_eq!(
            selected_value(&html, "parent_id").as_deref(),
            Some(parts.to_string().as_str())
        );
        let (st, body) = api
            .put(
                &format!("/api/v1/departments/{svc}"),
                json!({"name": "客户服务部", "parent_id": svc, "version": 2}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"]["parent_id"],
            "A department cannot be its own parent or sit under one of its own sub-departments."
        );
        let (st, body) = api
            .put(
                &format!("/api/v1/departments/{svc}"),
                json!({"name": "客户服务部"}),
            )
            .await;
        assert_eq!(st, 422, "version is required on update");
        assert_eq!(body["fields"], json!({"version": "Required."}));

        // --- API create, get, list ---
        let (st, qa) = api
            .post(
                "/api/v1/departments",
                json!({"code": "QA", "name": "质量部"}),
            )
            .await;
        assert_eq!(st, 201, "{qa}");
        let qa_id = qa["id"].as_i64().unwrap();
        assert_eq!(
            (qa["version"].as_i64(), qa["active"].as_bool()),
            (Some(1), Some(true))
        );
        let (st, got) = api.get(&format!("/api/v1/departments/{qa_id}")).await;
        assert_eq!(st, 200);
        assert_eq!(got["name"], "质量部");
        let (st, list) = api.get("/api/v1/departments").await;
        assert_eq!(st, 200);
        assert_eq!(list["total"], 3);
        let mut names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec!["备件组", "客户服务部", "质量部"]);
        let (st, _) = api.get("/api/v1/departments/999999").await;
        assert_eq!(st, 404);

        // --- retire / restore through the pages ---
        let r = s
            .post(
                &format!("/org/departments/{parts}/retire"),
                &[("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/org/departments/{parts}?ok=retired"));
        let (_, html) = s.page(&location(&r)).await;
        assert!(html.contains("已停用。") && html.contains("id=\"restore\""));
        let (_, html) = s.page("/org/departments").await;
        assert!(
            !list_rows(&html).iter().any(|r| r.contains("备件组")),
            "retired hidden by default"
        );
        let (_, html) = s.page("/org/departments?retired=1").await;
        assert!(
            list_rows(&html)
                .iter()
                .any(|r| r.contains("备件组") && r.starts_with(" class=\"retired\""))
        );
        assert_eq!(list_rows(&html).len(), 3);
        let r = s
            .post(
                &format!("/org/departments/{parts}/restore"),
                &[("version", "2")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, got) = api.get(&format!("/api/v1/departments/{parts}")).await;
        assert_eq!(
            (got["active"].as_bool(), got["version"].as_i64()),
            (Some(true), Some(3))
        );

        // --- a department with active staff cannot be retired ---
        let (st, staff) = api
            .post(
                "/api/v1/staff",
                json!({"name": "张三", "department_id": svc}),
            )
            .await;
        assert_eq!(st, 201, "{staff}");
        let (_, d) = api.get(&format!("/api/v1/departments/{svc}")).await;
        assert_eq!(d["staff_count"], 1);
        let v = d["version"].as_i64().unwrap();
        let (st, body) = api
            .post(
                &format!("/api/v1/departments/{svc}/retire"),
                json!({"version": v}),
            )
            .await;
        assert_eq!(st, 409);
        assert_eq!(body["error"], "invalid_transition");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("This department still has active staff"),
            "{body}"
        );
        let r = s
            .post(
                &format!("/org/departments/{svc}/retire"),
                &[("version", &v.to_string())],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("该部门下仍有在职员工，不能停用。"), "{html}");
        let (_, d) = api.get(&format!("/api/v1/departments/{svc}")).await;
        assert_eq!(
            (d["active"].as_bool(), d["version"].as_i64()),
            (Some(true), Some(v)),
            "nothing changed"
        );
        // retire the staff member first, then the department
        let (st, _) = api
            .post(
                &format!("/api/v1/staff/{}/retire", staff["id"]),
                json!({"version": staff["version"]}),
            )
            .await;
        assert_eq!(st, 200);
        let (st, d) = api
            .post(
                &format!("/api/v1/departments/{svc}/retire"),
                json!({"version": v}),
            )
            .await;
        assert_eq!(st, 200, "{d}");
        assert_eq!(
            (d["active"].as_bool(), d["staff_count"].as_i64()),
            (Some(false), Some(0))
        );
        let (st, d) = api
            .post(
                &format!("/api/v1/departments/{svc}/restore"),
                json!({"version": v + 1}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(d["active"], true);
        let v = d["version"].as_i64().unwrap();

        // --- optimistic concurrency: API ---
        let (st, d1) = api
            .put(
                &format!("/api/v1/departments/{svc}"),
                json!({"code": "SVC", "name": "服务一部", "version": v}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(d1["version"].as_i64(), Some(v + 1));
        let (st, body) = api
            .put(
                &format!("/api/v1/departments/{svc}"),
                json!({"code": "SVC", "name": "服务二部", "version": v}),
            )
            .await;
        assert_eq!(st, 409);
        assert_eq!(body["error"], "stale");
        let (_, d) = api.get(&format!("/api/v1/departments/{svc}")).await;
        assert_eq!(d["name"], "服务一部", "the second write lost");
        let (st, body) = api
            .post(
                &format!("/api/v1/departments/{svc}/retire"),
                json!({"version": v}),
            )
            .await;
        assert_eq!((st, body["error"].as_str()), (409, Some("stale")));

        // --- optimistic concurrency: HTML form keeps the typed input ---
        let (_, html) = s.page(&format!("/org/departments/{svc}/edit")).await;
        let ver = version_field(&html);
        assert_eq!(ver, (v + 1).to_string());
        let r = s
            .post(
                &format!("/org/departments/{svc}"),
                &[("version", &ver), ("code", "SVC"), ("name", "甲的修改")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(
                &format!("/org/departments/{svc}"),
                &[
                    ("version", &ver),
                    ("code", "SVC"),
                    ("name", "乙的修改"),
                    ("description", "乙写的说明"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("在您编辑期间，其他人已保存了此记录。"),
            "stale banner"
        );
        assert_eq!(input_value(&html, "name").as_deref(), Some("乙的修改"));
        assert_eq!(
            input_value(&html, "description").as_deref(),
            Some("乙写的说明")
        );
        assert_eq!(
            version_field(&html),
            (v + 2).to_string(),
            "the form now carries the current version"
        );
        let (_, d) = api.get(&format!("/api/v1/departments/{svc}")).await;
        assert_eq!(d["name"], "甲的修改");

        // --- every change wrote an audit row with before/after ---
        let rows = audit_of(&api, "department", svc).await;
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            actions,
            vec!["update", "update", "restore", "retire", "update", "create"]
        );
        let (_, before, after) = &rows[5];
        assert_eq!(*before, Value::Null);
        assert_eq!(after["name"], "售后服务部");
        assert_eq!(after["code"], "SVC");
        let (_, before, after) = &rows[4];
        assert_eq!(
            (before["name"].as_str(), after["name"].as_str()),
            (Some("售后服务部"), Some("客户服务部"))
        );
        assert_eq!(
            (before["version"].as_i64(), after["version"].as_i64()),
            (Some(1), Some(2))
        );
        let (_, before, after) = &rows[3];
        assert_eq!(
            (before["active"].as_bool(), after["active"].as_bool()),
            (Some(true), Some(false))
        );
        let (_, body) = api
            .get(&format!("/api/v1/audit?entity=department&entity_id={svc}"))
            .await;
        assert!(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"] == "admin" && e["actor_id"] == app.admin_id)
        );
        // refused and failed changes wrote nothing
        let rows = audit_of(&api, "department", parts).await;
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(actions, vec!["restore", "retire", "create"]);
        // the history link and the audit page show the rows
        let (st, html) = s
            .page(&format!("/audit?entity=department&entity_id={svc}"))
            .await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 6);
    }
}

#[tokio::test]
async fn posts_and_staff_end_to_end() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let dep = |name: &'static str| {
            let api = &api;
            async move {
                let (st, d) = api.post("/api/v1/departments", json!({"name": name})).await;
                assert_eq!(st, 201, "{d}");
                d["id"].as_i64().unwrap()
            }
        };
        let a = dep("A 服务部").await;
        let bdep = dep("B 市场部").await;

        // ---------- posts ----------
        let (st, html) = s.page("/org/posts/new").await;
        assert_eq!(st, 200);
        assert!(html.contains("id=\"save\""));
        let a_s = a.to_string();
        let r = s
            .post(
                "/org/posts",
                &[
                    ("name", "服务工程师"),
                    ("department_id", &a_s),
                    ("duties", "上门维修\n\n 安装调试 \n"),
                    ("authority", "备件领用"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        let post = id_in(&loc, "/org/posts/");
        let (st, html) = s.page(&loc).await;
        assert_eq!(st, 200);
        assert!(
            html.contains("<li>上门维修</li>")
                && html.contains("<li>安装调试</li>")
                && html.contains("<li>备件领用</li>")
        );
        let (_, p) = api.get(&format!("/api/v1/posts/{post}")).await;
        assert_eq!(p["duties"], json!(["上门维修", "安装调试"]));
        assert_eq!(p["department_id"], a);
        let (_, html) = s.page("/org/posts").await;
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("服务工程师"));

        // edit
        let (_, html) = s.page(&format!("/org/posts/{post}/edit")).await;
        assert_eq!(
            input_value(&html, "duties").as_deref(),
            Some("上门维修\n安装调试")
        );
        assert_eq!(
            selected_value(&html, "department_id").as_deref(),
            Some(a_s.as_str())
        );
        let r = s
            .post(
                &format!("/org/posts/{post}"),
                &[
                    ("version", "1"),
                    ("name", "高级服务工程师"),
                    ("department_id", &a_s),
                    ("duties", "上门维修\n技术培训"),
                    ("authority", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, p) = api.get(&format!("/api/v1/posts/{post}")).await;
        assert_eq!(p["name"], "高级服务工程师");
        assert_eq!(p["duties"], json!(["上门维修", "技术培训"]));
        assert_eq!(p["authority"], json!([]));

        // validation: duties required, duplicate name, typed input kept
        let r = s
            .post(
                "/org/posts",
                &[
                    ("name", "高级服务工程师"),
                    ("duties", " \n "),
                    ("authority", "审批"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "duties").as_deref(), Some("必填。"));
        assert_eq!(
            input_value(&html, "name").as_deref(),
            Some("高级服务工程师")
        );
        assert_eq!(input_value(&html, "authority").as_deref(), Some("审批"));
        let r = s
            .post(
                "/org/posts",
                &[("name", "高级服务工程师"), ("duties", "巡检")],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_error(&r.text().await.unwrap(), "name").as_deref(),
            Some("已被使用。")
        );
        let r = s
            .post(
                "/org/posts",
                &[
                    ("name", "岗位X"),
                    ("duties", "巡检"),
                    ("department_id", "abc"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_error(&r.text().await.unwrap(), "department_id").as_deref(),
            Some("请从列表中选择。")
        );
        let (st, body) = api
            .post("/api/v1/posts", json!({"name": "", "duties": []}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(body["error"], "invalid");
        assert_eq!(
            body["fields"],
            json!({"name": "Required.", "duties": "Required."})
        );

        // stale post update through the API
        let (st, _) = api
            .put(
                &format!("/api/v1/posts/{post}"),
                json!({"name": "P1", "duties": ["x"], "version": 2}),
            )
            .await;
        assert_eq!(st, 200);
        let (st, body) = api
            .put(
                &format!("/api/v1/posts/{post}"),
                json!({"name": "P2", "duties": ["x"], "version": 2}),
            )
            .await;
        assert_eq!((st, body["error"].as_str()), (409, Some("stale")));

        // retire / restore a post
        let r = s
            .post(&format!("/org/posts/{post}/retire"), &[("version", "3")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page("/org/posts").await;
        assert!(list_rows(&html).is_empty());
        let (_, html) = s.page("/org/posts?retired=1").await;
        assert_eq!(list_rows(&html).len(), 1);
        let r = s
            .post(&format!("/org/posts/{post}/restore"), &[("version", "4")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, p) = api.get(&format!("/api/v1/posts/{post}")).await;
        assert_eq!(
            (p["active"].as_bool(), p["version"].as_i64()),
            (Some(true), Some(5))
        );
        let rows = audit_of(&api, "post", post).await;
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            actions,
            vec!["restore", "retire", "update", "update", "create"]
        );
        assert_eq!(rows[3].1["name"], "服务工程师");
        assert_eq!(rows[3].2["name"], "高级服务工程师");

        // ---------- staff ----------
        let post_s = post.to_string();
        let (st, html) = s.page(&format!("/org/staff/new?department_id={a}")).await;
        assert_eq!(st, 200);
        assert_eq!(
            selected_value(&html, "department_id").as_deref(),
            Some(a_s.as_str()),
            "pre-selected department"
        );
        let r = s
            .post(
                "/org/staff",
                &[
                    ("name", "张三"),
                    ("employee_no", "E001"),
                    ("department_id", &a_s),
                    ("post_id", &post_s),
                    ("phone", "+86 138-0000-0000"),
                    ("email", "zhang@example.com"),
                    ("hired_on", "2024-02-29"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        let zhang = id_in(&loc, "/org/staff/");
        let (st, html) = s.page(&loc).await;
        assert_eq!(st, 200);
        for t in [
            "张三",
            "E001",
            "A 服务部",
            "P1",
            "+86 138-0000-0000",
            "zhang@example.com",
            "2024-02-29",
        ] {
            assert!(html.contains(t), "staff view shows {t}");
        }
        // the department view lists its staff
        let (_, html) = s.page(&format!("/org/departments/{a}")).await;
        assert!(list_rows(&html).iter().any(|r| r.contains("张三")));

        // validation
        let r = s
            .post(
                "/org/staff",
                &[
                    ("name", "李四"),
                    ("employee_no", "E001"),
                    ("department_id", ""),
                    ("phone", "138abc"),
                    ("email", "nobody"),
                    ("hired_on", "2026-02-30"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "department_id").as_deref(),
            Some("必填。")
        );
        assert_eq!(
            field_error(&html, "phone").as_deref(),
            Some("电话号码只能包含数字、空格以及 + - ( ) 符号。")
        );
        assert_eq!(
            field_error(&html, "email").as_deref(),
            Some("电子邮箱格式不正确。")
        );
        assert_eq!(
            field_error(&html, "hired_on").as_deref(),
            Some("日期格式应为 YYYY-MM-DD。")
        );
        assert_eq!(field_error(&html, "name"), None);
        for (id, v) in [
            ("name", "李四"),
            ("employee_no", "E001"),
            ("phone", "138abc"),
            ("email", "nobody"),
            ("hired_on", "2026-02-30"),
        ] {
            assert_eq!(input_value(&html, id).as_deref(), Some(v), "{id} kept");
        }
        let r = s
            .post(
                "/org/staff",
                &[
                    ("name", "李四"),
                    ("employee_no", "E001"),
                    ("department_id", &a_s),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "employee_no").as_deref(),
            Some("已被使用。")
        );
        assert_eq!(
            selected_value(&html, "department_id").as_deref(),
            Some(a_s.as_str())
        );
        let (st, body) = api
            .post("/api/v1/staff", json!({"name": "李四", "email": "x@y"}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"],
            json!({"department_id": "Required.", "email": "Not a valid email address."})
        );

        // edit: move to the other department
        let (_, html) = s.page(&format!("/org/staff/{zhang}/edit")).await;
        assert_eq!(input_value(&html, "employee_no").as_deref(), Some("E001"));
        assert_eq!(
            selected_value(&html, "post_id").as_deref(),
            Some(post_s.as_str())
        );
        let b_s = bdep.to_string();
        let r = s
            .post(
                &format!("/org/staff/{zhang}"),
                &[
                    ("version", "1"),
                    ("name", "张三"),
                    ("employee_no", "E001"),
                    ("department_id", &b_s),
                    ("post_id", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/org/staff/{zhang}?ok=saved"));
        let (_, z) = api.get(&format!("/api/v1/staff/{zhang}")).await;
        assert_eq!(
            (z["department_id"].as_i64(), z["post_id"].clone()),
            (Some(bdep), Value::Null)
        );
        assert_eq!(z["phone"], Value::Null, "cleared fields are cleared");

        // stale edit from the same version keeps the typed input
        let r = s
            .post(
                &format!("/org/staff/{zhang}"),
                &[
                    ("version", "1"),
                    ("name", "张三丰"),
                    ("employee_no", "E001"),
                    ("department_id", &a_s),
                    ("phone", "010-1234"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("在您编辑期间，其他人已保存了此记录。"));
        assert_eq!(input_value(&html, "name").as_deref(), Some("张三丰"));
        assert_eq!(input_value(&html, "phone").as_deref(), Some("010-1234"));
        assert_eq!(
            selected_value(&html, "department_id").as_deref(),
            Some(a_s.as_str())
        );
        assert_eq!(version_field(&html), "2");

        // filter by department
        for (name, d) in [("王五", a), ("赵六", a), ("钱七", bdep)] {
            let (st, _) = api
                .post("/api/v1/staff", json!({"name": name, "department_id": d}))
                .await;
            assert_eq!(st, 201);
        }
        let (_, html) = s.page(&format!("/org/staff?department_id={a}")).await;
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.contains("A 服务部")));
        assert!(rows.iter().any(|r| r.contains("王五")) && rows.iter().any(|r| r.contains("赵六")));
        assert_eq!(
            selected_value(&html, "department_id").as_deref(),
            Some(a_s.as_str())
        );
        let (_, html) = s.page(&format!("/org/staff?department_id={bdep}")).await;
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().any(|r| r.contains("张三")) && rows.iter().any(|r| r.contains("钱七")));
        let (_, list) = api.get(&format!("/api/v1/staff?department_id={a}")).await;
        assert_eq!(list["total"], 2);
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["department_id"] == a)
        );
        let (_, list) = api.get("/api/v1/staff?q=E00").await;
        assert_eq!(list["total"], 1, "search by employee number");

        // retire / restore staff
        let r = s
            .post(&format!("/org/staff/{zhang}/retire"), &[("version", "2")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page(&format!("/org/staff?department_id={bdep}")).await;
        assert_eq!(list_rows(&html).len(), 1);
        let (_, html) = s
            .page(&format!("/org/staff?department_id={bdep}&retired=1"))
            .await;
        assert_eq!(list_rows(&html).len(), 2);
        let r = s
            .post(&format!("/org/staff/{zhang}/restore"), &[("version", "3")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, z) = api.get(&format!("/api/v1/staff/{zhang}")).await;
        assert_eq!(
            (z["active"].as_bool(), z["version"].as_i64()),
            (Some(true), Some(4))
        );
        let rows = audit_of(&api, "staff", zhang).await;
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(actions, vec!["restore", "retire", "update", "create"]);
        assert_eq!(rows[2].1["department_id"], a);
        assert_eq!(rows[2].2["department_id"], bdep);

        // ---------- paging: 55 staff in one department ----------
        let c = dep("C 生产部").await;
        for i in 1..=55 {
            let (st, _) = api
                .post(
                    "/api/v1/staff",
                    json!({"name": format!("P{i:03}"), "department_id": c}),
                )
                .await;
            assert_eq!(st, 201);
        }
        let (st, html) = s.page(&format!("/org/staff?department_id={c}")).await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 50);
        assert!(html.contains("第 1 / 2 页，共 55 条"));
        assert!(
            html.contains(&format!("href=\"/org/staff?department_id={c}&#38;page=2\"")),
            "next link keeps the filter"
        );
        let (st, html) = s
            .page(&format!("/org/staff?department_id={c}&page=2"))
            .await;
        assert_eq!(st, 200);
        let rows = list_rows(&html);
        assert_eq!(rows.len(), 5);
        for (i, r) in rows.iter().enumerate() {
            assert!(r.contains(&format!("P{:03}", 51 + i)), "{r}");
        }
        assert!(html.contains("第 2 / 2 页，共 55 条"));
        assert!(html.contains("id=\"page-prev\"") && !html.contains("id=\"page-next\""));
        let (_, list) = api
            .get(&format!("/api/v1/staff?department_id={c}&page=2"))
            .await;
        assert_eq!(
            (
                list["total"].as_i64(),
                list["page"].as_i64(),
                list["per_page"].as_i64()
            ),
            (Some(55), Some(2), Some(50))
        );
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["P051", "P052", "P053", "P054", "P055"]);
        let (_, list) = api
            .get(&format!(
                "/api/v1/staff?department_id={c}&page=3&per_page=20"
            ))
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 15);
        assert_eq!(list["items"][0]["name"], "P041");
        let (_, list) = api.get("/api/v1/staff?per_page=1000").await;
        assert_eq!(list["per_page"], 200, "page size is capped");
        assert_eq!(list["total"], 59);
    }
}

#[tokio::test]
async fn concurrent_writes_are_serialised() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, d) = api
            .post("/api/v1/departments", json!({"name": "并发部"}))
            .await;
        assert_eq!(st, 201);
        let id = d["id"].as_i64().unwrap();

        // eight edits from the same version: exactly one wins, the rest are stale
        let edits = (0..8).map(|i| {
            let api = &api;
            async move {
                api.put(
                    &format!("/api/v1/departments/{id}"),
                    json!({"name": format!("并发部 {i}"), "version": 1}),
                )
                .await
            }
        });
        let results = futures_join(edits).await;
        let ok: Vec<&Value> = results
            .iter()
            .filter(|r| r.0 == 200)
            .map(|r| &r.1)
            .collect();
        assert_eq!(ok.len(), 1, "{results:?}");
        assert!(
            results
                .iter()
                .all(|r| r.0 == 200 || (r.0 == 409 && r.1["error"] == "stale")),
            "{results:?}"
        );
        let (_, d) = api.get(&format!("/api/v1/departments/{id}")).await;
        assert_eq!(d["version"], 2);
        assert_eq!(d["name"], ok[0]["name"]);

        // eight creates of the same name: one is created, none fails with a server error
        let creates = (0..8).map(|_| {
            let api = &api;
            async move {
                api.post(
                    "/api/v1/departments",
                    json!({"name": "同名部", "code": "SAME"}),
                )
                .await
            }
        });
        let results = futures_join(creates).await;
        assert_eq!(
            results.iter().filter(|r| r.0 == 201).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| r.0 == 201 || r.0 == 422 || (r.0 == 409 && r.1["error"] == "duplicate")),
            "{results:?}"
        );
        // eight creates of different names all succeed, each with its audit row
        let creates = (0..8).map(|i| {
            let api = &api;
            async move {
                api.post("/api/v1/departments", json!({"name": format!("部门{i}")}))
                    .await
            }
        });
        let results = futures_join(creates).await;
        assert!(results.iter().all(|r| r.0 == 201), "{results:?}");
        let (_, l) = api.get("/api/v1/departments").await;
        assert_eq!(l["total"], 10);
        let (_, a) = api
            .get("/api/v1/audit?entity=department&action=create")
            .await;
        assert_eq!(a["total"], 10);
        let (_, a) = api
            .get(&format!("/api/v1/audit?entity=department&entity_id={id}"))
            .await;
        assert_eq!(a["total"], 2, "one create, one update");
    }
}

/// Runs futures concurrently on the current task (no extra crates).
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in fs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn restoring_staff_respects_retired_departments() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (_, d) = api
            .post("/api/v1/departments", json!({"name": "旧部门"}))
            .await;
        let dep = d["id"].as_i64().unwrap();
        let (_, s) = api
            .post(
                "/api/v1/staff",
                json!({"name": "老员工", "department_id": dep}),
            )
            .await;
        let staff = s["id"].as_i64().unwrap();
        let (st, _) = api
            .post(
                &format!("/api/v1/staff/{staff}/retire"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 200);
        let (st, _) = api
            .post(
                &format!("/api/v1/departments/{dep}/retire"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 200);
        // a retired department must not end up with active staff (the rule retiring enforces)
        let (st, body) = api
            .post(
                &format!("/api/v1/staff/{staff}/restore"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 409, "{body}");
        let (_, d) = api.get(&format!("/api/v1/departments/{dep}")).await;
        assert_eq!(
            (d["active"].as_bool(), d["staff_count"].as_i64()),
            (Some(false), Some(0))
        );
    }
}
