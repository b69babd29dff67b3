//! Tests: customers (with contacts and sites) and service outlets, through the pages and the
//! API: create, edit, stale versions, validation with typed input kept, duplicate codes,
//! retire / restore, delete refused with history and allowed without, audit rows, the search
//! index kept in step with every change, organization isolation and roles.

use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn admin_api(app: &TestApp) -> Api {
    app.api(&app.token(app.admin_id, app.org).await)
}

/// Actions of the audit rows of one record, newest first.
async fn audit_actions(api: &Api, entity: &str, id: i64) -> Vec<String> {
    let (st, body) = api
        .get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"))
        .await;
    assert_eq!(st, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// (kind, ref_id) of the search hits for `q`.
async fn search(api: &Api, q: &str) -> Vec<(String, i64)> {
    let (st, body) = api.get(&format!("/api/v1/search?q={}", urlencode(q))).await;
    assert_eq!(st, 200, "search {q}: {body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_string(),
                h["ref_id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    server::app::urlencode(s)
}

async fn delete(api: &Api, path: &str) -> (u16, Value) {
    api.send(reqwest::Method::DELETE, path, json!({})).await
}

/// Adds a timeline event to a customer, as orders and installs do.
async fn add_event(app: &TestApp, customer: i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::timeline::add(
        &mut tx.c(),
        &store::timeline::NewEvent {
            org_id: app.org,
            customer_id: Some(customer),
            equipment_id: None,
            at: 1_700_000_000,
            kind: "order",
            ref_id: 4242,
            summary: "SO-4242",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn customers_through_the_pages() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let api = admin_api(&app).await;

        // the list and the empty form
        let (st, html) = s.page("/archives/customers").await;
        assert_eq!(st, 200, "{b:?}");
        assert!(html.contains("href=\"/archives/customers/new\""));
        let (st, html) = s.page("/archives/customers/new").await;
        assert_eq!(st, 200);
        assert_eq!(selected_value(&html, "kind").as_deref(), Some("company"));

        // invalid input: 422, messages beside the fields, what was typed kept
        let r = s
            .post(
                "/archives/customers",
                &[
                    ("name", " "),
                    ("code", "C 01"),
                    ("region", "华东"),
                    ("kind", "robot"),
                    ("tags", "VIP、重点"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "name").as_deref(), Some("必填。"));
        assert!(field_error(&html, "code").unwrap().contains("字母"));
        assert!(field_error(&html, "kind").is_some());
        assert_eq!(input_value(&html, "code").as_deref(), Some("C 01"));
        assert_eq!(input_value(&html, "region").as_deref(), Some("华东"));
        assert_eq!(input_value(&html, "tags").as_deref(), Some("VIP、重点"));

        // create
        let r = s
            .post(
                "/archives/customers",
                &[
                    ("name", "上海瑞康医院"),
                    ("code", "C-001"),
                    ("kind", "company"),
                    ("industry", "医疗"),
                    ("region", "华东"),
                    ("address", "上海市徐汇区漕溪北路 1 号"),
                    ("tags", "VIP、重点客户\n三甲"),
                    ("consent_contact", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/archives/customers/");
        let (st, html) = s
            .page(&format!("/archives/customers/{id}?ok=created"))
            .await;
        assert_eq!(st, 200);
        assert!(
            html.contains("上海瑞康医院") && html.contains("重点客户") && html.contains("三甲")
        );
        assert!(
            html.contains("id=\"timeline\""),
            "the timeline block is shown"
        );
        assert!(html.contains("已创建"));

        // a taken code is refused on its field
        let r = s
            .post(
                "/archives/customers",
                &[("name", "另一家"), ("code", "C-001")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "code").as_deref(), Some("已被使用。"));
        assert_eq!(input_value(&html, "name").as_deref(), Some("另一家"));

        // the list filters in SQL
        let (_, html) = s.page("/archives/customers?q=瑞康").await;
        assert_eq!(list_rows(&html).len(), 1);
        let (_, html) = s.page("/archives/customers?region=华北").await;
        assert_eq!(list_rows(&html).len(), 0);
        let (_, html) = s.page("/archives/customers?kind=person").await;
        assert_eq!(list_rows(&html).len(), 0);
        let (_, html) = s.page("/archives/customers?region=华东&kind=company").await;
        assert_eq!(list_rows(&html).len(), 1);

        // edit, then a stale save keeps the typed values with a 409 banner
        let (_, html) = s.page(&format!("/archives/customers/{id}/edit")).await;
        assert!(html.contains("name=\"version\" value=\"1\""));
        assert_eq!(
            input_value(&html, "tags").as_deref(),
            Some("VIP、重点客户、三甲")
        );
        let r = s
            .post(
                &format!("/archives/customers/{id}"),
                &[
                    ("name", "上海瑞康医院（总院）"),
                    ("code", "C-001"),
                    ("region", "华东"),
                    ("consent_survey", "1"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(
                &format!("/archives/customers/{id}"),
                &[("name", "过期的修改"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"error banner\""));
        assert_eq!(input_value(&html, "name").as_deref(), Some("过期的修改"));
        assert!(html.contains("name=\"version\" value=\"2\""));
        let (_, html) = s.page(&format!("/archives/customers/{id}")).await;
        assert!(html.contains("上海瑞康医院（总院）"));

        // contacts: refused input is kept on the customer's page, then added, edited, deleted
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts"),
                &[
                    ("name", "王主任"),
                    ("mobile", "139-abc"),
                    ("email", "wang@"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            field_error(&html, "contact_mobile")
                .unwrap()
                .contains("数字")
        );
        assert!(field_error(&html, "contact_email").is_some());
        assert_eq!(
            input_value(&html, "contact_name").as_deref(),
            Some("王主任")
        );
        assert_eq!(
            input_value(&html, "contact_mobile").as_deref(),
            Some("139-abc")
        );
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts"),
                &[
                    ("name", "王主任"),
                    ("role", "设备科主任"),
                    ("mobile", "13912345678"),
                    ("email", "wang@example.com"),
                    ("wechat", "wang_rk"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, d) = api.get(&format!("/api/v1/customers/{id}")).await;
        let cid = d["contacts"][0]["id"].as_i64().unwrap();
        let (st, html) = s
            .page(&format!("/archives/customers/{id}/contacts/{cid}/edit"))
            .await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "mobile").as_deref(), Some("13912345678"));
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts/{cid}"),
                &[("name", ""), ("mobile", "13912345678"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts/{cid}"),
                &[
                    ("name", "王主任"),
                    ("mobile", "13900000001"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts/{cid}"),
                &[
                    ("name", "王主任"),
                    ("mobile", "13900000002"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409, "stale contact version");
        let (_, html) = s.page(&format!("/archives/customers/{id}")).await;
        assert!(html.contains("13900000001"));

        // sites
        let r = s
            .post(&format!("/archives/customers/{id}/sites"), &[("name", "")])
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "site_name").as_deref(), Some("必填。"));
        let r = s
            .post(
                &format!("/archives/customers/{id}/sites"),
                &[
                    ("name", "门诊楼"),
                    ("region", "华东"),
                    ("address", "漕溪北路 1 号"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, d) = api.get(&format!("/api/v1/customers/{id}")).await;
        let sid = d["sites"][0]["id"].as_i64().unwrap();
        let r = s
            .post(
                &format!("/archives/customers/{id}/sites/{sid}"),
                &[("name", "门诊综合楼"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page(&format!("/archives/customers/{id}")).await;
        assert!(html.contains("门诊综合楼"));

        // deleting a contact and a site
        let r = s
            .post(
                &format!("/archives/customers/{id}/contacts/{cid}/delete"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(&format!("/archives/customers/{id}/sites/{sid}/delete"), &[])
            .await;
        assert_eq!(r.status(), 303);
        let (_, d) = api.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(d["contacts"], json!([]));
        assert_eq!(d["sites"], json!([]));
        // (checked now: SQLite may hand a deleted row's id to the next contact)
        assert_eq!(
            audit_actions(&api, "customer_contact", cid).await,
            vec!["delete", "update", "create"]
        );
        assert_eq!(
            audit_actions(&api, "customer_site", sid).await,
            vec!["delete", "update", "create"]
        );

        // retire and restore
        let r = s
            .post(
                &format!("/archives/customers/{id}/retire"),
                &[("version", "2")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page("/archives/customers").await;
        assert_eq!(list_rows(&html).len(), 0, "retired customers are hidden");
        let (_, html) = s.page("/archives/customers?retired=1").await;
        assert_eq!(list_rows(&html).len(), 1);
        let r = s
            .post(
                &format!("/archives/customers/{id}/restore"),
                &[("version", "2")],
            )
            .await;
        assert_eq!(r.status(), 409, "stale restore");
        let r = s
            .post(
                &format!("/archives/customers/{id}/restore"),
                &[("version", "3")],
            )
            .await;
        assert_eq!(r.status(), 303);

        // delete: refused with history, allowed without
        add_event(&app, id).await;
        let (_, html) = s.page(&format!("/archives/customers/{id}")).await;
        assert!(html.contains("SO-4242"), "the timeline shows the event");
        let r = s
            .post(&format!("/archives/customers/{id}/delete"), &[])
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("不能删除"));
        let r = s
            .post(
                "/archives/customers",
                &[("name", "临时客户"), ("code", "TMP")],
            )
            .await;
        let tmp = id_in(&location(&r), "/archives/customers/");
        s.post(
            &format!("/archives/customers/{tmp}/contacts"),
            &[("name", "李四"), ("mobile", "13700000000")],
        )
        .await;
        let r = s
            .post(&format!("/archives/customers/{tmp}/delete"), &[])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/archives/customers?ok=customer_deleted");
        let (st, _) = s.page(&format!("/archives/customers/{tmp}")).await;
        assert_eq!(st, 404);
        assert!(search(&api, "临时客户").await.is_empty());
        assert!(search(&api, "13700000000").await.is_empty());

        // every change left its audit row
        assert_eq!(
            audit_actions(&api, "customer", id).await,
            vec!["restore", "retire", "update", "create"]
        );
        assert_eq!(
            audit_actions(&api, "customer", tmp).await,
            vec!["delete", "create"]
        );
        let (_, html) = s.page(&format!("/archives/customers/{id}")).await;
        assert!(html.contains(&format!("/audit?entity=customer&amp;entity_id={id}")));
    }
}

#[tokio::test]
async fn customers_through_the_api() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (st, staff) = {
            let (_, d) = api
                .post("/api/v1/departments", json!({"name": "售后服务部"}))
                .await;
            api.post(
                "/api/v1/staff",
                json!({"name": "赵工", "department_id": d["id"]}),
            )
            .await
        };
        assert_eq!(st, 201, "{staff}");
        let owner = staff["id"].as_i64().unwrap();

        // validation and field messages
        let (st, body) = api
            .post(
                "/api/v1/customers",
                json!({"name": "", "code": "x y", "kind": "alien", "owner_staff_id": 999999}),
            )
            .await;
        assert_eq!(st, 422, "{b:?} {body}");
        assert_eq!(body["error"], "invalid");
        assert!(body["fields"]["name"].is_string());
        assert!(body["fields"]["code"].is_string());
        assert!(body["fields"]["kind"].is_string());
        let (st, body) = api
            .post(
                "/api/v1/customers",
                json!({"name": "x", "owner_staff_id": 999999}),
            )
            .await;
        assert_eq!(st, 422);
        assert!(body["fields"]["owner_staff_id"].is_string());

        // create and read back
        let (st, c) = api
            .post(
                "/api/v1/customers",
                json!({"code": "BJ-01", "name": "北京恒通机械有限公司", "kind": "company", "region": "华北",
                       "tags": ["战略客户", " ", "战略客户", "机械"], "owner_staff_id": owner,
                       "consent_contact": true, "consent_survey": true}),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        let id = c["id"].as_i64().unwrap();
        assert_eq!(c["tags"], json!(["战略客户", "机械"]));
        assert_eq!(c["owner_name"], "赵工");
        assert_eq!(c["version"], 1);
        let (st, body) = api
            .post(
                "/api/v1/customers",
                json!({"code": "BJ-01", "name": "重复"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(body["fields"]["code"], "Already in use.");

        // contacts and sites
        let (st, k) = api
            .post(
                &format!("/api/v1/customers/{id}/contacts"),
                json!({"name": "刘经理", "mobile": "13600001111", "email": "bad"}),
            )
            .await;
        assert_eq!(st, 422, "{k}");
        assert!(k["fields"]["email"].is_string());
        let (st, k) = api
            .post(
                &format!("/api/v1/customers/{id}/contacts"),
                json!({"name": "刘经理", "role": "采购", "mobile": "13600001111"}),
            )
            .await;
        assert_eq!(st, 201, "{k}");
        let cid = k["id"].as_i64().unwrap();
        let (st, k2) = api
            .put(
                &format!("/api/v1/customers/{id}/contacts/{cid}"),
                json!({"name": "刘经理", "mobile": "13600002222", "version": 1}),
            )
            .await;
        assert_eq!(st, 200, "{k2}");
        assert_eq!(k2["version"], 2);
        let (st, _) = api
            .put(
                &format!("/api/v1/customers/{id}/contacts/{cid}"),
                json!({"name": "刘经理", "version": 1}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, site) = api
            .post(
                &format!("/api/v1/customers/{id}/sites"),
                json!({"name": "亦庄工厂", "region": "华北", "address": "北京经济技术开发区"}),
            )
            .await;
        assert_eq!(st, 201, "{site}");
        let sid = site["id"].as_i64().unwrap();
        let (st, body) = api
            .post(
                &format!("/api/v1/customers/{id}/sites"),
                json!({"name": "亦庄工厂"}),
            )
            .await;
        assert_eq!(st, 422, "site names are unique per customer");
        assert!(body["fields"]["name"].is_string());
        let (st, _) = api
            .put(
                &format!("/api/v1/customers/{id}/sites/{sid}"),
                json!({"name": "亦庄一厂", "version": 1}),
            )
            .await;
        assert_eq!(st, 200);

        let (st, d) = api.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(st, 200);
        assert_eq!(d["name"], "北京恒通机械有限公司");
        assert_eq!(d["contacts"][0]["mobile"], "13600002222");
        assert_eq!(d["sites"][0]["name"], "亦庄一厂");
        assert_eq!(d["equipment_count"], 0);

        // update with version; stale is 409; missing version is 422
        let put = json!({"code": "BJ-01", "name": "北京恒通机械股份有限公司", "kind": "company", "region": "华北",
                         "version": 1});
        let (st, u) = api
            .put(&format!("/api/v1/customers/{id}"), put.clone())
            .await;
        assert_eq!(st, 200, "{u}");
        assert_eq!(u["version"], 2);
        assert_eq!(u["tags"], json!([]), "PUT replaces every field");
        let (st, body) = api.put(&format!("/api/v1/customers/{id}"), put).await;
        assert_eq!((st, body["error"].as_str()), (409, Some("stale")));
        let (st, _) = api
            .put(&format!("/api/v1/customers/{id}"), json!({"name": "x"}))
            .await;
        assert_eq!(st, 422);

        // list filters
        let (_, l) = api.get("/api/v1/customers?q=恒通").await;
        assert_eq!(l["total"], 1);
        let (_, l) = api.get("/api/v1/customers?q=bj-0").await;
        assert_eq!(l["total"], 1, "code match is case-insensitive");
        let (_, l) = api
            .get(&format!("/api/v1/customers?region={}", urlencode("华东")))
            .await;
        assert_eq!(l["total"], 0);
        let (_, l) = api.get("/api/v1/customers?kind=company&per_page=1").await;
        assert_eq!(
            (l["total"].as_i64(), l["per_page"].as_i64()),
            (Some(1), Some(1))
        );

        // retire / restore
        let (st, r) = api
            .post(
                &format!("/api/v1/customers/{id}/retire"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(r["active"], false);
        let (_, l) = api.get("/api/v1/customers").await;
        assert_eq!(l["total"], 0);
        let (_, l) = api.get("/api/v1/customers?include_retired=true").await;
        assert_eq!(l["total"], 1);
        let (st, _) = api
            .post(
                &format!("/api/v1/customers/{id}/restore"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, _) = api
            .post(
                &format!("/api/v1/customers/{id}/restore"),
                json!({"version": 3}),
            )
            .await;
        assert_eq!(st, 200);

        // the timeline, paginated, newest first
        let (st, t) = api.get(&format!("/api/v1/customers/{id}/timeline")).await;
        assert_eq!(st, 200);
        assert_eq!(t["total"], 0);
        add_event(&app, id).await;
        let (_, t) = api
            .get(&format!(
                "/api/v1/customers/{id}/timeline?page=1&per_page=10"
            ))
            .await;
        assert_eq!(t["total"], 1);
        assert_eq!(t["items"][0]["summary"], "SO-4242");

        // delete refused with history; contacts and sites of a clean customer go with it
        let (st, body) = delete(&api, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(st, 409);
        assert_eq!(body["error"], "invalid_transition");
        assert!(body["message"].as_str().unwrap().contains("retire"));
        let (st, _) = api.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(st, 200);
        let (_, c2) = api
            .post(
                "/api/v1/customers",
                json!({"name": "短期客户", "kind": "person"}),
            )
            .await;
        let id2 = c2["id"].as_i64().unwrap();
        let (_, k) = api
            .post(
                &format!("/api/v1/customers/{id2}/contacts"),
                json!({"name": "孙女士"}),
            )
            .await;
        let (st, _) = delete(
            &api,
            &format!("/api/v1/customers/{id2}/contacts/{}", k["id"]),
        )
        .await;
        assert_eq!(st, 204);
        api.post(
            &format!("/api/v1/customers/{id2}/sites"),
            json!({"name": "家中"}),
        )
        .await;
        let (st, _) = delete(&api, &format!("/api/v1/customers/{id2}")).await;
        assert_eq!(st, 204);
        let (st, _) = api.get(&format!("/api/v1/customers/{id2}")).await;
        assert_eq!(st, 404);
        let (st, _) = delete(&api, &format!("/api/v1/customers/{id2}")).await;
        assert_eq!(st, 404);
        assert_eq!(
            audit_actions(&api, "customer", id2).await,
            vec!["delete", "create"]
        );

        // documented
        let (_, doc) = api.get("/api/v1/openapi.json").await;
        for p in [
            "/api/v1/customers",
            "/api/v1/customers/{id}",
            "/api/v1/customers/{id}/contacts/{cid}",
            "/api/v1/customers/{id}/sites/{sid}",
            "/api/v1/customers/{id}/timeline",
            "/api/v1/outlets",
            "/api/v1/outlets/{id}/retire",
        ] {
            assert!(doc["paths"][p].is_object(), "{p} documented");
        }
    }
}

#[tokio::test]
async fn migration_10_cuts_documents_written_before_it_again() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (_, c) = api
            .post(
                "/api/v1/customers",
                json!({"code": "SN-2026-0012345678", "name": "无锡精密机床", "region": "华东"}),
            )
            .await;
        let hit = ("customer".to_string(), c["id"].as_i64().unwrap());
        // Documents as an older binary left them: here, without any token.
        app.exec("UPDATE search_docs SET tokens = ''").await;
        app.exec("DELETE FROM schema_migrations WHERE version = 10")
            .await;
        app.exec("DROP TABLE search_recut").await;
        assert!(!search(&api, "12345678").await.contains(&hit), "{b:?}");
        assert_eq!(
            store::migrate::run(&app.st.db, 0).await.unwrap(),
            vec![10],
            "{b:?}"
        );
        for q in ["12345678", "00123", "0012", "sn-2026", "精密", "华东"] {
            assert!(search(&api, q).await.contains(&hit), "{b:?}: {q}");
        }
        assert!(!search(&api, "12345679").await.contains(&hit), "{b:?}");
        // Done once: the request is cleared.
        let mut h = app.st.db.acquire().await.unwrap();
        let (left,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM search_recut").fetch_one(x).await)
        .unwrap();
        assert_eq!(left, 0, "{b:?}");
    }
}

#[tokio::test]
async fn search_follows_customers_and_contacts() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (_, c) = api
            .post(
                "/api/v1/customers",
                json!({"code": "SH-88", "name": "苏州精工电子", "region": "华东", "address": "苏州工业园区星湖街 88 号",
                       "tags": ["重点"]}),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        let (_, k) = api
            .post(
                &format!("/api/v1/customers/{id}/contacts"),
                json!({"name": "周工", "mobile": "13912345678", "wechat": "zhousz"}),
            )
            .await;
        let cid = k["id"].as_i64().unwrap();
        api.post(
            &format!("/api/v1/customers/{id}/sites"),
            json!({"name": "二号厂房", "address": "方洲路 100 号"}),
        )
        .await;
        let hit = ("customer".to_string(), id);
        for q in [
            "华东",
            "345678",
            "精工",
            "sh-88",
            "周工",
            "zhousz",
            "二号厂房",
            "方洲路",
        ] {
            assert!(
                search(&api, q).await.contains(&hit),
                "{b:?}: {q} finds the customer"
            );
        }
        let (_, hits) = api
            .get(&format!("/api/v1/search?q={}", urlencode("精工")))
            .await;
        assert_eq!(hits[0]["title"], "苏州精工电子 (SH-88)");

        // editing the contact re-indexes: the old phone no longer finds it
        let (st, _) = api
            .put(
                &format!("/api/v1/customers/{id}/contacts/{cid}"),
                json!({"name": "周工", "mobile": "138 0000 9999", "version": 1}),
            )
            .await;
        assert_eq!(st, 200);
        assert!(!search(&api, "345678").await.contains(&hit), "{b:?}");
        assert!(
            search(&api, "00009999").await.contains(&hit),
            "digits of a spaced phone"
        );
        // editing the customer re-indexes too
        api.put(
            &format!("/api/v1/customers/{id}"),
            json!({"code": "SH-88", "name": "苏州精工电子", "region": "华南", "version": 1}),
        )
        .await;
        assert!(!search(&api, "华东").await.contains(&hit));
        assert!(search(&api, "华南").await.contains(&hit));
        // deleting the contact removes its words
        delete(&api, &format!("/api/v1/customers/{id}/contacts/{cid}")).await;
        assert!(!search(&api, "zhousz").await.contains(&hit));

        // outlets are indexed by name, regions, address and contact
        let (st, o) = api
            .post(
                "/api/v1/outlets",
                json!({"name": "杭州滨江服务站", "kind": "partner", "regions": ["浙江", "华东"],
                       "contact_name": "钱站长", "contact_phone": "0571-88886666"}),
            )
            .await;
        assert_eq!(st, 201, "{o}");
        let ohit = ("outlet".to_string(), o["id"].as_i64().unwrap());
        for q in ["滨江", "浙江", "钱站长", "88886666"] {
            assert!(
                search(&api, q).await.contains(&ohit),
                "{b:?}: {q} finds the outlet"
            );
        }
    }
}

#[tokio::test]
async fn other_organizations_see_nothing() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (_, c) = api
            .post(
                "/api/v1/customers",
                json!({"name": "宁波港口集团", "region": "华东", "code": "NB"}),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        let (_, k) = api
            .post(
                &format!("/api/v1/customers/{id}/contacts"),
                json!({"name": "吴经理", "mobile": "13512345678"}),
            )
            .await;
        let cid = k["id"].as_i64().unwrap();
        let (_, o) = api
            .post("/api/v1/outlets", json!({"name": "宁波服务站"}))
            .await;
        let oid = o["id"].as_i64().unwrap();

        let other = app.other_org("globex", "gadmin").await;
        let gid = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "gadmin")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let oapi = app.api(&app.token(gid, other).await);
        for p in [
            format!("/api/v1/customers/{id}"),
            format!("/api/v1/customers/{id}/timeline"),
            format!("/api/v1/outlets/{oid}"),
        ] {
            let (st, _) = oapi.get(&p).await;
            assert_eq!(st, 404, "{b:?} {p}");
        }
        let (st, _) = oapi
            .put(
                &format!("/api/v1/customers/{id}"),
                json!({"name": "x", "version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = oapi
            .post(
                &format!("/api/v1/customers/{id}/contacts"),
                json!({"name": "x"}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = oapi
            .put(
                &format!("/api/v1/customers/{id}/contacts/{cid}"),
                json!({"name": "x", "version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = delete(&oapi, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(st, 404);
        let (st, _) = oapi
            .post(
                &format!("/api/v1/customers/{id}/retire"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = oapi
            .put(
                &format!("/api/v1/outlets/{oid}"),
                json!({"name": "x", "version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (_, l) = oapi.get("/api/v1/customers").await;
        assert_eq!(l["total"], 0);
        let (_, l) = oapi.get("/api/v1/outlets").await;
        assert_eq!(l["total"], 0);
        for q in ["宁波", "345678", "华东"] {
            assert!(search(&oapi, q).await.is_empty(), "{q}");
        }
        // the same code is free in another organization
        let (st, _) = oapi
            .post(
                "/api/v1/customers",
                json!({"name": "宁波港口", "code": "NB"}),
            )
            .await;
        assert_eq!(st, 201);
        let (st, _) = oapi
            .post("/api/v1/outlets", json!({"name": "宁波服务站"}))
            .await;
        assert_eq!(st, 201);

        let s = app.login("gadmin").await;
        for p in [
            format!("/archives/customers/{id}"),
            format!("/archives/customers/{id}/edit"),
            format!("/archives/customers/{id}/contacts/{cid}/edit"),
            format!("/archives/outlets/{oid}"),
            format!("/archives/outlets/{oid}/edit"),
        ] {
            let (st, _) = s.page(&p).await;
            assert_eq!(st, 404, "{p}");
        }
        let r = s
            .post(&format!("/archives/customers/{id}/delete"), &[])
            .await;
        assert_eq!(r.status(), 404);
        let (st, html) = s.page("/archives/customers").await;
        assert_eq!(st, 200);
        assert!(!html.contains("宁波港口集团"));
        let (_, d) = api.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(d["name"], "宁波港口集团", "untouched");
    }
}

#[tokio::test]
async fn roles_decide_who_writes() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (_, c) = api
            .post("/api/v1/customers", json!({"name": "广州白云物流"}))
            .await;
        let id = c["id"].as_i64().unwrap();
        let (_, o) = api
            .post("/api/v1/outlets", json!({"name": "广州服务站"}))
            .await;
        let oid = o["id"].as_i64().unwrap();

        for (login, role) in [("audit1", Role::Auditor), ("sup1", Role::Supervisor)] {
            let uid = app.user(app.org, login, role).await;
            let ro = app.api(&app.token(uid, app.org).await);
            let (st, _) = ro.get("/api/v1/customers").await;
            assert_eq!(st, 200, "{b:?} {login} reads");
            let (st, _) = ro.get(&format!("/api/v1/customers/{id}")).await;
            assert_eq!(st, 200);
            let (st, _) = ro.get("/api/v1/outlets").await;
            assert_eq!(st, 200);
            let (st, _) = ro
                .post("/api/v1/customers", json!({"name": "不应创建"}))
                .await;
            assert_eq!(st, 403, "{login}");
            let (st, _) = ro
                .put(
                    &format!("/api/v1/customers/{id}"),
                    json!({"name": "x", "version": 1}),
                )
                .await;
            assert_eq!(st, 403);
            let (st, _) = ro
                .post(
                    &format!("/api/v1/customers/{id}/contacts"),
                    json!({"name": "x"}),
                )
                .await;
            assert_eq!(st, 403);
            let (st, _) = delete(&ro, &format!("/api/v1/customers/{id}")).await;
            assert_eq!(st, 403);
            let (st, _) = ro.post("/api/v1/outlets", json!({"name": "x"})).await;
            assert_eq!(st, 403);
            let (st, _) = ro
                .post(
                    &format!("/api/v1/outlets/{oid}/retire"),
                    json!({"version": 1}),
                )
                .await;
            assert_eq!(st, 403);

            let s = app.login(login).await;
            let (st, html) = s.page(&format!("/archives/customers/{id}")).await;
            assert_eq!(st, 200);
            assert!(!html.contains("id=\"edit\"") && !html.contains("id=\"add-contact\""));
            let (st, html) = s.page("/archives/customers").await;
            assert_eq!(st, 200);
            assert!(!html.contains("id=\"new\""));
            let (st, _) = s.page("/archives/customers/new").await;
            assert_eq!(st, 403);
            let (st, _) = s.page("/archives/outlets/new").await;
            assert_eq!(st, 403);
            let r = s.post("/archives/customers", &[("name", "不应创建")]).await;
            assert_eq!(r.status(), 403);
            let r = s
                .post(
                    &format!("/archives/customers/{id}/retire"),
                    &[("version", "1")],
                )
                .await;
            assert_eq!(r.status(), 403);
            let r = s.post("/archives/outlets", &[("name", "x")]).await;
            assert_eq!(r.status(), 403);
        }
        let (_, l) = api.get("/api/v1/customers").await;
        assert_eq!(l["total"], 1);

        // an engineer keeps the archives
        app.user(app.org, "eng1", Role::Engineer).await;
        let s = app.login("eng1").await;
        let r = s
            .post(
                "/archives/customers",
                &[("name", "深圳南山科技"), ("kind", "company")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s.post("/archives/outlets", &[("name", "深圳服务站")]).await;
        assert_eq!(r.status(), 303);
    }
}

#[tokio::test]
async fn outlets_through_pages_and_api() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let api = admin_api(&app).await;

        let (st, html) = s.page("/archives/outlets/new").await;
        assert_eq!(st, 200);
        assert_eq!(selected_value(&html, "kind").as_deref(), Some("own"));
        let r = s
            .post(
                "/archives/outlets",
                &[
                    ("name", "武汉服务中心"),
                    ("kind", "partner"),
                    ("regions", "华中、湖北"),
                    ("contact_phone", "027-abc"),
                    ("contract_start", "2025-06-01"),
                    ("contract_end", "2025-05-31"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "{b:?}");
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "contact_phone").is_some());
        assert_eq!(
            field_error(&html, "contract_end").as_deref(),
            Some("合同到期日期不能早于开始日期。")
        );
        assert_eq!(input_value(&html, "regions").as_deref(), Some("华中、湖北"));
        assert_eq!(selected_value(&html, "kind").as_deref(), Some("partner"));
        let r = s
            .post(
                "/archives/outlets",
                &[("name", "x"), ("contract_start", "2025-02-30")],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "contract_start").is_some());

        let r = s
            .post(
                "/archives/outlets",
                &[
                    ("name", "武汉服务中心"),
                    ("kind", "partner"),
                    ("regions", "华中、湖北\n湖南"),
                    ("address", "武汉市洪山区珞喻路 1 号"),
                    ("contact_name", "孙站长"),
                    ("contact_phone", "027-88886666"),
                    ("contract_start", "2025-01-01"),
                    ("contract_end", "2026-12-31"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/archives/outlets/");
        let (_, html) = s.page(&format!("/archives/outlets/{id}")).await;
        assert!(
            html.contains("武汉服务中心") && html.contains("湖南") && html.contains("2026-12-31")
        );
        let (_, html) = s.page("/archives/outlets?q=湖北").await;
        assert_eq!(list_rows(&html).len(), 1);
        let (_, html) = s.page("/archives/outlets?kind=own").await;
        assert_eq!(list_rows(&html).len(), 0);

        // a taken name
        let r = s
            .post("/archives/outlets", &[("name", "武汉服务中心")])
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_error(&r.text().await.unwrap(), "name").as_deref(),
            Some("已被使用。")
        );

        // edit and stale edit
        let (_, html) = s.page(&format!("/archives/outlets/{id}/edit")).await;
        assert_eq!(
            input_value(&html, "regions").as_deref(),
            Some("华中、湖北、湖南")
        );
        let r = s
            .post(
                &format!("/archives/outlets/{id}"),
                &[("name", "武汉服务中心"), ("kind", "own"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(
                &format!("/archives/outlets/{id}"),
                &[("name", "改名"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            input_value(&r.text().await.unwrap(), "name").as_deref(),
            Some("改名")
        );

        // retire and restore
        let r = s
            .post(
                &format!("/archives/outlets/{id}/retire"),
                &[("version", "2")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page("/archives/outlets").await;
        assert_eq!(list_rows(&html).len(), 0);
        let r = s
            .post(
                &format!("/archives/outlets/{id}/restore"),
                &[("version", "3")],
            )
            .await;
        assert_eq!(r.status(), 303);

        // API
        let (st, body) = api
            .post(
                "/api/v1/outlets",
                json!({"name": "成都服务站", "contract_start": "2025-03-01", "contract_end": "2024-03-01"}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"]["contract_end"],
            "The contract cannot end before it starts."
        );
        let (st, o) = api
            .post(
                "/api/v1/outlets",
                json!({"name": "成都服务站", "kind": "own", "regions": ["西南", "四川"]}),
            )
            .await;
        assert_eq!(st, 201, "{o}");
        let oid = o["id"].as_i64().unwrap();
        assert_eq!(o["regions"], json!(["西南", "四川"]));
        let (st, body) = api
            .post("/api/v1/outlets", json!({"name": "成都服务站"}))
            .await;
        assert_eq!(st, 422);
        assert!(body["fields"]["name"].is_string());
        let (st, u) = api
            .put(
                &format!("/api/v1/outlets/{oid}"),
                json!({"name": "成都服务站", "kind": "partner", "regions": ["西南"], "version": 1}),
            )
            .await;
        assert_eq!(st, 200, "{u}");
        assert_eq!(u["kind"], "partner");
        let (st, _) = api
            .put(
                &format!("/api/v1/outlets/{oid}"),
                json!({"name": "成都服务站", "version": 1}),
            )
            .await;
        assert_eq!(st, 409);
        let (st, _) = api
            .post(
                &format!("/api/v1/outlets/{oid}/retire"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, l) = api
            .get("/api/v1/outlets?include_retired=true&kind=partner")
            .await;
        assert_eq!(l["total"], 1);
        let (st, _) = api
            .post(
                &format!("/api/v1/outlets/{oid}/restore"),
                json!({"version": 3}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, g) = api.get(&format!("/api/v1/outlets/{oid}")).await;
        assert_eq!(g["active"], true);

        assert_eq!(
            audit_actions(&api, "outlet", id).await,
            vec!["restore", "retire", "update", "create"]
        );
        assert_eq!(
            audit_actions(&api, "outlet", oid).await,
            vec!["restore", "retire", "update", "create"]
        );
    }
}

#[tokio::test]
async fn a_deleted_contact_id_is_never_reused() {
    use serde_json::json;
    for b in crate::helpers::backends() {
        let app = crate::helpers::spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, c) = api
            .post("/api/v1/customers", json!({"name": "编号测试客户"}))
            .await;
        assert_eq!(st, 201, "{c}");
        let base = format!("/api/v1/customers/{}/contacts", c["id"]);
        let (_, k1) = api.post(&base, json!({"name": "甲"})).await;
        let (st, k2) = api.post(&base, json!({"name": "乙"})).await;
        assert_eq!(st, 201, "{k2}");
        let (st, _) = api
            .send(
                reqwest::Method::DELETE,
                &format!("{base}/{}", k2["id"]),
                json!({}),
            )
            .await;
        assert!(st == 200 || st == 204, "{st}");
        let (_, k3) = api.post(&base, json!({"name": "丙"})).await;
        assert!(
            k3["id"].as_i64() > k2["id"].as_i64(),
            "{b:?}: {k1} {k2} {k3}"
        );
    }
}
