//! A tiny client for the W3C `WebDriver` protocol for the browser tests (`reqwest` only).
//!
//! `Browser::start()` runs `chromedriver` (env `CHROMEDRIVER`, default `/usr/bin/chromedriver`)
//! on a free local port and opens a headless Chromium session (env `CHROME_BIN`, default
//! `/usr/bin/chromium`) with a fresh profile directory. Element commands take a CSS selector and
//! wait up to 5 s for it to match. End each test with `close()`; `Drop` is the fallback when a
//! test fails early (it quits the browser, kills chromedriver and removes the profile).
#![allow(dead_code)] // not every test uses every helper

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

/// Key of an element reference in W3C replies.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long element commands wait for their selector to match (and the element to be usable).
const FIND_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);
/// Errors after which an element command is retried (until `FIND_TIMEOUT`).
const RETRY: &[&str] = &[
    "stale element reference",
    "element not interactable",
    "element click intercepted",
];
const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
];

/// An error reply of the `WebDriver` server (`value.error` and `value.message`).
#[derive(Debug)]
pub struct WebDriverError {
    pub command: String,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webdriver {}: {}", self.command, self.error)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for WebDriverError {}

fn is_error(e: &anyhow::Error, kinds: &[&str]) -> bool {
    e.downcast_ref::<WebDriverError>()
        .is_some_and(|w| kinds.contains(&w.error.as_str()))
}

fn string(v: Value, what: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s),
        v => bail!("{what}: expected a string, got {v}"),
    }
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    child: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Result<Browser> {
        Self::start_with_lang(None).await
    }

    /// Like [`Browser::start`]; `Some("zh-CN")` also sets `--lang` and `Accept-Language`.
    pub async fn start_with_lang(lang: Option<&str>) -> Result<Browser> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let (driver, chrome) = (
            env("CHROMEDRIVER", "/usr/bin/chromedriver"),
            env("CHROME_BIN", "/usr/bin/chromium"),
        );
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let profile =
            std::env::temp_dir().join(format!("aftersales-wd-{}-{seq}", std::process::id()));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(45))
            .build()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {driver}"))?;
        // From here on `Drop` cleans up when something fails.
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            http,
            base,
            session: String::new(),
            child,
            profile,
        };
        let _ = std::fs::remove_dir_all(&browser.profile);
        std::fs::create_dir_all(&browser.profile).context("creating the profile directory")?;

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = browser.call(Method::GET, "/status", None).await
                && status["ready"] == true
            {
                break;
            }
            if let Some(exit) = browser.child.try_wait()? {
                bail!("{driver} exited before it was ready: {exit}");
            }
            if Instant::now() > deadline {
                bail!("{driver} not ready after 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut args: Vec<String> = CHROME_ARGS.iter().map(ToString::to_string).collect();
        args.push(format!("--user-data-dir={}", browser.profile.display()));
        let mut options = json!({ "binary": chrome });
        if let Some(lang) = lang {
            args.push(format!("--lang={lang}"));
            options["prefs"] = json!({ "intl.accept_languages": lang });
        }
        options["args"] = json!(args);
        let timeouts = json!({ "implicit": 0, "pageLoad": 30_000, "script": 30_000 });
        let always =
            json!({ "browserName": "chrome", "goog:chromeOptions": options, "timeouts": timeouts });
        let reply = browser.call(
            Method::POST,
            "/session",
            Some(json!({ "capabilities": { "alwaysMatch": always } })),
        );
        browser.session = string(reply.await?["sessionId"].take(), "new session id")?;
        Ok(browser)
    }

    /// Sends one command to chromedriver; returns the reply's `value`.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let command = format!("{method} {path}");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| command.clone())?;
        let reply: Value = response.json().await.with_context(|| command.clone())?;
        let value = match reply {
            Value::Object(mut map) => map.remove("value").unwrap_or_default(),
            _ => Value::Null,
        };
        let Some(error) = value.get("error").and_then(Value::as_str) else {
            return Ok(value);
        };
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // chromedriver repeats the error code first and appends "(Session info: …)"
        let message = message.strip_prefix(error).unwrap_or(message);
        let message = message.split("(Session info").next().unwrap_or_default();
        let message = message.trim_matches(|c: char| c == ':' || c.is_whitespace());
        Err(WebDriverError {
            command,
            error: error.to_owned(),
            message: message.to_owned(),
        }
        .into())
    }

    /// A command on this session: `path` is relative to `/session/{id}`.
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    /// Finds `css`, then runs `method /element/{id}{path}`, retrying (up to 5 s) while the element
    /// is stale or not yet usable.
    async fn on_element(
        &self,
        css: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let id = self.find(css).await?;
            let path = format!("/element/{id}{path}");
            match self.cmd(method.clone(), &path, body.clone()).await {
                Err(e) if Instant::now() < deadline && is_error(&e, RETRY) => {
                    tokio::time::sleep(POLL).await;
                }
                reply => return reply.with_context(|| format!("element {css:?}")),
            }
        }
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    pub async fn current_url(&self) -> Result<String> {
        string(self.cmd(Method::GET, "/url", None).await?, "current url")
    }

    /// The page source (the current DOM, serialised).
    pub async fn source(&self) -> Result<String> {
        string(self.cmd(Method::GET, "/source", None).await?, "page source")
    }

    /// The element id of the first match of `css`, waiting up to 5 s for one to appear.
    pub async fn find(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        let query = json!({ "using": "css selector", "value": css });
        loop {
            match self
                .cmd(Method::POST, "/element", Some(query.clone()))
                .await
            {
                Ok(mut v) => return string(v[ELEMENT_KEY].take(), "element id"),
                Err(e) if Instant::now() < deadline && is_error(&e, &["no such element"]) => {
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.on_element(css, Method::POST, "/click", Some(json!({})))
            .await
            .map(drop)
    }

    /// Sets an input's value directly (date inputs, whose typing depends on the locale).
    pub async fn set_value(&self, css: &str, value: &str) -> Result<()> {
        self.find(css).await?;
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "document.querySelector(arguments[0]).value = arguments[1];",
                "args": [css, value],
            })),
        )
        .await
        .map(drop)
    }

    /// Clears the input, then types `text` (any Unicode, Chinese included).
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        self.on_element(css, Method::POST, "/clear", Some(json!({})))
            .await?;
        let keys = json!({ "text": text });
        self.on_element(css, Method::POST, "/value", Some(keys))
            .await
            .map(drop)
    }

    /// Chooses a local file in an `<input type="file">` (no clearing first).
    pub async fn upload(&self, css: &str, path: &Path) -> Result<()> {
        let keys = json!({ "text": path.to_string_lossy() });
        self.on_element(css, Method::POST, "/value", Some(keys))
            .await
            .map(drop)
    }

    /// The rendered (visible) text of the first match of `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        string(
            self.on_element(css, Method::GET, "/text", None).await?,
            "element text",
        )
    }

    /// Saves a PNG of the viewport to `path` (parent directories are created).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = base64_decode(&string(
            self.cmd(Method::GET, "/screenshot", None).await?,
            "screenshot",
        )?)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Resizes the browser window to `width` × `height` CSS pixels (e.g. 390 × 844, a phone).
    pub async fn set_window(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// Quits the browser, stops chromedriver and removes the profile directory.
    pub async fn close(mut self) -> Result<()> {
        let quit = self.cmd(Method::DELETE, "", None).await.map(drop);
        self.session.clear(); // `Drop` need not quit again
        drop(self);
        quit
    }

    /// `DELETE /session/{id}` without async (for `Drop`), so that chromedriver quits Chromium.
    /// chromedriver answers once the browser is gone; the reply's headers are enough.
    fn quit_blocking(&self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
            self.session
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        let (mut reply, mut buf) = (Vec::new(), [0u8; 512]);
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            reply.extend_from_slice(&buf[..n]);
            if reply.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            self.quit_blocking();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Standard base64 (padding and line breaks allowed) to bytes.
fn base64_decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\r' | b'\n' => continue,
            _ => bail!("base64: unexpected byte {c:#04x}"),
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits).to_le_bytes()[0]);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}
