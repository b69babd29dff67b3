//! Tests: attachments of complaints and corrective actions. Upload (API and HTML form with
//! its CSRF field), list, download with its headers, type sniffing against the extension,
//! the per-organization size limit, roles (auditor read-only, uploader or manager deletes),
//! organization isolation, audit rows without the bytes, the complaint history event and
//! the partial the complaint page includes.

use domain::auth::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use server::complaints::attachments::{self as att, AttachmentsBlock};

use crate::helpers::*;

/// A real 1x1 RGBA PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The start of a zip archive (what a renamed .exe or .zip looks like to the sniffer).
const ZIP: &[u8] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.exe\x00\x00MZ\x90\x00";

/// A complaint row in `org` (the fields the attachments need; the lifecycle is not used).
async fn complaint(app: &TestApp, org: i64, number: &str) -> i64 {
    let now = server::now();
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO complaints (org_id, number, channel, status, class, severity, received_at, acknowledged_at,
            customer_name, description, approval_round, repeat_count, capa_required, reopen_count, month,
            created_at, updated_at, version)
         VALUES ($1, $2, 'phone', 'received', 'quality', 'minor', $3, $3, '华东机械厂', '液压泵漏油', 0, 0, FALSE, 0,
            '2026-01', $3, $3, 1)
         RETURNING id")
        .bind(org).bind(number).bind(now).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A corrective action row in `org`.
async fn capa(app: &TestApp, org: i64, number: &str) -> i64 {
    let now = server::now();
    let mut tx = app.st.db.begin().await.unwrap();
    let (id,): (i64,) = store::on!(&mut tx.c(), x => sqlx::query_as(
        "INSERT INTO capas (org_id, number, title, status, effect_days, effect_units, created_at, updated_at, version)
         VALUES ($1, $2, '密封圈改型', 'open', 90, 0, $3, $3, 1) RETURNING id")
        .bind(org).bind(number).bind(now).fetch_one(x).await)
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Sets the organization's attachment size limit.
async fn set_limit(app: &TestApp, org: i64, bytes: i64) {
    let mut tx = app.st.db.begin().await.unwrap();
    let mut s = store::complaints::settings::get(&mut tx.c(), org)
        .await
        .unwrap();
    s.attachment_max_bytes = bytes;
    store::complaints::settings::put(&mut tx.c(), org, &s, server::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// POSTs one file as multipart field `file` with a bearer token.
async fn upload(app: &TestApp, token: &str, path: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let part = Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        // the client's claim is ignored: the type comes from the bytes and the extension
        .mime_str("image/png")
        .unwrap();
    let r = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .header("accept-language", "en")
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn api_delete(app: &TestApp, token: &str, path: &str) -> u16 {
    reqwest::Client::new()
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn api_bytes(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// A request context for calling the services and the partial directly.
fn ctx(app: &TestApp, user_id: i64, role: Role, csrf: &str) -> server::auth::Ctx {
    server::auth::Ctx {
        user_id,
        login: "admin".into(),
        name: "admin".into(),
        system_admin: false,
        org: Some(server::auth::OrgCtx {
            id: app.org,
            name: "acme".into(),
            role,
        }),
        session_id: None,
        csrf: csrf.into(),
        tr: server::i18n::Tr::new(server::i18n::Lang::En, 480),
    }
}

#[test]
fn types_are_decided_by_bytes_and_extension() {
    assert_eq!(att::sniff("a.png", PNG), Ok("image/png"));
    assert_eq!(att::sniff("A.PNG", PNG), Ok("image/png"));
    assert_eq!(att::sniff("a.png", ZIP), Err("attachment_mismatch"));
    assert_eq!(att::sniff("a.jpg", PNG), Err("attachment_mismatch"));
    assert_eq!(att::sniff("a.exe", b"MZ\x90\x00"), Err("attachment_type"));
    assert_eq!(att::sniff("noext", PNG), Err("attachment_type"));
    assert_eq!(att::sniff("a.jpeg", b"\xff\xd8\xff\xe0"), Ok("image/jpeg"));
    assert_eq!(att::sniff("a.gif", b"GIF89a\x01\x00"), Ok("image/gif"));
    assert_eq!(
        att::sniff("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        Ok("image/webp")
    );
    assert_eq!(att::sniff("报告.pdf", b"%PDF-1.7\n"), Ok("application/pdf"));
    assert_eq!(att::sniff("a.pdf", b"<html>"), Err("attachment_mismatch"));
    assert_eq!(
        att::sniff("a.csv", "序列号,故障\nSN1,漏油\n".as_bytes()),
        Ok("text/csv")
    );
    assert_eq!(att::sniff("a.txt", b"plain"), Ok("text/plain"));
    assert_eq!(att::sniff("a.txt", ZIP), Err("attachment_mismatch"));
    assert_eq!(att::sniff("a.csv", PNG), Err("attachment_mismatch"));
    let xlsx = b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml....xl/workbook.xml";
    assert!(att::sniff("a.xlsx", xlsx).is_ok());
    assert_eq!(att::sniff("a.docx", xlsx), Err("attachment_mismatch"));
    assert_eq!(att::sniff("a.xlsx", ZIP), Err("attachment_mismatch"));
    let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00";
    assert_eq!(att::sniff("a.xls", ole), Ok("application/vnd.ms-excel"));
    assert_eq!(att::sniff("a.doc", ole), Ok("application/msword"));
}

#[test]
fn names_are_sanitised() {
    assert_eq!(
        att::sanitize_name("C:\\fakepath\\现场照片 1.png"),
        "现场照片 1.png"
    );
    assert_eq!(att::sanitize_name("../../etc/passwd"), "passwd");
    assert_eq!(att::sanitize_name("..hidden.txt"), "hidden.txt");
    assert_eq!(att::sanitize_name("a\u{202e}gnp.exe"), "agnp.exe");
    assert_eq!(
        att::sanitize_name("a<b>:c\"d|e?f*.pdf"),
        "a_b__c_d_e_f_.pdf"
    );
    assert_eq!(att::sanitize_name("line\nbreak.txt"), "linebreak.txt");
    assert_eq!(att::sanitize_name("  "), "");
    let long = format!("{}.pdf", "检".repeat(300));
    let s = att::sanitize_name(&long);
    assert_eq!(s.chars().count(), att::NAME_MAX);
    assert!(s.ends_with("检.pdf"));
    assert_eq!(att::human_size(812), "812 B");
    assert_eq!(att::human_size(10 * 1024 * 1024), "10 MB");
    assert_eq!(att::human_size(1536), "1.5 KB");
    assert_eq!(
        att::content_disposition(false, "报告 \"1\".pdf"),
        "attachment; filename=\"__ _1_.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%221%22.pdf"
    );
}

#[tokio::test]
async fn upload_list_download_and_delete_through_the_api() {
    for b in backends() {
        let app = spawn_app(b).await;
        let admin = app.token(app.admin_id, app.org).await;
        let id = complaint(&app, app.org, "TS-2026-000001").await;
        let (s, m) = upload(
            &app,
            &admin,
            &format!("/api/v1/complaints/{id}/attachments"),
            "C:\\fakepath\\现场照片.png",
            PNG,
        )
        .await;
        assert_eq!(s, 201, "{m}");
        assert_eq!(m["name"], "现场照片.png");
        assert_eq!(m["content_type"], "image/png");
        assert_eq!(m["size"], PNG.len() as i64);
        assert_eq!(m["entity"], "complaint");
        assert_eq!(m["entity_id"], id);
        assert_eq!(m["created_by"], app.admin_id);
        assert_eq!(m["sha256"].as_str().unwrap().len(), 64);
        let aid = m["id"].as_i64().unwrap();

        let (s, list) = app
            .api(&admin)
            .get(&format!("/api/v1/complaints/{id}/attachments"))
            .await;
        assert_eq!(s, 200);
        let items = list.as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["id"], aid);
        assert!(items[0].get("data").is_none(), "lists carry no bytes");

        for path in [
            format!("/api/v1/attachments/{aid}"),
            format!("/attachments/{aid}"),
        ] {
            let r = api_bytes(&app, &admin, &path).await;
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(header(&r, "content-type"), "image/png");
            assert_eq!(header(&r, "x-content-type-options"), "nosniff");
            let cd = header(&r, "content-disposition");
            assert!(cd.starts_with("inline; "), "{cd}");
            assert!(
                cd.contains("filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"),
                "{cd}"
            );
            let etag = header(&r, "etag");
            assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
            let r = reqwest::Client::new()
                .get(app.url(&path))
                .bearer_auth(&admin)
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 304);
        }

        // a PDF downloads as an attachment, never inline
        let (s, m) = upload(
            &app,
            &admin,
            &format!("/api/v1/complaints/{id}/attachments"),
            "检验报告.pdf",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        )
        .await;
        assert_eq!(s, 201, "{m}");
        let r = api_bytes(&app, &admin, &format!("/api/v1/attachments/{}", m["id"])).await;
        assert_eq!(header(&r, "content-type"), "application/pdf");
        assert!(header(&r, "content-disposition").starts_with("attachment; "));

        // the complaint's history shows the upload
        let mut h = app.st.db.acquire().await.unwrap();
        let events = store::complaints::steps::events(&mut h.c(), app.org, id)
            .await
            .unwrap();
        drop(h);
        assert!(
            events
                .iter()
                .any(|e| e.action == "attachment" && e.note.as_deref() == Some("现场照片.png")),
            "{events:?}"
        );

        // the audit rows hold the description, never the bytes
        let (s, a) = app
            .api(&admin)
            .get(&format!("/api/v1/audit?entity=attachment&entity_id={aid}"))
            .await;
        assert_eq!(s, 200);
        let rows = a["items"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["action"], "create");
        let after: Value = serde_json::from_str(rows[0]["after"].as_str().unwrap()).unwrap();
        let keys: Vec<&str> = after
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut keys = keys;
        keys.sort();
        assert_eq!(
            keys,
            [
                "content_type",
                "entity",
                "entity_id",
                "name",
                "sha256",
                "size"
            ]
        );
        assert_eq!(after["size"], PNG.len() as i64);

        assert_eq!(
            api_delete(&app, &admin, &format!("/api/v1/attachments/{aid}")).await,
            204
        );
        assert_eq!(
            api_bytes(&app, &admin, &format!("/api/v1/attachments/{aid}"))
                .await
                .status(),
            404
        );
        let (_, a) = app
            .api(&admin)
            .get(&format!(
                "/api/v1/audit?entity=attachment&entity_id={aid}&action=delete"
            ))
            .await;
        let rows = a["items"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        let before = rows[0]["before"].as_str().unwrap();
        assert!(before.contains("现场照片.png") && !before.contains("data"));
        let (_, list) = app
            .api(&admin)
            .get(&format!("/api/v1/complaints/{id}/attachments"))
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_api_is_described() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.token(app.admin_id, app.org).await;
    let (s, doc) = app.api(&admin).get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let paths = &doc["paths"];
    for p in [
        "/api/v1/complaints/{id}/attachments",
        "/api/v1/capas/{id}/attachments",
    ] {
        assert!(paths[p]["get"].is_object(), "{p}");
        assert!(
            paths[p]["post"]["requestBody"]["content"]["multipart/form-data"].is_object(),
            "{p}"
        );
    }
    assert!(paths["/api/v1/attachments/{id}"]["get"].is_object());
    assert!(paths["/api/v1/attachments/{id}"]["delete"].is_object());
    assert!(doc["components"]["schemas"]["AttachmentMeta"].is_object());
}

#[tokio::test]
async fn disguised_empty_and_oversized_files_are_refused() {
    for b in backends() {
        let app = spawn_app(b).await;
        let admin = app.token(app.admin_id, app.org).await;
        let id = complaint(&app, app.org, "TS-2026-000001").await;
        let path = format!("/api/v1/complaints/{id}/attachments");

        let (s, e) = upload(&app, &admin, &path, "photo.png", ZIP).await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(e["error"], "invalid");
        let msg = e["fields"]["file"].as_str().unwrap();
        assert!(
            msg.contains("photo.png") && msg.contains("extension"),
            "{msg}"
        );

        let (s, e) = upload(&app, &admin, &path, "setup.exe", b"MZ\x90\x00\x03").await;
        assert_eq!(s, 422);
        assert!(
            e["fields"]["file"]
                .as_str()
                .unwrap()
                .contains("not accepted")
        );

        let (s, e) = upload(&app, &admin, &path, "empty.png", b"").await;
        assert_eq!(s, 422);
        assert!(e["fields"]["file"].as_str().unwrap().contains("empty"));

        // no file part at all
        let r = reqwest::Client::new()
            .post(app.url(&path))
            .bearer_auth(&admin)
            .header("accept-language", "en")
            .multipart(Form::new().text("note", "x"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["fields"]["file"], "Required.");

        // not multipart at all
        let (s, e) = app.api(&admin).post(&path, serde_json::json!({})).await;
        assert_eq!(s, 400, "{e}");

        // the organization's limit, checked while the file streams in
        set_limit(&app, app.org, 50).await;
        let (s, e) = upload(&app, &admin, &path, "one.png", PNG).await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(
            e["fields"]["file"],
            "The file is larger than the limit of 50 B."
        );
        let mut big = PNG.to_vec();
        big.resize(3 * 1024 * 1024, 0);
        let (s, e) = upload(&app, &admin, &path, "big.png", &big).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["fields"]["file"].as_str().unwrap().contains("limit"));
        set_limit(&app, app.org, 10 * 1024 * 1024).await;
        // above the default 2 MB body limit of axum, within ours
        let (s, e) = upload(&app, &admin, &path, "big.png", &big).await;
        assert_eq!(s, 201, "{e}");
        assert_eq!(e["size"], big.len() as i64);

        let (_, list) = app.api(&admin).get(&path).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "only the accepted file");
    }
}

#[tokio::test]
async fn roles_and_organizations_limit_who_sees_adds_and_deletes() {
    for b in backends() {
        let app = spawn_app(b).await;
        let admin = app.token(app.admin_id, app.org).await;
        let eng1_id = app.user(app.org, "eng1", Role::Engineer).await;
        let eng2_id = app.user(app.org, "eng2", Role::Engineer).await;
        let aud_id = app.user(app.org, "aud", Role::Auditor).await;
        let mgr_id = app.user(app.org, "mgr", Role::Manager).await;
        let eng1 = app.token(eng1_id, app.org).await;
        let eng2 = app.token(eng2_id, app.org).await;
        let aud = app.token(aud_id, app.org).await;
        let mgr = app.token(mgr_id, app.org).await;
        let id = complaint(&app, app.org, "TS-2026-000001").await;
        let path = format!("/api/v1/complaints/{id}/attachments");

        let (s, m) = upload(&app, &eng1, &path, "a.png", PNG).await;
        assert_eq!(s, 201);
        let a1 = m["id"].as_i64().unwrap();
        let (_, m) = upload(&app, &eng1, &path, "b.png", PNG).await;
        let a2 = m["id"].as_i64().unwrap();

        // the auditor reads but never writes
        let (s, _) = upload(&app, &aud, &path, "c.png", PNG).await;
        assert_eq!(s, 403);
        let (s, list) = app.api(&aud).get(&path).await;
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(
            api_bytes(&app, &aud, &format!("/api/v1/attachments/{a1}"))
                .await
                .status(),
            200
        );
        assert_eq!(
            api_delete(&app, &aud, &format!("/api/v1/attachments/{a1}")).await,
            403
        );

        // another engineer may not delete eng1's file; eng1 and a manager may
        assert_eq!(
            api_delete(&app, &eng2, &format!("/api/v1/attachments/{a1}")).await,
            403
        );
        assert_eq!(
            api_delete(&app, &eng1, &format!("/api/v1/attachments/{a1}")).await,
            204
        );
        assert_eq!(
            api_delete(&app, &mgr, &format!("/api/v1/attachments/{a2}")).await,
            204
        );

        // another organization sees nothing of ours, and we nothing of theirs
        let (_, m) = upload(&app, &admin, &path, "c.png", PNG).await;
        let a3 = m["id"].as_i64().unwrap();
        let other = app.other_org("beta", "bob").await;
        let bob_id = {
            let mut h = app.st.db.acquire().await.unwrap();
            store::users::by_login(&mut h.c(), "bob")
                .await
                .unwrap()
                .unwrap()
                .0
                .id
        };
        let bob = app.token(bob_id, other).await;
        assert_eq!(
            api_bytes(&app, &bob, &format!("/api/v1/attachments/{a3}"))
                .await
                .status(),
            404
        );
        assert_eq!(
            api_bytes(&app, &bob, &format!("/attachments/{a3}"))
                .await
                .status(),
            404
        );
        assert_eq!(
            api_delete(&app, &bob, &format!("/api/v1/attachments/{a3}")).await,
            404
        );
        let (s, _) = app.api(&bob).get(&path).await;
        assert_eq!(s, 404);
        let (s, _) = upload(&app, &bob, &path, "x.png", PNG).await;
        assert_eq!(s, 404);
        let theirs = complaint(&app, other, "TS-2026-000001").await;
        let (s, m) = upload(
            &app,
            &bob,
            &format!("/api/v1/complaints/{theirs}/attachments"),
            "x.png",
            PNG,
        )
        .await;
        assert_eq!(s, 201);
        assert_eq!(
            api_bytes(&app, &admin, &format!("/api/v1/attachments/{}", m["id"]))
                .await
                .status(),
            404
        );
        let (s, _) = app
            .api(&admin)
            .get(&format!("/api/v1/complaints/{theirs}/attachments"))
            .await;
        assert_eq!(s, 404);
        let (s, _) = app
            .api(&admin)
            .get("/api/v1/complaints/999999/attachments")
            .await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn corrective_actions_carry_attachments_too() {
    for b in backends() {
        let app = spawn_app(b).await;
        let admin = app.token(app.admin_id, app.org).await;
        let aud_id = app.user(app.org, "aud", Role::Auditor).await;
        let aud = app.token(aud_id, app.org).await;
        let sup_id = app.user(app.org, "sup", Role::Supervisor).await;
        let sup = app.token(sup_id, app.org).await;
        let id = capa(&app, app.org, "CAPA-2026-001").await;
        let path = format!("/api/v1/capas/{id}/attachments");
        let (s, m) = upload(&app, &admin, &path, "8D报告.pdf", b"%PDF-1.7\n").await;
        assert_eq!(s, 201, "{m}");
        assert_eq!(m["entity"], "capa");
        // a supervisor works corrective actions (ManageCapa) though not complaints
        let (s, _) = upload(&app, &sup, &path, "验证.png", PNG).await;
        assert_eq!(s, 201);
        let (s, _) = upload(&app, &aud, &path, "x.png", PNG).await;
        assert_eq!(s, 403);
        let (s, list) = app.api(&aud).get(&path).await;
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 2);
        let (s, _) = upload(
            &app,
            &admin,
            "/api/v1/capas/999999/attachments",
            "x.png",
            PNG,
        )
        .await;
        assert_eq!(s, 404);
        let other = app.other_org("beta", "bob").await;
        let theirs = capa(&app, other, "CAPA-2026-001").await;
        let (s, _) = app
            .api(&admin)
            .get(&format!("/api/v1/capas/{theirs}/attachments"))
            .await;
        assert_eq!(s, 404);
        // no history event for a CAPA (it has none), but the audit row is there
        let (_, a) = app
            .api(&admin)
            .get(&format!(
                "/api/v1/audit?entity=attachment&entity_id={}",
                m["id"]
            ))
            .await;
        assert_eq!(a["items"].as_array().unwrap().len(), 1);
    }
}

/// POSTs a multipart form from a signed-in browser session.
async fn form_upload(
    s: &Session,
    path: &str,
    csrf: Option<&str>,
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let mut form = Form::new();
    if let Some(c) = csrf {
        form = form.text("_csrf", c.to_string());
    }
    for (name, bytes) in files {
        form = form.part(
            "file",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    s.http
        .post(format!("{}{}", s.base, path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_html_form_checks_csrf_and_returns_to_the_record() {
    for b in backends() {
        let app = spawn_app(b).await;
        let id = complaint(&app, app.org, "TS-2026-000001").await;
        let cid = capa(&app, app.org, "CAPA-2026-001").await;
        let s = app.login("admin").await;
        let csrf = s.csrf.lock().unwrap().clone();
        assert!(!csrf.is_empty());
        let path = format!("/complaints/{id}/attachments");

        let r = form_upload(&s, &path, None, &[("a.png", PNG)]).await;
        assert_eq!(r.status(), 403, "no CSRF field");
        let r = form_upload(&s, &path, Some("0123456789abcdef"), &[("a.png", PNG)]).await;
        assert_eq!(r.status(), 403, "wrong CSRF field");

        // several files at once, all or none
        let r = form_upload(
            &s,
            &path,
            Some(&csrf),
            &[("a.png", PNG), ("说明.txt", "现场情况说明".as_bytes())],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            location(&r),
            format!("/complaints/{id}?ok=attachment_added#attachments")
        );
        let r = form_upload(&s, &path, Some(&csrf), &[("b.png", PNG), ("伪装.png", ZIP)]).await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        assert!(
            loc.starts_with(&format!(
                "/complaints/{id}?att_error=attachment_mismatch&att_arg="
            )) && loc.ends_with("#attachments"),
            "{loc}"
        );
        let r = form_upload(&s, &path, Some(&csrf), &[]).await;
        assert!(location(&r).contains("att_error=required"));

        let admin = app.token(app.admin_id, app.org).await;
        let (_, list) = app
            .api(&admin)
            .get(&format!("/api/v1/complaints/{id}/attachments"))
            .await;
        let list = list.as_array().unwrap().clone();
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[1]["content_type"], "text/plain");

        // the download works with the session cookie
        let a = list[0]["id"].as_i64().unwrap();
        let r = s.get(&format!("/attachments/{a}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

        // delete: a CSRF-checked form, back to the record
        let r = s
            .post_no_csrf(&format!("/attachments/{a}/delete"), &[])
            .await;
        assert_eq!(r.status(), 403);
        let r = s.post(&format!("/attachments/{a}/delete"), &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            location(&r),
            format!("/complaints/{id}?ok=attachment_deleted#attachments")
        );
        assert_eq!(s.get(&format!("/attachments/{a}")).await.status(), 404);

        // the session's API writes need the CSRF header, so a foreign page cannot post
        let r = s
            .http
            .post(format!("{}/api/v1/complaints/{id}/attachments", s.base))
            .multipart(Form::new().part("file", Part::bytes(PNG.to_vec()).file_name("a.png")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // corrective actions return to their page
        let r = form_upload(
            &s,
            &format!("/capas/{cid}/attachments"),
            Some(&csrf),
            &[("a.png", PNG)],
        )
        .await;
        assert_eq!(
            location(&r),
            format!("/capas/{cid}?ok=attachment_added#attachments")
        );

        // an auditor's session is refused before the body is read
        app.user(app.org, "aud", Role::Auditor).await;
        let sa = app.login("aud").await;
        let ca = sa.csrf.lock().unwrap().clone();
        let r = form_upload(&sa, &path, Some(&ca), &[("a.png", PNG)]).await;
        assert_eq!(r.status(), 403);
    }
}

#[tokio::test]
async fn the_partial_lists_files_and_shows_a_refused_upload() {
    for b in backends() {
        let app = spawn_app(b).await;
        let id = complaint(&app, app.org, "TS-2026-000001").await;
        let eng_id = app.user(app.org, "eng1", Role::Engineer).await;
        let admin_ctx = ctx(&app, app.admin_id, Role::Admin, "tok123");
        let m = att::upload(
            &app.st,
            &admin_ctx,
            "complaint",
            id,
            vec![att::Incoming {
                name: "现场照片.png".into(),
                data: PNG.to_vec(),
            }],
        )
        .await
        .unwrap();
        assert_eq!(m.len(), 1);
        let listed = att::list_for(&app.st, &admin_ctx, "complaint", id)
            .await
            .unwrap();
        assert_eq!(listed, m);

        let uri: axum::http::Uri = format!("/complaints/{id}").parse().unwrap();
        let block = AttachmentsBlock::load(&app.st, &admin_ctx, &uri, "complaint", id)
            .await
            .unwrap();
        assert!(block.can_upload);
        assert_eq!(block.items.len(), 1);
        assert!(block.items[0].can_delete);
        let html = att::render_block(admin_ctx.tr, &block).unwrap();
        assert!(html.contains("id=\"attachments\""));
        assert!(html.contains("现场照片.png"));
        assert!(html.contains(&format!("href=\"/attachments/{}\"", m[0].id)));
        assert!(html.contains(&format!("action=\"/attachments/{}/delete\"", m[0].id)));
        assert!(html.contains(&format!("action=\"/complaints/{id}/attachments\"")));
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert_eq!(csrf_in(&html), "tok123");
        assert!(html.contains("at most 10 MB each"));
        assert!(field_error(&html, "file").is_none());

        // an engineer who did not upload it sees no delete button; an auditor no form
        let eng_ctx = ctx(&app, eng_id, Role::Engineer, "t");
        let block = AttachmentsBlock::load(&app.st, &eng_ctx, &uri, "complaint", id)
            .await
            .unwrap();
        assert!(block.can_upload && !block.items[0].can_delete);
        let html = att::render_block(eng_ctx.tr, &block).unwrap();
        assert!(!html.contains("/delete\""));
        let aud_ctx = ctx(&app, eng_id, Role::Auditor, "t");
        let block = AttachmentsBlock::load(&app.st, &aud_ctx, &uri, "complaint", id)
            .await
            .unwrap();
        let html = att::render_block(aud_ctx.tr, &block).unwrap();
        assert!(!html.contains("upload-attachment"));

        // the redirect after a refused upload carries the message back
        let uri: axum::http::Uri =
            format!("/complaints/{id}?att_error=attachment_mismatch&att_arg=%E4%BC%AA.png")
                .parse()
                .unwrap();
        let block = AttachmentsBlock::load(&app.st, &admin_ctx, &uri, "complaint", id)
            .await
            .unwrap();
        let html = att::render_block(admin_ctx.tr, &block).unwrap();
        assert_eq!(
            field_error(&html, "file").as_deref(),
            Some("“伪.png”: the content does not match the file extension.")
        );
        // unknown codes are ignored
        let uri: axum::http::Uri = format!("/complaints/{id}?att_error=evil").parse().unwrap();
        let block = AttachmentsBlock::load(&app.st, &admin_ctx, &uri, "complaint", id)
            .await
            .unwrap();
        assert!(block.error.is_empty());

        // a complaint of another organization is not found
        let other = app.other_org("beta", "bob").await;
        let theirs = complaint(&app, other, "X-1").await;
        assert!(matches!(
            AttachmentsBlock::load(&app.st, &admin_ctx, &uri, "complaint", theirs).await,
            Err(server::error::AppError::NotFound)
        ));
    }
}
