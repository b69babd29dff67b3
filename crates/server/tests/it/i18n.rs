//! Tests: i18n. The two catalogs match key for key (no empty values, same placeholders),
//! every key the templates and sources use exists, and pages follow the chosen language:
//! default Chinese, `/lang/en` sticks across requests and sign-ins, `Accept-Language` counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::*;

/// One language's catalog merged from its files; duplicate keys across files are reported.
fn catalog(lang: &str, problems: &mut Vec<String>) -> BTreeMap<String, String> {
    let files = server::i18n::sources(lang);
    assert!(!files.is_empty(), "no catalog files for {lang}");
    let mut out = BTreeMap::new();
    for (file, text) in files {
        let parsed = server::i18n::parse_catalog(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (k, v) in parsed {
            if out.insert(k.clone(), v).is_some() {
                problems.push(format!(
                    "{lang}: key {k} is defined twice (again in {file})"
                ));
            }
        }
    }
    out
}

/// The `{name}` placeholders of a text.
fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j)
                if after[..j]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && j > 0 =>
            {
                out.insert(after[..j].to_string());
                rest = &after[j + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[test]
fn catalogs_match() {
    let mut problems = vec![];
    let zh = catalog("zh-CN", &mut problems);
    let en = catalog("en", &mut problems);
    assert!(zh.len() > 100, "suspiciously small catalog: {}", zh.len());
    for k in zh.keys().filter(|k| !en.contains_key(*k)) {
        problems.push(format!("en is missing {k}"));
    }
    for k in en.keys().filter(|k| !zh.contains_key(*k)) {
        problems.push(format!("zh-CN is missing {k}"));
    }
    for (lang, cat) in [("zh-CN", &zh), ("en", &en)] {
        for (k, v) in cat {
            if v.trim().is_empty() {
                problems.push(format!("{lang}: {k} is empty"));
            }
        }
    }
    for (k, z) in &zh {
        if let Some(e) = en.get(k)
            && placeholders(z) != placeholders(e)
        {
            problems.push(format!(
                "{k}: placeholders differ: zh-CN {:?} vs en {:?}",
                placeholders(z),
                placeholders(e)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "catalog problems:\n{}",
        problems.join("\n")
    );
    // the translator serves what the files hold
    assert_eq!(
        server::i18n::catalog(server::i18n::Lang::En).len(),
        en.len()
    );
    assert_eq!(
        server::i18n::catalog(server::i18n::Lang::ZhCn).len(),
        zh.len()
    );
    assert_eq!(
        placeholders("第 {page} / {pages} 页 {x-y} {}"),
        BTreeSet::from(["page".to_string(), "pages".to_string()])
    );
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// The string literals right after every occurrence of `call` (e.g. `.t("` → the key).
fn literal_args(src: &str, call: &str) -> Vec<String> {
    src.match_indices(call)
        .filter_map(|(i, _)| {
            let rest = &src[i + call.len()..];
            rest.find('"').map(|j| rest[..j].to_string())
        })
        .collect()
}

/// Every string literal of Rust source `s` (escapes kept as written; char literals skipped).
fn literals(s: &str) -> Vec<String> {
    let b: Vec<char> = s.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '\'' if b.get(i + 1) == Some(&'\\') => {
                // '\x': skip to the closing quote
                i += 2;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            '\'' if b.get(i + 2) == Some(&'\'') => i += 3,
            '"' => {
                let mut lit = String::new();
                i += 1;
                while i < b.len() && b[i] != '"' {
                    if b[i] == '\\' && i + 1 < b.len() {
                        lit.push(b[i]);
                        i += 1;
                    }
                    lit.push(b[i]);
                    i += 1;
                }
                out.push(lit);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The top-level arguments of an argument list.
fn split_args(args: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut depth, mut in_str, mut esc) = (0, false, false);
    for c in args.chars() {
        if in_str {
            esc = !esc && c == '\\';
            if c == '"' && !esc {
                in_str = false;
            }
        } else {
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        out.last_mut().unwrap().push(c);
    }
    out.into_iter().map(|a| a.trim().to_string()).collect()
}

/// The text of a call's argument list starting at `open` (just after the `(`).
fn call_args(src: &str, open: usize) -> &str {
    let mut depth = 1;
    for (i, c) in src[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &src[open..open + i];
                }
            }
            _ => {}
        }
    }
    &src[open..]
}

fn is_key(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

#[test]
fn every_used_key_exists() {
    let mut problems = vec![];
    let zh = catalog("zh-CN", &mut problems);
    let en = catalog("en", &mut problems);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sections: BTreeSet<String> = zh
        .keys()
        .map(|k| k.split('.').next().unwrap().to_string())
        .collect();
    let mut used: Vec<(String, String)> = vec![]; // (where, key)
    let mut prefixes: Vec<(String, String)> = vec![];
    let mut with_arg: Vec<(String, String)> = vec![];

    let mut files = vec![];
    walk(&root.join("templates"), "html", &mut files);
    let n_templates = files.len();
    walk(&root.join("src"), "rs", &mut files);
    assert!(
        n_templates >= 15 && files.len() > n_templates + 10,
        "scanned too few files"
    );
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        for k in literal_args(&src, ".t(\"") {
            used.push((name.clone(), k));
        }
        for k in literal_args(&src, ".t1(\"") {
            used.push((name.clone(), k.clone()));
            with_arg.push((name.clone(), k));
        }
        for p in literal_args(&src, ".tk(\"") {
            prefixes.push((name.clone(), p));
        }
        if src.contains(".role(") {
            prefixes.push((name.clone(), "role".into()));
        }
        // page titles: literals inside Shell::load(…), or in `let title = …;` when passed by name
        for (i, _) in src.match_indices("Shell::load(") {
            let args = call_args(&src, i + "Shell::load(".len());
            let lits = literals(args);
            if lits.is_empty() {
                let var = args.rsplit(',').next().unwrap().trim();
                let decl = format!("let {var} = ");
                let Some(d) = src[..i].rfind(&decl) else {
                    problems.push(format!(
                        "{name}: cannot find the title passed to Shell::load({args})"
                    ));
                    continue;
                };
                let stmt = &src[d..d + src[d..].find(';').unwrap()];
                for k in literals(stmt) {
                    used.push((name.clone(), k));
                }
            } else {
                for k in lits {
                    used.push((name.clone(), k));
                }
            }
        }
        if name.ends_with(".rs") {
            // any other literal that looks like a key of a known section (e.g. "login.failed")
            // (constants and attributes such as `const JOB: &str = "audit.verify"` or
            // `path = "error.html"` are names, not keys)
            let assigned = |k: &str| {
                src.match_indices(&format!("\"{k}\""))
                    .all(|(i, _)| src[..i].trim_end().ends_with('='))
            };
            // `tr.tk("complaint.class", v)`: a prefix, checked with the other prefixes
            let prefix = |k: &str| src.contains(&format!(".tk(\"{k}\""));
            for k in literals(&src) {
                if is_key(&k)
                    && sections.contains(k.split('.').next().unwrap())
                    && !assigned(&k)
                    && !prefix(&k)
                {
                    used.push((name.clone(), k));
                }
            }
            // flash messages: `?ok=name` redirects
            for k in literal_args(&src, "?ok=") {
                let k: String = k
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                used.push((name.clone(), format!("flash.{k}")));
            }
        }
    }
    // field error codes, error codes and transitions of the domain and server crates
    let mut n_field_codes = 0;
    let mut code_files = vec![];
    walk(&root.join("src"), "rs", &mut code_files);
    walk(&root.join("../domain/src"), "rs", &mut code_files);
    for f in &code_files {
        let src = std::fs::read_to_string(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for (i, _) in src
            .match_indices(".add(")
            .chain(src.match_indices("FieldErrors::single("))
        {
            let open = src[i..].find('(').unwrap() + i + 1;
            let args = split_args(call_args(&src, open));
            if let Some(code) = args
                .get(1)
                .and_then(|a| a.strip_prefix('"'))
                .and_then(|a| a.strip_suffix('"'))
            {
                used.push((name.clone(), format!("err.{code}")));
                n_field_codes += 1;
            }
        }
        for k in literal_args(&src, "code: \"") {
            used.push((name.clone(), format!("err.{k}")));
        }
        for k in literal_args(&src, "InvalidTransition(\"") {
            used.push((name.clone(), format!("transition.{k}")));
        }
    }
    assert!(
        n_field_codes >= 20,
        "found only {n_field_codes} field error codes"
    );
    let error_rs = std::fs::read_to_string(root.join("src/error.rs")).unwrap();
    let mut n_codes = 0;
    for line in error_rs
        .lines()
        .filter(|l| l.contains("StatusCode::") && l.contains("=> ("))
    {
        for code in literals(line) {
            used.push(("error.rs".into(), format!("error.{code}")));
            n_codes += 1;
        }
    }
    assert!(n_codes >= 10, "found only {n_codes} error codes");
    // entity and action names of audit rows (documented on AuditQ)
    let audit_rs = std::fs::read_to_string(root.join("src/audit.rs")).unwrap();
    for (marker, prefix) in [
        ("/// Record type: ", "entity"),
        ("/// create, update", "action"),
    ] {
        let line = audit_rs
            .lines()
            .find(|l| l.trim_start().starts_with(marker))
            .expect(marker);
        let list = line
            .trim_start()
            .trim_start_matches("/// ")
            .trim_start_matches("Record type: ")
            .trim_end_matches('.');
        for n in list.split(", ") {
            used.push(("audit.rs".into(), format!("{prefix}.{n}")));
        }
    }
    for r in domain::auth::Role::ALL {
        used.push(("domain::auth::Role".into(), format!("role.{}", r.as_str())));
    }

    assert!(used.len() > 300, "found only {} uses", used.len());
    // the scanner sees every form of use (so a missing key of each form would be caught)
    for k in [
        "common.pager",        // template tr.t("…")
        "error.stale_form",    // ctx.tr.t("…") in Rust
        "org.department_new",  // `let title = if … { "…" }` passed to Shell::load
        "admin.my_tokens",     // literal inside Shell::load(…)
        "audit.title",         // plain Shell::load title
        "login.throttled",     // a key passed to a helper
        "flash.token_revoked", // ?ok= redirect
        "err.too_many",        // errs.add(field, "…", …)
        "err.password_wrong",  // FieldError { code: "…" }
        "err.required",        // FieldErrors::single(…, "…")
        "transition.department_has_staff",
        "error.csrf",
        "entity.api_token",
        "action.password_reset",
        "role.auditor",
    ] {
        assert!(
            used.iter().any(|(_, u)| u == k),
            "the scan did not find {k}"
        );
    }
    assert!(
        prefixes.iter().any(|(_, p)| p == "entity") && prefixes.iter().any(|(_, p)| p == "action")
    );
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (at, k) in &used {
        for (lang, cat) in [("zh-CN", &zh), ("en", &en)] {
            if !cat.contains_key(k) {
                missing
                    .entry(format!("{lang}: {k}"))
                    .or_default()
                    .insert(at.clone());
            }
        }
    }
    for (at, p) in &prefixes {
        let dotted = format!("{p}.");
        if !zh.keys().any(|k| k.starts_with(&dotted)) || !en.keys().any(|k| k.starts_with(&dotted))
        {
            missing
                .entry(format!("prefix {p}.*"))
                .or_default()
                .insert(at.clone());
        }
    }
    for (at, k) in &with_arg {
        for (lang, cat) in [("zh-CN", &zh), ("en", &en)] {
            if cat.get(k).is_some_and(|v| !v.contains("{arg}")) {
                problems.push(format!(
                    "{lang}: {k} is used with t1 (in {at}) but has no {{arg}}"
                ));
            }
        }
    }
    for (k, at) in &missing {
        problems.push(format!(
            "missing {k} (used in {})",
            at.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn page_lang(html: &str) -> String {
    html_lang(html)
}

#[tokio::test]
async fn pages_follow_the_chosen_language() {
    for b in backends() {
        let app = spawn_app(b).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        // anonymous: Chinese by default, Accept-Language honoured without a cookie
        let html = http
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(page_lang(&html), "zh-CN");
        assert!(html.contains("<title>登录 · aftersales</title>"));
        for (header, want) in [
            ("en-US,en;q=0.9", "en"),
            ("fr, en;q=0.5, zh-CN;q=0.4", "en"),
            ("zh-TW", "zh-CN"),
            ("de", "zh-CN"),
        ] {
            let html = http
                .get(app.url("/login"))
                .header("accept-language", header)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(page_lang(&html), want, "Accept-Language: {header}");
        }
        let html = http
            .get(app.url("/login"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<title>Sign in · aftersales</title>"));
        // an error page for an anonymous API call, by Accept-Language
        let r = http
            .get(app.url("/api/v1/me"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["message"], "Please sign in first.");
        let body: Value = http
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["message"], "请先登录。");

        // signed in: Chinese by default
        let s = app.login("admin").await;
        let (st, html) = s.page("/org/departments/999999").await;
        assert_eq!(st, 404);
        assert_eq!(page_lang(&html), "zh-CN");
        assert!(html.contains("<h1>404 出错了</h1>"));
        assert!(html.contains("未找到该记录"));
        let (_, html) = s.page("/org/departments/new").await;
        assert_eq!(page_lang(&html), "zh-CN");
        assert!(
            html.contains("<title>新建部门 · aftersales</title>"),
            "{}",
            &html[..400]
        );
        assert!(html.contains("id=\"lang-en\""));

        // switch to English
        let r = s.get("/lang/en?next=/org/departments/new").await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/org/departments/new");
        let (st, html) = s.page("/org/departments/new").await;
        assert_eq!(st, 200);
        assert_eq!(page_lang(&html), "en");
        assert!(html.contains("<title>New department · aftersales</title>"));
        assert!(html.contains(">Save</button>"));
        assert!(!html.contains("部门名称"), "no Chinese labels left");
        let r = s
            .post("/org/departments", &[("name", ""), ("code", "a b")])
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert_eq!(page_lang(&html), "en");
        assert_eq!(field_error(&html, "name").as_deref(), Some("Required."));
        assert_eq!(
            field_error(&html, "code").as_deref(),
            Some("Only letters, digits, hyphens (-) and underscores (_).")
        );
        // sticks across requests, also on error pages
        let (st, html) = s.page("/org/departments/999999").await;
        assert_eq!(st, 404);
        assert_eq!(page_lang(&html), "en");
        assert!(html.contains("<h1>404 Error</h1>"));
        assert!(html.contains("Record not found."));
        let (_, html) = s.page("/").await;
        assert_eq!(page_lang(&html), "en");
        assert!(html.contains("Dashboard"));
        // the API follows the cookie too
        let body: Value = s
            .get("/api/v1/departments/999999")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            body["message"],
            "Record not found. It may not exist or may belong to another organization."
        );
        // …and the choice is stored for the user
        {
            let mut h = app.st.db.acquire().await.unwrap();
            let u = store::users::get(&mut h.c(), app.admin_id).await.unwrap();
            assert_eq!(u.locale.as_deref(), Some("en"));
        }

        // after logout and a new sign-in (in a fresh browser, no cookies) it is still English
        let r = s.post("/logout", &[]).await;
        assert_eq!(r.status(), 303);
        let (_, html) = s.page("/login").await;
        assert_eq!(page_lang(&html), "en", "the cookie outlives the session");
        let fresh = Session::new(&app);
        let (_, html) = fresh.page("/login").await;
        assert_eq!(
            page_lang(&html),
            "zh-CN",
            "a fresh browser starts in Chinese"
        );
        assert_eq!(fresh.sign_in("admin", PW).await.status(), 303);
        let (_, html) = fresh.page("/").await;
        assert_eq!(
            page_lang(&html),
            "en",
            "the stored locale is applied at sign-in"
        );
        let (_, html) = fresh.page("/org/staff").await;
        assert_eq!(page_lang(&html), "en");

        // back to Chinese; unknown languages and foreign `next` targets are refused
        let r = fresh.get("/lang/zh-CN?next=//evil.example/x").await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/");
        let (_, html) = fresh.page("/").await;
        assert_eq!(page_lang(&html), "zh-CN");
        let (st, _) = fresh.page("/lang/xx").await;
        assert_eq!(st, 404);
        let (_, html) = fresh.page("/").await;
        assert_eq!(page_lang(&html), "zh-CN");

        // a signed-in user without a stored locale gets Accept-Language
        app.user(app.org, "eng", domain::auth::Role::Engineer).await;
        let e = app.login("eng").await;
        let r = e
            .http
            .get(app.url("/org/staff"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert_eq!(page_lang(&html), "en");
        assert!(
            html.contains("<title>Staff · aftersales</title>"),
            "{}",
            &html[..300]
        );
        let (_, html) = e.page("/org/staff").await;
        assert_eq!(page_lang(&html), "zh-CN");
        // the token API answers in the requested language
        let api = app.api(&app.token(app.admin_id, app.org).await);
        let (st, body) = api
            .post("/api/v1/departments", serde_json::json!({"name": ""}))
            .await;
        assert_eq!(st, 422);
        assert_eq!(
            body["message"],
            "Some input is invalid. Check it and try again."
        );
        let (st, body) = api.get("/api/v1/departments/999999").await;
        assert_eq!(st, 404);
        assert_eq!(
            body["message"],
            "未找到该记录，它可能不存在或不属于当前组织。"
        );
    }
}
