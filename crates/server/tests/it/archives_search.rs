//! The archive search index on both backends: Chinese bigrams, serial fragments, updates,
//! removal, kinds and organization isolation.

use domain::auth::Role;

use crate::helpers::{backends, spawn_app};

async fn index(
    app: &crate::helpers::TestApp,
    org: i64,
    kind: &str,
    id: i64,
    title: &str,
    text: &str,
) {
    let mut tx = app.st.db.begin().await.unwrap();
    store::search::upsert(&mut tx.c(), org, kind, id, title, text)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn find(
    app: &crate::helpers::TestApp,
    org: i64,
    q: &str,
    kind: Option<&str>,
) -> Vec<(String, i64)> {
    let query = domain::search::query(q).expect("long enough");
    let mut h = app.st.db.acquire().await.unwrap();
    store::search::find(&mut h.c(), org, &query, kind, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.kind, h.ref_id))
        .collect()
}

#[tokio::test]
async fn substring_search_in_chinese_and_latin_on_both_backends() {
    for b in backends() {
        let app = spawn_app(b).await;
        let other = app.other_org("beta", "beta-admin").await;
        index(
            &app,
            app.org,
            "customer",
            1,
            "华东重工机械有限公司",
            "华东重工机械有限公司 华东 上海市浦东新区 张伟 13912345678",
        )
        .await;
        index(
            &app,
            app.org,
            "customer",
            2,
            "北方电气",
            "北方电气 华北 北京 李娜 13800001111",
        )
        .await;
        index(
            &app,
            app.org,
            "equipment",
            3,
            "SN-2026-0012345678 · XK-200",
            "SN-2026-0012345678 XK-200 华东重工机械有限公司",
        )
        .await;
        index(&app, other, "customer", 4, "华东贸易", "华东贸易 华东").await;

        assert_eq!(
            find(&app, app.org, "华东", None).await,
            vec![("customer".into(), 1), ("equipment".into(), 3)],
            "{b:?}"
        );
        assert_eq!(
            find(&app, app.org, "华东", Some("customer")).await,
            vec![("customer".into(), 1)]
        );
        assert_eq!(
            find(&app, app.org, "345678", None).await,
            vec![("customer".into(), 1), ("equipment".into(), 3)]
        );
        assert_eq!(
            find(&app, app.org, "0012345678", None).await,
            vec![("equipment".into(), 3)]
        );
        assert_eq!(
            find(&app, app.org, "sn-2026", None).await,
            vec![("equipment".into(), 3)]
        );
        assert_eq!(
            find(&app, app.org, "ＸＫ", None).await,
            vec![("equipment".into(), 3)],
            "full-width folds"
        );
        assert_eq!(
            find(&app, app.org, "浦东", None).await,
            vec![("customer".into(), 1)]
        );
        assert_eq!(
            find(&app, app.org, "李娜", None).await,
            vec![("customer".into(), 2)]
        );
        assert!(
            find(&app, app.org, "华北京", None).await.is_empty(),
            "bigrams present but not adjacent"
        );
        assert!(
            find(&app, app.org, "贸易", None).await.is_empty(),
            "other organization"
        );
        assert_eq!(
            find(&app, other, "华东", None).await,
            vec![("customer".into(), 4)]
        );

        // Re-indexing replaces the words; removal forgets them.
        index(
            &app,
            app.org,
            "customer",
            2,
            "北方电气",
            "北方电气 华北 北京 李娜 13800002222",
        )
        .await;
        assert!(
            find(&app, app.org, "00001111", None).await.is_empty(),
            "{b:?}"
        );
        assert_eq!(
            find(&app, app.org, "00002222", None).await,
            vec![("customer".into(), 2)]
        );
        let mut tx = app.st.db.begin().await.unwrap();
        store::search::remove(&mut tx.c(), "customer", 2)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(find(&app, app.org, "北方", None).await.is_empty());

        // The API and the page, with permissions.
        let token = app.token(app.admin_id, app.org).await;
        let api = app.api(&token);
        let (st, v) = api.get("/api/v1/search?q=%E5%8D%8E%E4%B8%9C").await;
        assert_eq!(st, 200);
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[0]["title"], "华东重工机械有限公司");
        let (st, v) = api.get("/api/v1/search?q=a").await;
        assert_eq!(st, 422);
        assert_eq!(v["error"], "invalid");
        let auditor = app.user(app.org, "shen.ji", Role::Auditor).await;
        let (st, _) = app
            .api(&app.token(auditor, app.org).await)
            .get("/api/v1/search?q=345678")
            .await;
        assert_eq!(st, 200, "reading is allowed to every role");
        let s = app.login("admin").await;
        let (st, html) = s.page("/archives/search?q=345678").await;
        assert_eq!(st, 200);
        assert!(
            html.contains("/archives/equipment/3") && html.contains("/archives/customers/1"),
            "{html}"
        );
        let (_, html) = s.page("/archives/search?q=x").await;
        assert!(html.contains("role=\"alert\""));
    }
}

#[tokio::test]
async fn renaming_a_customer_reindexes_its_orders_and_units() {
    use serde_json::json;
    for b in backends() {
        let app = spawn_app(b).await;
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, c) = api
            .post(
                "/api/v1/customers",
                json!({"name": "旧名称机械厂", "code": "OLD"}),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        let (st, p) = api
            .post(
                "/api/v1/products",
                json!({"part_no": "P-1", "model": "XK-1", "name": "机床", "warranty_months": 12}),
            )
            .await;
        assert_eq!(st, 201, "{p}");
        let (st, o) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "SO-9", "customer_id": c["id"], "lines": [{"part_no": "P-1", "quantity": 1, "unit_price_fen": 100}]}),
            )
            .await;
        assert_eq!(st, 201, "{o}");
        let (st, u) = api
            .post(
                "/api/v1/equipment",
                json!({"serial": "SN-9", "product_id": p["id"], "customer_id": c["id"]}),
            )
            .await;
        assert_eq!(st, 201, "{u}");
        let mut body = c.clone();
        body["name"] = json!("新名称重工集团");
        let (st, v) = api
            .put(&format!("/api/v1/customers/{}", c["id"]), body)
            .await;
        assert_eq!(st, 200, "{v}");
        let (_, hits) = api
            .get("/api/v1/search?q=%E6%96%B0%E5%90%8D%E7%A7%B0")
            .await;
        let kinds: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec!["customer", "equipment", "order"],
            "{b:?}: {hits}"
        );
        let (_, hits) = api
            .get("/api/v1/search?q=%E6%97%A7%E5%90%8D%E7%A7%B0")
            .await;
        assert!(hits.as_array().unwrap().is_empty(), "{hits}");
    }
}
