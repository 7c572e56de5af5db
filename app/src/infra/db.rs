//! The database handle: one sqlx `Any` pool over SQLite or PostgreSQL, its migrations, and the
//! write-transaction helper every read-then-write operation goes through.
//!
//! The same SQL runs on both engines: `$n` placeholders, `BIGINT` integers (unix milliseconds for
//! times, 0/1 for flags) and `TEXT`. Only the migrations differ, one folder per engine.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor};

use super::sqlite_read::SqliteReader;
use super::SvcError;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database_url scheme: use sqlite://… or postgres://…")]
    Scheme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A pool plus the engine it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
    /// For a SQLite file: inline read-only connections for the token endpoint's hot read.
    pub reader: Option<Arc<SqliteReader>>,
    /// Transactions run again after a conflict, since the start. A rule that should queue
    /// (see `queue_on`) and retries instead shows here.
    retries: Arc<AtomicU64>,
    /// The storage flag `client_secrets_stored_as_one_way_hash`: `None` (the flag is true)
    /// stores a new client secret as its hash only; `Some(key)` also keeps a copy sealed under
    /// the key-encryption key, so that an administrator can reveal it.
    pub secret_seal: Option<super::seal::Kek>,
    /// `secret_max_lifetime` in seconds: new secrets expire after it (or after their client's
    /// shorter `secret_lifetime`); `None` lets secrets without a client lifetime live on.
    pub secret_max_lifetime: Option<i64>,
    /// The time the services go by.
    pub clock: Clock,
}

/// The time the services go by: the system clock, moved forward by an offset that tests set to
/// see what happens days later without waiting. Shared by every clone of a `Db`.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// Now, in unix milliseconds.
    pub fn now(&self) -> i64 {
        now_ms() + self.0.load(Ordering::Relaxed)
    }

    /// Moves this clock forward by `ms` (tests).
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Db {
    // CAUTION: the URL may hold a database password, so it is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

pub fn engine_of(url: &str) -> Result<Engine, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else {
        Err(DbError::Scheme)
    }
}

