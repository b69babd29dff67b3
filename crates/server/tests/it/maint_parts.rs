//! Tests: spare parts and stock (stock never negative under concurrent use, receipts and
//! corrections audited, the "not enough stock" message, permissions, organization
//! isolation) and dispatch (engineer profiles, the week calendar with overlapping
//! appointments flagged, ranked candidates), on both backends.

use domain::auth::Role;
use serde_json::{Value, json};
use server::maintenance::dispatch::week::Week;

use crate::helpers::*;

async fn admin_api(app: &TestApp) -> Api {
    app.api(&app.token(app.admin_id, app.org).await)
}

/// Actions of the audit rows of one record, newest first.
async fn audit_rows(api: &Api, entity: &str) -> Vec<Value> {
    let (st, body) = api
        .get(&format!("/api/v1/audit?entity={entity}&per_page=200"))
        .await;
    assert_eq!(st, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// A part and a location through the API; returns (part id, location id).
async fn part_and_location(api: &Api, code: &str, loc: &str) -> (i64, i64) {
    let (st, p) = api
        .post(
            "/api/v1/parts",
            json!({"code": code, "name": "主控板", "unit": "块", "unit_cost_fen": 128_050}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let (st, l) = api
        .post("/api/v1/stock/locations", json!({"name": loc}))
        .await;
    assert_eq!(st, 201, "{l}");
    (p["id"].as_i64().unwrap(), l["id"].as_i64().unwrap())
}

async fn on_hand(app: &TestApp, org: i64, part: i64, loc: i64) -> i64 {
    let mut h = app.st.db.acquire().await.unwrap();
    store::maintenance::parts::on_hand(&mut h.c(), org, part, loc)
        .await
        .unwrap()
}

#[tokio::test]
async fn stock_never_goes_negative_under_concurrent_use() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (part, loc) = part_and_location(&api, "MB-100", "总仓").await;
        let (st, r) = api
            .post(
                "/api/v1/stock/receipts",
                json!({"part_id": part, "location_id": loc, "qty": 10}),
            )
            .await;
        assert_eq!(st, 201, "{r}");
        assert_eq!(r["on_hand"], 10);

        // 20 concurrent takes of 1 from 10, each in its own transaction (as an order would)
        let mut tasks = vec![];
        for i in 0..20 {
            let st = app.st.clone();
            let org = app.org;
            tasks.push(tokio::spawn(async move {
                let mut tx = st.db.begin().await.unwrap();
                let ok = store::maintenance::parts::take(
                    &mut tx.c(),
                    org,
                    part,
                    loc,
                    1,
                    None,
                    None,
                    1_700_000_000 + i,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
                ok
            }));
        }
        let mut taken = 0;
        for t in tasks {
            if t.await.unwrap() {
                taken += 1;
            }
        }
        assert_eq!(taken, 10, "{b:?}: exactly the stock on hand is taken");
        assert_eq!(on_hand(&app, app.org, part, loc).await, 0);
        {
            let mut h = app.st.db.acquire().await.unwrap();
            let m = store::maintenance::parts::moves(
                &mut h.c(),
                app.org,
                part,
                store::PageReq::new(Some(1), Some(200)),
            )
            .await
            .unwrap();
            assert_eq!(m.total, 11, "one receipt and ten takes");
            assert_eq!(m.items.iter().filter(|m| m.reason == "order").count(), 10);
            assert_eq!(m.items.iter().map(|m| m.delta).sum::<i64>(), 0);
        }

        // the same through the API: 20 concurrent corrections of -1 from 10
        let (st, _) = api
            .post(
                "/api/v1/stock/receipts",
                json!({"part_id": part, "location_id": loc, "qty": 10}),
            )
            .await;
        assert_eq!(st, 201);
        let mut tasks = vec![];
        for _ in 0..20 {
            let api = Api {
                base: api.base.clone(),
                token: api.token.clone(),
                http: reqwest::Client::new(),
            };
            tasks.push(tokio::spawn(async move {
                api.post(
                    "/api/v1/stock/corrections",
                    json!({"part_id": part, "location_id": loc, "delta": -1, "note": "盘点"}),
                )
                .await
            }));
        }
        let mut codes = vec![];
        for t in tasks {
            let (st, body) = t.await.unwrap();
            if st == 422 {
                assert!(body["fields"]["delta"].is_string(), "{body}");
            }
            codes.push(st);
        }
        assert_eq!(codes.iter().filter(|c| **c == 201).count(), 10, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 422).count(), 10, "{codes:?}");
        assert_eq!(on_hand(&app, app.org, part, loc).await, 0);

        // taking more than is there changes nothing
        let mut tx = app.st.db.begin().await.unwrap();
        let ok = store::maintenance::parts::take(&mut tx.c(), app.org, part, loc, 1, None, None, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(!ok);
        assert_eq!(on_hand(&app, app.org, part, loc).await, 0);
    }
}

#[tokio::test]
async fn parts_pages_receipts_and_corrections_are_audited() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let api = admin_api(&app).await;

        // a location through the page
        let r = s.post("/parts/locations", &[("name", "总仓")]).await;
        assert_eq!(r.status(), 303, "{b:?}");
        let r = s.post("/parts/locations", &[("name", "总仓")]).await;
        assert_eq!(r.status(), 422, "a taken name");
        let (st, html) = s.page("/parts/locations").await;
        assert_eq!(st, 200);
        assert!(html.contains("总仓"));

        // the part form: invalid input kept, cost in yuan
        let (st, html) = s.page("/parts/new").await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "unit").as_deref(), Some("个"));
        let r = s
            .post(
                "/parts",
                &[
                    ("code", "MB 100"),
                    ("name", ""),
                    ("unit", "块"),
                    ("unit_cost", "12.345"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(field_error(&html, "code").is_some());
        assert_eq!(field_error(&html, "name").as_deref(), Some("必填。"));
        assert!(field_error(&html, "unit_cost").is_some());
        assert_eq!(input_value(&html, "unit_cost").as_deref(), Some("12.345"));
        let r = s
            .post(
                "/parts",
                &[
                    ("code", "MB-100"),
                    ("name", "主控板"),
                    ("unit", "块"),
                    ("unit_cost", "1,280.50"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/parts/");
        let r = s
            .post(
                "/parts",
                &[
                    ("code", "mb-100"),
                    ("name", "另一块"),
                    ("unit", "块"),
                    ("unit_cost", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "codes are unique ignoring case");
        let (_, p) = api.get(&format!("/api/v1/parts/{id}")).await;
        assert_eq!(p["unit_cost_fen"], 128_050);
        assert_eq!(p["on_hand"], 0);
        let (st, html) = s.page(&format!("/parts/{id}")).await;
        assert_eq!(st, 200);
        assert!(html.contains("¥1280.50"), "cost shown in yuan");
        let loc = {
            let (_, l) = api.get("/api/v1/stock/locations").await;
            l[0]["id"].as_i64().unwrap()
        };
        let loc_s = loc.to_string();

        // receipt
        let path = format!("/parts/{id}/receive");
        let r = s
            .post(&path, &[("location_id", &loc_s), ("qty", "0")])
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "r-qty").is_some());
        let r = s
            .post(&path, &[("location_id", &loc_s), ("qty", "3")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page(&location(&r)).await;
        assert!(html.contains("已入库"));
        assert!(html.contains("id=\"on-hand\">3 块"));

        // a correction taking more than there is: refused, naming part, location and quantity
        let path = format!("/parts/{id}/correct");
        let r = s
            .post(
                &path,
                &[("location_id", &loc_s), ("delta", "-5"), ("note", "损坏")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        let msg = field_error(&html, "c-delta").unwrap();
        assert!(
            msg.contains("MB-100") && msg.contains("总仓") && msg.contains("3 块"),
            "{msg}"
        );
        assert_eq!(input_value(&html, "c-note").as_deref(), Some("损坏"));
        let (st, body) = api
            .post(
                "/api/v1/stock/corrections",
                json!({"part_id": id, "location_id": loc, "delta": -5, "note": "损坏"}),
            )
            .await;
        assert_eq!(st, 422);
        let m = body["fields"]["delta"].as_str().unwrap_or_default();
        assert!(
            m.starts_with("Not enough stock") && m.contains("MB-100 主控板 at 总仓: 3 块"),
            "{body}"
        );
        // a correction without a reason is refused; with one it is recorded
        let r = s
            .post(&path, &[("location_id", &loc_s), ("delta", "-1")])
            .await;
        assert_eq!(r.status(), 422);
        let r = s
            .post(
                &path,
                &[
                    ("location_id", &loc_s),
                    ("delta", "-2"),
                    ("note", "盘点差异"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(on_hand(&app, app.org, id, loc).await, 1);
        let (_, html) = s.page(&format!("/parts/{id}")).await;
        assert!(html.contains("库存调整") && html.contains("-2") && html.contains("+3"));

        // low-stock filter
        let (_, l) = api.get("/api/v1/parts?low=1").await;
        assert_eq!(l["total"], 1);
        let (_, l) = api.get("/api/v1/parts?low=0").await;
        assert_eq!(l["total"], 0);
        let (_, html) = s.page("/parts?low=1").await;
        assert_eq!(list_rows(&html).len(), 1);
        let (_, html) = s.page("/parts?q=zzz").await;
        assert_eq!(list_rows(&html).len(), 0);

        // stock rows
        let (_, rows) = api.get(&format!("/api/v1/stock?part_id={id}")).await;
        assert_eq!(rows["items"][0]["qty"], 1);
        assert_eq!(rows["items"][0]["location_name"], "总仓");

        // edit with a stale version
        let r = s
            .post(
                &format!("/parts/{id}"),
                &[
                    ("version", "0"),
                    ("code", "MB-100"),
                    ("name", "主控板 V2"),
                    ("unit", "块"),
                    ("unit_cost", "1300"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        let r = s
            .post(
                &format!("/parts/{id}"),
                &[
                    ("version", "1"),
                    ("code", "MB-100"),
                    ("name", "主控板 V2"),
                    ("unit", "块"),
                    ("unit_cost", "1300"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(&format!("/parts/{id}/retire"), &[("version", "2")])
            .await;
        assert_eq!(r.status(), 303);
        let (_, l) = api.get("/api/v1/parts").await;
        assert_eq!(l["total"], 0, "retired parts are hidden");

        // the audit trail
        let parts = audit_rows(&api, "part").await;
        let actions: Vec<&str> = parts
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["retire", "update", "create"]);
        assert_eq!(audit_rows(&api, "stock_location").await.len(), 1);
        let moves = audit_rows(&api, "stock_move").await;
        assert_eq!(
            moves.len(),
            2,
            "the receipt and the correction (refusals leave none)"
        );
        let after = moves[0]["after"].as_str().unwrap_or_default();
        assert!(
            after.contains("盘点差异") && after.contains("correction"),
            "{after}"
        );
    }
}

#[tokio::test]
async fn parts_permissions_and_isolation() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let (part, loc) = part_and_location(&api, "KM-032", "总仓").await;

        // engineers use parts on orders but do not keep the list or the stock
        let eng = app.user(app.org, "eng1", Role::Engineer).await;
        let e_api = app.api(&app.token(eng, app.org).await);
        let (st, _) = e_api.get("/api/v1/parts").await;
        assert_eq!(st, 200);
        let (st, _) = e_api
            .post(
                "/api/v1/parts",
                json!({"code": "X", "name": "x", "unit": "个", "unit_cost_fen": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = e_api
            .post(
                "/api/v1/stock/receipts",
                json!({"part_id": part, "location_id": loc, "qty": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let es = app.login("eng1").await;
        let (st, html) = es.page("/parts").await;
        assert_eq!(st, 200);
        assert!(!html.contains("href=\"/parts/new\""));
        let (st, html) = es.page(&format!("/parts/{part}")).await;
        assert_eq!(st, 200);
        assert!(!html.contains("receive-form"));
        assert_eq!(es.get("/parts/new").await.status(), 403);
        let r = es
            .post(
                &format!("/parts/{part}/receive"),
                &[("location_id", &loc.to_string()), ("qty", "1")],
            )
            .await;
        assert_eq!(r.status(), 403);

        // staff keep parts; auditors only read
        let staff = app.user(app.org, "staff1", Role::Staff).await;
        let s_api = app.api(&app.token(staff, app.org).await);
        let (st, _) = s_api
            .post(
                "/api/v1/stock/receipts",
                json!({"part_id": part, "location_id": loc, "qty": 2}),
            )
            .await;
        assert_eq!(st, 201);
        let aud = app.user(app.org, "aud1", Role::Auditor).await;
        let a_api = app.api(&app.token(aud, app.org).await);
        let (st, _) = a_api.get(&format!("/api/v1/parts/{part}/moves")).await;
        assert_eq!(st, 200);
        let (st, _) = a_api
            .post("/api/v1/stock/locations", json!({"name": "车载库"}))
            .await;
        assert_eq!(st, 403);

        // another organization sees none of it
        let other = app.other_org("beta", "beta_admin").await;
        let uid = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "beta_admin")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let o_api = app.api(&app.token(uid, other).await);
        let (st, _) = o_api.get(&format!("/api/v1/parts/{part}")).await;
        assert_eq!(st, 404);
        let (st, _) = o_api.get(&format!("/api/v1/parts/{part}/moves")).await;
        assert_eq!(st, 404);
        let (_, l) = o_api.get("/api/v1/parts").await;
        assert_eq!(l["total"], 0);
        let (_, l) = o_api.get("/api/v1/stock").await;
        assert_eq!(l["total"], 0);
        let (st, _) = o_api
            .post(
                "/api/v1/stock/receipts",
                json!({"part_id": part, "location_id": loc, "qty": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = o_api
            .put(
                &format!("/api/v1/stock/locations/{loc}"),
                json!({"name": "x"}),
            )
            .await;
        assert_eq!(st, 404);
        let os = app.login("beta_admin").await;
        assert_eq!(os.get(&format!("/parts/{part}")).await.status(), 404);
        assert_eq!(on_hand(&app, app.org, part, loc).await, 2);
    }
}

/// Inserts a service order with an appointment (every NOT NULL column filled).
#[allow(clippy::too_many_arguments)]
async fn order(
    app: &TestApp,
    org: i64,
    number: &str,
    status: &str,
    engineer: Option<i64>,
    start: Option<i64>,
    end: Option<i64>,
    customer: Option<i64>,
    product: Option<i64>,
) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO service_orders (org_id, number, kind, status, customer_id, product_id, engineer_id,
            reported_at, scheduled_start, scheduled_end, fee_fen, parts_cost_fen, month, created_at, updated_at,
            version)
         VALUES ($1, $2, 'repair', $3, $4, $5, $6, $7, $8, $9, 0, 0, '2026-11', $7, $7, 1) RETURNING id")
        .bind(org).bind(number).bind(status).bind(customer).bind(product).bind(engineer)
        .bind(1_795_000_000_i64).bind(start).bind(end).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn customer_and_product(app: &TestApp, region: &str, category: &str) -> (i64, i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    let (c,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO customers (org_id, name, kind, region, tags, consent_contact, consent_survey, active,
            created_at, updated_at, version)
         VALUES ($1, '恒通机械有限公司', 'company', $2, '[]', FALSE, FALSE, TRUE, 0, 0, 1) RETURNING id")
        .bind(app.org).bind(region).fetch_one(x).await)
    .unwrap();
    let (p,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO products (org_id, part_no, model, name, category, warranty_months, contract_levels, active,
            created_at, updated_at, version)
         VALUES ($1, 'P00001', 'XK-100', '数控加工中心', $2, 12, '[]', TRUE, 0, 0, 1) RETURNING id")
        .bind(app.org).bind(category).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    (c, p)
}

#[tokio::test]
async fn week_calendar_shows_orders_and_flags_conflicts() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let eng = app.user(app.org, "eng1", Role::Engineer).await;
        let off = app.st.settings.server.utc_offset_minutes;
        let w = Week::parse("2026-W48").unwrap();
        let mon = w.start(off);
        let h = 3600;
        let (cust, _) = customer_and_product(&app, "华东", "机床").await;
        let a = order(
            &app,
            app.org,
            "SO-2026-000001",
            "scheduled",
            Some(eng),
            Some(mon + 9 * h),
            Some(mon + 11 * h),
            Some(cust),
            None,
        )
        .await;
        let bb = order(
            &app,
            app.org,
            "SO-2026-000002",
            "dispatched",
            Some(eng),
            Some(mon + 10 * h),
            Some(mon + 12 * h),
            None,
            None,
        )
        .await;
        let c = order(
            &app,
            app.org,
            "SO-2026-000003",
            "scheduled",
            Some(eng),
            Some(mon + 2 * 86_400 + 14 * h),
            None,
            None,
            None,
        )
        .await;
        // cancelled, and next week: not shown
        order(
            &app,
            app.org,
            "SO-2026-000004",
            "cancelled",
            Some(eng),
            Some(mon + 10 * h),
            Some(mon + 11 * h),
            None,
            None,
        )
        .await;
        order(
            &app,
            app.org,
            "SO-2026-000005",
            "scheduled",
            Some(eng),
            Some(mon + 8 * 86_400),
            None,
            None,
            None,
        )
        .await;

        let (st, v) = api.get("/api/v1/dispatch/week?week=2026-W48").await;
        assert_eq!(st, 200, "{b:?} {v}");
        assert_eq!(v["week"], "2026-W48");
        assert_eq!(v["prev"], "2026-W47");
        assert_eq!(v["days"][0], "2026-11-23");
        let row = v["engineers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["user_id"] == eng)
            .unwrap()
            .clone();
        let orders = row["orders"].as_array().unwrap();
        let ids: Vec<i64> = orders.iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [a, bb, c]);
        let flag = |id: i64| orders.iter().find(|o| o["id"] == id).unwrap()["conflict"].clone();
        assert_eq!(flag(a), true);
        assert_eq!(flag(bb), true);
        assert_eq!(flag(c), false);
        assert_eq!(row["conflicts"], 2);
        assert_eq!(
            orders[2]["end"].as_i64().unwrap() - orders[2]["start"].as_i64().unwrap(),
            h,
            "no end: one hour"
        );
        let (st, _) = api.get("/api/v1/dispatch/week?week=2026-X1").await;
        assert_eq!(st, 422);

        // the page: a grid with the orders linked, the overlapping ones highlighted
        let s = app.login("admin").await;
        let (st, html) = s.page("/dispatch?week=2026-W48").await;
        assert_eq!(st, 200);
        assert!(html.contains("SO-2026-000001") && html.contains("SO-2026-000003"));
        assert!(!html.contains("SO-2026-000004") && !html.contains("SO-2026-000005"));
        assert!(html.contains(&format!(
            "class=\"slot conflict\" href=\"/service-orders/{a}\""
        )));
        assert!(html.contains(&format!(
            "class=\"slot conflict\" href=\"/service-orders/{bb}\""
        )));
        assert!(html.contains(&format!("class=\"slot\" href=\"/service-orders/{c}\"")));
        assert!(html.contains("09:00–11:00"));
        assert!(html.contains("恒通机械有限公司"));
        assert!(html.contains("href=\"/dispatch?week=2026-W49\""));
        let (_, html) = s.page("/dispatch?week=2026-W49").await;
        assert!(html.contains("SO-2026-000005"));
        assert_eq!(s.get("/dispatch?week=nonsense").await.status(), 303);
        let (st, _) = s.page("/dispatch").await;
        assert_eq!(st, 200, "this week by default");

        // filters: by team, by engineer
        let (st, _) = api
            .put(
                &format!("/api/v1/dispatch/engineers/{eng}"),
                json!({"regions": ["华东"], "skills": ["机床"], "team": "一组", "version": 0}),
            )
            .await;
        assert_eq!(st, 200);
        let (_, v) = api
            .get("/api/v1/dispatch/week?week=2026-W48&team=二组")
            .await;
        assert_eq!(v["engineers"].as_array().unwrap().len(), 0);
        let (_, v) = api
            .get("/api/v1/dispatch/week?week=2026-W48&team=一组")
            .await;
        assert_eq!(v["engineers"].as_array().unwrap().len(), 1);
        assert_eq!(v["teams"], json!(["一组"]));
        let (_, v) = api
            .get(&format!(
                "/api/v1/dispatch/week?week=2026-W48&engineer={}",
                eng + 1000
            ))
            .await;
        assert_eq!(v["engineers"].as_array().unwrap().len(), 0);

        // the dispatch form's warning
        let mut hd = app.st.db.acquire().await.unwrap();
        let cf = store::maintenance::dispatch::conflicts_for(
            &mut hd.c(),
            app.org,
            eng,
            mon + 10 * h,
            mon + 12 * h,
            Some(bb),
        )
        .await
        .unwrap();
        assert_eq!(cf.iter().map(|c| c.0).collect::<Vec<_>>(), [a]);
        assert_eq!(cf[0].1, "SO-2026-000001");
        drop(hd);

        // another organization sees neither the orders nor the engineer
        let other = app.other_org("beta", "beta_admin").await;
        let uid = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "beta_admin")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let o_api = app.api(&app.token(uid, other).await);
        let (_, v) = o_api.get("/api/v1/dispatch/week?week=2026-W48").await;
        assert!(!v.to_string().contains("SO-2026-000001"), "{v}");
        let (st, _) = o_api.get(&format!("/api/v1/dispatch/candidates/{a}")).await;
        assert_eq!(st, 404);
    }
}

#[tokio::test]
async fn candidates_rank_by_region_skill_then_load() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let off = app.st.settings.server.utc_offset_minutes;
        let mon = Week::parse("2026-W48").unwrap().start(off);
        let (cust, prod) = customer_and_product(&app, "华东", "机床").await;
        let e1 = app.user(app.org, "eng_a", Role::Engineer).await;
        let e2 = app.user(app.org, "eng_b", Role::Engineer).await;
        let e3 = app.user(app.org, "eng_c", Role::Engineer).await;
        let mgr = app.user(app.org, "mgr", Role::Manager).await;
        for (u, regions, skills) in [
            (e1, json!(["华北"]), json!(["机床"])),
            (e2, json!(["华东区"]), json!(["电气"])),
            (e3, json!(["华东"]), json!(["机床", "电气"])),
            (mgr, json!(["华东"]), json!(["机床"])),
        ] {
            let (st, body) = api
                .put(
                    &format!("/api/v1/dispatch/engineers/{u}"),
                    json!({"regions": regions, "skills": skills, "version": 0}),
                )
                .await;
            assert_eq!(st, 200, "{body}");
        }
        // the manager is busy: two open orders that week, one overlapping the new order
        order(
            &app,
            app.org,
            "SO-1",
            "scheduled",
            Some(mgr),
            Some(mon + 9 * 3600),
            Some(mon + 10 * 3600),
            None,
            None,
        )
        .await;
        order(
            &app,
            app.org,
            "SO-2",
            "dispatched",
            Some(mgr),
            Some(mon + 86_400),
            None,
            None,
            None,
        )
        .await;
        order(
            &app,
            app.org,
            "SO-3",
            "closed",
            Some(e3),
            Some(mon + 86_400),
            None,
            None,
            None,
        )
        .await;
        let o = order(
            &app,
            app.org,
            "SO-9",
            "created",
            None,
            Some(mon + 9 * 3600),
            Some(mon + 11 * 3600),
            Some(cust),
            Some(prod),
        )
        .await;

        let (st, c) = api.get(&format!("/api/v1/dispatch/candidates/{o}")).await;
        assert_eq!(st, 200, "{b:?} {c}");
        let order_of: Vec<i64> = c
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["user_id"].as_i64().unwrap())
            .collect();
        assert_eq!(order_of, [e3, mgr, e2, e1], "{c}");
        assert_eq!(c[0]["region_match"], true);
        assert_eq!(c[0]["skill_match"], true);
        assert_eq!(c[0]["load"], 0, "closed orders are no load");
        assert_eq!(c[1]["load"], 2);
        assert_eq!(c[1]["conflicts"][0]["number"], "SO-1");
        assert_eq!(c[2]["region_match"], true, "华东区 covers 华东");
        assert_eq!(c[2]["skill_match"], false);
        assert_eq!(c[3]["region_match"], false);
        let (st, _) = api.get("/api/v1/dispatch/candidates/999999").await;
        assert_eq!(st, 404);
    }
}

#[tokio::test]
async fn engineer_profiles_through_the_pages() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let eng = app.user(app.org, "eng1", Role::Engineer).await;
        let staff = app.user(app.org, "staff1", Role::Staff).await;
        let s = app.login("admin").await;
        let (st, html) = s.page("/dispatch/engineers").await;
        assert_eq!(st, 200, "{b:?}");
        assert!(html.contains(&format!("href=\"/dispatch/engineers/{eng}\"")));
        assert!(
            html.contains(&format!("<option value=\"{staff}\">")),
            "others can be given a profile"
        );
        let (st, html) = s.page(&format!("/dispatch/engineers/{eng}")).await;
        assert_eq!(st, 200);
        assert_eq!(input_value(&html, "team").as_deref(), Some(""));
        let path = format!("/dispatch/engineers/{eng}");
        let long = "长".repeat(60);
        let r = s
            .post(
                &path,
                &[
                    ("version", "0"),
                    ("regions", &long),
                    ("skills", ""),
                    ("team", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "regions").is_some());
        let r = s
            .post(
                &path,
                &[
                    ("version", "0"),
                    ("regions", "华东、华中"),
                    ("skills", "机床，电气"),
                    ("team", "华东一组"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, e) = api.get(&format!("/api/v1/dispatch/engineers/{eng}")).await;
        assert_eq!(e["regions"], json!(["华东", "华中"]));
        assert_eq!(e["skills"], json!(["机床", "电气"]));
        assert_eq!(e["team"], "华东一组");
        assert_eq!(e["version"], 1);
        // a stale form keeps the input
        let r = s
            .post(
                &path,
                &[
                    ("version", "0"),
                    ("regions", "华南"),
                    ("skills", ""),
                    ("team", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            input_value(&r.text().await.unwrap(), "regions").as_deref(),
            Some("华南")
        );
        let r = s
            .post(
                &format!("/dispatch/engineers/{staff}"),
                &[
                    ("version", "0"),
                    ("regions", "华北"),
                    ("skills", ""),
                    ("team", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, l) = api.get("/api/v1/dispatch/engineers").await;
        assert_eq!(
            l.as_array().unwrap().len(),
            2,
            "the staff member now has a profile"
        );

        // audited
        let (_, rows) = api
            .get(&format!(
                "/api/v1/audit?entity=engineer_profile&entity_id={eng}"
            ))
            .await;
        assert_eq!(rows["items"].as_array().unwrap().len(), 1);

        // engineers see profiles but do not edit them
        let es = app.login("eng1").await;
        assert_eq!(es.page("/dispatch/engineers").await.0, 200);
        assert_eq!(es.get(&path).await.status(), 403);
        let e_api = app.api(&app.token(eng, app.org).await);
        let (st, _) = e_api
            .put(
                &path.replace("/dispatch", "/api/v1/dispatch"),
                json!({"regions": [], "version": 1}),
            )
            .await;
        assert_eq!(st, 403);
        // not a member: 404
        let other = app.other_org("beta", "beta_admin").await;
        let _ = other;
        let uid = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "beta_admin")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let (st, _) = api
            .put(
                &format!("/api/v1/dispatch/engineers/{uid}"),
                json!({"regions": [], "version": 0}),
            )
            .await;
        assert_eq!(st, 404);
    }
}

#[tokio::test]
async fn demo_parts_and_profiles() {
    for b in backends() {
        let app = spawn_app(b).await;
        let eng = app.user(app.org, "engineer", Role::Engineer).await;
        server::maintenance::parts::seed_demo(&app.st, app.org)
            .await
            .unwrap();
        server::maintenance::parts::seed_demo(&app.st, app.org)
            .await
            .unwrap();
        let api = admin_api(&app).await;
        let (_, l) = api.get("/api/v1/parts?per_page=100").await;
        assert!(l["total"].as_i64().unwrap() >= 15, "{b:?}");
        assert!(l.to_string().contains("主控板") && l.to_string().contains("变频器"));
        let (_, locs) = api.get("/api/v1/stock/locations").await;
        let names: Vec<&str> = locs
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"总仓") && names.contains(&"华东备件库"));
        let (_, s) = api.get("/api/v1/stock?per_page=200").await;
        assert!(s["total"].as_i64().unwrap() > 20);
        let (_, e) = api.get(&format!("/api/v1/dispatch/engineers/{eng}")).await;
        assert_eq!(e["has_profile"], true);
        assert!(e["regions"].to_string().contains("华东"));
        assert_eq!(
            audit_rows(&api, "part").await.len(),
            l["total"].as_u64().unwrap() as usize
        );
    }
}
