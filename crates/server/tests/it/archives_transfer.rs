//! Spreadsheet import (CSV in UTF-8 and GBK, XLSX; dry run; all or nothing; every class of
//! bad row; the CLI) and export (CSV with BOM, XLSX read back; filters; organizations).

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use domain::auth::Role;
use serde_json::Value;

use crate::helpers::{TestApp, backends, spawn_app};

async fn upload(
    app: &TestApp,
    token: &str,
    kind: &str,
    file: &str,
    body: Vec<u8>,
    commit: bool,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/import/{kind}?filename={file}&commit={commit}"
        )))
        .bearer_auth(token)
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn count(app: &TestApp, table: &'static str) -> i64 {
    let sql = match table {
        "customers" => "SELECT COUNT(*) FROM customers",
        "customer_contacts" => "SELECT COUNT(*) FROM customer_contacts",
        "products" => "SELECT COUNT(*) FROM products",
        "orders" => "SELECT COUNT(*) FROM orders",
        "order_lines" => "SELECT COUNT(*) FROM order_lines",
        "equipment" => "SELECT COUNT(*) FROM equipment",
        _ => unreachable!(),
    };
    let mut h = app.st.db.acquire().await.unwrap();
    let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(sql).fetch_one(x).await).unwrap();
    n
}

