//! The `aftersales` command line: `serve`, `migrate`, `demo`, `user`, `token`, `config`,
//! `backup` and `audit verify`. `--data-dir` and `AFTERSALES_DATABASE__URL` apply to every
//! subcommand that touches the database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use domain::FieldErrors;
use domain::auth::Role;
use domain::org::{UserDraft, check_password};
use store::Db;
use store::audit::Actor;

use crate::app::AppState;
use crate::config::{EXAMPLE, Settings};
use crate::error::AppError;

/// After-sales service management (售后服务管理): web UI, JSON API and jobs in one binary.
#[derive(Parser, Debug)]
#[command(name = "aftersales", version, about)]
pub struct Cli {
    /// Configuration file (TOML); see `aftersales config example`.
    #[arg(long, global = true, env = "AFTERSALES_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, backups). Default: ./data
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (UI, API, jobs).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        bind: Option<String>,
        /// Load the demo company when the database has no organization yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo company (departments, posts, staff, one user per role).
    Demo {
        /// Extra staff in multiples of 20; archives in units of 200 customers, 30 products,
        /// 2,000 orders and 3,000 installed units.
        #[arg(long, default_value_t = 0)]
        scale: u32,
        /// Also the benchmark volume, per scale unit: 800 more customers, 10,000 complaints
        /// in every state, 10,000 service orders, a study with 1,000 responses of 20 answers
        /// (`--scale 100 --volume`: 1,000,000 complaints; see bench/README.md).
        #[arg(long)]
        volume: bool,
    },
    /// Maintenance tools.
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print an example configuration, or check the current one.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Online, consistent copy of the SQLite database.
    Backup {
        /// Target file (default: <data-dir>/backups/aftersales-<time>.db).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import archives from an XLSX or CSV file (all rows or none).
    Import {
        /// customers, contacts, products, orders or equipment.
        kind: String,
        /// The .xlsx or .csv file (CSV in UTF-8 or GBK).
        file: PathBuf,
        /// Organization code (default: the user's first organization).
        #[arg(long)]
        org: Option<String>,
        /// Acting user (their role must allow managing archives).
        #[arg(long, default_value = "admin")]
        user: String,
        /// Check every row and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `user` subcommands.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (prints a generated password unless --password is given).
    Create {
        #[arg(long)]
        login: String,
        /// Display name (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// admin, manager, engineer, staff, supervisor or auditor.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Organization code (default: the only organization).
        #[arg(long)]
        org: Option<String>,
        /// Password (at least 10 characters); generated when absent.
        #[arg(long, env = "AFTERSALES_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// Set a new random password and print it; ends the user's sessions.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
}

/// `token` subcommands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue an API token for a user and print it.
    Create {
        /// The user's login.
        #[arg(long)]
        user: String,
        /// Organization code (default: the user's first organization).
        #[arg(long)]
        org: Option<String>,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// `config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a commented example configuration file.
    Example,
    /// Load the configuration, print it (secrets redacted) and test the database connection.
    Check,
}

/// `maintenance` subcommands.
#[derive(Subcommand, Debug)]
pub enum MaintenanceCommand {
    /// Run the maintenance scheduler once now (what the jobs runner does periodically):
    /// every active plan's orders inside its window, each created once.
    Schedule,
}

/// `audit` subcommands.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chains and report the first broken row, if any.
    Verify,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    crate::memory::tune();
    let cli = Cli::parse();
    init_logs();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    shut_down(rt);
    code
}

/// How long a stopping process waits for work still running (a job in the middle of a run).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Stops the runtime, waiting at most [`SHUTDOWN_GRACE`] for tasks still running. Dropping it
/// would wait for them without end: a server told to stop (SIGTERM) in the middle of a long
/// job kept running until the job finished (minutes; it once needed `kill -9`). Every job
/// writes in transactions and the next run continues where the last committed one ended, so
/// cutting it short loses nothing.
fn shut_down(rt: tokio::runtime::Runtime) {
    rt.shutdown_timeout(SHUTDOWN_GRACE);
}

fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("AFTERSALES_LOG_FORMAT").is_ok_and(|v| v == "json");
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = b.json().try_init();
    } else {
        let _ = b.try_init();
    }
}

