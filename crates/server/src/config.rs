//! Typed settings: defaults ← optional TOML file (`--config`) ← `AFTERSALES_SECTION__KEY`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// All settings.
#[derive(Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub jobs: JobSettings,
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: String,
    /// Directory for the SQLite database and other local files.
    pub data_dir: PathBuf,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Request timeout in seconds.
    pub request_timeout_secs: u64,
    /// Offset of displayed times from UTC, in minutes (Asia/Shanghai: 480).
    pub utc_offset_minutes: i32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            secure_cookies: false,
            request_timeout_secs: 30,
            utc_offset_minutes: 480,
            trust_proxy_headers: false,
        }
    }
}

/// Database settings.
#[derive(Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite:PATH` or `postgres://…`; empty means `sqlite:<data_dir>/aftersales.db`.
    pub url: String,
    /// Pool size; 0 picks a default per backend.
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Hides the password part of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***{}", &url[..s], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Sign-in and session settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Session lifetime in seconds (sliding).
    pub session_ttl_secs: i64,
    /// Failed sign-ins per login within the window before sign-in is refused.
    pub max_failures_per_login: i64,
    /// Failed sign-ins per address within the window before sign-in is refused.
    pub max_failures_per_ip: i64,
    /// Throttling window in seconds.
    pub throttle_window_secs: i64,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_ttl_secs: 8 * 3600,
            max_failures_per_login: 5,
            max_failures_per_ip: 50,
            throttle_window_secs: 15 * 60,
            // OWASP's m=12 MiB, t=3: as strong as its m=19 MiB, t=2 and as slow, with a third
            // less memory; a log-in's hash is the largest allocation the server makes.
            argon2_memory_kib: 12 * 1024,
            argon2_iterations: 3,
        }
    }
}

/// Background job settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Run the job worker in this instance.
    pub enabled: bool,
    /// Seconds between worker ticks.
    pub tick_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            enabled: true,
            tick_secs: 30,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("database", &self.database)
            .field("auth", &self.auth)
            .field("jobs", &self.jobs)
            .finish()
    }
}

impl Settings {
    /// Loads defaults, then the file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        fig.merge(Env::prefixed("AFTERSALES_").split("__"))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            format!(
                "sqlite:{}",
                self.server.data_dir.join("aftersales.db").display()
            )
        } else {
            self.database.url.trim().to_string()
        }
    }

    /// The pool size for the configured backend.
    pub fn pool_size(&self) -> u32 {
        if self.database.max_connections > 0 {
            self.database.max_connections
        } else if self.database_url().starts_with("sqlite:") {
            8
        } else {
            16
        }
    }
}

/// A commented example configuration file.
pub const EXAMPLE: &str = r#"# aftersales configuration. Every key can also be set in the environment as
# AFTERSALES_<SECTION>__<KEY>, e.g. AFTERSALES_DATABASE__URL=postgres://user:pw@host/db

[server]
# Address to listen on.
bind = "127.0.0.1:8080"
# Directory for the embedded SQLite database (aftersales.db) and backups.
data_dir = "data"
# Set to true when the service is reached over HTTPS (cookies get the Secure flag).
secure_cookies = false
# Seconds before a request is cut off with 408.
request_timeout_secs = 30
# Displayed times are UTC plus this many minutes (480 = Asia/Shanghai).
utc_offset_minutes = 480
# Behind a reverse proxy that sets X-Forwarded-For, take the client address from it
# (used for sign-in throttling). Leave false when clients reach the server directly.
trust_proxy_headers = false

[database]
# Empty: SQLite at <data_dir>/aftersales.db. Or "sqlite:/path/file.db", or
# "postgres://user:password@host:5432/aftersales" for several instances behind a load balancer.
url = ""
# Connection pool size; 0 = 8 for SQLite, 16 for PostgreSQL.
max_connections = 0

[auth]
# Session lifetime in seconds, extended while the user is active.
session_ttl_secs = 28800
# Failed sign-ins allowed per login / per address within the window.
max_failures_per_login = 5
max_failures_per_ip = 50
throttle_window_secs = 900
# Argon2id cost (OWASP: 12 MiB and 3 iterations, or 19 MiB and 2, are equally strong).
# Existing hashes keep the cost they were made with.
argon2_memory_kib = 12288
argon2_iterations = 3

[jobs]
# Run the background worker in this instance (any number of instances may).
enabled = true
tick_secs = 30
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite:data/a.db"), "sqlite:data/a.db");
        let s = Settings {
            database: DatabaseSettings {
                url: "postgres://app:secret@db/x".into(),
                max_connections: 0,
            },
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("secret"));
    }

    #[test]
    fn example_parses() {
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(EXAMPLE))
            .extract()
            .unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.auth.max_failures_per_login, 5);
    }
}