fn errors(v: &Value) -> Vec<(u64, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const CUSTOMERS: &str = "客户编号,客户名称,类型,地区,地址,标签\n\
C001,华东重工机械有限公司,公司,华东,上海市浦东新区张江路1号,重点客户、老客户\n\
C002,王先生,个人,华北,北京市朝阳区,\n";

const PRODUCTS: &str = "料号,型号,产品名称,类别,保修期,服务合同等级\n\
P-100,XK-200,数控加工中心,机床,24,基础、标准\n\
P-200,BF-10,变频控制柜,电气,12,\n";

#[tokio::test]
async fn import_every_kind_and_every_bad_row() {
    for b in backends() {
        let app = spawn_app(b).await;
        let token = app.token(app.admin_id, app.org).await;

        // Customers in GBK (what Excel on Chinese Windows saves), dry run first.
        let (gbk, _, _) = encoding_rs::GBK.encode(CUSTOMERS);
        let (st, v) = upload(&app, &token, "customers", "c.csv", gbk.to_vec(), false).await;
        assert_eq!(st, 200, "{b:?} {v}");
        assert_eq!(
            (v["rows"].as_u64(), v["committed"].as_bool()),
            (Some(2), Some(false))
        );
        assert_eq!(
            count(&app, "customers").await,
            0,
            "a dry run writes nothing"
        );
        let (st, v) = upload(&app, &token, "customers", "c.csv", gbk.to_vec(), true).await;
        assert_eq!((st, v["committed"].as_bool()), (200, Some(true)), "{v}");
        assert_eq!(count(&app, "customers").await, 2);

        // Contacts (English headers), products (UTF-8 with BOM).
        let contacts = "customer,name,mobile\nC001,张伟,13912345678\n王先生,王先生,13800001111\n";
        let (st, v) = upload(&app, &token, "contacts", "k.csv", contacts.into(), true).await;
        assert_eq!(st, 200, "{v}");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(PRODUCTS.as_bytes());
        let (st, v) = upload(&app, &token, "products", "p.csv", bom, true).await;
        assert_eq!(st, 200, "{v}");

        // Orders: two rows are two lines of one order.
        let orders = "订单编号,客户,交运日期,料号,数量,单价\nSO-1,C001,2026-03-01,P-100,2,12500.00\nSO-1,C001,,P-200,1,800\nSO-2,王先生,2026-04-02,P-200,1,800.5\n";
        let (st, v) = upload(&app, &token, "orders", "o.csv", orders.into(), true).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            (
                count(&app, "orders").await,
                count(&app, "order_lines").await
            ),
            (2, 3)
        );

        // Equipment from XLSX, with dates as real Excel dates.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (i, h) in ["序列号", "料号", "客户", "订单编号", "安装日期"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, i as u16, *h).unwrap();
        }
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 10).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (r, serial) in ["SN-2026-0000001", "SN-2026-0000002"].iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, *serial).unwrap();
            ws.write_string(r, 1, "P-100").unwrap();
            ws.write_string(r, 2, "C001").unwrap();
            ws.write_string(r, 3, "SO-1").unwrap();
            ws.write_datetime_with_format(r, 4, &date, &fmt).unwrap();
        }
        let (st, v) = upload(
            &app,
            &token,
            "equipment",
            "u.xlsx",
            wb.save_to_buffer().unwrap(),
            true,
        )
        .await;
        assert_eq!(st, 200, "{b:?} {v}");
        assert_eq!(count(&app, "equipment").await, 2);
        let (_, unit) = app.api(&token).get("/api/v1/search?q=0000002").await;
        assert_eq!(
            unit.as_array().unwrap().len(),
            1,
            "imported units are searchable: {unit}"
        );

        // Bulk-written audit rows keep the hash chain intact.
        {
            let mut h = app.st.db.acquire().await.unwrap();
            let v = store::audit::verify(&mut h.c()).await.unwrap();
            assert!(v.broken.is_none(), "{b:?}: {v:?}");
        }
        let (_, audit) = app.api(&token).get("/api/v1/audit?entity=equipment").await;
        assert_eq!(
            audit["total"], 2,
            "one audit row per imported unit: {audit}"
        );

        // Every class of bad row, reported together; nothing written.
        let bad = "序列号,料号,客户,安装日期\n\
SN-OK-1,P-100,C001,2026-05-01\n\
,P-100,C001,2026-05-01\n\
SN-BAD-DATE,P-100,C001,2026-02-30\n\
SN-BAD-PART,P-999,C001,2026-05-01\n\
SN-2026-0000001,P-100,C001,2026-05-01\n\
SN-BAD-CUST,P-100,不存在的客户,2026-05-01\n\
SN-OK-1,P-100,C001,2026-05-01\n";
        let (st, v) = upload(&app, &token, "equipment", "bad.csv", bad.into(), true).await;
        assert_eq!(st, 422, "{v}");
        assert_eq!(v["committed"], false);
        let e = errors(&v);
        for (line, field) in [
            (3, "serial"),
            (4, "install_date"),
            (5, "part_no"),
            (6, "serial"),
            (7, "customer"),
            (8, "serial"),
        ] {
            assert!(
                e.contains(&(line, field.to_string())),
                "{b:?}: line {line} {field} missing in {e:?}"
            );
        }
        assert!(!e.iter().any(|(l, _)| *l == 2), "the good row has no error");
        assert_eq!(count(&app, "equipment").await, 2, "all or nothing");
        let msg = v["errors"][0]["message"].as_str().unwrap();
        assert_eq!(
            msg,
            server::i18n::catalog(server::i18n::Lang::En)["err.required"],
            "localised message, not a key"
        );

        // Missing required columns and unknown ones.
        let (st, v) = upload(
            &app,
            &token,
            "equipment",
            "x.csv",
            "序列号,颜色\nSN-9,红\n".into(),
            true,
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(
            v["missing_columns"],
            serde_json::json!(["part_no", "customer"])
        );
        assert_eq!(v["unknown_columns"], serde_json::json!(["颜色"]));
        // A file that is not a spreadsheet.
        let (st, v) = upload(&app, &token, "equipment", "x.pdf", "%PDF".into(), true).await;
        assert_eq!((st, v["fields"]["file"].is_string()), (422, true), "{v}");
        // Read-only roles cannot import.
        let auditor = app.user(app.org, "audit.li", Role::Auditor).await;
        let at = app.token(auditor, app.org).await;
        let (st, _) = upload(&app, &at, "customers", "c.csv", CUSTOMERS.into(), false).await;
        assert_eq!(st, 403);
    }
}

