//! Sign-in, throttling, CSRF, sessions, password change and security headers.

use domain::auth::Role;

use crate::helpers::{PW, Session, backends, second_instance, spawn_app};

#[tokio::test]
async fn sign_in_right_wrong_and_throttled_across_instances() {
    for b in backends() {
        let app = spawn_app(b).await;
        // Right password: 303 to the requested page, an HttpOnly session cookie, and the home page.
        let s = Session::new(&app);
        let r = s.sign_in("admin", PW).await;
        assert_eq!(r.status(), 303, "{b:?}");
        assert_eq!(r.headers()["location"], "/");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("as_session="))
            .expect("session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let (status, home) = s.page("/").await;
        assert_eq!(status, 200);
        assert!(home.contains("Administrator"));

        // Wrong password: 401 and the form again with the message, no session.
        let bad = Session::new(&app);
        let r = bad.sign_in("admin", "wrong-password").await;
        assert_eq!(r.status(), 401);
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"error\""), "{html}");
        assert_eq!(bad.get("/").await.status(), 303);

        // Unknown login: same answer.
        assert_eq!(bad.sign_in("nobody", "whatever-pass").await.status(), 401);

        // Four more failures (five in all) throttle the login; even the right password is refused,
        // and on another instance too, because attempts live in the database.
        for _ in 0..4 {
            assert_eq!(bad.sign_in("admin", "wrong-password").await.status(), 401);
        }
        assert_eq!(bad.sign_in("admin", PW).await.status(), 429);
        let other = second_instance(&app).await;
        let s2 = Session {
            base: format!("http://{other}"),
            ..Session::new(&app)
        };
        assert_eq!(
            s2.sign_in("admin", PW).await.status(),
            429,
            "{b:?}: throttle is shared"
        );
        // Another login is not affected.
        app.user(app.org, "zhang", Role::Engineer).await;
        assert_eq!(s2.sign_in("zhang", PW).await.status(), 303);
    }
}

#[tokio::test]
async fn csrf_is_required_on_every_form() {
    for b in backends() {
        let app = spawn_app(b).await;
        let s = app.login("admin").await;
        let r = s
            .post_no_csrf("/org/departments", &[("name", "服务部")])
            .await;
        assert_eq!(r.status(), 403, "{b:?}");
        let r = s
            .post_no_csrf(
                "/org/departments",
                &[("_csrf", "not-the-token"), ("name", "服务部")],
            )
            .await;
        assert_eq!(r.status(), 403);
        // Nothing was written.
        let (_, html) = s.page("/org/departments").await;
        assert!(!html.contains("服务部"));
        // With the token it works.
        assert_eq!(
            s.post("/org/departments", &[("name", "服务部")])
                .await
                .status(),
            303
        );
        // Sign-in itself needs the pre-session token.
        let anon = Session::new(&app);
        let r = anon
            .post_no_csrf("/login", &[("login", "admin"), ("password", PW)])
            .await;
        assert_eq!(r.status(), 403);
        // Logout too.
        assert_eq!(s.post_no_csrf("/logout", &[]).await.status(), 403);
    }
}

#[tokio::test]
async fn logout_and_password_change_end_sessions() {
    for b in backends() {
        let app = spawn_app(b).await;
        let a = app.login("admin").await;
        let other = app.login("admin").await;

        // Wrong current password and a mismatch: 422 with both field messages, nothing changed.
        let r = a
            .post(
                "/account/password",
                &[
                    ("current", "nope-nope-nope"),
                    ("new", "new-password-1"),
                    ("confirm", "new-password-2"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "{b:?}");
        let html = r.text().await.unwrap();
        assert_eq!(html.matches("class=\"field-error\"").count(), 2, "{html}");

        let r = a
            .post(
                "/account/password",
                &[
                    ("current", PW),
                    ("new", "new-password-1"),
                    ("confirm", "new-password-1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        // This session lives on, the other one ended.
        assert_eq!(a.get("/").await.status(), 200);
        assert_eq!(other.get("/").await.status(), 303);
        // The old password no longer works, the new one does.
        assert_eq!(Session::new(&app).sign_in("admin", PW).await.status(), 401);
        assert_eq!(
            Session::new(&app)
                .sign_in("admin", "new-password-1")
                .await
                .status(),
            303
        );

        // Logout ends the session on the server, not just in the browser.
        assert_eq!(a.post("/logout", &[]).await.status(), 303);
        assert_eq!(a.get("/").await.status(), 303);
        let mut h = app.st.db.acquire().await.unwrap();
        let (n,): (i64,) = store::on!(&mut h.c(), x => sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1").bind(app.admin_id).fetch_one(x).await)
        .unwrap();
        assert_eq!(n, 1, "only the fresh sign-in's session remains");
    }
}

#[tokio::test]
async fn admin_resets_a_password_once() {
    for b in backends() {
        let app = spawn_app(b).await;
        let id = app.user(app.org, "li.ming", Role::Engineer).await;
        let li = app.login("li.ming").await;
        let a = app.login("admin").await;
        let r = a.post(&format!("/admin/users/{id}/password"), &[]).await;
        assert_eq!(r.status(), 200, "{b:?}");
        let html = r.text().await.unwrap();
        let key = "id=\"new-password\">";
        let i = html.find(key).expect("new password shown") + key.len();
        let pw = &html[i..i + html[i..].find('<').unwrap()];
        assert_eq!(pw.len(), 16);
        assert_eq!(
            li.get("/").await.status(),
            303,
            "reset ends the user's sessions"
        );
        assert_eq!(
            Session::new(&app).sign_in("li.ming", PW).await.status(),
            401
        );
        assert_eq!(
            Session::new(&app).sign_in("li.ming", pw).await.status(),
            303
        );
    }
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/",
        "/login",
        "/api/v1/me",
        "/healthz",
        "/nope",
        "/assets/app.css",
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        assert!(h.contains_key("referrer-policy"));
        assert!(h.contains_key("x-request-id"), "{path}");
    }
}