/// Loads settings with the command line's overrides.
pub fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = Settings::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        s.server.data_dir = d.clone();
    }
    Ok(s)
}

/// Opens (and migrates) the configured database.
pub async fn open(s: &Settings) -> anyhow::Result<Db> {
    let url = s.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&s.server.data_dir)?;
    }
    let db = Db::connect(&url, s.pool_size()).await?;
    let applied = store::migrate::run(&db, crate::now()).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(db)
}

fn app_err(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(f) => {
            let tr = crate::i18n::Tr::new(crate::i18n::Lang::En, 0);
            let msg: Vec<String> =
                f.0.iter()
                    .map(|e| format!("{}: {}", e.field, tr.field(e)))
                    .collect();
            anyhow::anyhow!("invalid input: {}", msg.join("; "))
        }
        other => anyhow::anyhow!("{other:?}"),
    }
}

/// Creates the `admin` system administrator on an empty database; returns its password.
pub async fn ensure_admin(st: &AppState) -> anyhow::Result<Option<(i64, String)>> {
    let mut tx = st.db.begin().await?;
    if store::users::count(&mut tx.c()).await? > 0 {
        return Ok(None);
    }
    let password = crate::admin::generate_password();
    let hash = st.hasher.hash(&password).await.map_err(app_err)?;
    let now = st.now();
    let id = store::users::insert(&mut tx.c(), "admin", "Administrator", &hash, true, now).await?;
    crate::web::audit_account(&mut tx, None, &Actor::system("setup"), "create", id, now)
        .await
        .map_err(app_err)?;
    tx.commit().await?;
    Ok(Some((id, password)))
}

/// The request context of a command-line user in an organization (their real role there).
async fn cli_ctx(
    st: &AppState,
    u: &store::users::User,
    org: i64,
) -> anyhow::Result<crate::auth::Ctx> {
    let mut h = st.db.acquire().await?;
    let (role, _) = store::tenants::membership(&mut h.c(), u.id, org)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{} is not a member of that organization", u.login))?;
    let o = store::tenants::get(&mut h.c(), org).await?;
    Ok(crate::auth::Ctx {
        user_id: u.id,
        login: u.login.clone(),
        name: u.display_name.clone(),
        system_admin: u.is_system_admin,
        org: Some(crate::auth::OrgCtx {
            id: org,
            name: o.name,
            role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role {role}"))?,
        }),
        session_id: None,
        csrf: String::new(),
        tr: crate::i18n::Tr::new(
            crate::i18n::Lang::ZhCn,
            st.settings.server.utc_offset_minutes,
        ),
    })
}

async fn admin_id(st: &AppState) -> anyhow::Result<Option<i64>> {
    let mut h = st.db.acquire().await?;
    Ok(store::users::by_login(&mut h.c(), "admin")
        .await?
        .map(|u| u.0.id))
}

