//! Tests: products, orders with lines and installed equipment with meter readings: money
//! parsing and totals, warranty ends computed from the product, references that must
//! belong to the same customer, meters that only go up, timelines, search, organization
//! isolation and roles.

use domain::auth::Role;
use serde_json::{Value, json};

use crate::helpers::*;

/// Inserts a customer row directly (customers are another module's); returns its id.
async fn customer(app: &TestApp, org: i64, name: &str) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO customers (org_id, name, kind, tags, consent_contact, consent_survey, active, created_at,
            updated_at, version)
         VALUES ($1, $2, 'company', '[]', FALSE, FALSE, TRUE, 0, 0, 1) RETURNING id")
        .bind(org).bind(name).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Inserts a site of a customer directly; returns its id.
async fn site(app: &TestApp, org: i64, customer: i64, name: &str) -> i64 {
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO customer_sites (org_id, customer_id, name, created_at, updated_at, version)
         VALUES ($1, $2, $3, 0, 0, 1) RETURNING id")
        .bind(org).bind(customer).bind(name).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn admin_api(app: &TestApp) -> Api {
    app.api(&app.token(app.admin_id, app.org).await)
}

async fn product(api: &Api, part_no: &str, months: i64, levels: &[&str]) -> Value {
    let (st, p) = api
        .post(
            "/api/v1/products",
            json!({"part_no": part_no, "model": format!("M-{part_no}"), "name": "空气压缩机",
                   "category": "压缩机", "warranty_months": months, "contract_levels": levels}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    p
}

/// The names of the invalid fields of a JSON error, sorted.
fn fields(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["fields"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn products_crud_and_duplicate_part_numbers() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;

        // create through the form
        let r = s
            .post(
                "/archives/products",
                &[
                    ("part_no", "HX-200.A"),
                    ("model", "HX-200"),
                    ("name", "螺杆空压机"),
                    ("category", "压缩机"),
                    ("warranty_months", "18"),
                    ("contract_levels", "基础，标准、尊享"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{b:?}");
        let id = id_in(&location(&r), "/archives/products/");
        let (st, html) = s.page(&format!("/archives/products/{id}")).await;
        assert_eq!(st, 200);
        assert!(
            html.contains("HX-200.A") && html.contains("基础 / 标准 / 尊享"),
            "{html}"
        );

        // a duplicate part number is a field error and the typed input is kept
        let r = s
            .post(
                "/archives/products",
                &[
                    ("part_no", "HX-200.A"),
                    ("model", "HX-300"),
                    ("name", "另一台"),
                    ("warranty_months", "6"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(field_error(&html, "part_no").as_deref(), Some("已被使用。"));
        assert_eq!(input_value(&html, "model").as_deref(), Some("HX-300"));
        let r = s
            .post(
                "/archives/products",
                &[
                    ("part_no", "HX-300"),
                    ("model", "HX-300"),
                    ("name", "n"),
                    ("warranty_months", "200"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "warranty_months").as_deref(),
            Some("请输入 0 到 120 之间的整数。")
        );
        assert_eq!(
            input_value(&html, "warranty_months").as_deref(),
            Some("200")
        );
        let r = s
            .post(
                "/archives/products",
                &[
                    ("part_no", "HX 1"),
                    ("model", "x"),
                    ("name", "x"),
                    ("warranty_months", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "part_no").is_some());

        // edit with the version read; a stale version keeps the input with a 409
        let (_, form) = s.page(&format!("/archives/products/{id}/edit")).await;
        assert_eq!(
            input_value(&form, "contract_levels").as_deref(),
            Some("基础，标准，尊享")
        );
        let edit = |v: &'static str| {
            vec![
                ("part_no", "HX-200.A"),
                ("model", "HX-200"),
                ("name", "螺杆空压机（改）"),
                ("category", "压缩机"),
                ("warranty_months", "24"),
                ("contract_levels", "标准"),
                ("version", v),
            ]
        };
        let r = s
            .post(&format!("/archives/products/{id}"), &edit("1"))
            .await;
        assert_eq!(r.status(), 303);
        let r = s
            .post(&format!("/archives/products/{id}"), &edit("1"))
            .await;
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert_eq!(
            input_value(&html, "name").as_deref(),
            Some("螺杆空压机（改）")
        );
        assert!(html.contains("name=\"version\" value=\"2\""));

        // API: list filters, get, put, retire / restore
        let api = admin_api(&app).await;
        product(&api, "P-9", 12, &[]).await;
        let (st, dup) = api
            .post(
                "/api/v1/products",
                json!({"part_no": "P-9", "model": "m", "name": "n", "warranty_months": 12}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&dup), vec!["part_no"]);
        assert_eq!(dup["fields"]["part_no"], "Already in use.");
        let (_, list) = api.get("/api/v1/products?q=hx-200").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["warranty_months"], 24);
        assert_eq!(list["items"][0]["contract_levels"], json!(["标准"]));
        let (_, list) = api
            .get("/api/v1/products?category=%E5%8E%8B%E7%BC%A9%E6%9C%BA")
            .await;
        assert_eq!(list["total"], 2);
        let (st, p) = api.get(&format!("/api/v1/products/{id}")).await;
        assert_eq!(st, 200);
        assert_eq!(p["version"], 2);
        let (st, p) = api
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/products/{id}/retire"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(p["active"], false);
        let (_, list) = api.get("/api/v1/products").await;
        assert_eq!(list["total"], 1, "retired products are hidden by default");
        let (_, list) = api.get("/api/v1/products?include_retired=true").await;
        assert_eq!(list["total"], 2);
        let (st, _) = api
            .post(
                &format!("/api/v1/products/{id}/restore"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 409, "stale version");
        let (st, _) = api
            .post(
                &format!("/api/v1/products/{id}/restore"),
                json!({"version": 3}),
            )
            .await;
        assert_eq!(st, 200);
        let (st, body) = api
            .put(
                &format!("/api/v1/products/{id}"),
                json!({"part_no": "HX-200.A", "model": "HX-200", "name": "n", "warranty_months": 121, "version": 4}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["warranty_months"]);

        // the list page and the audit trail
        let (st, html) = s.page("/archives/products?q=HX").await;
        assert_eq!(st, 200);
        assert_eq!(list_rows(&html).len(), 1);
        let (_, audit) = api
            .get(&format!("/api/v1/audit?entity=product&entity_id={id}"))
            .await;
        assert_eq!(
            audit["total"], 4,
            "create, update, retire, restore: {audit}"
        );
    }
}

#[tokio::test]
async fn orders_with_lines_money_and_totals() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let cust = customer(&app, app.org, "华东重工有限公司").await;
        product(&api, "HX-200", 12, &[]).await;
        product(&api, "HX-300", 12, &[]).await;
        let s = app.login("admin").await;

        // the form offers five blank rows
        let (_, html) = s.page("/archives/orders/new").await;
        assert!(
            html.contains("id=\"lines.4.part_no\"") && !html.contains("id=\"lines.5.part_no\"")
        );

        // bad lines: errors per row, everything typed kept
        let cust_s = cust.to_string();
        let mut bad = vec![
            ("order_no", "SO-2026-001"),
            ("customer_id", cust_s.as_str()),
            ("ship_date", "2026-03-05"),
            ("lines.0.part_no", "HX-200"),
            ("lines.0.quantity", "2"),
            ("lines.0.unit_price", "12.50"),
            ("lines.1.part_no", ""),
            ("lines.1.quantity", ""),
            ("lines.1.unit_price", ""),
            ("lines.2.part_no", "HX-300"),
            ("lines.2.quantity", "0"),
            ("lines.2.unit_price", "1.999"),
            ("lines.3.part_no", "NOPE"),
            ("lines.3.quantity", "1"),
            ("lines.3.unit_price", "1"),
        ];
        let r = s.post("/archives/orders", &bad).await;
        assert_eq!(r.status(), 422, "{b:?}");
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "lines.2.quantity").as_deref(),
            Some("数量须为大于 0 的整数。")
        );
        assert!(field_error(&html, "lines.2.unit_price").is_some());
        assert!(field_error(&html, "lines.0.quantity").is_none());
        assert_eq!(
            input_value(&html, "lines.2.unit_price").as_deref(),
            Some("1.999")
        );
        assert_eq!(
            input_value(&html, "lines.0.unit_price").as_deref(),
            Some("12.50")
        );
        assert_eq!(
            input_value(&html, "order_no").as_deref(),
            Some("SO-2026-001")
        );
        assert_eq!(
            selected_value(&html, "customer_id").as_deref(),
            Some(cust_s.as_str())
        );
        // once the row is fixed, the unknown part number is reported on its row
        bad[10] = ("lines.2.quantity", "3");
        bad[11] = ("lines.2.unit_price", "0.5");
        let r = s.post("/archives/orders", &bad).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "lines.3.part_no").as_deref(),
            Some("没有此料号的产品。")
        );
        assert_eq!(field_errors(&html).len(), 1);
        // an order needs a line
        let r = s
            .post(
                "/archives/orders",
                &[("order_no", "SO-X"), ("customer_id", cust_s.as_str())],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "lines").is_some());

        // a good order: 2 × 12.50 + 3 × 0.50 = 26.50
        bad.truncate(12);
        let r = s.post("/archives/orders", &bad).await;
        assert_eq!(r.status(), 303);
        let id = id_in(&location(&r), "/archives/orders/");
        let (_, html) = s.page(&format!("/archives/orders/{id}")).await;
        assert!(
            html.contains("<td class=\"num\" id=\"total\">26.50</td>"),
            "{html}"
        );
        assert!(html.contains("12.50") && html.contains("25.00"));
        let (st, o) = api.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(st, 200);
        assert_eq!(o["total_fen"], 2650);
        assert_eq!(o["customer_name"], "华东重工有限公司");
        assert_eq!(o["lines"].as_array().unwrap().len(), 2);
        assert_eq!(o["lines"][0]["unit_price_fen"], 1250);
        assert_eq!(o["lines"][0]["amount_fen"], 2500);
        assert_eq!(o["lines"][1]["part_no"], "HX-300");

        // duplicate order numbers are refused with a field error
        let (st, body) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "SO-2026-001", "customer_id": cust,
                       "lines": [{"part_no": "HX-200", "quantity": 1, "unit_price_fen": 100}]}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["order_no"]);
        let (st, body) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "SO-2", "customer_id": 999999,
                       "lines": [{"part_no": "HX-200", "quantity": -1, "unit_price_fen": -5}]}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            fields(&body),
            vec!["lines.0.quantity", "lines.0.unit_price_fen"]
        );

        // the edit form shows the lines in yuan plus blank rows; an update replaces the lines
        let (_, form) = s.page(&format!("/archives/orders/{id}/edit")).await;
        assert_eq!(
            input_value(&form, "lines.1.unit_price").as_deref(),
            Some("0.50")
        );
        assert_eq!(input_value(&form, "lines.6.part_no").as_deref(), Some(""));
        let (st, o) = api
            .put(
                &format!("/api/v1/orders/{id}"),
                json!({"order_no": "SO-2026-001", "customer_id": cust, "delivery_no": "DN-77",
                       "ship_date": "2026-03-06", "version": 1,
                       "lines": [{"part_no": "HX-300", "quantity": 4, "unit_price_fen": 123456}]}),
            )
            .await;
        assert_eq!(st, 200, "{o}");
        assert_eq!(o["total_fen"], 493824);
        assert_eq!(o["lines"].as_array().unwrap().len(), 1);
        let (_, html) = s.page(&format!("/archives/orders/{id}")).await;
        assert!(html.contains("4938.24"));

        // list: counted and summed in SQL, filtered by number and customer
        let (_, list) = api.get("/api/v1/orders?q=so-2026").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["total_fen"], 493824);
        assert_eq!(list["items"][0]["line_count"], 1);
        let (_, list) = api
            .get(&format!(
                "/api/v1/orders?customer_id={cust}&ship_from=2026-03-06"
            ))
            .await;
        assert_eq!(list["total"], 1);
        let (_, list) = api.get("/api/v1/orders?ship_to=2026-03-05").await;
        assert_eq!(list["total"], 0);
        let (_, html) = s.page("/archives/orders").await;
        assert!(list_rows(&html)[0].contains("4938.24"));

        // the delivery note number is searchable
        let (st, hits) = api.get("/api/v1/search?q=DN-77").await;
        assert_eq!(st, 200);
        assert_eq!(hits[0]["kind"], "order");
    }
}