#[tokio::test]
async fn import_page_reports_rows_and_cli_imports() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let csrf = s.csrf.lock().unwrap().clone();
        let form = |commit: &str, body: &str, csrf: &str| {
            reqwest::multipart::Form::new()
                .text("_csrf", csrf.to_string())
                .text("kind", "customers")
                .text("commit", commit.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name("c.csv"),
                )
        };
        let bad = "客户名称,类型\n华东重工,公司\n,公司\n";
        let r = s
            .http
            .post(app.url("/archives/import"))
            .multipart(form("1", bad, &csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{b:?}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"row-errors\"") && html.contains("<td>3</td>"),
            "{html}"
        );
        assert_eq!(count(&app, "customers").await, 0);
        let r = s
            .http
            .post(app.url("/archives/import"))
            .multipart(form("1", CUSTOMERS, &csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("id=\"imported\""));
        assert_eq!(count(&app, "customers").await, 2);
        // Without the CSRF token: refused.
        let r = s
            .http
            .post(app.url("/archives/import"))
            .multipart(form("1", CUSTOMERS, "nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // The command line, with a dry run first.
        let dir = std::env::temp_dir().join(format!("as-import-{}", store::random_hex(4)));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("products.csv");
        std::fs::write(&file, PRODUCTS).unwrap();
        let run = |extra: &[&str]| {
            let mut args = vec![
                "import",
                "products",
                file.to_str().unwrap(),
                "--org",
                "acme",
            ];
            args.extend_from_slice(extra);
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftersales"))
                .args(&args)
                .env("AFTERSALES_DATABASE__URL", &app.url)
                .env("RUST_LOG", "error")
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let (code, out) = run(&["--dry-run"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("nothing written"), "{out}");
        assert_eq!(count(&app, "products").await, 0);
        let (code, out) = run(&[]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("2 rows imported"), "{out}");
        let (code, out) = run(&[]);
        assert_eq!(code, Some(2), "duplicates the second time: {out}");
        assert_eq!(count(&app, "products").await, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn exports_are_filtered_scoped_and_open_in_excel() {
    for b in backends() {
        let app = spawn_app(b).await;
        let token = app.token(app.admin_id, app.org).await;
        assert_eq!(
            upload(&app, &token, "customers", "c.csv", CUSTOMERS.into(), true)
                .await
                .0,
            200
        );
        let other = app.other_org("beta", "beta-admin").await;
        let other_admin = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "beta-admin")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let ot = app.token(other_admin, other).await;
        let only_beta = "客户名称,地区\n贝塔公司,华南\n";
        assert_eq!(
            upload(&app, &ot, "customers", "c.csv", only_beta.into(), true)
                .await
                .0,
            200
        );

        let get = |path: String, token: String| async move {
            let r = reqwest::Client::new()
                .get(format!("http://{}{path}", app.addr))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (r.status().as_u16(), ct, r.bytes().await.unwrap().to_vec())
        };
        let (st, ct, body) = get("/api/v1/export/customers?format=csv".into(), token.clone()).await;
        assert_eq!(st, 200, "{b:?}");
        assert!(ct.starts_with("text/csv"));
        assert!(body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
        let text = String::from_utf8(body[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("客户编号,客户名称"), "{text}");
        assert_eq!(
            lines.len(),
            3,
            "header + 2, no other organization's rows: {text}"
        );
        assert!(!text.contains("贝塔"));

        // Filters as on the list page.
        let (_, _, body) = get(
            "/api/v1/export/customers?format=csv&region=%E5%8D%8E%E5%8C%97".into(),
            token.clone(),
        )
        .await;
        let text = String::from_utf8(body[3..].to_vec()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("王先生"));

        // XLSX reads back, and re-imports (headers are the import's).
        let (st, ct, body) =
            get("/api/v1/export/customers?format=xlsx".into(), token.clone()).await;
        assert_eq!(st, 200);
        assert!(ct.contains("spreadsheetml"));
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body.clone())).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.height(), 3);
        assert_eq!(
            range.get((1, 1)).unwrap().to_string(),
            "华东重工机械有限公司"
        );
        let (st, v) = upload(&app, &ot, "customers", "again.xlsx", body, false).await;
        assert_eq!(st, 200, "the export is a valid import file: {v}");

        // The HTML route uses the session, and an unknown kind is 404.
        let s = app.login("admin").await;
        let r = s
            .get("/archives/export/customers.csv?q=%E5%8D%8E%E4%B8%9C")
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("华东重工"));
        assert_eq!(s.get("/archives/export/secrets.csv").await.status(), 404);
        assert_eq!(s.get("/archives/export/customers.pdf").await.status(), 404);
    }
}

#[tokio::test]
async fn customer_import_checks_codes_and_indexes_what_it_writes() {
    for b in backends() {
        let app = spawn_app(b).await;
        let token = app.token(app.admin_id, app.org).await;
        assert_eq!(
            upload(&app, &token, "customers", "c.csv", CUSTOMERS.into(), true)
                .await
                .0,
            200
        );
        // A code already in the organization, a code twice in the file, a bad kind.
        let bad = "客户编号,客户名称,类型\nC001,重复一,公司\nC100,新客户甲,公司\nC100,新客户乙,公司\nC101,新客户丙,合伙\n";
        let (st, v) = upload(&app, &token, "customers", "bad.csv", bad.into(), true).await;
        assert_eq!(st, 422, "{b:?} {v}");
        assert_eq!(
            errors(&v),
            vec![
                (2, "code".to_string()),
                (4, "code".to_string()),
                (5, "kind".to_string())
            ],
            "{v}"
        );
        assert_eq!(count(&app, "customers").await, 2);
        // Two customers with the same name and no code are both written, each with its own id.
        let twins = "客户名称,地区\n同名客户,华南\n同名客户,华南\n另一家,西北\n";
        let (st, v) = upload(&app, &token, "customers", "t.csv", twins.into(), true).await;
        assert_eq!(st, 200, "{v}");
        let api = app.api(&token);
        let (_, hits) = api
            .get("/api/v1/search?q=%E5%90%8C%E5%90%8D&kind=customer")
            .await;
        let ids: std::collections::HashSet<i64> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["ref_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{b:?}: {hits}");
        let (_, hits) = api.get("/api/v1/search?q=%E8%A5%BF%E5%8C%97").await;
        assert_eq!(hits[0]["title"], "另一家", "{hits}");
        let (_, audit) = api.get("/api/v1/audit?entity=customer").await;
        assert_eq!(audit["total"], 5, "one audit row per imported customer");
        let mut h = app.st.db.acquire().await.unwrap();
        assert!(
            store::audit::verify(&mut h.c())
                .await
                .unwrap()
                .broken
                .is_none()
        );
    }
}

#[tokio::test]
async fn order_import_reports_each_line_and_writes_timeline_and_search() {
    for b in backends() {
        let app = spawn_app(b).await;
        let token = app.token(app.admin_id, app.org).await;
        assert_eq!(
            upload(&app, &token, "customers", "c.csv", CUSTOMERS.into(), true)
                .await
                .0,
            200
        );
        assert_eq!(
            upload(&app, &token, "products", "p.csv", PRODUCTS.into(), true)
                .await
                .0,
            200
        );
        let bad = "订单编号,客户,交运日期,料号,数量,单价\n\
SO-7,C001,2026-03-01,P-100,2,100\n\
SO-7,C001,,P-999,1,100\n\
SO-8,C001,2026-03-02,P-100,0,100\n\
SO-9,无名氏,2026-03-02,P-100,1,abc\n";
        let (st, v) = upload(&app, &token, "orders", "o.csv", bad.into(), true).await;
        assert_eq!(st, 422, "{b:?} {v}");
        let e = errors(&v);
        for (line, field) in [
            (3, "part_no"),
            (4, "quantity"),
            (5, "customer"),
            (5, "unit_price"),
        ] {
            assert!(
                e.contains(&(line, field.to_string())),
                "{b:?}: line {line} {field} missing in {e:?}"
            );
        }
        assert!(!e.iter().any(|(l, _)| *l == 2), "{e:?}");
        assert_eq!(count(&app, "orders").await, 0);
        let good = "订单编号,客户,交运日期,交货单号,料号,数量,单价\nSO-7,C001,2026-03-01,DN-77,P-100,2,100\nSO-7,C001,,,P-200,1,50.5\n";
        let (st, v) = upload(&app, &token, "orders", "o.csv", good.into(), true).await;
        assert_eq!(st, 200, "{v}");
        let (st, v) = upload(&app, &token, "orders", "o.csv", good.into(), true).await;
        assert_eq!(
            (st, errors(&v)),
            (422, vec![(2, "order_no".to_string())]),
            "duplicate order number"
        );
        let api = app.api(&token);
        let (_, hits) = api.get("/api/v1/search?q=DN-77").await;
        assert_eq!(hits[0]["kind"], "order", "{hits}");
        let id = hits[0]["ref_id"].as_i64().unwrap();
        let (st, o) = api.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(st, 200, "{o}");
        assert_eq!(o["lines"].as_array().unwrap().len(), 2, "{o}");
        let (_, c) = api.get("/api/v1/search?q=C001&kind=customer").await;
        let cid = c[0]["ref_id"].as_i64().unwrap();
        let (_, t) = api.get(&format!("/api/v1/customers/{cid}/timeline")).await;
        assert!(t.to_string().contains("SO-7"), "{t}");
    }
}