async fn org_by_code(st: &AppState, code: Option<&str>, user: Option<i64>) -> anyhow::Result<i64> {
    let mut h = st.db.acquire().await?;
    if let Some(code) = code {
        return store::tenants::by_code(&mut h.c(), code)
            .await?
            .map(|o| o.id)
            .ok_or_else(|| anyhow::anyhow!("no organization with code '{code}'"));
    }
    if let Some(u) = user
        && let Some(o) = store::tenants::for_user(&mut h.c(), u).await?.first()
    {
        return Ok(o.id);
    }
    let all = store::tenants::all(&mut h.c()).await?;
    match all.as_slice() {
        [one] => Ok(one.id),
        [] => {
            anyhow::bail!("no organization yet: run `aftersales demo` or create one at /admin/orgs")
        }
        _ => anyhow::bail!("several organizations: choose one with --org CODE"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut s = settings(&cli)?;
    match cli.command {
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{EXAMPLE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            println!("{s:#?}");
            println!("database: {}", crate::config::redact_url(&s.database_url()));
            let db = open(&s).await?;
            println!(
                "database reachable; migrations at {} of {}",
                store::migrate::current(&db).await?,
                store::migrate::latest()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let db = open(&s).await?;
            println!(
                "migrations at version {}",
                store::migrate::current(&db).await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                s.server.bind = b;
            }
            let addr: std::net::SocketAddr = s
                .server
                .bind
                .parse()
                .map_err(|e| anyhow::anyhow!("server.bind '{}': {e}", s.server.bind))?;
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            let created = ensure_admin(&st).await?;
            if demo {
                let orgs = {
                    let mut h = st.db.acquire().await?;
                    store::tenants::count(&mut h.c()).await?
                };
                if orgs == 0
                    && let Some(admin) = admin_id(&st).await?
                    && let Some(r) = crate::demo::load(&st, admin, 0).await.map_err(app_err)?
                {
                    println!(
                        "demo company loaded; demo users {} share the password: {}",
                        r.users.join(", "),
                        r.password
                    );
                }
            }
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let local = listener.local_addr()?;
            println!("aftersales listening on http://{local}");
            match created {
                Some((_, pw)) => println!(
                    "administrator login: admin / password: {pw}  (shown once; change it after signing in)"
                ),
                None => println!(
                    "administrator login: admin (password set at first start; `aftersales user reset-password --login admin` prints a new one)"
                ),
            }
            crate::jobs::spawn(st.clone());
            let quiet = st.clone();
            crate::memory::spawn_trimmer(move || quiet.metrics.activity());
            crate::app::serve_on(st, listener).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Maintenance {
            command: MaintenanceCommand::Schedule,
        } => {
            let db = open(&s).await?;
            let t0 = std::time::Instant::now();
            let r = crate::maintenance::plans::scheduler::run_scheduler(&db, crate::now())
                .await
                .map_err(app_err)?;
            println!(
                "plans {} units {} created {} cancelled {} restored {} in {:.3} s",
                r.plans,
                r.units,
                r.created,
                r.cancelled,
                r.restored,
                t0.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { scale, volume } => {
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            if let Some((_, pw)) = ensure_admin(&st).await? {
                println!("administrator login: admin / password: {pw}  (shown once)");
            }
            let admin = admin_id(&st)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no admin user"))?;
            match crate::demo::load_with(&st, admin, scale, volume)
                .await
                .map_err(app_err)?
            {
                Some(r) => {
                    println!(
                        "demo company loaded (organization {}); demo users {} share the password: {}",
                        r.org_id,
                        r.users.join(", "),
                        r.password
                    );
                    if let Some(v) = r.volume {
                        println!(
                            "volume: {} customers, {} complaints ({} events, {} tasks), {} service orders, study {} with {} responses and {} answers",
                            v.customers,
                            v.complaints,
                            v.complaint_events,
                            v.complaint_tasks,
                            v.service_orders,
                            v.study_id,
                            v.responses,
                            v.answers
                        );
                    }
                }
                None => println!("the demo company is already loaded"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Create {
                    login,
                    name,
                    role,
                    org,
                    password,
                },
        } => {
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            let generated = password.is_none();
            let password = password.unwrap_or_else(crate::admin::generate_password);
            let mut errs = FieldErrors::default();
            check_password(&mut errs, "password", &password);
            let name = name.unwrap_or_else(|| login.clone());
            let d = UserDraft::parse(errs, &login, &name, &role, vec![])
                .map_err(|e| app_err(e.into()))?;
            let org = org_by_code(&st, org.as_deref(), None).await?;
            let is_admin = d.role == Role::Admin;
            crate::admin::create_member(&st, &Actor::system("cli"), org, d, &password)
                .await
                .map_err(app_err)?;
            println!(
                "user {login} created{}",
                if is_admin { " (administrator)" } else { "" }
            );
            if generated {
                println!("password: {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::ResetPassword { login },
        } => {
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            let user = {
                let mut h = st.db.acquire().await?;
                store::users::by_login(&mut h.c(), &login.to_lowercase())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no user '{login}'"))?
                    .0
            };
            let pw = crate::admin::reset_password(&st, &Actor::system("cli"), None, user.id)
                .await
                .map_err(app_err)?;
            println!("new password for {}: {pw}", user.login);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Create { user, org, name },
        } => {
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            let u = {
                let mut h = st.db.acquire().await?;
                store::users::by_login(&mut h.c(), &user.to_lowercase())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no user '{user}'"))?
                    .0
            };
            let org = org_by_code(&st, org.as_deref(), Some(u.id)).await?;
            let (_, secret) =
                crate::admin::issue_token(&st, &Actor::system("cli"), u.id, org, &name)
                    .await
                    .map_err(app_err)?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { out } => {
            let db = open(&s).await?;
            let out = match out {
                Some(o) => o,
                None => {
                    let dir = s.server.data_dir.join("backups");
                    std::fs::create_dir_all(&dir)?;
                    dir.join(format!("aftersales-{}.db", crate::now()))
                }
            };
            if out.exists() {
                anyhow::bail!("{} already exists", out.display());
            }
            db.backup_sqlite(&out.to_string_lossy()).await?;
            println!("backup written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            kind,
            file,
            org,
            user,
            dry_run,
        } => {
            let kind = crate::archives::transfer::import::Kind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown kind '{kind}': customers, contacts, products, orders or equipment"
                )
            })?;
            let bytes =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let name = file.to_string_lossy().to_string();
            let sheet = crate::archives::transfer::read::read(&name, &bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e:?}", file.display()))?;
            let db = open(&s).await?;
            let st = AppState::new(db, s);
            let u = {
                let mut h = st.db.acquire().await?;
                store::users::by_login(&mut h.c(), &user.to_lowercase())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no user '{user}'"))?
                    .0
            };
            let org = org_by_code(&st, org.as_deref(), Some(u.id)).await?;
            let ctx = cli_ctx(&st, &u, org).await?;
            let bar = indicatif::ProgressBar::new(sheet.rows.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} rows {per_sec} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let b2 = bar.clone();
            let report = crate::archives::transfer::import::run(
                &st,
                &ctx,
                kind,
                &sheet,
                !dry_run,
                &move |n| b2.set_position(n as u64),
            )
            .await
            .map_err(app_err)?;
            bar.finish_and_clear();
            if !report.missing_columns.is_empty() {
                println!(
                    "missing required columns: {}",
                    report.missing_columns.join(", ")
                );
            }
            if !report.unknown_columns.is_empty() {
                println!("ignored columns: {}", report.unknown_columns.join(", "));
            }
            for e in &report.errors {
                println!("line {}: {}: {}", e.line, e.field, e.message);
            }
            if report.committed {
                println!("{} rows imported", report.ok);
                Ok(ExitCode::SUCCESS)
            } else if report.errors.is_empty() && report.missing_columns.is_empty() {
                println!(
                    "{} rows checked, all good (dry run: nothing written)",
                    report.rows
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "{} of {} rows have problems: nothing written",
                    report.rows - report.ok,
                    report.rows
                );
                Ok(ExitCode::from(2))
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = open(&s).await?;
            let mut h = db.acquire().await?;
            let v = store::audit::verify(&mut h.c()).await?;
            match v.broken {
                None => {
                    println!("audit trail intact: {} rows in {} chains", v.rows, v.chains);
                    Ok(ExitCode::SUCCESS)
                }
                Some((chain, b)) => {
                    let (kind, id) = match b {
                        domain::audit::ChainBreak::Link { id } => {
                            ("link to the previous row broken", id)
                        }
                        domain::audit::ChainBreak::Content { id } => ("content altered", id),
                        domain::audit::ChainBreak::Gap { id } => ("rows missing after", id),
                    };
                    println!("AUDIT TRAIL BROKEN in chain {chain}: {kind} at row {id}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// A task still running in place when the server stops (a job's long statement) does not
    /// hold the process: the runtime is gone after the grace period, not when the task ends.
    #[test]
    fn stopping_does_not_wait_for_a_long_job() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (started, running) = std::sync::mpsc::channel();
        rt.spawn(async move {
            tokio::task::block_in_place(|| {
                let _ = started.send(());
                std::thread::sleep(super::SHUTDOWN_GRACE * 6);
            });
        });
        running.recv().expect("the job started");
        let t0 = std::time::Instant::now();
        super::shut_down(rt);
        assert!(
            t0.elapsed() < super::SHUTDOWN_GRACE * 3,
            "stopping waited {:?} for the job",
            t0.elapsed()
        );
    }
}
