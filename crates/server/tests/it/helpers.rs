//! `spawn_app()` and friends: a real server on 127.0.0.1:0 over a fresh database.
#![allow(dead_code)]

use std::net::SocketAddr;

use domain::FieldErrors;
use domain::auth::Role;
use domain::org::UserDraft;
use reqwest::redirect::Policy;
use server::app::AppState;
use server::config::Settings;
use store::Db;
use store::audit::Actor;

/// Password of every user the helpers create.
pub const PW: &str = "correct-horse-battery";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(Backend::Postgres);
    }
    v
}

fn unique() -> String {
    format!("{}_{}", std::process::id(), store::random_hex(6))
}

/// A fresh, empty database URL on `b`.
pub async fn fresh_url(b: Backend) -> String {
    match b {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("aftersales-test-{}", unique()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite:{}", dir.join("test.db").display())
        }
        Backend::Postgres => {
            let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
            let name = format!("as_test_{}", unique());
            let db = Db::connect(&admin, 1)
                .await
                .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
            if let Db::Postgres(p) = &db {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(p)
                    .await
                    .expect("create test database");
            }
            db.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

/// A running server and direct access to its state.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The database URL (a second instance can connect to it).
    pub url: String,
    pub st: AppState,
    pub backend: Backend,
    /// The organization the admin works in.
    pub org: i64,
    pub admin_id: i64,
}

impl Drop for TestApp {
    /// Removes a SQLite test database's directory (thousands piled up in the temp directory
    /// otherwise). Open connections keep the unlinked files until the test's runtime ends.
    fn drop(&mut self) {
        if let Some(file) = self.url.strip_prefix("sqlite:")
            && let Some(dir) = std::path::Path::new(file).parent()
            && dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("aftersales-test-"))
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Settings for tests: cheap Argon2, no background worker.
pub fn test_settings(url: &str) -> Settings {
    let mut s = Settings::default();
    s.database.url = url.to_string();
    s.database.max_connections = 5;
    s.auth.argon2_memory_kib = 64;
    s.auth.argon2_iterations = 1;
    s.jobs.enabled = false;
    s
}

/// Starts another instance (own pool, own process state) on the same database.
pub async fn second_instance(app: &TestApp) -> SocketAddr {
    let s = test_settings(&app.url);
    let db = Db::connect(&app.url, 3).await.expect("connect");
    let st = AppState::new(db, s);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = server::app::serve_on(st, listener).await;
    });
    addr
}

/// Starts the app on a fresh database with organization `acme` and its administrator `admin`.
pub async fn spawn_app(b: Backend) -> TestApp {
    let url = fresh_url(b).await;
    let s = test_settings(&url);
    let db = Db::connect(&url, s.pool_size()).await.expect("connect");
    store::migrate::run(&db, server::now())
        .await
        .expect("migrate");
    let st = AppState::new(db, s);
    let (admin_id, _) = server::cli::ensure_admin(&st)
        .await
        .expect("admin")
        .expect("new db");
    {
        let mut tx = st.db.begin().await.unwrap();
        let h = st.hasher.hash(PW).await.unwrap();
        store::users::set_password(&mut tx.c(), admin_id, &h, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let org = server::admin::create_org(
        &st,
        &Actor::system("test"),
        "acme",
        "Acme 设备",
        Some(admin_id),
    )
    .await
    .expect("org");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let st2 = st.clone();
    tokio::spawn(async move {
        let _ = server::app::serve_on(st2, listener).await;
    });
    TestApp {
        addr,
        url,
        st,
        backend: b,
        org,
        admin_id,
    }
}

impl TestApp {
    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Creates a user with `role` in `org` (password [`PW`]); returns the id.
    pub async fn user(&self, org: i64, login: &str, role: Role) -> i64 {
        let d =
            UserDraft::parse(FieldErrors::default(), login, login, role.as_str(), vec![]).unwrap();
        server::admin::create_member(&self.st, &Actor::system("test"), org, d, PW)
            .await
            .expect("create user")
    }

    /// A second organization with its own administrator `login`.
    pub async fn other_org(&self, code: &str, login: &str) -> i64 {
        let org = server::admin::create_org(&self.st, &Actor::system("test"), code, code, None)
            .await
            .unwrap();
        self.user(org, login, Role::Admin).await;
        org
    }

    /// An API token for a user in an organization.
    pub async fn token(&self, user: i64, org: i64) -> String {
        server::admin::issue_token(&self.st, &Actor::system("test"), user, org, "test")
            .await
            .unwrap()
            .1
    }

    /// A browser-like client signed in as `login`.
    pub async fn login(&self, login: &str) -> Session {
        let s = Session::new(self);
        let r = s.sign_in(login, PW).await;
        assert_eq!(r.status(), 303, "sign-in of {login} failed");
        s.refresh_csrf().await;
        s
    }

    /// A JSON client with a bearer token.
    pub fn api(&self, token: &str) -> Api {
        Api {
            base: format!("http://{}", self.addr),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// Runs SQL directly (tests that tamper with rows).
    pub async fn exec(&self, sql: &'static str) {
        let mut tx = self.st.db.begin().await.unwrap();
        store::run!(&mut tx.c(), x => sqlx::query(sql).execute(x).await).unwrap();
        tx.commit().await.unwrap();
    }
}

/// A cookie-keeping client that does not follow redirects.
pub struct Session {
    pub base: String,
    pub http: reqwest::Client,
    pub csrf: std::sync::Mutex<String>,
}

/// The value of the first `_csrf` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    html.find(key)
        .map(|i| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

impl Session {
    /// A fresh anonymous client.
    pub fn new(app: &TestApp) -> Session {
        Session {
            base: format!("http://{}", app.addr),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            csrf: std::sync::Mutex::new(String::new()),
        }
    }

    /// GETs the sign-in page (for its CSRF cookie) and signs in.
    pub async fn sign_in(&self, login: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let csrf = csrf_in(&page);
        self.http
            .post(format!("{}/login", self.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("login", login),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Reads the session's CSRF token from the home page.
    pub async fn refresh_csrf(&self) {
        let html = self.get("/").await.text().await.unwrap();
        *self.csrf.lock().unwrap() = csrf_in(&html);
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    /// GET a path and return status and body.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// POST a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// POST a form without any CSRF token.
    pub async fn post_no_csrf(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{}", self.base, path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

/// A bearer-token JSON client.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// GET, returning status and JSON.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A request with a JSON body, returning status and JSON.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .header("accept-language", "en")
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }
}

// ---------- HTML and redirect helpers (org, isolation, api, i18n tests) ----------

/// The `Location` header of a redirect, or "".
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The id in a redirect such as `/org/departments/12?ok=created` after `prefix`.
pub fn id_in(loc: &str, prefix: &str) -> i64 {
    let rest = loc
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{loc:?} does not start with {prefix:?}"));
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no id in {loc:?}"))
}

/// The message of `<p class="field-error" id="{field}-error">`, if rendered.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    let key = format!("<p class=\"field-error\" id=\"{field}-error\">");
    let i = html.find(&key)? + key.len();
    let rest = &html[i..];
    Some(rest[..rest.find("</p>")?].to_string())
}

/// Every rendered `<p class="field-error"…>` message, in page order.
pub fn field_errors(html: &str) -> Vec<String> {
    html.split("<p class=\"field-error\"")
        .skip(1)
        .filter_map(|p| {
            let s = &p[p.find('>')? + 1..];
            Some(s[..s.find("</p>")?].to_string())
        })
        .collect()
}

/// The value of the `<input id="{id}" … value="…">` or the text of `<textarea id="{id}">`.
pub fn input_value(html: &str, id: &str) -> Option<String> {
    let key = format!(" id=\"{id}\"");
    let mut from = 0;
    while let Some(j) = html[from..].find(&key) {
        let at = from + j;
        let tag_start = html[..at].rfind('<')?;
        let tag = &html[tag_start..];
        let tag_end = tag.find('>')?;
        let head = &tag[..tag_end];
        if head.starts_with("<input") {
            let v = head.find("value=\"")? + 7;
            return Some(head[v..v + head[v..].find('"')?].to_string());
        }
        if head.starts_with("<textarea") {
            let body = &tag[tag_end + 1..];
            return Some(body[..body.find("</textarea>")?].to_string());
        }
        from = at + key.len();
    }
    None
}

/// The value of the selected option of `<select id="{id}">` ("" when none is selected).
pub fn selected_value(html: &str, id: &str) -> Option<String> {
    let key = format!("<select id=\"{id}\"");
    let i = html.find(&key)?;
    let sel = &html[i..i + html[i..].find("</select>")?];
    for opt in sel.split("<option").skip(1) {
        let head = &opt[..opt.find('>')?];
        if head.contains(" selected") {
            let v = head.find("value=\"")? + 7;
            return Some(head[v..v + head[v..].find('"')?].to_string());
        }
    }
    Some(String::new())
}

/// The `<tbody>` rows of the first `table.list` (the "empty" row excluded).
pub fn list_rows(html: &str) -> Vec<String> {
    let Some(i) = html.find("<table class=\"list\"") else {
        return vec![];
    };
    let table = &html[i..i + html[i..].find("</table>").unwrap_or(html.len() - i)];
    let Some(b) = table.find("<tbody>") else {
        return vec![];
    };
    table[b..]
        .split("<tr")
        .skip(1)
        .filter(|r| !r.starts_with(" class=\"empty\""))
        .map(|r| r[..r.find("</tr>").unwrap_or(r.len())].to_string())
        .collect()
}

/// The `lang` attribute of `<html>`.
pub fn html_lang(html: &str) -> String {
    let key = "<html lang=\"";
    html.find(key)
        .map(|i| {
            let r = &html[i + key.len()..];
            r[..r.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}