#[tokio::test]
async fn equipment_warranty_references_readings_timeline_and_search() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let acme = customer(&app, app.org, "华东重工").await;
        let other = customer(&app, app.org, "北方机械").await;
        let acme_site = site(&app, app.org, acme, "一号厂房").await;
        let other_site = site(&app, app.org, other, "总装车间").await;
        let p = product(&api, "HX-200", 13, &["基础", "尊享"]).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, o) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "SO-1", "customer_id": acme, "ship_date": "2026-01-20",
                       "lines": [{"part_no": "HX-200", "quantity": 1, "unit_price_fen": 100}]}),
            )
            .await;
        let order = o["id"].as_i64().unwrap();
        let (_, o2) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "SO-2", "customer_id": other,
                       "lines": [{"part_no": "HX-200", "quantity": 1, "unit_price_fen": 100}]}),
            )
            .await;
        let other_order = o2["id"].as_i64().unwrap();

        // warranty end computed from the product: 2026-01-31 + 13 months → 2027-02-28
        let unit = json!({"serial": "SN-2026-0012345678", "product_id": pid, "customer_id": acme,
                          "site_id": acme_site, "order_id": order, "install_date": "2026-01-31",
                          "contract_level": "尊享", "contract_start": "2026-02-01", "contract_end": "2027-01-31",
                          "sla_profile": "4 小时响应"});
        let (st, e) = api.post("/api/v1/equipment", unit.clone()).await;
        assert_eq!(st, 201, "{b:?} {e}");
        let eid = e["id"].as_i64().unwrap();
        assert_eq!(e["warranty_end"], "2027-02-28");
        assert_eq!(e["warranty_overridden"], false);
        assert_eq!(e["status"], "in_service");
        assert_eq!(e["order_no"], "SO-1");

        // duplicate serial, a site or order of another customer, a level not offered
        let (st, body) = api.post("/api/v1/equipment", unit.clone()).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["serial"]);
        let mut bad = unit.clone();
        bad["serial"] = json!("SN-OTHER-1");
        bad["site_id"] = json!(other_site);
        bad["order_id"] = json!(other_order);
        bad["contract_level"] = json!("标准");
        let (st, body) = api.post("/api/v1/equipment", bad.clone()).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["contract_level", "order_id", "site_id"]);
        assert_eq!(
            body["fields"]["contract_level"],
            "The product offers these contract levels: 基础 / 尊享."
        );
        bad["contract_end"] = json!("2026-01-01");
        let (st, body) = api.post("/api/v1/equipment", bad).await;
        assert_eq!(st, 422);
        assert_eq!(
            fields(&body),
            vec!["contract_end"],
            "input is parsed before references are checked"
        );

        // the form refuses a site of another customer and keeps the input
        let s = app.login("admin").await;
        let (acme_s, other_site_s, pid_s) =
            (acme.to_string(), other_site.to_string(), pid.to_string());
        let r = s
            .post(
                "/archives/equipment",
                &[
                    ("serial", "SN-FORM-1"),
                    ("product_id", pid_s.as_str()),
                    ("customer_id", acme_s.as_str()),
                    ("site_id", other_site_s.as_str()),
                    ("install_date", "2026-02-10"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "site_id").as_deref(),
            Some("该地点不属于所选客户。")
        );
        assert_eq!(input_value(&html, "serial").as_deref(), Some("SN-FORM-1"));
        assert_eq!(
            selected_value(&html, "site_id").as_deref(),
            Some(other_site_s.as_str())
        );

        // override: the typed date wins; unticked, the computed date comes back
        let r = s
            .post(
                "/archives/equipment",
                &[
                    ("serial", "SN-FORM-1"),
                    ("product_id", pid_s.as_str()),
                    ("customer_id", acme_s.as_str()),
                    ("install_date", "2026-02-10"),
                    ("warranty_overridden", "1"),
                    ("warranty_end", "2030-12-31"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let fid = id_in(&location(&r), "/archives/equipment/");
        let (_, f) = api.get(&format!("/api/v1/equipment/{fid}")).await;
        assert_eq!(f["warranty_end"], "2030-12-31");
        assert_eq!(f["warranty_overridden"], true);
        let r = s
            .post(
                &format!("/archives/equipment/{fid}"),
                &[
                    ("serial", "SN-FORM-1"),
                    ("product_id", pid_s.as_str()),
                    ("customer_id", acme_s.as_str()),
                    ("install_date", "2026-02-10"),
                    ("warranty_end", "2030-12-31"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, f) = api.get(&format!("/api/v1/equipment/{fid}")).await;
        assert_eq!(f["warranty_end"], "2027-03-10");
        let r = s
            .post(
                "/archives/equipment",
                &[
                    ("serial", "SN-FORM-2"),
                    ("product_id", pid_s.as_str()),
                    ("customer_id", acme_s.as_str()),
                    ("warranty_overridden", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(field_error(&r.text().await.unwrap(), "warranty_end").is_some());

        // meter readings only go up (per meter unit), by date
        let rd = |on: &str, v: i64, unit: &str| json!({"read_on": on, "value": v, "unit": unit});
        let path = format!("/api/v1/equipment/{eid}/readings");
        assert_eq!(api.post(&path, rd("2026-03-01", 100, "h")).await.0, 201);
        assert_eq!(api.post(&path, rd("2026-04-01", 250, "h")).await.0, 201);
        assert_eq!(
            api.post(&path, rd("2026-03-15", 5, "次")).await.0,
            201,
            "another meter"
        );
        let (st, body) = api.post(&path, rd("2026-05-01", 240, "h")).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["value"]);
        assert_eq!(
            body["fields"]["value"],
            "A reading cannot be below the earlier reading 250 (meters only go up)."
        );
        let (st, body) = api.post(&path, rd("2026-03-10", 300, "h")).await;
        assert_eq!(st, 422);
        assert_eq!(
            body["fields"]["value"],
            "A reading cannot be above the later reading 250."
        );
        assert_eq!(api.post(&path, rd("2026-03-10", 180, "h")).await.0, 201);
        let (st, body) = api.post(&path, rd("2026-05-01", -1, "h")).await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["value"]);
        let (_, list) = api.get(&path).await;
        assert_eq!(list["total"], 4);
        assert_eq!(list["items"][0]["read_on"], "2026-04-01");
        // the page's form: a decrease re-renders with the message and the typed values
        let r = s
            .post(
                &format!("/archives/equipment/{eid}/readings"),
                &[("read_on", "2026-06-01"), ("value", "200"), ("unit", "h")],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(
            field_error(&html, "value").as_deref(),
            Some("读数不能小于此前的读数 250（表计读数只增不减）。")
        );
        assert_eq!(input_value(&html, "value").as_deref(), Some("200"));
        let r = s
            .post(
                &format!("/archives/equipment/{eid}/readings"),
                &[("read_on", "2026-06-01"), ("value", "260"), ("unit", "h")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).contains("ok=reading_added"));

        // the unit page shows everything, the readings and the timeline
        let (st, html) = s.page(&format!("/archives/equipment/{eid}")).await;
        assert_eq!(st, 200);
        for want in [
            "SN-2026-0012345678",
            "2027-02-28",
            "尊享",
            "4 小时响应",
            "一号厂房",
            "SO-1",
            "260",
            "设备安装 SN-2026-0012345678 M-HX-200",
        ] {
            assert!(html.contains(want), "{want} missing");
        }
        let (_, tl) = api.get(&format!("/api/v1/equipment/{eid}/timeline")).await;
        assert_eq!(tl["total"], 1);
        assert_eq!(tl["items"][0]["kind"], "install");
        assert_eq!(tl["items"][0]["equipment_id"], eid);

        // the customer's timeline holds the order and the installs, newest first
        let events = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::timeline::for_customer(
                &mut h.c(),
                app.org,
                acme,
                store::PageReq::new(None, None),
            )
            .await
            .unwrap()
        };
        let seen: Vec<(String, String)> = events
            .items
            .iter()
            .map(|e| (e.kind.clone(), e.summary.clone()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("install".to_string(), "SN-FORM-1 M-HX-200".to_string()),
                (
                    "install".to_string(),
                    "SN-2026-0012345678 M-HX-200".to_string()
                ),
                ("order".to_string(), "SO-1".to_string()),
            ]
        );
        // moving the install date rewrites the event instead of adding one
        let mut upd = unit.clone();
        upd["install_date"] = json!("2025-12-01");
        upd["version"] = json!(1);
        let (st, e) = api.put(&format!("/api/v1/equipment/{eid}"), upd).await;
        assert_eq!(st, 200, "{e}");
        assert_eq!(e["warranty_end"], "2027-01-01");
        let events = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::timeline::for_customer(
                &mut h.c(),
                app.org,
                acme,
                store::PageReq::new(None, None),
            )
            .await
            .unwrap()
        };
        assert_eq!(events.total, 3);
        assert_eq!(
            events.items[2].kind, "install",
            "the install now precedes the order"
        );

        // search finds the unit by the last six characters of its serial, on every backend
        let (st, hits) = api.get("/api/v1/search?q=345678").await;
        assert_eq!(st, 200);
        assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
        assert_eq!(hits[0]["kind"], "equipment");
        assert_eq!(hits[0]["ref_id"], eid);
        assert_eq!(hits[0]["title"], "SN-2026-0012345678 · M-HX-200");
        let (_, hits) = api
            .get("/api/v1/search?q=%E5%8D%8E%E4%B8%9C&kind=equipment")
            .await;
        assert_eq!(hits.as_array().unwrap().len(), 2, "by customer name");

        // list filters: serial, warranty state, status
        let (_, list) = api.get("/api/v1/equipment?q=form").await;
        assert_eq!(list["total"], 1);
        let (_, list) = api
            .get(&format!(
                "/api/v1/equipment?customer_id={acme}&warranty=active"
            ))
            .await;
        assert_eq!(list["total"], 2, "both units are under warranty today");
        let (st, _) = api.get("/api/v1/equipment?warranty=maybe").await;
        assert_eq!(st, 422);
        let mut h = app.st.db.acquire().await.unwrap();
        store::run!(&mut h.c(), x => sqlx::query("UPDATE equipment SET warranty_end = '2001-01-01' WHERE id = $1")
            .bind(fid).execute(x).await)
        .unwrap();
        drop(h);
        let (_, list) = api.get("/api/v1/equipment?warranty=expired").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], fid);
        let (_, html) = s.page("/archives/equipment?warranty=expired").await;
        assert_eq!(list_rows(&html).len(), 1);
        assert!(list_rows(&html)[0].contains("已过保"));
        let (st, r) = api
            .post(
                &format!("/api/v1/equipment/{fid}/retire"),
                json!({"version": 2}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["status"], "retired");
        let (st, _) = api
            .post(
                &format!("/api/v1/equipment/{fid}/retire"),
                json!({"version": 3}),
            )
            .await;
        assert_eq!(st, 409, "already retired");
        let (_, list) = api.get("/api/v1/equipment?status=retired").await;
        assert_eq!(list["total"], 1);
        let (_, html) = s
            .page(&format!(
                "/archives/equipment?status=in_service&product_id={pid}"
            ))
            .await;
        assert_eq!(list_rows(&html).len(), 1);
        // The list's order, status then serial (what migration 15's index walks), not the
        // order the units were added in: a unit added last but first by serial leads, the
        // retired one comes last.
        let mut first = unit.clone();
        first["serial"] = json!("AA-LIST-1");
        let (st, body) = api.post("/api/v1/equipment", first).await;
        assert_eq!(st, 201, "{body}");
        let (_, list) = api.get("/api/v1/equipment").await;
        let order: Vec<(&str, &str)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["status"].as_str().unwrap(), i["serial"].as_str().unwrap()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("in_service", "AA-LIST-1"),
                ("in_service", "SN-2026-0012345678"),
                ("retired", "SN-FORM-1"),
            ],
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn archives_are_org_scoped_and_roles_apply() {
    for b in backends() {
        let app = spawn_app(b).await;
        let api = admin_api(&app).await;
        let cust = customer(&app, app.org, "客户甲").await;
        let p = product(&api, "A-1", 12, &[]).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, o) = api
            .post(
                "/api/v1/orders",
                json!({"order_no": "O-1", "customer_id": cust,
                       "lines": [{"part_no": "A-1", "quantity": 1, "unit_price_fen": 1}]}),
            )
            .await;
        let oid = o["id"].as_i64().unwrap();
        let (_, e) = api
            .post(
                "/api/v1/equipment",
                json!({"serial": "SN-A", "product_id": pid, "customer_id": cust}),
            )
            .await;
        let eid = e["id"].as_i64().unwrap();
        assert_eq!(
            e["warranty_end"],
            Value::Null,
            "no install date, no warranty end"
        );

        // another organization sees none of it and cannot reference it
        let org2 = app.other_org("beta", "beta_admin").await;
        let beta_id = {
            let mut h = app.st.db.acquire().await.unwrap();
            let (id,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
                "SELECT id FROM users WHERE login = 'beta_admin'").fetch_one(x).await)
            .unwrap();
            id
        };
        let beta = app.api(&app.token(beta_id, org2).await);
        for path in [
            format!("/api/v1/products/{pid}"),
            format!("/api/v1/orders/{oid}"),
            format!("/api/v1/equipment/{eid}"),
            format!("/api/v1/equipment/{eid}/readings"),
            format!("/api/v1/equipment/{eid}/timeline"),
        ] {
            assert_eq!(beta.get(&path).await.0, 404, "{path}");
        }
        let (_, list) = beta.get("/api/v1/equipment").await;
        assert_eq!(list["total"], 0);
        let (_, hits) = beta.get("/api/v1/search?q=SN-A").await;
        assert_eq!(hits, json!([]));
        let (st, _) = beta
            .put(
                &format!("/api/v1/products/{pid}"),
                json!({"part_no": "X", "model": "x", "name": "x", "warranty_months": 1, "version": 1}),
            )
            .await;
        assert_eq!(st, 404);
        let (st, _) = beta
            .post(
                &format!("/api/v1/equipment/{eid}/readings"),
                json!({"read_on": "2026-01-01", "value": 1, "unit": "h"}),
            )
            .await;
        assert_eq!(st, 404);
        beta.post(
            "/api/v1/products",
            json!({"part_no": "A-1", "model": "same part number, other org", "name": "n", "warranty_months": 0}),
        )
        .await;
        let (st, body) = beta
            .post(
                "/api/v1/equipment",
                json!({"serial": "SN-A", "product_id": pid, "customer_id": cust}),
            )
            .await;
        assert_eq!(st, 422, "{body}");
        assert_eq!(fields(&body), vec!["customer_id", "product_id"]);
        let (st, body) = beta
            .post(
                "/api/v1/orders",
                json!({"order_no": "O-1", "customer_id": cust,
                       "lines": [{"part_no": "A-1", "quantity": 1, "unit_price_fen": 1}]}),
            )
            .await;
        assert_eq!(st, 422);
        assert_eq!(fields(&body), vec!["customer_id"]);
        let bs = app.login("beta_admin").await;
        assert_eq!(bs.page(&format!("/archives/equipment/{eid}")).await.0, 404);
        assert_eq!(
            bs.page(&format!("/archives/orders/{oid}/edit")).await.0,
            404
        );

        // an auditor reads but never writes; staff may write
        let aud = app.user(app.org, "aud", Role::Auditor).await;
        let aud = app.api(&app.token(aud, app.org).await);
        assert_eq!(aud.get(&format!("/api/v1/equipment/{eid}")).await.0, 200);
        assert_eq!(aud.get("/api/v1/orders").await.0, 200);
        let (st, _) = aud
            .post(
                "/api/v1/products",
                json!({"part_no": "Z", "model": "z", "name": "z", "warranty_months": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(
                &format!("/api/v1/equipment/{eid}/readings"),
                json!({"read_on": "2026-01-01", "value": 1, "unit": "h"}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .post(
                &format!("/api/v1/equipment/{eid}/retire"),
                json!({"version": 1}),
            )
            .await;
        assert_eq!(st, 403);
        let (st, _) = aud
            .put(
                &format!("/api/v1/orders/{oid}"),
                json!({"order_no": "O-1", "customer_id": cust, "version": 1,
                "lines": [{"part_no": "A-1", "quantity": 2, "unit_price_fen": 1}]}),
            )
            .await;
        assert_eq!(st, 403);
        app.user(app.org, "aud_page", Role::Auditor).await;
        let s = app.login("aud_page").await;
        let (st, html) = s.page(&format!("/archives/equipment/{eid}")).await;
        assert_eq!(st, 200);
        assert!(!html.contains("id=\"add-reading\"") && !html.contains("id=\"edit\""));
        assert_eq!(s.page("/archives/products/new").await.0, 403);
        let r = s
            .post(
                "/archives/products",
                &[
                    ("part_no", "Z"),
                    ("model", "z"),
                    ("name", "z"),
                    ("warranty_months", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403);
        let stf = app.user(app.org, "stf", Role::Staff).await;
        let stf = app.api(&app.token(stf, app.org).await);
        let (st, _) = stf
            .post(
                &format!("/api/v1/equipment/{eid}/readings"),
                json!({"read_on": "2026-01-01", "value": 1, "unit": "h"}),
            )
            .await;
        assert_eq!(st, 201);
    }
}