impl Db {
    /// Connects without running migrations. For SQLite, creates the file (and its folder) if
    /// missing and switches on WAL, a busy timeout and foreign keys on every connection.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let engine = engine_of(url)?;
        if engine == Engine::Sqlite {
            if let Some(path) = sqlite_file_path(url) {
                if let Some(dir) = std::path::Path::new(&path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
                    }
                }
            }
        }
        let url = if engine == Engine::Sqlite && !url.contains("mode=") && !url.contains(":memory:")
        {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        };
        let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let mut pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(if engine == Engine::Sqlite { 8 } else { 16 });
        if engine == Engine::Sqlite {
            // An in-memory database exists once per connection: keep exactly one.
            if url.contains(":memory:") {
                pool = pool
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    // Deleted content (an erased sealed secret, a revoked token) is overwritten
                    // with zeros, not left in free pages of the file.
                    conn.execute("PRAGMA secure_delete = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(opts).await?;
        let reader = match engine {
            Engine::Sqlite => sqlite_file_path(&url).map(|p| Arc::new(SqliteReader::new(p))),
            Engine::Postgres => None,
        };
        Ok(Db {
            pool,
            engine,
            reader,
            retries: Arc::default(),
            secret_seal: None,
            secret_max_lifetime: None,
            clock: Clock::default(),
        })
    }

    /// This store, keeping a sealed copy of every client secret made from now on (the storage
    /// flag false), or not (`None`: the flag true).
    pub fn sealing_secrets(mut self, kek: Option<super::seal::Kek>) -> Self {
        self.secret_seal = kek;
        self
    }

    /// This store, giving new secrets an expiry after `max_secs` at most (`None`: no maximum).
    pub fn limiting_secret_lifetime(mut self, max_secs: Option<i64>) -> Self {
        self.secret_max_lifetime = max_secs;
        self
    }

    /// Now by this store's clock, in unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Applies the migrations of this engine. Forward only; a failure stops the start.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.engine {
            Engine::Sqlite => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Engine::Postgres => {
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Runs `f` in a transaction that takes the write lock up front, and commits.
    ///
    /// SQLite: `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing
    /// with "database is locked" half-way. PostgreSQL: `SERIALIZABLE`, retried on a
    /// serialization failure (40001) or deadlock (40P01) so that neither reaches the user.
    /// `f` may run more than once and must not have effects outside the transaction.
    pub async fn write<T, F>(&self, f: F) -> Result<T, SvcError>
    where
        F: for<'c> FnMut(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, SvcError>>,
    {
        let begin = match self.engine {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        };
        self.transaction(begin, f).await
    }

    /// Like `write`, for work that serializes itself with row locks: on PostgreSQL the
    /// transaction is READ COMMITTED, so a writer that waited for a `SELECT … FOR UPDATE` lock
    /// reads what the previous holder committed instead of failing with a serialization error.
    /// Many concurrent writers of one row then queue rather than retry.
    ///
    /// CAUTION: `f` must lock (`FOR UPDATE`) the rows its decisions depend on before it reads
    /// anything else. SQLite behaves exactly as in `write`.
    pub async fn write_locking<T, F>(&self, f: F) -> Result<T, SvcError>
    where
        F: for<'c> FnMut(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, SvcError>>,
    {
        let begin = match self.engine {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN ISOLATION LEVEL READ COMMITTED",
        };
        self.transaction(begin, f).await
    }

    /// How many transactions were run again after a conflict, since the start.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Inside a `write_locking` transaction: waits until no other transaction holds a lock
    /// on any of `names`, and holds them until this one ends. For rules that read many rows
    /// and then insert one (count, then record), where no single row can be locked.
    /// PostgreSQL: transaction advisory locks, one per name, taken in one order so that two
    /// transactions never wait for each other; SQLite: nothing to do, `BEGIN IMMEDIATE`
    /// already queues every writer.
    pub async fn queue_on(
        &self,
        conn: &mut AnyConnection,
        names: &[String],
    ) -> Result<(), SvcError> {
        if self.engine != Engine::Postgres {
            return Ok(());
        }
        let mut keys: Vec<i64> = names.iter().map(|n| advisory_key(n)).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn transaction<T, F>(&self, begin: &'static str, mut f: F) -> Result<T, SvcError>
    where
        F: for<'c> FnMut(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, SvcError>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut tx = self.pool.begin_with(begin).await?;
            match f(&mut tx).await {
                Ok(v) => match tx.commit().await {
                    Ok(()) => return Ok(v),
                    Err(e) if attempt < 8 && is_retryable(&e) => {}
                    Err(e) => return Err(e.into()),
                },
                Err(SvcError::Db(e)) if attempt < 8 && is_retryable(&e) => {
                    let _ = tx.rollback().await;
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
        }
    }
}

/// The advisory lock number of `name`: the first 8 bytes of its SHA-256.
fn advisory_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("clavis:{name}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Serialization failure or deadlock on PostgreSQL; busy or locked on SQLite.
pub fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("40001") | Some("40P01") | Some("5") | Some("6") | Some("517")
        ),
        _ => false,
    }
}

fn sqlite_file_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        None
    } else {
        Some(path.to_string())
    }
}

/// A stored optional text: `''` means none.
pub fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// The items of a stored list (redirect URIs by line, scopes by space), without empty ones.
pub fn split_list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// SQL assembled from fixed fragments, with every value bound to a numbered placeholder (`$1`,
/// `$2`, …), which both SQLite and PostgreSQL accept. The `Any` driver's own query builder
/// would write `?`, which PostgreSQL rejects.
#[derive(Debug, Default)]
pub struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub fn new(sql: &str) -> Self {
        SqlBuilder {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends a fixed fragment. CAUTION: never pass user input here; bind it with `arg`.
    pub fn push(&mut self, fragment: &str) -> &mut Self {
        self.sql.push_str(fragment);
        self
    }

    /// Binds `value` and appends its placeholder.
    pub fn arg(&mut self, value: Arg) -> &mut Self {
        self.args.push(value);
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.arg(Arg::Text(v.into()))
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.arg(Arg::Int(v))
    }

    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.sql);
        for a in &self.args {
            q = match a {
                Arg::Text(t) => q.bind(t.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
